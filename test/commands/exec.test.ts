import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { execDeps, PLUGIN_MISSING } from "../../src/commands/exec.js";
import { runCli, tempProject } from "../cli-harness.js";
import { pushImage } from "../fakes/ecr.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

const DEV = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
};

let aws: FakeAws;
let cwd: string;
let spawned: { command: string; args: string[] }[];
const original = { ...execDeps };

beforeEach(async () => {
  aws = installFakeAws();
  cwd = tempProject({ dev: DEV });
  // up's own exit code is not asserted: layers still being written elsewhere may fail in the fake; the API service must exist.
  await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
  await runCli(cwd, ["deploy", "--env", "dev", "--service", "api", "--image", "v1"]);
  expect([...aws.ecs.tasks.values()].some((t) => t.serviceName === "api" && t.lastStatus === "RUNNING")).toBe(true);
  aws.cloud.calls.length = 0;
  spawned = [];
  execDeps.findPlugin = () => "/usr/local/bin/session-manager-plugin";
  execDeps.spawn = async (command, args) => {
    spawned.push({ command, args });
    return 7;
  };
});
afterEach(() => {
  Object.assign(execDeps, original);
  aws.restore();
});

const apiTask = () => [...aws.ecs.tasks.values()].find((t) => t.serviceName === "api" && t.lastStatus === "RUNNING")!;

describe("platform exec", () => {
  it("opens an ECS Exec session in a running task of the service and hands it to the plugin as the AWS CLI does", async () => {
    const run = await runCli(cwd, ["exec", "--env", "dev", "--profile", "ops", "--service", "api", "--", "python", "manage.py", "shell"]);
    const task = apiTask();
    const taskId = task.taskArn.split("/").at(-1)!;
    expect(run.code).toBe(7); // the plugin's exit code
    expect(aws.cloud.callsTo("ExecuteCommand").map((c) => c.input)).toEqual([
      { cluster: "clinical-platform-dev-cluster", task: task.taskArn, container: "api", interactive: true, command: "python manage.py shell" },
    ]);
    expect(spawned).toHaveLength(1);
    const [session, region, operation, profile, target, endpoint] = spawned[0]!.args;
    expect(spawned[0]!.command).toBe("/usr/local/bin/session-manager-plugin");
    expect(JSON.parse(session!)).toEqual({ sessionId: expect.stringMatching(/^ecs-execute-command-/), streamUrl: expect.stringMatching(/^wss:\/\//), tokenValue: expect.any(String) });
    expect([region, operation, profile, endpoint]).toEqual(["us-east-1", "StartSession", "ops", "https://ecs.us-east-1.amazonaws.com"]);
    expect(JSON.parse(target!)).toEqual({ Target: `ecs:clinical-platform-dev-cluster_${taskId}_${taskId}-api` });
    // The session token goes to the plugin only.
    expect(run.stdout + run.stderr).not.toContain(JSON.parse(session!).tokenValue);
  });

  it("uses the given --task and defaults the command to /bin/sh", async () => {
    const taskId = apiTask().taskArn.split("/").at(-1)!;
    const run = await runCli(cwd, ["exec", "--env", "dev", "--service", "api", "--task", taskId]);
    expect(run.code).toBe(7);
    expect(aws.cloud.callsTo("ListTasks")).toHaveLength(0);
    expect(aws.cloud.callsTo("ExecuteCommand")[0]!.input).toMatchObject({ task: apiTask().taskArn, command: "/bin/sh" });
  });

  it("without the plugin: one line saying how to install it, exit 1, and no AWS call", async () => {
    execDeps.findPlugin = () => undefined;
    const run = await runCli(cwd, ["exec", "--env", "dev", "--service", "api", "--", "/bin/sh"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: ${PLUGIN_MISSING}\n`);
    expect(aws.cloud.calls).toEqual([]);
    expect(spawned).toEqual([]);
  });

  it("refuses an unknown service and a task that is not the service's", async () => {
    const unknown = await runCli(cwd, ["exec", "--env", "dev", "--service", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--service nope: dev has no such service/);
    const wrong = await runCli(cwd, ["exec", "--env", "dev", "--service", "api", "--task", "0123456789abcdef"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--task 0123456789abcdef: not a running task of api/);
    expect(aws.cloud.callsTo("ExecuteCommand")).toEqual([]);
  });
});
