import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { pushImage } from "../fakes/ecr.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

/** `platform run dbt -- ARGS` against the fake AWS: a one-off task of the dbt runner's task definition. */
const DEV = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
};

let aws: FakeAws;
let cwd: string;
afterEach(() => aws?.restore());

/** An environment that is up, with the dbt runner's image pushed unless told otherwise; a one-off task runs `taskMs`. */
async function upEnvironment(options: { push?: boolean; natGateway?: boolean; taskMs?: number } = {}) {
  aws = installFakeAws();
  cwd = tempProject({ dev: { ...DEV, network: { ...DEV.network, natGateway: options.natGateway ?? false } } });
  const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(up.stderr).toBe("");
  expect(up.code).toBe(0);
  if (options.push ?? true) pushImage(aws.ecr, "clinical-platform-dev/dbt-runner", "latest");
  aws.cloud.timings = { latencyMs: 0, provisioningMs: { ecsTask: options.taskMs ?? 20 } };
  aws.cloud.calls.length = 0;
}

const state = () => JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8"));
const physical = (id: string) => state().resources[id].physicalId;
const dbt = (...args: string[]) => runCli(cwd, ["run", "--env", "dev", "dbt", ...args]);
const runTask = () => aws.cloud.callsTo("RunTask").map((c) => c.input);

