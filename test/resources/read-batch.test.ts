import { describe, expect, it } from "vitest";
import { batchedRead, SHARE_WINDOW_MS } from "../../src/resources/read-batch.js";
import { testContext } from "../helpers.js";

/** A shared read over a pretend API: records each call's keys; "gone-*" keys are not found, "broken-*" fail alone. */
function recordingRead(size: number, options: { group?: (key: string) => string; failCall?: Error } = {}) {
  const calls: string[][] = [];
  const read = batchedRead<string, string>({
    size,
    ...(options.group ? { group: options.group } : {}),
    async read(_ctx, keys) {
      calls.push(keys);
      if (options.failCall) throw options.failCall;
      const found = new Map<string, string | Error>();
      for (const k of keys) {
        if (k.startsWith("broken-")) found.set(k, new Error(`${k}: AccessDenied`));
        else if (!k.startsWith("gone-")) found.set(k, `value of ${k}`);
      }
      return found;
    },
  });
  return { calls, read };
}

describe("batchedRead", () => {
  it("answers reads asked for together with one call carrying every key", async () => {
    const { calls, read } = recordingRead(100);
    const ctx = testContext();
    expect(await Promise.all(["a", "b", "c"].map((k) => read(ctx, k)))).toEqual(["value of a", "value of b", "value of c"]);
    expect(calls).toEqual([["a", "b", "c"]]);
  });

  it("answers undefined for a key the call did not find, and fails only the key whose value is an error", async () => {
    const { calls, read } = recordingRead(100);
    const ctx = testContext();
    const results = await Promise.allSettled(["a", "gone-b", "broken-c"].map((k) => read(ctx, k)));
    expect(results).toEqual([
      { status: "fulfilled", value: "value of a" },
      { status: "fulfilled", value: undefined },
      { status: "rejected", reason: new Error("broken-c: AccessDenied") },
    ]);
    expect(calls).toHaveLength(1);
  });

  it("splits more keys than one call takes into calls of at most `size`, and reads a key asked for twice once", async () => {
    const { calls, read } = recordingRead(2);
    const ctx = testContext();
    await Promise.all(["a", "b", "a", "c", "d", "e"].map((k) => read(ctx, k)));
    expect(calls).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  });

  it("keeps groups apart: keys of different groups never share a call", async () => {
    const { calls, read } = recordingRead(10, { group: (k) => k.split("/")[0]! });
    const ctx = testContext();
    await Promise.all(["one/a", "two/b", "one/c"].map((k) => read(ctx, k)));
    expect(calls).toEqual([["one/a", "one/c"], ["two/b"]]);
  });

  it("keeps runs apart: reads of two contexts (two sets of clients) never share a call", async () => {
    const { calls, read } = recordingRead(10);
    await Promise.all([read(testContext(), "a"), read(testContext(), "b")]);
    expect(calls).toEqual([["a"], ["b"]]);
  });

  it("fails every read a failed call carried, with the call's error", async () => {
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "Throttling" });
    const { read } = recordingRead(10, { failCall: throttled });
    const ctx = testContext();
    const results = await Promise.allSettled(["a", "b"].map((k) => read(ctx, k)));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(results.map((r) => (r as PromiseRejectedResult).reason)).toEqual([throttled, throttled]);
  });

  it("reads asked for after the window has closed go in a call of their own", async () => {
    const { calls, read } = recordingRead(10);
    const ctx = testContext();
    await read(ctx, "a");
    await new Promise((resolve) => setTimeout(resolve, SHARE_WINDOW_MS));
    await read(ctx, "b");
    expect(calls).toEqual([["a"], ["b"]]);
  });
});
