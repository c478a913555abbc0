import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AwsClients } from "../../src/aws/clients.js";
import { main } from "../../src/cli.js";
import { memoryIo, runCli, tempProject, type CliRun } from "../cli-harness.js";
import { randomFaults, sdkError, type CallRecord } from "../fakes/cloud.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { TEST_WAITS } from "../helpers.js";
import { expectConverged, expectGone } from "./convergence.js";

/**
 * Faults from AWS against the whole stack. Throttling and 5xx are the SDK's to retry: these tests serve the fake
 * beneath the SDK's retry middleware (FakeCloud.serveBeneathSdkRetry), so every injected fault meets the SDK's real
 * standard retry strategy, with its real backoff and retry quota, and the engine never sees one it could retry.
 * Eventual consistency and permanent failures are the engine's and the resources' to handle.
 */
let aws: FakeAws;
afterEach(() => aws?.restore());

const UP = ["up", "--env", "dev", "--yes"];
const DOWN = ["down", "--env", "dev", "--yes"];
const state = (cwd: string) => JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8"));

/** The CLI with every AWS client answered by the fake beneath the SDK's retry. */
function beneathRetry(cwd: string) {
  const onClient = aws.cloud.serveBeneathSdkRetry();
  const run = async (args: string[]): Promise<CliRun> => {
    const io = memoryIo();
    const code = await main(args, io, { cwd, waits: TEST_WAITS, aws: { onClient } });
    return { code, stdout: io.out(), stderr: io.err() };
  };
  return { run, clients: new AwsClients({ region: "us-east-1", onClient }) };
}

describe("throttling and 5xx", () => {
  const saved = process.env.AWS_MAX_ATTEMPTS;
  afterEach(() => (saved === undefined ? delete process.env.AWS_MAX_ATTEMPTS : (process.env.AWS_MAX_ATTEMPTS = saved)));

  it("a full up and down succeed with 10% of calls throttled and 5% failing with 503, each fault costing one more attempt", async () => {
    // The same stack without faults, for the number of calls a clean up and down make.
    aws = installFakeAws();
    const clean = beneathRetry(tempProject());
    expect((await clean.run(UP)).code).toBe(0);
    const cleanUp = aws.cloud.calls.length;
    expect((await clean.run(DOWN)).code).toBe(0);
    const cleanDown = aws.cloud.calls.length - cleanUp;
    aws.restore();

    aws = installFakeAws();
    const cwd = tempProject();
    const { run, clients } = beneathRetry(cwd);
    const faults = randomFaults({ throttling: 0.1, unavailable: 0.05 }, 20250101);
    aws.cloud.fault = faults.fault;

    const up = await run(UP);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const upCalls = aws.cloud.calls.length;
    const upFaults = { ...faults.counts };
    await expectConverged(aws, cwd, run, clients);
    const afterChecks = aws.cloud.calls.length;
    const checkFaults = { ...faults.counts };

    const down = await run(DOWN);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(down.stdout).toMatch(/Nothing tagged with clinical-platform\/dev remains\./);
    const downCalls = aws.cloud.calls.length - afterChecks;
    const downInjected = faults.counts.throttled + faults.counts.unavailable - (checkFaults.throttled + checkFaults.unavailable);
    await expectGone(aws, cwd, clients);

    const upInjected = upFaults.throttled + upFaults.unavailable;
    // Faults hit about 15% of calls, and every one was retried by the SDK: a faulted run makes the clean run's calls
    // plus one attempt per fault (waiters and retries of eventual consistency may poll a few times more or less, and
    // reads batched within a 10 ms window (src/resources/read-batch.ts) split into more calls when retries delay some
    // of them: up to about 7% more here). Two attempts per fault would add 15% or more.
    expect(upInjected / upCalls).toBeGreaterThan(0.1);
    expect(Math.abs(upCalls - upInjected - cleanUp)).toBeLessThanOrEqual(cleanUp * 0.1);
    expect(Math.abs(downCalls - downInjected - cleanDown)).toBeLessThanOrEqual(cleanDown * 0.1);
    console.info(
      `faults: up ${upCalls} calls (clean ${cleanUp}), ${upFaults.throttled} throttled + ${upFaults.unavailable} 503 injected; ` +
        `down ${downCalls} calls (clean ${cleanDown}), ${downInjected} injected`,
    );
  }, 120_000);

  it("the SDK's retries are what carries it: with one attempt per call, the same faults fail the run, naming the codes", async () => {
    process.env.AWS_MAX_ATTEMPTS = "1";
    aws = installFakeAws();
    const cwd = tempProject();
    const { run } = beneathRetry(cwd);
    // Past the account lookup, so the failures land on resources.
    const faults = randomFaults({ throttling: 0.1, unavailable: 0.05 }, 20250101);
    aws.cloud.fault = (call) => (call.service === "sts" ? undefined : faults.fault(call));
    const up = await run(UP);
    expect([1, 2]).toContain(up.code);
    expect(up.stdout + up.stderr).toMatch(/RequestLimitExceeded|Throttling|SlowDown|ServiceUnavailable/);
  }, 60_000);
});

