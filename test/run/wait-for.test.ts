import { describe, expect, it } from "vitest";
import { retryUntil, sleep, waitFor, WaitFailed, WaitTimeout } from "../../src/run/wait-for.js";

const fast = { minDelay: 0.001, maxDelay: 0.002, scale: 1 };

describe("waitFor", () => {
  it("refreshes until done and returns the final value", async () => {
    let reads = 0;
    const progress: number[] = [];
    const value = await waitFor({
      what: "the counter to reach 3",
      refresh: async () => ++reads,
      done: (n) => n === 3,
      budgetSeconds: 5,
      waits: fast,
      onProgress: (n) => progress.push(n),
    });
    expect(value).toBe(3);
    expect(progress).toEqual([1, 2]);
  });

  it("throws WaitFailed with the reason when a value can never succeed", async () => {
    const err = await waitFor({ what: "task t1 to run", refresh: async () => "STOPPED", done: (s) => s === "RUNNING", failed: (s) => (s === "STOPPED" ? "the task stopped" : undefined), budgetSeconds: 5, waits: fast }).catch((e) => e);
    expect(err).toBeInstanceOf(WaitFailed);
    expect(err.message).toBe("task t1 to run: the task stopped");
  });

  it("throws WaitTimeout naming what it waited for and the last value seen", async () => {
    const err = await waitFor({ what: "instance db to be available", refresh: async () => "creating", done: () => false, describe: (s) => s, budgetSeconds: 0.01, waits: fast }).catch((e) => e);
    expect(err).toBeInstanceOf(WaitTimeout);
    expect(err.message).toMatch(/waiting for instance db to be available \(last seen: creating\)/);
  });

  it("stops during a pause as soon as the signal aborts", async () => {
    const controller = new AbortController();
    const slow = { minDelay: 60, maxDelay: 60, scale: 1 };
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    const err = await waitFor({ what: "never", refresh: async () => 0, done: () => false, budgetSeconds: 600, waits: slow, signal: controller.signal }).catch((e) => e);
    expect(err.name).toBe("AbortError");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("sleep rejects at once on an aborted signal", async () => {
    await expect(sleep(60_000, AbortSignal.abort())).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("retryUntil", () => {
  const notYet = Object.assign(new Error("the role cannot be assumed yet"), { name: "InvalidParameterException", $metadata: {} });
  const final = Object.assign(new Error("bad parameter"), { name: "InvalidParameterException", $metadata: {} });
  const pending = (err: unknown) => (err === notYet ? "still propagating" : undefined);

  it("makes the call again while its failure is only 'not yet', telling onRetry why, and returns its result", async () => {
    let calls = 0;
    const retries: string[] = [];
    const value = await retryUntil({
      what: "x",
      attempt: async () => {
        if (++calls < 3) throw notYet;
        return "made";
      },
      pending,
      budgetSeconds: 5,
      waits: fast,
      onRetry: (_err, reason, attempt) => retries.push(`${attempt}: ${reason}`),
    });
    expect(value).toBe("made");
    expect(retries).toEqual(["1: still propagating", "2: still propagating"]);
  });

  it("lets a final failure through at once, and the call's own last error once the budget is spent (never an invented one)", async () => {
    let calls = 0;
    await expect(retryUntil({ what: "x", attempt: async () => { calls++; throw final; }, pending, budgetSeconds: 5, waits: fast })).rejects.toBe(final);
    expect(calls).toBe(1);
    await expect(retryUntil({ what: "x", attempt: async () => Promise.reject(notYet), pending, budgetSeconds: 0.01, waits: fast, minAttempts: 3 })).rejects.toBe(notYet);
  });

  it("stops at once when the signal aborts during its pause", async () => {
    const controller = new AbortController();
    let calls = 0;
    const err = await retryUntil({
      what: "x",
      attempt: async () => {
        calls++;
        controller.abort();
        throw notYet;
      },
      pending,
      budgetSeconds: 600,
      waits: { minDelay: 60, maxDelay: 60, scale: 1 },
      signal: controller.signal,
    }).catch((e) => e);
    expect(err.name).toBe("AbortError");
    expect(calls).toBe(1);
  });
});
