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
    /** What the user can do now ("run again to keep waiting"). */
    readonly hint?: string,
  ) {
    super(`timed out after ${duration(seconds)} waiting for ${what}${lastSeen ? ` (last seen: ${lastSeen})` : ""}${hint ? `; ${hint}` : ""}`);
  }
}

/** "90 s", or "40 minutes" for whole minutes from two minutes up. */
function duration(seconds: number): string {
  return seconds >= 120 && seconds % 60 === 0 ? `${seconds / 60} minutes` : `${seconds} s`;
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
  /** Reads made whatever the budget (a slow first read, the SDK retrying throttling inside it, must not end the wait). */
  minReads?: number;
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
    // The first read is always made, signal or not: a wait that follows a call in flight (a create's read-back) must
    // learn what that call did, so state can record it. Every later read is skipped once the signal fires.
    if (n > 0) o.signal?.throwIfAborted();
    const value = await o.refresh();
    if (o.done(value)) return value;
    const reason = o.failed?.(value);
    if (reason !== undefined) throw new WaitFailed(o.what, reason);
    lastSeen = o.describe?.(value) ?? lastSeen;
    const elapsed = Date.now() - started;
    if (elapsed >= budgetMs && n + 1 >= (o.minReads ?? 1)) throw new WaitTimeout(o.what, Math.round(o.budgetSeconds), lastSeen);
    o.onProgress?.(value, elapsed);
    const pause = Math.min(o.waits.maxDelay, o.waits.minDelay * 2 ** Math.min(n, 10)) * 1000;
    await sleep(Math.min(pause, budgetMs - elapsed), o.signal);
  }
}

/**
 * Runs `wait` (an SDK waiter, which reports nothing while it polls) and calls `beat` with the milliseconds spent every
 * `everyMs` until it settles, so a CI log shows a long wait is alive. The one heartbeat of the tool; `waitFor` waits
 * report through their `onProgress` instead.
 */
export async function withHeartbeat<T>(everyMs: number, beat: (elapsedMs: number) => void, wait: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const timer = setInterval(() => beat(Date.now() - started), Math.max(10, everyMs));
  timer.unref();
  try {
    return await wait();
  } finally {
    clearInterval(timer);
  }
}

export interface RetryUntilOptions<T> {
  /** What is attempted, for messages: "creating ECS service api". */
  what: string;
  /** The call to make (one AWS call, or a call and what it needs). */
  attempt: () => Promise<T>;
  /**
   * Why a failure is only "not yet" (eventual consistency, an old resource still draining, a role still propagating):
   * the call is then made again. Undefined when the failure is final: it propagates at once, as AWS returned it.
   */
  pending: (err: unknown) => string | undefined | Promise<string | undefined>;
  budgetSeconds: number;
  waits: WaitSettings;
  signal?: AbortSignal;
  /** Called before each new attempt, with the failure that caused it, its reason and the attempt number (1 for the first). */
  onRetry?: (err: unknown, reason: string, attempt: number) => void;
  /** Attempts made whatever the budget (default 1). */
  minAttempts?: number;
}

/**
 * Makes a call until it succeeds, while its failures are only "not yet" (decided by `pending`), through `waitFor`: the
 * same backoff, budget and abort signal. No error is invented to carry "not yet": the call's own error is judged, and
 * once the budget is spent the last one propagates unchanged.
 */
export async function retryUntil<T>(o: RetryUntilOptions<T>): Promise<T> {
  type Outcome = { ok: true; value: T } | { ok: false; err: unknown; reason: string };
  let last: Outcome | undefined;
  let attempts = 0;
  try {
    const outcome = await waitFor<Outcome>({
      what: o.what,
      refresh: async () => {
        attempts++;
        try {
          last = { ok: true, value: await o.attempt() };
        } catch (err) {
          const reason = await o.pending(err);
          if (reason === undefined) throw err;
          last = { ok: false, err, reason };
        }
        return last;
      },
      done: (r) => r.ok,
      budgetSeconds: o.budgetSeconds,
      waits: o.waits,
      signal: o.signal,
      minReads: o.minAttempts,
      onProgress: (r) => {
        if (!r.ok) o.onRetry?.(r.err, r.reason, attempts);
      },
    });
    return (outcome as { ok: true; value: T }).value;
  } catch (err) {
    if (err instanceof WaitTimeout && last && !last.ok) throw last.err;
    throw err;
  }
}