describe("credentials that expire in the middle of a run", () => {
  it.each([20, 90])("at mutating call %i: the run stops with ExpiredToken and its fix, keeps what it did, releases the lock; a rerun converges", async (nth) => {
    aws = installFakeAws();
    const cwd = tempProject();
    let mutating = 0;
    let expired = false;
    aws.cloud.fault = (call) => {
      if (expired) return sdkError("ExpiredToken", "The security token included in the request is expired", 400);
      if (call.mutating && ++mutating === nth) expired = true;
      return undefined;
    };
    const up = await runCli(cwd, UP);
    expect(up.code).toBe(1);
    expect(up.stdout).toMatch(/ExpiredToken.*the session expired; refresh your credentials \(aws sso login\) and run again: the run resumes where it stopped/);
    expect(existsSync(path.join(cwd, "state/dev.lock"))).toBe(false);
    const recorded = Object.keys(state(cwd).resources);
    expect(recorded.length).toBeGreaterThan(0);

    aws.cloud.fault = undefined;
    const rerun = await runCli(cwd, UP);
    expect(rerun.code, rerun.stdout).toBe(0);
    await expectConverged(aws, cwd);
  });
});

describe("a resource that fails permanently", () => {
  it("stops its dependents, not the rest; the summary lists AWS's error code and message, and a rerun completes", async () => {
    aws = installFakeAws();
    const cwd = tempProject();
    aws.cloud.fault = (call) =>
      call.command === "CreateDBInstance" ? sdkError("StorageQuotaExceededFault", "The request would exceed the allowed amount of storage available across all DB instances.", 400) : undefined;
    const up = await runCli(cwd, [...UP, "--verbose"]);
    expect(up.code).toBe(1);
    expect(up.stdout).toMatch(/Apply failed: \d+ created/);
    // --verbose: the failed call's request id and HTTP status, for AWS Support.
    expect(up.stdout).toMatch(/AWS REQUEST ID\s+HTTP\s*\n.*data\.database\.instance\s+fault-StorageQuotaExceededFault\s+400/);
    expect(up.stdout).toMatch(/data\.database\.instance\s+│?\s*StorageQuotaExceededFault\s+│?\s*creating rds:db-instance \(data\.database\.instance\): StorageQuotaExceededFault: The request would exceed/);
    const notAttempted = /Not attempted \(a dependency failed or the run was interrupted\): (.*)/.exec(up.stdout)?.[1]?.split(", ") ?? [];
    expect(notAttempted.length).toBeGreaterThan(0);
    // Independent resources were all created: the network, the buckets, the repositories, the load balancer.
    const recorded = Object.keys(state(cwd).resources);
    for (const id of ["network.vpc", "data.bucket.raw", "data.ecr.api", "compute.load-balancer"]) expect(recorded).toContain(id);
    expect(recorded).not.toContain("data.database.instance");
    for (const id of notAttempted) expect(recorded).not.toContain(id);

    aws.cloud.fault = undefined;
    const rerun = await runCli(cwd, UP);
    expect(rerun.code, rerun.stdout).toBe(0);
    await expectConverged(aws, cwd);
  });
});

