import { describe, expect, it } from "vitest";
import { z } from "zod";
import { coveredMs, criticalPath, workItems, type CallStamp, type TimedEvent } from "../../bench/critical-path.js";
import { toggleSets } from "../../bench/toggles.js";

describe("criticalPath", () => {
  it("is empty for no work", () => {
    expect(criticalPath([])).toEqual({ totalMs: 0, chain: [] });
  });

  it("follows the heaviest chain of dependencies, not the longest in steps, and reports it in order", () => {
    const cp = criticalPath([
      { id: "vpc", durationMs: 300, deps: [] },
      { id: "subnet", durationMs: 100, deps: ["vpc"] },
      { id: "route-table", durationMs: 50, deps: ["vpc"] },
      { id: "association", durationMs: 50, deps: ["route-table", "subnet"] },
      { id: "db-subnet-group", durationMs: 150, deps: ["subnet"] },
      { id: "database", durationMs: 5000, deps: ["db-subnet-group", "secret"] },
      { id: "secret", durationMs: 100, deps: [] },
      { id: "bucket", durationMs: 5400, deps: [] },
    ]);
    expect(cp.totalMs).toBe(5550);
    expect(cp.chain).toEqual([
      { id: "vpc", durationMs: 300, startMs: 0, finishMs: 300 },
      { id: "subnet", durationMs: 100, startMs: 300, finishMs: 400 },
      { id: "db-subnet-group", durationMs: 150, startMs: 400, finishMs: 550 },
      { id: "database", durationMs: 5000, startMs: 550, finishMs: 5550 },
    ]);
  });

  it("lets a long independent item be the path when it outweighs every chain", () => {
    const cp = criticalPath([
      { id: "a", durationMs: 10, deps: [] },
      { id: "b", durationMs: 10, deps: ["a"] },
      { id: "slow", durationMs: 25, deps: [] },
    ]);
    expect(cp).toEqual({ totalMs: 25, chain: [{ id: "slow", durationMs: 25, startMs: 0, finishMs: 25 }] });
  });

  it("breaks ties by the dependency listed first and keeps zero-weight barriers in the chain", () => {
    const cp = criticalPath([
      { id: "x", durationMs: 40, deps: [] },
      { id: "y", durationMs: 40, deps: [] },
      { id: "gate", durationMs: 0, deps: ["y", "x"] },
      { id: "z", durationMs: 5, deps: ["gate"] },
    ]);
    expect(cp.chain.map((l) => l.id)).toEqual(["y", "gate", "z"]);
    expect(cp.totalMs).toBe(45);
  });

  it("ignores dependencies outside the graph and repeated ones", () => {
    const cp = criticalPath([{ id: "a", durationMs: 7, deps: ["gone", "gone"] }]);
    expect(cp).toEqual({ totalMs: 7, chain: [{ id: "a", durationMs: 7, startMs: 0, finishMs: 7 }] });
  });

  it("rejects cycles, duplicate ids and impossible durations", () => {
    expect(() => criticalPath([{ id: "a", durationMs: 1, deps: ["b"] }, { id: "b", durationMs: 1, deps: ["a"] }])).toThrow(/cycle: a → b → a/);
    expect(() => criticalPath([{ id: "a", durationMs: 1, deps: [] }, { id: "a", durationMs: 2, deps: [] }])).toThrow(/duplicate/);
    expect(() => criticalPath([{ id: "a", durationMs: -1, deps: [] }])).toThrow(/a has duration -1/);
    expect(() => criticalPath([{ id: "a", durationMs: NaN, deps: [] }])).toThrow(/a has duration NaN/);
  });
});

describe("coveredMs", () => {
  it.each([
    { name: "nothing", intervals: [] as [number, number][], want: 0 },
    { name: "serial calls add up", intervals: [[0, 50], [50, 100], [100, 150]] as [number, number][], want: 150 },
    { name: "parallel calls count once", intervals: [[0, 50], [10, 60], [20, 70]] as [number, number][], want: 70 },
    { name: "nested and unsorted", intervals: [[30, 40], [0, 100], [200, 250]] as [number, number][], want: 150 },
    { name: "empty intervals", intervals: [[5, 5], [9, 3]] as [number, number][], want: 0 },
  ])("$name", ({ intervals, want }) => {
    expect(coveredMs(intervals)).toBe(want);
  });
});

