import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { putLogEvents } from "../fakes/logs.js";

/** `platform logs` against the fake AWS: the environment's ECS log group with streams seeded as awslogs names them. */
const DEV = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
};
const GROUP = "/ecs/clinical-platform-dev";
const MINUTE = 60_000;

let aws: FakeAws;
let cwd: string;
beforeEach(async () => {
  aws = installFakeAws();
  cwd = tempProject({ dev: DEV });
  expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
  aws.cloud.calls.length = 0;
});
afterEach(() => aws.restore());

const put = (stream: string, ...events: [number, string][]) => putLogEvents(aws.logs, GROUP, stream, events.map(([timestamp, message]) => ({ timestamp, message })));
const iso = (t: number) => new Date(t).toISOString();
const logs = (...args: string[]) => runCli(cwd, ["logs", "--env", "dev", ...args]);

describe("logs", () => {
  it("merges the service's tasks in time order, only its own streams, from --since on", async () => {
    const now = Date.now();
    put("api/api/task-one", [now - 20 * MINUTE, "too old"], [now - 10 * MINUTE, "one: starting"], [now - 8 * MINUTE, "one: GET /health 200\n"]);
    put("api/api/task-two", [now - 9 * MINUTE, "two: starting"], [now - 7 * MINUTE, "two: GET /patients 200"]);
    put("worker/worker/task-three", [now - 9 * MINUTE, "the worker's own line"]);

    const run = await logs("--service", "api", "--since", "15m");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split("\n")).toEqual([
      `${iso(now - 10 * MINUTE)} task-one one: starting`,
      `${iso(now - 9 * MINUTE)} task-two two: starting`,
      `${iso(now - 8 * MINUTE)} task-one one: GET /health 200`,
      `${iso(now - 7 * MINUTE)} task-two two: GET /patients 200`,
    ]);
    const [call] = aws.cloud.callsTo("FilterLogEvents");
    expect(call!.input).toEqual({ logGroupName: GROUP, logStreamNamePrefix: "api/", startTime: expect.any(Number) });
    expect(Math.abs(call!.input.startTime - (now - 15 * MINUTE))).toBeLessThan(5_000);
  });

  it("accepts an ISO 8601 --since, and says so when there is nothing", async () => {
    const now = Date.now();
    put("api/api/t", [now - 3 * MINUTE, "recent"]);
    const since = iso(now - MINUTE);
    const run = await logs("--service", "api", "--since", since);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(`no log events from api in ${GROUP} since ${since}\n`);
    expect(aws.cloud.callsTo("FilterLogEvents")[0]!.input.startTime).toBe(now - MINUTE);
  });

  it("reads every page of FilterLogEvents", async () => {
    const now = Date.now();
    const events = (n: number, from: number): [number, string][] => Array.from({ length: n }, (_, i) => [from + i, `line ${i}`]);
    put("api/api/a", ...events(6_000, now - 5 * MINUTE));
    put("api/api/b", ...events(4_100, now - 4 * MINUTE));
    const run = await logs("--service", "api");
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split("\n")).toHaveLength(10_100);
    const calls = aws.cloud.callsTo("FilterLogEvents");
    expect(calls).toHaveLength(2);
    expect(calls[1]!.input.nextToken).toEqual(expect.any(String));
  });

  it("--json prints one JSON object per event; dbt is the dbt runner's streams", async () => {
    const now = Date.now();
    put("dbt-runner/dbt-runner/abc123", [now - MINUTE, "Running with dbt=1.8.0"]);
    const run = await logs("--service", "dbt", "--json");
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split("\n").map((l) => JSON.parse(l))).toEqual([
      { timestamp: iso(now - MINUTE), taskId: "abc123", container: "dbt-runner", stream: "dbt-runner/dbt-runner/abc123", message: "Running with dbt=1.8.0" },
    ]);
  });

  it("--json masks exactly what the text output masks (secrets inside JSON strings too)", async () => {
    const now = Date.now();
    const messages = [
      `{"level":"error","password": "hunter2-very-secret","db":"postgres://app:s3cr3t-pw@db.internal:5432/app"}`,
      "connecting to postgres://app:s3cr3t-pw@db.internal:5432/app",
      "DB_PASSWORD=hunter2-very-secret token: 'abc.def.ghi-jkl'",
      "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
      "key AKIAIOSFODNN7EXAMPLE secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      "GET /health 200",
    ];
    put("api/api/t1", ...messages.map((m, i): [number, string] => [now - MINUTE + i, m]));
    const text = await logs("--service", "api");
    const json = await logs("--service", "api", "--json");
    expect(json.code).toBe(0);
    const textMessages = text.stdout.trimEnd().split("\n").map((l) => l.replace(/^\S+ t1 /, ""));
    const jsonMessages = json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).message);
    expect(jsonMessages).toEqual(textMessages);
    for (const secret of ["hunter2-very-secret", "s3cr3t-pw", "abc.def.ghi-jkl", "eyJhbGciOiJIUzI1NiJ9", "IOSFODNN7EXAMPLE", "wJalrXUtnFEMI"]) {
      expect(text.stdout).not.toContain(secret);
      expect(json.stdout).not.toContain(secret);
    }
    expect(jsonMessages.at(-1)).toBe("GET /health 200");
  });

  it("--follow prints new events as they arrive, each once (late ones too), until Ctrl-C (exit 130)", async () => {
    const now = Date.now();
    put("api/api/t1", [now - MINUTE, "before"]);
    const stop = new AbortController();
    let polls = 0;
    aws.cloud.fault = (call) => {
      if (call.command !== "FilterLogEvents") return undefined;
      polls += 1;
      if (polls === 2) put("api/api/t1", [now + 1_000, "new on t1"]);
      // A line of another task that reaches CloudWatch after a later one was already shown.
      if (polls === 3) put("api/api/t2", [now + 500, "late on t2"]);
      if (polls === 5) stop.abort();
      return undefined;
    };
    const run = await runCli(cwd, ["logs", "--env", "dev", "--service", "api", "--follow"], { signal: stop.signal });
    expect(run.code).toBe(130);
    expect(polls).toBe(5);
    expect(run.stdout.trimEnd().split("\n")).toEqual([`${iso(now - MINUTE)} t1 before`, `${iso(now + 1_000)} t1 new on t1`, `${iso(now + 500)} t2 late on t2`]);
    // Each poll reads on from just before the newest event it has seen.
    const starts = aws.cloud.callsTo("FilterLogEvents").map((c) => c.input.startTime);
    expect(starts[2]).toBe(now + 1_000 - 5_000);
  });

  it.each([
    [["--service", "api", "--since", "yesterday"], /--since yesterday: expected a duration such as 30s, 15m/],
    [["--service", "frontend"], /--service frontend: dev has no such service \(its workloads: api, dbt-runner, worker\)/],
    [[], /required option '--service <name>'/],
  ])("refuses %j (exit 2)", async (args, message) => {
    const run = await logs(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(aws.cloud.callsTo("FilterLogEvents")).toEqual([]);
  });

  it("a log group that does not exist: exit 1 naming it", async () => {
    aws.logs.groups.delete(GROUP);
    const run = await logs("--service", "api");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: reading CloudWatch Logs group \(\/ecs\/clinical-platform-dev\): ResourceNotFoundException: .*platform up/);
  });
});
