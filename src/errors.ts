/**
 * Errors meant for the user. Each is printed as one line, without a stack trace.
 * - UserError: bad input (config, flags, environment names). Exit code 2, raised before any AWS call that changes anything.
 * - AwsFailure: an AWS call failed for a named resource. Exit code 1, keeps the AWS error code and the cause.
 * - RunFailure: a command ran and found something wrong (failed resources, leftovers). Exit code 1.
 */
export class UserError extends Error {
  override name = "UserError";
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
  }
}

export class AwsFailure extends Error {
  override name = "AwsFailure";
  readonly exitCode = 1;
  constructor(
    /** What was being done: "creating EC2 VPC (network.vpc)". */
    readonly action: string,
    /** The AWS error code (`err.name` in SDK v3), e.g. "DependencyViolation". */
    readonly code: string,
    readonly awsMessage: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(`${action}: ${code}: ${awsMessage}${hint ? ` (${hint})` : ""}`, options);
  }
}

export class RunFailure extends Error {
  override name = "RunFailure";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * The user answered no to a confirmation. Every command ends the same way then: exit 1 (nothing failed, but what was
 * asked for did not happen: a script must not go on as if it had), one line saying what was left undone.
 */
export class Declined extends RunFailure {
  override name = "Declined";
  constructor(whatWasNotDone: string) {
    super(`not confirmed: ${whatWasNotDone}`, 1);
  }
}

export function isVisibleError(err: unknown): err is UserError | AwsFailure | RunFailure {
  return err instanceof UserError || err instanceof AwsFailure || err instanceof RunFailure;
}