describe("what the CLI prints about failures", () => {
  it("is redacted, and --verbose adds request ids, never request payloads", async () => {
    aws = installFakeAws();
    const cwd = tempProject();
    aws.cloud.fault = (call) =>
      call.command === "CreateDBInstance"
        ? sdkError("InvalidParameterCombination", "cannot reach postgres://admin:Hunter2Secret@db.internal:5432/clinical with key AKIAIOSFODNN7EXAMPLE (password=Hunter2Secret)", 400)
        : undefined;
    const up = await runCli(cwd, [...UP, "--verbose"]);
    expect(up.code).toBe(1);
    const printed = up.stdout + up.stderr;
    expect(printed).toMatch(/InvalidParameterCombination: cannot reach postgres:\/\/admin:\*\*\*\*@db\.internal:5432\/clinical with key AKIA\*\*\*\* \(password=\*\*\*\*\)/);
    expect(printed).not.toContain("Hunter2Secret");
    expect(printed).not.toContain("AKIAIOSFODNN7EXAMPLE");
    expect(printed).toMatch(/fault-InvalidParameterCombination\s+400/);
    // The request that failed is not printed: its parameters stay out of logs.
    const input = aws.cloud.callsTo("CreateDBInstance")[0]!.input;
    expect(printed).not.toContain(input.DBInstanceClass);
    // State never records a secret value either, and it is private to its owner.
    const stateFile = path.join(cwd, "state/dev.json");
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    const recorded = readFileSync(stateFile, "utf8");
    for (const value of aws.secretsmanager.storedValues) for (const part of secretParts(value)) expect(recorded).not.toContain(part);
  });
});

/** The secret parts of a stored value: a JSON secret's password, or the whole value. */
function secretParts(value: string): string[] {
  try {
    const { password } = JSON.parse(value) as { password?: string };
    return password ? [password] : [];
  } catch {
    return [value];
  }
}

/** Ids of EC2 resources as the fake makes them, and the not-found code EC2 answers while a new one has not propagated. */
const NOT_YET_VISIBLE: [RegExp, string][] = [
  [/\bvpc-[0-9a-f]{17}\b/g, "InvalidVpcID.NotFound"],
  [/\bsubnet-[0-9a-f]{17}\b/g, "InvalidSubnetID.NotFound"],
  [/\bsg-[0-9a-f]{17}\b/g, "InvalidGroup.NotFound"],
  [/\brtb-[0-9a-f]{17}\b/g, "InvalidRouteTableID.NotFound"],
  [/\bigw-[0-9a-f]{17}\b/g, "InvalidInternetGatewayID.NotFound"],
  [/\bacl-[0-9a-f]{17}\b/g, "InvalidNetworkAclID.NotFound"],
];

/**
 * EC2's eventual consistency (AWS: "Eventual consistency in the Amazon EC2 API"): the first mutating EC2 call that names
 * a resource created in this run, before any read has seen it, fails once with that resource's NotFound code; the first
 * ECS call handing over a new IAM role fails once as ECS does while the role propagates.
 */
