import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { REAL_AWS_WAITS } from "../../src/run/wait-for.js";
import type { HttpGet } from "../../src/workloads/smoke-test.js";
import { memoryIo, runCli, tempProject, withoutGuardNotice } from "../cli-harness.js";
import type { CallRecord } from "../fakes/cloud.js";
import { pushImage } from "../fakes/ecr.js";
import { ENV, expectInterrupted, firstAfter, HOUR, interruptedWhen, lockFile, stateOf } from "./signals-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { optOutOfKeysIn } from "../helpers.js";

/**
 * Ctrl-C and SIGTERM in the waits test/e2e/signals-waits.test.ts does not cover: ECS target health, the blue-green smoke
 * test, an RDS modification applied now, IAM propagation; and Ctrl-C at a confirmation prompt. As there, the signal is
 * raised in-process when the fake sees the wait's first poll, and the command runs with the waits real AWS gets, so a
 * wait that ignored the signal would poll again or sleep on past this file's timeout.
 */
let aws: FakeAws;
afterEach(() => aws?.restore());


/** Every registered target of the fake load balancers still in its first health checks (ELB's "initial"). */
function targetsInitial() {
  for (const list of aws.elbv2.targetHealth?.values() ?? []) for (const t of list) t.TargetHealth = { State: "initial", Reason: "Elb.InitialHealthChecking", Description: "Initial health checks in progress" };
}

const COMPUTE = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
};
const BLUE_GREEN = { ...COMPUTE, alarms: { email: [] }, services: { api: { desiredCount: 1, deployment: { strategy: "blue-green", smokeTestPath: "/health", bakeMinutes: 1, testListenerCidrs: ["0.0.0.0/0"] } } } };
const healthy: HttpGet = async () => ({ status: 200 });
const listenerOn = (port: number) => [...aws.elbv2.listeners.values()].find((l) => l.Port === port)!;
const forwardOf = (port: number) => listenerOn(port).DefaultActions[0]!.TargetGroupArn as string;

describe("more waits end at the first Ctrl-C or SIGTERM", () => {
  it("ECS target health: a rolling deploy whose tasks run but whose targets are still in their first health checks stops at once, exit 130", async () => {
    aws = installFakeAws();
    const cwd = tempProject({ dev: COMPUTE });
    expect((await runCli(cwd, ["up", ...ENV, "--yes"])).code).toBe(0);
    pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    // The tasks start at once; the load balancer still checks them when the deploy first looks at their health.
    const run = await interruptedWhen(aws, cwd, ["deploy", ...ENV, "--service", "api", "--image", "v1"], (call, before) => {
      if (call.command !== "DescribeTargetHealth" || !before.some((c) => c.command === "UpdateService")) return false;
      targetsInitial();
      return true;
    });
    expectInterrupted(run, cwd);
    expect(run.after.filter((c) => c.command === "DescribeServices" || c.command === "DescribeTargetHealth")).toEqual([]);
    expect(run.after.filter((c) => c.mutating)).toEqual([]);
    expect(run.stdout + run.stderr).toMatch(/interrupted: the rollout of api goes on in AWS/);
    expect(stateOf(cwd).deployments?.api).toBeDefined();
  });

  it("ECS target health, blue-green: the new slot's health wait stops at once; the slot goes back to 0 and production never moves", async () => {
    aws = installFakeAws();
    const cwd = tempProject({ dev: BLUE_GREEN });
    expect((await runCli(cwd, ["up", ...ENV, "--yes"], { http: healthy })).code).toBe(0);
    pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    const production = forwardOf(80);
    const run = await interruptedWhen(
      aws,
      cwd,
      ["deploy", ...ENV, "--service", "api", "--image", "v1"],
      (call, before) => {
        if (call.command !== "DescribeTargetHealth" || !before.some((c) => c.command === "UpdateService")) return false;
        targetsInitial();
        return true;
      },
      { http: healthy },
    );
    expectInterrupted(run, cwd);
    expect(run.after.filter((c) => c.command === "DescribeTargetHealth" || c.command === "ModifyListener")).toEqual([]);
    // What follows the signal is the way back: the new slot to 0, nothing else changes.
    expect(run.after.filter((c) => c.mutating).map((c) => c.command)).toEqual(expect.arrayContaining(["UpdateService"]));
    expect(run.after.filter((c) => c.mutating && c.command !== "UpdateService" && c.command !== "DeregisterTaskDefinition")).toEqual([]);
    expect(run.stdout + run.stderr).toMatch(/interrupted before production traffic moved: production stays on/);
    expect(forwardOf(80)).toBe(production);
    expect(stateOf(cwd).resources["compute.service.api-green"].attributes).toMatchObject({ desiredCount: 0 });
  });

  it("blue-green smoke test: the pause between smoke-test attempts ends at the signal, no further request, production never moves", async () => {
    aws = installFakeAws();
    const cwd = tempProject({ dev: BLUE_GREEN });
    expect((await runCli(cwd, ["up", ...ENV, "--yes"], { http: healthy })).code).toBe(0);
    pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    const production = forwardOf(80);
    const interrupt = new AbortController();
    const requests: string[] = [];
    // The first attempt answers 503 (the app still warming up); the signal comes with it, before the 5 s pause.
    const http: HttpGet = async (url) => {
      requests.push(url);
      interrupt.abort();
      return { status: 503 };
    };
    const run = await interruptedWhen(aws, cwd, ["deploy", ...ENV, "--service", "api", "--image", "v1"], () => false, { http, interrupt });
    expectInterrupted(run, cwd);
    expect(requests).toHaveLength(1);
    expect(run.after.filter((c) => c.command === "ModifyListener" && c.input && JSON.stringify(c.input).includes(listenerOn(80).ListenerArn))).toEqual([]);
    expect(run.stdout + run.stderr).toMatch(/interrupted before production traffic moved: production stays on/);
    expect(forwardOf(80)).toBe(production);
    expect(stateOf(cwd).resources["compute.service.api-green"].attributes).toMatchObject({ desiredCount: 0 });
  });

  it("RDS modify: up --apply-immediately stops waiting for the modification, exit 130, the instance left in flight, state written", async () => {
    aws = installFakeAws();
    const cwd = tempProject();
    expect((await runCli(cwd, ["up", ...ENV, "--yes"])).code).toBe(0);
    aws.cloud.timings = { latencyMs: 0, provisioningMs: { rdsModify: HOUR } };
    const run = await interruptedWhen(
      aws,
      cwd,
      ["up", ...ENV, "--yes", "--apply-immediately", "--set", "database.instanceClass=db.t3.small"],
      firstAfter("ModifyDBInstance", "DescribeDBInstances"),
    );
    expectInterrupted(run, cwd);
    expect(run.after.filter((c) => c.command === "DescribeDBInstances")).toEqual([]);
    expect(run.after.filter((c) => c.mutating && c.command.startsWith("Modify"))).toEqual([]);
    expect(run.stdout).toMatch(/Apply interrupted/);
    expect(run.stdout).toMatch(/Left in flight .*data\.database\.instance/);
    expect(run.stdout).toMatch(/data\.database\.instance updating interrupted: AWS carries on with it/);
    // State keeps what was last read back (the old class); the next run reads the instance again and finishes the change.
    expect(stateOf(cwd).resources["data.database.instance"].attributes).toMatchObject({ instanceClass: "db.t3.micro" });
    expect([...aws.rds.instances.values()][0]!.DBInstanceStatus).toBe("modifying");
  });

  it("IAM propagation: up stops retrying a task definition whose new role ECS cannot assume yet, exit 130", async () => {
    aws = installFakeAws({ latencyMs: 0, provisioningMs: { iamPropagation: HOUR } });
    const cwd = tempProject({ dev: COMPUTE });
    // The first RegisterTaskDefinition fails (the role is seconds old); the signal comes with it, before the retry.
    const run = await interruptedWhen(aws, cwd, ["up", ...ENV, "--yes"], (call) => call.command === "RegisterTaskDefinition");
    expectInterrupted(run, cwd);
    expect(run.after.filter((c) => c.command === "RegisterTaskDefinition")).toEqual([]);
    expect(run.after.filter((c) => c.mutating && c.command.startsWith("Create"))).toEqual([]);
    expect(run.stdout).toMatch(/Apply interrupted: \d+ created/);
    expect(run.stdout).toMatch(/Left in flight .*compute\.task-definition\.api/);
    expect(Object.keys(stateOf(cwd).resources).some((id) => id.includes("role"))).toBe(true);
  });
});

