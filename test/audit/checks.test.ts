import { describe, expect, it } from "vitest";
import { auditChecks, deniesInsecureTransport } from "../../src/audit/checks.js";

describe("deniesInsecureTransport", () => {
  const deny = { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } };
  it.each([
    ["the platform's policy", { Statement: [deny] }, true],
    ["a boolean condition value and an AWS:* principal", { Statement: [{ ...deny, Principal: { AWS: "*" }, Condition: { Bool: { "aws:SecureTransport": false } } }] }, true],
    ["a single statement that is not in a list", { Statement: deny }, true],
    ["an Allow instead of a Deny", { Statement: [{ ...deny, Effect: "Allow" }] }, false],
    ["a deny for one action only", { Statement: [{ ...deny, Action: "s3:GetObject" }] }, false],
    ["a deny for one principal only", { Statement: [{ ...deny, Principal: { AWS: "arn:aws:iam::1:root" } }] }, false],
    ["a deny of requests made WITH TLS", { Statement: [{ ...deny, Condition: { Bool: { "aws:SecureTransport": "true" } } }] }, false],
    ["no condition", { Statement: [{ ...deny, Condition: undefined }] }, false],
    ["no policy", undefined, false],
  ])("%s → %s", (_what, policy, expected) => {
    expect(deniesInsecureTransport(policy)).toBe(expected);
  });
});

describe("auditChecks", () => {
  it("maps each check to the FSBP controls verified for it, and says why where the standard has none", () => {
    const mapping = Object.fromEntries(auditChecks().map((c) => [c.id, c.controls.length ? c.controls : `none: ${c.noControl}`]));
    expect(mapping).toEqual({
      "s3-encryption": "none: the standard no longer has a bucket-encryption control ([S3.4] left it; S3 encrypts every new object since 2023-01-05)",
      "s3-public-access-blocked": ["S3.8"],
      "s3-tls-only": ["S3.5"],
      "rds-encrypted": ["RDS.3"],
      "rds-not-public": ["RDS.2"],
      "rds-backups": ["RDS.11"],
      "rds-deletion-protection": ["RDS.8"],
      "rds-force-ssl": "none: the standard checks rds.force_ssl only for SQL Server ([RDS.41]) and TLS only for MariaDB ([RDS.44]), not for PostgreSQL",
      "sg-no-open-ingress": ["EC2.18", "EC2.19"],
      "vpc-flow-logs": ["EC2.6"],
      "cloudtrail-logging": ["CloudTrail.1", "CloudTrail.4"],
      "log-retention": "none: the standard has no CloudWatch Logs control",
      "secrets-encrypted": "none: the standard's Secrets Manager controls ([SecretsManager.1]-[SecretsManager.4]) cover rotation and unused secrets, not the key",
      "tags-data-classification": "none: the standard has no tag-presence control",
      "github-role-trust": "none: the FSBP standard has no control for web-identity trust conditions",
      "github-role-scope": "none: the FSBP IAM controls ([IAM.1], [IAM.21]) judge managed policies' actions, not inline policies' resources",
      "bi-role-scope": "none: the FSBP standard has no control for rds-db:connect resources or sts:ExternalId",
      "rds-iam-authentication": ["RDS.10"],
      "rds-copy-tags-to-snapshot": ["RDS.17"],
      "s3-phi-versioning": "none: no FSBP control requires versioning of general purpose buckets",
      "audit-logs-kept": "none: the FSBP CloudTrail controls check the trail, not whether its bucket can be deleted",
      "alb-https-only": ["ELB.1"],
      "alb-tls-policy": ["ELB.17"],
      "alb-test-listener-restricted": "none: the standard's EC2.18 allows unrestricted ingress on any port an account authorises; the test port is not one a protected environment authorises",
      "monitoring-uis-private": "none: the standard has no control on what a load balancer routes",
      "ecs-exec-logged": "none: the standard's ECS controls do not cover ECS Exec",
      "log-groups-kms": "none: the standard has no CloudWatch Logs encryption control",
      "ecr-tag-immutability": ["ECR.2"],
      "vpc-endpoints": "none: the standard's EC2.10 asks for an EC2 service endpoint only, not for the services the tasks call",
      "db-ingress-least-privilege": "none: the standard's EC2.18/EC2.19 check internet ingress only, not which groups reach a database",
    });
  });

  it("gives a reason exactly when a check has no control, and ids in the standard's form", () => {
    for (const c of auditChecks()) {
      expect(Boolean(c.noControl), c.id).toBe(c.controls.length === 0);
      for (const id of c.controls) expect(id, c.id).toMatch(/^(S3|RDS|EC2|CloudTrail|ELB|ECR)\.\d+$/);
      for (const section of c.hipaa ?? []) expect(section, c.id).toMatch(/^164\.3(08|10|12)\([a-z]\)(\(\d+\))?(\([ivx]+\))?$/);
    }
  });
});
