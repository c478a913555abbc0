import { errorCode } from "../aws/errors.js";
import { retryUntil } from "../run/wait-for.js";
import type { ResourceContext } from "./types.js";

/** How long (real-world seconds, scaled like every wait) a just-created role may take to be usable by other services. */
export const IAM_PROPAGATION_BUDGET_SECONDS = 90;

/**
 * Error codes other services use when the role they were handed is not visible to them yet. Each code also has
 * ordinary meanings (a real missing permission, a genuinely bad parameter), so the code alone is not enough.
 * IAM's own codes appear both bare ("InvalidInput", the wire code) and as SDK v3 names them ("InvalidInputException").
 */
const PROPAGATION_CODES = new Set([
  "InvalidParameterValueException", // Lambda
  "InvalidParameterException", // ECS, CloudWatch Logs, ...
  "AccessDenied",
  "AccessDeniedException",
  "InvalidInput",
  "InvalidInputException",
  "ValidationError", // Auto Scaling, CloudFormation and other query-protocol services
]);

/**
 * The message fragments that say "this role cannot be assumed yet". THIS IS THE ONLY PLACE platform matches AWS message
 * text: AWS gives no error code for IAM propagation, and the codes above are shared with permanent failures that must
 * not be retried for 90 s. Everywhere else errors are classified by `err.name` alone (src/aws/errors.ts).
 */
const PROPAGATION_MESSAGES: { name: string; pattern: RegExp }[] = [
  { name: "cannot be assumed", pattern: /cannot be assumed/i }, // Lambda: "The role defined for the function cannot be assumed by Lambda."
  { name: "not authorized to assume", pattern: /is not authorized to perform: sts:AssumeRole/i }, // "... is not authorized to perform: sts:AssumeRole on resource ..."
  { name: "unable to assume", pattern: /unable to assume/i }, // ECS and others: "... was unable to assume the role ..."
];

/** True when `err` is another service failing because a just-created IAM role has not propagated to it yet. */
export function isIamPropagationError(err: unknown): boolean {
  const code = errorCode(err);
  if (!code || !PROPAGATION_CODES.has(code)) return false;
  const message = String((err as Error | undefined)?.message ?? "");
  return PROPAGATION_MESSAGES.some(({ pattern }) => pattern.test(message));
}

/**
 * Runs `action` (a call to another service that uses a role, e.g. CreateFlowLogs, RegisterTaskDefinition, CreateFunction),
 * retrying for up to 90 s while it fails because the role has not propagated yet. Any other error, and the last
 * propagation error once the budget is spent, is thrown as AWS returned it.
 */
export async function retryWhileIamPropagates<T>(ctx: ResourceContext, action: () => Promise<T>, onRetry?: (err: unknown, attempt: number) => void): Promise<T> {
  return retryUntil({
    what: "an IAM role to propagate",
    attempt: action,
    pending: (err) => (isIamPropagationError(err) ? "the IAM role is still propagating" : undefined),
    budgetSeconds: IAM_PROPAGATION_BUDGET_SECONDS,
    waits: ctx.waits,
    signal: ctx.signal,
    minAttempts: 3,
    onRetry: onRetry && ((err, _reason, attempt) => onRetry(err, attempt)),
  });
}
