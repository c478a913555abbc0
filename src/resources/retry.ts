import { errorCode } from "../aws/errors.js";
import { retryUntil } from "../run/wait-for.js";
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
 * Retries `action` while it fails with one of `codes`, genuine AWS error codes the SDK does not retry (eventual
 * consistency, DependencyViolation while ENIs drain), with backoff, for at most `budgetSeconds` of real-world time
 * (scaled like every wait), stopping at once on the run's abort signal. The last error propagates once the budget is
 * spent. A condition that is not an AWS error (a setting not visible yet, an old resource still draining) is awaited
 * with `waitFor` or `retryUntil` (src/run/wait-for.ts), never by inventing an error for this function to catch.
 */
export async function retryWhile<T>(ctx: ResourceContext, codes: string[], budgetSeconds: number, action: () => Promise<T>, onRetry?: (err: unknown, attempt: number) => void): Promise<T> {
  return retryUntil({
    what: "a call to succeed",
    attempt: action,
    pending: (err) => {
      const code = errorCode(err);
      return code !== undefined && codes.includes(code) ? code : undefined;
    },
    budgetSeconds,
    waits: ctx.waits,
    signal: ctx.signal,
    minAttempts: MIN_ATTEMPTS,
    onRetry: onRetry && ((err, _reason, attempt) => onRetry(err, attempt)),
  });
}