describe("workItems", () => {
  const call = (start: number, command = "ec2:DescribeVpcs"): CallStamp => ({ command, mutating: false, start, end: start + 50 });
  const at = (t: number, event: TimedEvent["event"]): TimedEvent => ({ at: t, event });

  it("puts the serial calls before the engine, the sweep, a barrier, the graph and the calls after it in one chain", () => {
    const events: TimedEvent[] = [
      at(100, { kind: "start", logicalId: "vpc", type: "ec2:vpc", action: "read" }),
      at(100, { kind: "start", logicalId: "bucket", type: "s3:bucket", action: "read" }),
      at(150, { kind: "done", logicalId: "bucket", type: "s3:bucket", action: "read", elapsedMs: 50 }),
      at(220, { kind: "done", logicalId: "vpc", type: "ec2:vpc", action: "read", elapsedMs: 120 }),
      at(300, { kind: "start", logicalId: "vpc", type: "ec2:vpc", action: "create" }),
      at(300, { kind: "start", logicalId: "bucket", type: "s3:bucket", action: "create" }),
      at(400, { kind: "note", logicalId: "vpc", message: "waiting" }),
      at(500, { kind: "done", logicalId: "bucket", type: "s3:bucket", action: "create", elapsedMs: 200 }),
      at(600, { kind: "done", logicalId: "vpc", type: "ec2:vpc", action: "create", elapsedMs: 300 }),
      at(601, { kind: "start", logicalId: "subnet", type: "ec2:subnet", action: "create" }),
      at(700, { kind: "done", logicalId: "subnet", type: "ec2:subnet", action: "create", elapsedMs: 99 }),
    ];
    // sts and the zones before the engine (serial), a sweep call inside it, two parallel calls after it.
    const stamps = [call(0, "sts:GetCallerIdentity"), call(50, "ec2:DescribeAvailabilityZones"), call(110), call(710), call(720)];
    const graph = new Map([["subnet", ["vpc"]], ["vpc", []], ["bucket", []]]);
    const cp = criticalPath(workItems(events, stamps, graph));
    expect(cp.chain.map((l) => [l.id, l.durationMs])).toEqual([
      ["(calls before the engine)", 100],
      ["read vpc", 120],
      ["(plan ready)", 0],
      ["vpc", 300],
      ["subnet", 99],
      ["(calls after the engine)", 60],
    ]);
    expect(cp.totalMs).toBe(679);
  });

  it("weighs a resource that only reports done (no change) by its own elapsed time", () => {
    const events: TimedEvent[] = [at(40, { kind: "done", logicalId: "vpc", type: "ec2:vpc", action: "noop", elapsedMs: 3 })];
    const items = workItems(events, [], new Map());
    expect(items.find((i) => i.id === "vpc")).toEqual({ id: "vpc", durationMs: 3, deps: ["(calls before the engine)"] });
  });

  it("is only the calls when the engine never ran (down with nothing recorded)", () => {
    const cp = criticalPath(workItems([], [call(0, "sts:GetCallerIdentity"), call(50, "tagging:GetResources")], new Map()));
    expect(cp.totalMs).toBe(100);
  });
});

describe("toggleSets", () => {
  it("switches on the optional parts the schema has and skips the ones it does not", () => {
    const schema = z
      .strictObject({
        network: z.strictObject({ natGateway: z.boolean().default(false), flowLogs: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}) }).prefault({}),
        monitoring: z.strictObject({ grafana: z.boolean().default(false), retention: z.int().default(7) }).prefault({}),
        database: z.strictObject({ enhancedMonitoringInterval: z.int().default(0), deletionProtection: z.boolean().default(false) }).prefault({}),
        extras: z.strictObject({ thing: z.strictObject({ enabled: z.boolean().optional() }) }).optional(),
      })
      .superRefine(() => undefined);
    expect(toggleSets(schema)).toEqual([
      "network.natGateway=true",
      "network.flowLogs.enabled=true",
      "database.enhancedMonitoringInterval=60",
      "monitoring.grafana=true",
      "extras.thing.enabled=true",
    ]);
  });

  it("sets a string toggle on an enum field (the API's release strategy)", () => {
    const schema = z.strictObject({ services: z.strictObject({ api: z.strictObject({ deployment: z.strictObject({ strategy: z.enum(["rolling", "blue-green"]).default("rolling") }) }) }) });
    expect(toggleSets(schema)).toEqual(["services.api.deployment.strategy=blue-green"]);
  });

  it("does not set an explicit toggle whose type changed", () => {
    const schema = z.strictObject({ network: z.strictObject({ natGateway: z.enum(["none", "single"]) }) });
    expect(toggleSets(schema)).toEqual([]);
  });
});