describe("run dbt", () => {
  it("runs dbt with the arguments where the services run (no NAT: public subnets, public IP, the dbt group), prints its output, exits with its exit code", async () => {
    await upEnvironment();
    aws.ecs.oneOffExitCode = 3;
    aws.ecs.oneOffLogLines = ["Running with dbt=1.8.0", "Completed with 1 error and 0 warnings"];

    const run = await dbt("--", "run", "--select", "staging", "--full-refresh");
    expect(run.code).toBe(3);
    expect(run.stdout).toBe("Running with dbt=1.8.0\nCompleted with 1 error and 0 warnings\n");
    expect(run.stderr).toMatch(/^started task \w+ of clinical-platform-dev-dbt-runner:1 in public subnets subnet-\w+, subnet-\w+: dbt run \(further arguments not shown\) \(Ctrl-C stops it\)\n/);
    expect(run.stderr).not.toContain("staging");
    expect(run.stderr).toMatch(/: dbt-runner exited 3\n$/);
    expect(runTask()).toEqual([
      {
        cluster: "clinical-platform-dev-cluster",
        taskDefinition: state().resources["compute.task-definition.dbt-runner"].attributes.arn,
        count: 1,
        launchType: "FARGATE",
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: [physical("network.subnet.public-a"), physical("network.subnet.public-b")],
            securityGroups: [physical("network.security-group.dbt")],
            assignPublicIp: "ENABLED",
          },
        },
        overrides: { containerOverrides: [{ name: "dbt-runner", command: ["dbt", "run", "--select", "staging", "--full-refresh"] }] },
        startedBy: "platform-run",
      },
    ]);
    // It followed the task while it ran, and read the stream on from where it was.
    expect(aws.cloud.callsTo("DescribeTasks").length).toBeGreaterThan(1);
    const reads = aws.cloud.callsTo("GetLogEvents").map((c) => c.input);
    expect(reads[0]).toEqual({ logGroupName: "/ecs/clinical-platform-dev", logStreamName: expect.stringMatching(/^dbt-runner\/dbt-runner\/\w+$/), startFromHead: true });
    expect(reads.at(-1)!.nextToken).toEqual(expect.any(String));
  });

  it.each([
    [["--", "dbt", "debug"], ["dbt", "debug"]],
    [["--", "build"], ["dbt", "build"]],
  ])("exit 0 passes through; %j runs %j", async (args, command) => {
    await upEnvironment();
    const run = await dbt(...args);
    expect(run.code).toBe(0);
    expect(runTask()[0]!.overrides).toEqual({ containerOverrides: [{ name: "dbt-runner", command }] });
  });

  it("never echoes argument values: only a plain subcommand, in the output and in --json", async () => {
    await upEnvironment();
    const secret = '{"api_key":"s3cr3t-value"}';
    const run = await dbt("--", "run", "--vars", secret);
    expect(run.code).toBe(0);
    expect(runTask()[0]!.overrides.containerOverrides[0].command).toEqual(["dbt", "run", "--vars", secret]);
    expect(run.stderr).toMatch(/: dbt run \(further arguments not shown\)/);
    expect(run.stdout + run.stderr).not.toContain("s3cr3t-value");
    const optionFirst = await runCli(cwd, ["run", "--env", "dev", "--json", "dbt", "--", "--vars", secret, "run"]);
    expect(optionFirst.stdout + optionFirst.stderr).not.toContain("s3cr3t-value");
    expect(optionFirst.stderr).toMatch(/: dbt \(arguments not shown\)/);
    expect(JSON.parse(optionFirst.stdout)).toMatchObject({ subcommand: null });
  });

  it("without arguments the image's own command runs (no override)", async () => {
    await upEnvironment();
    const run = await dbt();
    expect(run.code).toBe(0);
    expect(runTask()[0]!.overrides).toBeUndefined();
  });

  it("with a NAT gateway: the private subnets, no public IP", async () => {
    await upEnvironment({ natGateway: true });
    expect((await dbt("--", "run")).code).toBe(0);
    expect(runTask()[0]!.networkConfiguration.awsvpcConfiguration).toEqual({
      subnets: [physical("network.subnet.private-a"), physical("network.subnet.private-b")],
      securityGroups: [physical("network.security-group.dbt")],
      assignPublicIp: "DISABLED",
    });
  });

  it("an image that is not in ECR: exit 1 naming it and the push, without asking ECS to run it", async () => {
    await upEnvironment({ push: false });
    const run = await dbt("--", "run");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: not starting clinical-platform-dev-dbt-runner:1: \S+\/clinical-platform-dev\/dbt-runner:latest is not in ECR; push it first \(docker push \S+dbt-runner:latest\)/);
    expect(runTask()).toEqual([]);
  });

  it("a task whose container never ran: exit 1 with ECS's stop reason", async () => {
    await upEnvironment();
    // The image goes between platform's check and RunTask (deleted by a lifecycle policy, say): ECS cannot pull it.
    aws.cloud.fault = (call) => {
      if (call.command === "RunTask") aws.ecr.repositories.get("clinical-platform-dev/dbt-runner")!.images.length = 0;
      return undefined;
    };
    const run = await dbt("--", "run");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: task \w+ stopped before dbt-runner ran: task \w+ stopped: CannotPullContainerError: .*dbt-runner:latest: not found/);
  });

  it("Ctrl-C stops the task and exits 130", async () => {
    await upEnvironment({ taskMs: 60_000 });
    const interrupt = new AbortController();
    aws.cloud.fault = (call) => {
      if (call.command === "DescribeTasks") interrupt.abort();
      return undefined;
    };
    const run = await runCli(cwd, ["run", "--env", "dev", "dbt", "--", "run"], { signal: interrupt.signal });
    expect(run.code).toBe(130);
    const [started] = runTask();
    expect(started).toBeDefined();
    const stops = aws.cloud.callsTo("StopTask").map((c) => c.input);
    expect(stops).toEqual([{ cluster: "clinical-platform-dev-cluster", task: expect.stringMatching(/:task\/clinical-platform-dev-cluster\/\w+$/), reason: "platform run: interrupted by the user" }]);
    expect(aws.ecs.tasks.get(stops[0]!.task)).toMatchObject({ lastStatus: "STOPPED", stopCode: "UserInitiated" });
    expect(run.stderr).toMatch(/interrupted: stopped task \w+\n$/);
  });

  it("--json: the output on stderr, one document on stdout", async () => {
    await upEnvironment();
    aws.ecs.oneOffExitCode = 1;
    aws.ecs.oneOffLogLines = ["Database Error"];
    const run = await dbt("--json", "--", "test");
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ environment: "dev", subcommand: "test", exitCode: 1, interrupted: false });
    expect(run.stderr).toContain("Database Error\n");
  });
});

describe("run refuses", () => {
  it("an unknown task (exit 2), before starting anything", async () => {
    await upEnvironment();
    const run = await runCli(cwd, ["run", "--env", "dev", "spark", "--", "x"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown task "spark": platform run knows dbt/);
    expect(runTask()).toEqual([]);
  });

  it("an environment that is not up (exit 2)", async () => {
    aws = installFakeAws();
    cwd = tempProject({ dev: DEV });
    const run = await dbt("--", "run");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/dev has no ECS cluster yet .*run 'platform up --env dev' first/);
  });
});
