import { AwsFailure } from "../errors.js";

/** The AWS error code of an SDK v3 exception (its `name`), or undefined for errors that did not come from AWS. */
export function errorCode(err: unknown): string | undefined {
  if (err && typeof err === "object" && "name" in err && "$metadata" in err) return String((err as { name: string }).name);
  if (err && typeof err === "object" && "Code" in err) return String((err as { Code: string }).Code);
  return undefined;
}

/**
 * Every "does not exist" code the services we call return. Finders turn these into `undefined`;
 * nothing above the finders matches message text.
 */
export const NOT_FOUND_CODES = new Set([
  // EC2
  "InvalidVpcID.NotFound",
  "InvalidSubnetID.NotFound",
  "InvalidGroup.NotFound",
  "InvalidGroupId.NotFound",
  "InvalidInternetGatewayID.NotFound",
  "InvalidRouteTableID.NotFound",
  "InvalidRouteTableAssociationID.NotFound",
  "InvalidRoute.NotFound",
  "InvalidNetworkAclID.NotFound",
  "InvalidNetworkAclEntry.NotFound",
  "NatGatewayNotFound",
  "InvalidAllocationID.NotFound",
  "InvalidAssociationID.NotFound",
  "InvalidFlowLogId.NotFound",
  "InvalidSecurityGroupRuleId.NotFound",
  "InvalidPermission.NotFound",
  // IAM
  "NoSuchEntity",
  "NoSuchEntityException",
  // CloudWatch Logs, Secrets Manager
  "ResourceNotFoundException",
  // S3
  "NoSuchBucket",
  "NotFound",
  "NoSuchKey",
  "NoSuchBucketPolicy",
  "NoSuchLifecycleConfiguration",
  "ServerSideEncryptionConfigurationNotFoundError",
  "NoSuchPublicAccessBlockConfiguration",
  "OwnershipControlsNotFoundError",
  // RDS
  "DBInstanceNotFound",
  "DBInstanceNotFoundFault",
  "DBSubnetGroupNotFoundFault",
  "DBParameterGroupNotFound",
  "DBParameterGroupNotFoundFault",
  // ECR
  "RepositoryNotFoundException",
  "LifecyclePolicyNotFoundException",
  // AWS Budgets
  "NotFoundException",
  // ECS
  "ClusterNotFoundException",
  "ServiceNotFoundException",
  // ELBv2
  "LoadBalancerNotFound",
  "LoadBalancerNotFoundException",
  "TargetGroupNotFound",
  "TargetGroupNotFoundException",
  "ListenerNotFound",
  "ListenerNotFoundException",
  "RuleNotFound",
  "RuleNotFoundException",
  // CloudWatch (GetDashboard, DeleteDashboards), SNS, CloudTrail
  "ResourceNotFound",
  "DashboardNotFoundError",
  "NotFoundException",
  "TrailNotFoundException",
]);

export function isNotFound(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && NOT_FOUND_CODES.has(code);
}

export function hasCode(err: unknown, ...codes: string[]): boolean {
  const code = errorCode(err);
  return code !== undefined && codes.includes(code);
}

/** Runs a finder call; a not-found error becomes undefined, anything else propagates. */
export async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** What a user can do about common AWS error codes. */
const HINTS: Record<string, string> = {
  AccessDenied: "the credentials in use lack this permission; check the IAM policy of the caller (aws sts get-caller-identity)",
  AccessDeniedException: "the credentials in use lack this permission; check the IAM policy of the caller (aws sts get-caller-identity)",
  UnauthorizedOperation: "the credentials in use lack this permission; check the IAM policy of the caller (aws sts get-caller-identity)",
  ExpiredToken: "the session expired; refresh your credentials (aws sso login) and run again: the run resumes where it stopped",
  ExpiredTokenException: "the session expired; refresh your credentials (aws sso login) and run again: the run resumes where it stopped",
  CredentialsProviderError: "no AWS credentials were found; set AWS_PROFILE or pass --profile, or run aws configure",
  VpcLimitExceeded: "the account's VPC quota is reached; delete an unused VPC or request a quota increase",
  AddressLimitExceeded: "the account's Elastic IP quota is reached; release an unused address or request a quota increase",
  DependencyViolation: "other resources still use it; wait a few minutes for network interfaces to drain and run again",
  CertificateNotFoundException: "the certificate in loadBalancer.certificateArn does not exist in this account and region (or is not issued yet); check it in ACM",
  IdempotentParameterMismatch: "a previous attempt used the same client token with other parameters; run again after it settles",
  InvalidDBInstanceStateFault: "the database is busy (being created, modified or backed up) or stopped; wait until its status is available (aws rds describe-db-instances) and run again",
  StorageQuotaExceededFault: "the account's RDS storage quota is reached; delete unused instances or snapshots, or request a quota increase",
  InstanceQuotaExceededFault: "the account's RDS instance quota is reached; delete an unused instance or request a quota increase",
};

export function hintFor(code: string): string | undefined {
  return HINTS[code];
}

/** Wraps any failure of an AWS call as an AwsFailure naming what was being done. */
/** Node's codes for a network that does not reach the endpoint at all. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

export function awsFailure(action: string, err: unknown): AwsFailure {
  if (err instanceof AwsFailure) return err;
  const netCode = (err as NodeJS.ErrnoException)?.code;
  if (netCode && NETWORK_CODES.has(netCode)) {
    return new AwsFailure(
      action,
      netCode,
      (err as Error).message,
      "the AWS endpoint could not be reached: check the network or proxy, and AWS_ENDPOINT_URL or the config's endpoint if you set one",
      { cause: err },
    );
  }
  const code = errorCode(err) ?? (err as Error)?.name ?? "Error";
  const message = (err as Error)?.message ?? String(err);
  return new AwsFailure(action, code, message, hintFor(code), { cause: err });
}

export function requestId(err: unknown): string | undefined {
  return (err as { $metadata?: { requestId?: string } })?.$metadata?.requestId;
}
