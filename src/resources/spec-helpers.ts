/**
 * Pure helpers the stack builder uses to write specs (ARNs, policy documents, names of settings). They import no AWS
 * SDK client, so building the graph (and `cost`, `outputs`, `validate`) loads none; the resource modules they came from
 * re-export them. See src/resources/catalog.ts.
 */
import type { LifecycleRuleSpec } from "./bucket-settings.js";

/** The partition of a region, for ARNs: S3 bucket ARNs carry no region or account. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

export function bucketArn(name: string, region: string): string {
  return `arn:${partitionOf(region)}:s3:::${name}`;
}

/** TLS 1.3 and 1.2 only: AWS's recommended policy (Security policies for your Application Load Balancer). */
export const DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** The parameter group family of a PostgreSQL version ("16" or "16.4" → "postgres16"; from version 10 on, the major is the integer part). */
export function postgresFamily(engineVersion: string): string {
  return `postgres${engineVersion.split(".")[0]}`;
}

/** One rule: expire every image beyond the newest `count`, tagged or not. */
export function keepLastImagesPolicy(count: number) {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Keep only the newest ${count} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: count },
        action: { type: "expire" },
      },
    ],
  };
}

/** Denies every request that does not use TLS (aws:SecureTransport false), for the bucket and its objects. */
export function denyInsecureTransportPolicy(bucketArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

export interface LifecycleSettings {
  transitionToIaDays?: number;
  transitionToGlacierDays?: number;
  expireNoncurrentDays?: number;
  abortMultipartDays?: number;
}

export const LIFECYCLE_RULE_ID = "platform-managed";

/**
 * One rule for the whole bucket (empty prefix) holding every configured action; no rule when nothing is configured.
 * S3's own limits, checked with the config: Standard-IA from day 30, Glacier at least 30 days after Standard-IA.
 */
export function lifecycleRules(settings: LifecycleSettings): LifecycleRuleSpec[] {
  const transitions: NonNullable<LifecycleRuleSpec["Transitions"]> = [
    ...(settings.transitionToIaDays ? [{ Days: settings.transitionToIaDays, StorageClass: "STANDARD_IA" as const }] : []),
    ...(settings.transitionToGlacierDays ? [{ Days: settings.transitionToGlacierDays, StorageClass: "GLACIER" as const }] : []),
  ];
  const rule: LifecycleRuleSpec = {
    ID: LIFECYCLE_RULE_ID,
    Status: "Enabled",
    Filter: { Prefix: "" },
    ...(transitions.length ? { Transitions: transitions } : {}),
    ...(settings.expireNoncurrentDays ? { NoncurrentVersionExpiration: { NoncurrentDays: settings.expireNoncurrentDays } } : {}),
    ...(settings.abortMultipartDays ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: settings.abortMultipartDays } } : {}),
  };
  const hasAction = transitions.length || rule.NoncurrentVersionExpiration || rule.AbortIncompleteMultipartUpload;
  return hasAction ? [rule] : [];
}