describe("Ctrl-C at a confirmation is an interrupt", () => {
  /** Runs `args` on a fake terminal and presses Ctrl-C at the question. */
  async function ctrlC(cwd: string, args: string[]) {
    const io = memoryIo();
    for (const s of [io.stdin, io.stdout] as { isTTY?: boolean; _isStdio?: boolean }[]) Object.assign(s, { isTTY: true, _isStdio: true });
    const running = main(args, io, { cwd, waits: REAL_AWS_WAITS });
    const asked = Date.now();
    while (!/\?/.test(io.out()) && Date.now() - asked < 10_000) await new Promise((r) => setTimeout(r, 10));
    (io.stdin as unknown as NodeJS.WritableStream).write("\x03");
    return { code: await running, stdout: io.out(), stderr: withoutGuardNotice(io.err()) };
  }

  it("up: Ctrl-C at 'Apply these changes?' exits 130 with one line, nothing changed, the lock released", async () => {
    aws = installFakeAws();
    const cwd = tempProject({ dev: COMPUTE });
    const run = await ctrlC(cwd, ["up", ...ENV]);
    expect(run.stdout).toMatch(/Apply these changes to dev\?/);
    expect(run.code, run.stdout + run.stderr).toBe(130);
    expect(run.stderr).toBe("interrupted: not confirmed, so what the question asked about was not done\n");
    expect(run.stdout + run.stderr).not.toMatch(/this is a bug|ExitPromptError|\n\s+at /);
    expect(aws.cloud.mutatingCalls()).toEqual([]);
    expect(existsSync(lockFile(cwd)), "the lock is released").toBe(false);
  });

  it("down: Ctrl-C at the typed confirmation of a protected environment exits 130, nothing deleted, the lock released", async () => {
    aws = installFakeAws();
    const cwd = tempProject();
    optOutOfKeysIn(cwd, "prod");
    const up = await runCli(cwd, ["up", "--env", "prod", "--yes"]);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    aws.cloud.calls.length = 0;
    const io = memoryIo();
    for (const s of [io.stdin, io.stdout] as { isTTY?: boolean; _isStdio?: boolean }[]) Object.assign(s, { isTTY: true, _isStdio: true });
    const running = main(["down", "--env", "prod", "--disable-deletion-protection"], io, { cwd, waits: REAL_AWS_WAITS });
    const asked = Date.now();
    while (!/Type its name/.test(io.out()) && Date.now() - asked < 10_000) await new Promise((r) => setTimeout(r, 10));
    (io.stdin as unknown as NodeJS.WritableStream).write("\x03");
    const code = await running;
    expect(code, io.out() + io.err()).toBe(130);
    expect(withoutGuardNotice(io.err())).toBe("interrupted: not confirmed, so what the question asked about was not done\n");
    expect(aws.cloud.mutatingCalls()).toEqual([]);
    expect(existsSync(path.join(cwd, "state/prod.lock"))).toBe(false);
  });
});
