import { describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { runGraph, topologicalOrder } from "../../src/engine/executor.js";

describe("runGraph", () => {
  it("starts each task once its dependencies are done, and independent tasks in parallel", async () => {
    const started: string[] = [];
    let running = 0;
    let peak = 0;
    const outcomes = await runGraph(
      [
        { id: "vpc", deps: [] },
        { id: "subnet-a", deps: ["vpc"] },
        { id: "subnet-b", deps: ["vpc"] },
        { id: "bucket", deps: [] },
        { id: "nat", deps: ["subnet-a"] },
      ],
      async (id) => {
        started.push(id);
        running++;
        peak = Math.max(peak, running);
        await sleep(5);
        running--;
        return id.toUpperCase();
      },
      { concurrency: 10 },
    );
    expect(started.indexOf("vpc")).toBeLessThan(started.indexOf("subnet-a"));
    expect(started.indexOf("subnet-a")).toBeLessThan(started.indexOf("nat"));
    expect(started.slice(0, 2).sort()).toEqual(["bucket", "vpc"]);
    expect(peak).toBeGreaterThanOrEqual(2);
    expect(outcomes.get("nat")).toEqual({ status: "done", value: "NAT" });
  });

  it("never runs more than the concurrency limit at once", async () => {
    let running = 0;
    let peak = 0;
    await runGraph(
      Array.from({ length: 20 }, (_, i) => ({ id: `t${i}`, deps: [] })),
      async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(2);
        running--;
      },
      { concurrency: 3 },
    );
    expect(peak).toBe(3);
  });

  it("marks everything downstream of a failure as skipped and finishes independent work", async () => {
    const skipped: string[] = [];
    const outcomes = await runGraph(
      [
        { id: "vpc", deps: [] },
        { id: "subnet", deps: ["vpc"] },
        { id: "nat", deps: ["subnet"] },
        { id: "bucket", deps: [] },
      ],
      async (id) => {
        if (id === "vpc") throw new Error("VpcLimitExceeded");
        return id;
      },
      { concurrency: 4, onSkip: (id) => skipped.push(id) },
    );
    expect(outcomes.get("vpc")!.status).toBe("failed");
    expect(outcomes.get("subnet")).toEqual({ status: "skipped", reason: "dependency vpc failed" });
    expect(outcomes.get("nat")).toEqual({ status: "skipped", reason: "dependency subnet did not complete" });
    expect(outcomes.get("bucket")).toEqual({ status: "done", value: "bucket" });
    expect(skipped.sort()).toEqual(["nat", "subnet"]);
  });

  it("starts nothing new once aborted, and lets the task in flight finish", async () => {
    const abort = new AbortController();
    const ran: string[] = [];
    const outcomes = await runGraph(
      [
        { id: "a", deps: [] },
        { id: "b", deps: ["a"] },
      ],
      async (id) => {
        ran.push(id);
        abort.abort();
        await sleep(2);
        return id;
      },
      { concurrency: 1, signal: abort.signal },
    );
    expect(ran).toEqual(["a"]);
    expect(outcomes.get("a")!.status).toBe("done");
    expect(outcomes.get("b")).toEqual({ status: "skipped", reason: "interrupted before it started" });
  });

  it("rejects a dependency cycle, naming it", async () => {
    await expect(
      runGraph(
        [
          { id: "a", deps: ["b"] },
          { id: "b", deps: ["a"] },
        ],
        async () => undefined,
        { concurrency: 1 },
      ),
    ).rejects.toThrow(/cycle: a → b → a/);
  });

  it("ignores dependencies outside the graph (resources already gone)", async () => {
    const outcomes = await runGraph([{ id: "a", deps: ["gone"] }], async () => 1, { concurrency: 1 });
    expect(outcomes.get("a")!.status).toBe("done");
  });

  it("orders topologically", () => {
    expect(topologicalOrder([{ id: "c", deps: ["b"] }, { id: "b", deps: ["a"] }, { id: "a", deps: [] }])).toEqual(["a", "b", "c"]);
  });
});
