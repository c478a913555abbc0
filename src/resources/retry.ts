import { setTimeout as sleep } from "node:timers/promises";
import { errorCode } from "../aws/errors.js";
import type { ResourceContext } from "./types.js";

/** Attempts made whatever the budget, so an eventual-consistency error is always retried a little. */
const MIN_ATTEMPTS = 3;

/** When a wait of `budgetSeconds` real-world seconds ends (scaled like every wait), as a Date.now() value. */
export function deadlineAfter(ctx: ResourceContext, budgetSeconds: number): number {
  return Date.now() + budgetSeconds * ctx.waits.scale * 1000;
}

/** The pause before poll or retry number `n` (0 for the first) in milliseconds: doubling from minDelay, capped at maxDelay. */
export function backoffMs(ctx: ResourceContext, n: number): number {
  return Math.min(ctx.waits.maxDelay, ctx.waits.minDelay * 2 ** Math.min(n, 10)) * 1000;
}

/**
 * Retries `action` while it fails with one of `codes` (errors the SDK does not retry: eventual consistency,
 * DependencyViolation while ENIs drain, IAM propagation), with backoff, for at most `budgetSeconds` of real-world time
 * (scaled like every wait). The last error propagates once the budget is spent.
 */
export async function retryWhile<T>(ctx: ResourceContext, codes: string[], budgetSeconds: number, action: () => Promise<T>, onRetry?: (err: unknown, attempt: number) => void): Promise<T> {
  const deadline = deadlineAfter(ctx, budgetSeconds);
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (err) {
      const code = errorCode(err) ?? (err as Error)?.name;
      // A slow first attempt (the SDK retrying throttling inside it) must not spend the budget before any retry.
      const spent = Date.now() >= deadline && attempt >= MIN_ATTEMPTS;
      if (!code || !codes.includes(code) || spent || ctx.signal?.aborted) throw err;
      onRetry?.(err, attempt);
      await sleep(Math.min(backoffMs(ctx, attempt - 1), Math.max(0, deadline - Date.now())));
    }
  }
}
