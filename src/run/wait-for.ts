import { setTimeout as timersSleep } from "node:timers/promises";

/** How long and how often to poll while AWS provisions or deletes something (seconds, as the SDK waiters take them). */
export interface WaitSettings {
  minDelay: number;
  maxDelay: number;
  /** Multiplies every time budget; 1 for real AWS, small in tests and the benchmark. */
  scale: number;
}

export const REAL_AWS_WAITS: WaitSettings = { minDelay: 2, maxDelay: 20, scale: 1 };

/** A wait that ran out of time: what was awaited, for how long, and the last thing seen. */
export class WaitTimeout extends Error {
  override name = "WaitTimeout";
  constructor(
    readonly what: string,
    readonly seconds: number,
    readonly lastSeen?: string,
  ) {
    super(`timed out after ${seconds} s waiting for ${what}${lastSeen ? ` (last seen: ${lastSeen})` : ""}`);
  }
}

/** A wait that reached a state it can never leave towards success (a task that stopped, an instance that failed). */
export class WaitFailed extends Error {
  override name = "WaitFailed";
  constructor(
    readonly what: string,
    readonly reason: string,
  ) {
    super(`${what}: ${reason}`);
  }
}

/**
 * Sleeps `ms` milliseconds, or until `signal` aborts (then it rejects with the signal's AbortError at once).
 * Every pause in the tool goes through here or through `waitFor`, so Ctrl-C is never held up by a sleep.
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await timersSleep(Math.max(0, ms), undefined, signal ? { signal } : undefined);
}

export interface WaitForOptions<T> {
  /** What is awaited, for messages: "ECS service api to reach a steady state". */
  what: string;
  /** One read of the current state (AWS calls happen here, never in done/failed). */
  refresh: () => Promise<T>;
  /** True when the wait is over, successfully. */
  done: (value: T) => boolean;
  /** A reason when the wait can never succeed; the wait then throws WaitFailed. */
  failed?: (value: T) => string | undefined;
  /** Real-world seconds AWS may take; multiplied by `waits.scale`. */
  budgetSeconds: number;
  waits: WaitSettings;
  signal?: AbortSignal;
  /** Called after every read that was not final, with the value and the milliseconds spent so far. */
  onProgress?: (value: T, elapsedMs: number) => void;
  /** Short description of a value, kept for the timeout's message. */
  describe?: (value: T) => string;
}

/**
 * The one polling primitive (in the spirit of Terraform's StateChangeConf): refresh, decide, pause with backoff
 * (doubling from minDelay, capped at maxDelay), within a budget, aborting at once when the signal fires.
 * SDK `waitUntil*` waiters stay where AWS has one; everything else waits through this.
 */
export async function waitFor<T>(o: WaitForOptions<T>): Promise<T> {
  const started = Date.now();
  const budgetMs = o.budgetSeconds * o.waits.scale * 1000;
  let lastSeen: string | undefined;
  for (let n = 0; ; n++) {
    o.signal?.throwIfAborted();
    const value = await o.refresh();
    if (o.done(value)) return value;
    const reason = o.failed?.(value);
    if (reason !== undefined) throw new WaitFailed(o.what, reason);
    lastSeen = o.describe?.(value) ?? lastSeen;
    const elapsed = Date.now() - started;
    if (elapsed >= budgetMs) throw new WaitTimeout(o.what, Math.round(o.budgetSeconds), lastSeen);
    o.onProgress?.(value, elapsed);
    const pause = Math.min(o.waits.maxDelay, o.waits.minDelay * 2 ** Math.min(n, 10)) * 1000;
    await sleep(Math.min(pause, budgetMs - elapsed), o.signal);
  }
}
