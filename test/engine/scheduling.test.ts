import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { EngineEvent } from "../../src/engine/events.js";
import { runGraph } from "../../src/engine/executor.js";
import { planStack, READS_PER_SLOT } from "../../src/engine/plan.js";
import { registryOf } from "../../src/engine/registry.js";
import type { ResourceType } from "../../src/resources/types.js";
import type { Stack } from "../../src/stack/model.js";
import { emptyState } from "../../src/state/document.js";
import { testContext } from "../helpers.js";

/** Runs the graph one task at a time and returns the order tasks started in. */
async function startOrder(tasks: { id: string; deps: string[] }[]): Promise<string[]> {
  const started: string[] = [];
  await runGraph(
    tasks,
    async (id) => {
      started.push(id);
      await sleep(1);
    },
    { concurrency: 1 },
  );
  return started;
}

describe("runGraph scheduling when slots are scarce", () => {
  it("starts the ready task with the longest chain of dependents first", async () => {
    const order = await startOrder([
      { id: "bucket.encryption", deps: [] },
      { id: "bucket.policy", deps: [] },
      { id: "vpc", deps: [] },
      { id: "subnet", deps: ["vpc"] },
      { id: "database", deps: ["subnet"] },
    ]);
    // vpc heads a chain of three; then subnet (two) beats the leaves; database ties with them and queued last.
    expect(order).toEqual(["vpc", "subnet", "bucket.encryption", "bucket.policy", "database"]);
  });

  it("keeps the order tasks became ready in when their chains are equally long", async () => {
    expect(await startOrder([0, 1, 2, 3].map((i) => ({ id: `t${i}`, deps: [] })))).toEqual(["t0", "t1", "t2", "t3"]);
  });

  it("measures chains through every dependent, not just the first", async () => {
    const order = await startOrder([
      { id: "a", deps: [] },
      { id: "b", deps: [] },
      { id: "a1", deps: ["a"] },
      { id: "b1", deps: ["b"] },
      { id: "b2", deps: ["b1"] },
    ]);
    expect(order[0]).toBe("b");
  });
});

describe("planStack's observe sweep", () => {
  const identity = { project: "clinical-platform", environment: "dev", region: "us-east-1", accountId: "123456789012" };

  function fakeType(find: (logicalId: string) => Promise<unknown>): ResourceType<unknown, unknown> {
    return {
      type: "test:thing",
      find: (_ctx, { logicalId }) => find(logicalId),
      diff: () => [],
      create: async () => ({}),
      destroy: async () => undefined,
      physicalId: () => "thing-1",
    };
  }

  function stackOf(type: ResourceType<unknown, unknown>, count: number): Stack {
    return { nodes: Array.from({ length: count }, (_, i) => ({ logicalId: `thing.${i}`, type, spec: {} })), outputs: {} };
  }

  it(`reads ${READS_PER_SLOT} resources per concurrency slot at once`, async () => {
    let running = 0;
    let peak = 0;
    const type = fakeType(async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5);
      running--;
      return undefined;
    });
    const plan = await planStack(stackOf(type, 3 * READS_PER_SLOT * 2), emptyState(identity), registryOf([type]), testContext(), { concurrency: 2 });
    expect(peak).toBe(2 * READS_PER_SLOT);
    expect(plan.resources).toHaveLength(3 * READS_PER_SLOT * 2);
    expect(plan.errors).toEqual([]);
  });

  it("reports each finder's start and end as read events, and a failing finder as failed", async () => {
    const events: EngineEvent[] = [];
    const type = fakeType(async (logicalId) => {
      await sleep(2);
      if (logicalId === "thing.1") throw Object.assign(new Error("User is not authorized to perform: ec2:DescribeVpcs"), { name: "UnauthorizedOperation" });
      return { id: logicalId };
    });
    const plan = await planStack(stackOf(type, 2), emptyState(identity), registryOf([type]), testContext(), { concurrency: 1, events: (e) => events.push(e) });
    expect(events.map((e) => [e.kind, e.logicalId, "action" in e ? e.action : undefined])).toEqual([
      ["start", "thing.0", "read"],
      ["start", "thing.1", "read"],
      ["done", "thing.0", "read"],
      ["failed", "thing.1", "read"],
    ]);
    expect(events[2]).toMatchObject({ kind: "done", type: "test:thing", elapsedMs: expect.any(Number) });
    expect(events[3]).toMatchObject({ kind: "failed", message: "User is not authorized to perform: ec2:DescribeVpcs" });
    expect(plan.errors.map((e) => e.logicalId)).toEqual(["thing.1"]);
  });
});