function eventualConsistency() {
  const used = new Set<string>();
  const injected: string[] = [];
  const fault = (call: CallRecord): Error | undefined => {
    const text = JSON.stringify(call.input);
    if (!call.mutating) return undefined;
    if (call.service === "ec2" && !/^(Delete|Release|Disassociate|Detach|Revoke)/.test(call.command)) {
      for (const [pattern, code] of NOT_YET_VISIBLE) {
        for (const id of text.match(pattern) ?? []) {
          if (used.has(id)) continue;
          used.add(id);
          injected.push(`${call.command} ${code}`);
          return sdkError(code, `The ID '${id}' does not exist`, 400);
        }
      }
    }
    if (call.service === "ecs" && call.command === "RegisterTaskDefinition") {
      const role = String(call.input.executionRoleArn ?? "");
      if (role && !used.has(role)) {
        used.add(role);
        injected.push(`${call.command} role propagation`);
        return sdkError("InvalidParameterException", `ECS was unable to assume the role '${role}' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.`, 400);
      }
    }
    return undefined;
  };
  return { fault, injected };
}

describe("eventual consistency", () => {
  it("not-found right after create and IAM roles not yet assumable are retried by the resources, and up converges", async () => {
    aws = installFakeAws();
    const cwd = tempProject();
    const ec = eventualConsistency();
    aws.cloud.fault = ec.fault;
    const up = await runCli(cwd, UP);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const kinds = new Set(ec.injected.map((i) => i.split(" ").slice(1).join(" ")));
    expect([...kinds].sort()).toEqual([
      "InvalidGroup.NotFound",
      "InvalidInternetGatewayID.NotFound",
      "InvalidNetworkAclID.NotFound",
      "InvalidRouteTableID.NotFound",
      "InvalidSubnetID.NotFound",
      "InvalidVpcID.NotFound",
      "role propagation",
    ]);
    expect(ec.injected.length).toBeGreaterThan(10);
    aws.cloud.fault = undefined;
    await expectConverged(aws, cwd);
  });
});

describe("teardown and network interfaces that do not drain", () => {
  it("waits for them, names them and what created them, gives up after its budget, deletes everything else, and finishes later", async () => {
    aws = installFakeAws();
    const cwd = tempProject();
    expect((await runCli(cwd, UP)).code).toBe(0);
    const resources = state(cwd).resources;
    const groupId = resources["network.security-group.api"].physicalId;
    const vpcId = resources["network.vpc"].physicalId;
    // An interface someone's load balancer left in the API's group (the fake never drains it on its own).
    aws.ec2.networkInterfaces.set("eni-0feedfacecafe0001", {
      NetworkInterfaceId: "eni-0feedfacecafe0001",
      VpcId: vpcId,
      SubnetId: resources["network.subnet.public-a"].physicalId,
      Status: "in-use",
      Description: "ELB app/someone-elses-alb/50dc6c495c0c9188",
      InterfaceType: "interface",
      RequesterId: "amazon-elb",
      RequesterManaged: true,
      Groups: [{ GroupId: groupId, GroupName: "api" }],
    });

    const started = Date.now();
    const down = await runCli(cwd, DOWN);
    expect(down.code).toBe(1);
    // 20 minutes of real-world budget, scaled by the test's waits to 1.2 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200);
    const failure = down.stdout.replace(/\s*│\s*/g, " ").replace(/\s+/g, " ");
    expect(failure).toMatch(/Destroy failed/);
    expect(failure).toMatch(
      new RegExp(`network\\.security-group\\.api DependencyViolation .*Gave up after 20 minutes: 1 network interface still attached to ${groupId}: eni-0feedfacecafe0001 \\(load balancer app/someone-elses-alb/50dc6c495c0c9188, in-use\\)`),
    );
    expect(down.stdout).toMatch(/Not attempted \(a dependency failed or the run was interrupted\): .*network\.vpc/);
    const left = Object.keys(state(cwd).resources).sort();
    expect(left).toEqual(["network.security-group.api", "network.vpc"]);
    expect(aws.s3.buckets.size).toBe(0);

    aws.ec2.networkInterfaces.delete("eni-0feedfacecafe0001");
    const again = await runCli(cwd, DOWN);
    expect(again.code, again.stdout).toBe(0);
    await expectGone(aws, cwd);
  });
});
