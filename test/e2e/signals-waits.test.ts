import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { REAL_AWS_WAITS } from "../../src/run/wait-for.js";
import { memoryIo, runCli, tempProject } from "../cli-harness.js";
import type { CallRecord } from "../fakes/cloud.js";
import { pushImage } from "../fakes/ecr.js";
import { ENV, expectInterrupted, firstAfter, HOUR, interruptedWhen, lockFile, stateOf } from "./signals-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

/**
 * Ctrl-C and SIGTERM in every kind of wait. src/bin.ts turns the signal into an aborted AbortSignal (and 130 into 143 for
 * SIGTERM); here the signal is raised in-process when the fake sees the wait's first poll. The interrupted command runs
 * with the waits real AWS gets (2 s between polls at least, budgets of 10 to 40 minutes): a wait that ignored the signal
 * would poll again or sleep on, and this file's timeout would end it. Each test asserts: exit 130, the wait polled no
 * more after the signal, state written, the lock released, and a message that says what was left in flight.
 */
let aws: FakeAws;
afterEach(() => aws?.restore());


const COMPUTE = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
};

describe("every wait ends at the first Ctrl-C or SIGTERM", () => {
  it("RDS create: up stops waiting, summarises the run as interrupted with the instance left in flight, state and lock in order", async () => {
    aws = installFakeAws({ latencyMs: 0, provisioningMs: { rdsCreate: HOUR } });
    const cwd = tempProject();
    const run = await interruptedWhen(aws, cwd, ["up", ...ENV, "--yes"], firstAfter("CreateDBInstance", "DescribeDBInstances"));
    expectInterrupted(run, cwd);
    expect(run.after.filter((c) => c.command === "DescribeDBInstances")).toEqual([]);
    // Nothing new starts (resources in flight may finish the step they are in, as a create's attribute call).
    expect(run.after.filter((c) => c.mutating && c.command.startsWith("Create")).map((c) => c.command)).toEqual([]);
    expect(run.stdout).toMatch(/Apply interrupted: \d+ created/);
    expect(run.stdout).toMatch(/Left in flight \(AWS carries on with them.*\): .*data\.database\.instance/);
    expect(run.stdout).toMatch(/data\.database\.instance creating interrupted: AWS carries on with it/);
    expect(run.stdout).not.toMatch(/AbortError/);
    // Everything completed is recorded; the instance is found (and adopted) by the next run.
    expect(Object.keys(stateOf(cwd).resources).length).toBeGreaterThan(10);
    aws.cloud.timings = { latencyMs: 0, provisioningMs: {} };
    const rerun = await runCli(cwd, ["up", ...ENV, "--yes"]);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    expect(aws.rds.instances.size).toBe(1);
  });

  it("RDS delete: down stops waiting for the deletion, says Destroy interrupted, exit 130", async () => {
    aws = installFakeAws();
    const cwd = tempProject();
    expect((await runCli(cwd, ["up", ...ENV, "--yes"])).code).toBe(0);
    aws.cloud.timings = { latencyMs: 0, provisioningMs: { rdsDelete: HOUR } };
    const run = await interruptedWhen(aws, cwd, ["down", ...ENV, "--yes", "--skip-final-snapshot"], firstAfter("DeleteDBInstance", "DescribeDBInstances"));
    expectInterrupted(run, cwd);
    expect(run.after.filter((c) => c.command === "DescribeDBInstances")).toEqual([]);
    expect(run.stdout).toMatch(/Destroy interrupted: \d+ deleted/);
    expect(run.stdout).toMatch(/Left in flight .*data\.database\.instance/);
    expect(stateOf(cwd).resources["data.database.instance"]).toBeDefined();
  });

  it("snapshot: db snapshot stops waiting for the snapshot, exit 130, says the snapshot goes on", async () => {
    aws = installFakeAws();
    const cwd = tempProject();
    expect((await runCli(cwd, ["up", ...ENV, "--yes"])).code).toBe(0);
    aws.cloud.timings = { latencyMs: 0, provisioningMs: { rdsDelete: HOUR } };
    const run = await interruptedWhen(aws, cwd, ["db", "snapshot", ...ENV, "--name", "before-migration"], firstAfter("CreateDBSnapshot", "DescribeDBSnapshots"));
    expectInterrupted(run, cwd);
    expect(run.after.filter((c) => c.command === "DescribeDBSnapshots")).toEqual([]);
    expect(run.stderr).toMatch(/^interrupted while waiting for RDS DB snapshot \(before-migration\) to be available: what was already asked of AWS goes on there/m);
  });

  it("ECS steady state: deploy stops waiting for the rollout, exit 130, says the rollout goes on in AWS", async () => {
    aws = installFakeAws();
    const cwd = tempProject({ dev: COMPUTE });
    expect((await runCli(cwd, ["up", ...ENV, "--yes"])).code).toBe(0);
    pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    aws.cloud.timings = { latencyMs: 0, provisioningMs: { ecsSteady: HOUR } };
    const run = await interruptedWhen(aws, cwd, ["deploy", ...ENV, "--service", "api", "--image", "v1"], firstAfter("UpdateService", "DescribeServices"));
    expectInterrupted(run, cwd);
    expect(run.after.filter((c) => c.command === "DescribeServices" || c.command === "DescribeTargetHealth")).toEqual([]);
    expect(run.stdout + run.stderr).toMatch(/interrupted: the rollout of api goes on in AWS/);
  });

  it("network-interface drain: down stops retrying the security group, exit 130, the group left in flight", async () => {
    aws = installFakeAws({ latencyMs: 0, provisioningMs: { eniDrain: HOUR } });
    const cwd = tempProject({ dev: COMPUTE });
    expect((await runCli(cwd, ["up", ...ENV, "--yes"])).code).toBe(0);
    pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    expect((await runCli(cwd, ["up", ...ENV, "--yes", "--image", "v1"])).code).toBe(0);
    // The first look at the interfaces in the way comes with the first retry of the delete.
    const run = await interruptedWhen(aws, cwd, ["down", ...ENV, "--yes"], firstAfter("DeleteSecurityGroup", "DescribeNetworkInterfaces"));
    expectInterrupted(run, cwd);
    expect(run.after.filter((c) => c.command === "DeleteSecurityGroup")).toEqual([]);
    expect(run.stdout).toMatch(/Destroy interrupted/);
    expect(run.stdout).toMatch(/Left in flight .*network\.security-group\.api/);
  });

  it("lock wait: a run waiting for another run's lock stops at once, exit 130, and leaves the other run's lock alone", async () => {
    aws = installFakeAws();
    const cwd = tempProject();
    mkdirSync(path.join(cwd, "state"), { recursive: true });
    const holder = { id: "other", owner: "someone", host: "elsewhere", pid: 1, command: "up", startedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + HOUR).toISOString() };
    writeFileSync(lockFile(cwd), JSON.stringify(holder));
    const interrupt = new AbortController();
    const io = memoryIo();
    const running = main(["up", ...ENV, "--yes", "--lock-timeout", "3600"], io, { cwd, waits: REAL_AWS_WAITS, signal: interrupt.signal });
    // Raised once the run is in its wait: nothing else happens while the lock is held.
    await new Promise((r) => setTimeout(r, 200));
    interrupt.abort();
    const code = await running;
    expect(code, io.out() + io.err()).toBe(130);
    expect(JSON.parse(readFileSync(lockFile(cwd), "utf8")).id).toBe("other");
    expect(aws.cloud.mutatingCalls()).toEqual([]);
    expect(io.err()).toMatch(/^interrupted: /m);
    expect(io.err()).not.toMatch(/this is a bug/);
  });

  it("log follow: logs --follow ends at the signal with exit 130", async () => {
    aws = installFakeAws();
    const cwd = tempProject({ dev: COMPUTE });
    expect((await runCli(cwd, ["up", ...ENV, "--yes"])).code).toBe(0);
    let polls = 0;
    const run = await interruptedWhen(aws, cwd, ["logs", ...ENV, "--service", "api", "--follow"], (call) => call.command === "FilterLogEvents" && ++polls === 2);
    expect(run.code, run.stdout + run.stderr).toBe(130);
    expect(run.after.filter((c) => c.command === "FilterLogEvents")).toEqual([]);
  });

  it("blue-green bake: a rollback that redeploys the previous release, interrupted in its bake, exits 130 and says where production is; AbortError is no bug", async () => {
    aws = installFakeAws();
    const cwd = tempProject({ dev: { ...COMPUTE, services: { api: { desiredCount: 1, deployment: { strategy: "blue-green", bakeMinutes: 1, testListenerCidrs: ["203.0.113.0/24"] } } } } });
    expect((await runCli(cwd, ["up", ...ENV, "--yes"])).code).toBe(0);
    for (const tag of ["v1", "v2"]) {
      pushImage(aws.ecr, "clinical-platform-dev/api", tag);
      const deployed = await runCli(cwd, ["deploy", ...ENV, "--service", "api", "--image", tag]);
      expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    }
    // After v2's bake the old slot runs nothing: rollback redeploys v1 blue-green, with a bake of its own.
    const run = await interruptedWhen(aws, cwd, ["rollback", ...ENV, "--service", "api"], firstAfter("ModifyListener", "DescribeTargetHealth"));
    expectInterrupted(run, cwd);
    expect(run.stderr).not.toMatch(/The operation was aborted/);
    expect(run.stdout + run.stderr).toMatch(/interrupted/);
    expect(run.after.filter((c) => c.command === "DescribeTargetHealth" || c.command === "DescribeAlarms")).toEqual([]);
    expect(stateOf(cwd).releases.api).toMatchObject({ bakingUntil: expect.any(String) });
  });

  it("RDS restore: db restore stops waiting for the restored instance, exit 130, the stack still on the old instance, lock released", async () => {
    aws = installFakeAws();
    const cwd = tempProject();
    expect((await runCli(cwd, ["up", ...ENV, "--yes"])).code).toBe(0);
    expect((await runCli(cwd, ["db", "snapshot", ...ENV, "--name", "before"])).code).toBe(0);
    const instanceBefore = stateOf(cwd).resources["data.database.instance"].physicalId;
    aws.cloud.timings = { latencyMs: 0, provisioningMs: { rdsCreate: HOUR } };
    const run = await interruptedWhen(aws, cwd, ["db", "restore", ...ENV, "--snapshot", "before", "--yes"], firstAfter("RestoreDBInstanceFromDBSnapshot", "DescribeDBInstances"));
    expectInterrupted(run, cwd);
    expect(run.after.filter((c) => c.command === "DescribeDBInstances")).toEqual([]);
    expect(run.after.filter((c) => c.mutating)).toEqual([]);
    expect(run.stderr).toMatch(/^interrupted: what was already asked of AWS goes on there/m);
    expect(stateOf(cwd).resources["data.database.instance"].physicalId).toBe(instanceBefore);
  });
});
