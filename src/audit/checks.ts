import { cloudTrail as cloudTrailType, type TrailAttrs } from "../resources/cloudtrail-trail.js";
import { DescribeFlowLogsCommand, DescribeSecurityGroupRulesCommand, EC2Client, type SecurityGroupRule } from "@aws-sdk/client-ec2";
import { paginateGetResources, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { TAG_ENVIRONMENT, TAG_PROJECT } from "../aws/tags.js";
import type { Config } from "../config/schema.js";
import { isProtected } from "../config/protection.js";
import { protectionChecks } from "./protection-checks.js";
import { findBucketEncryption, findBucketPolicy, findPublicAccessBlock } from "../resources/bucket-settings.js";
import { findDbInstanceById, type DbInstanceAttrs } from "../resources/db-instance.js";
import { findDbParameterGroupByName } from "../resources/db-parameter-group.js";
import { findLogGroupByName } from "../resources/log-group.js";
import { findSecretById } from "../resources/secret.js";
import type { ResourceContext } from "../resources/types.js";
import { opsIds } from "../stack/operations.js";
import { dataChecks } from "./data-checks.js";
import { identityChecks } from "./identity-checks.js";
import type { StateDocument } from "../state/document.js";
import { type Check, type CheckResult, combine, failed, once, passed, skipped } from "../troubleshoot/checks.js";

/**
 * `platform audit`: the security controls the platform promises, checked against what is deployed. Each check reads
 * the resources state records (one Describe/Get per resource, through the resource modules' finders where they read
 * what is needed) and says passed, failed (with the resource and the fix) or skipped (its subject is not deployed).
 * `controls` names the AWS Foundational Security Best Practices (FSBP) controls a check corresponds to. Only ids
 * confirmed against the standard's control list (the Security Hub CSPM controls reference, as mirrored by
 * turbot/steampipe-mod-aws-compliance foundational_security/*.pp, read 2026-11) are listed; a check with none says in
 * `noControl` why, naming the nearest controls that do not match.
 */
export interface AuditContext {
  ctx: ResourceContext;
  state: StateDocument;
  config: Config;
}

export interface AuditCheck extends Check<AuditContext> {
  /** FSBP control ids ("S3.8"); empty when the standard has no control for what the check checks. */
  controls: string[];
  /** Why `controls` is empty. */
  noControl?: string;
  /** HIPAA Security Rule sections (45 CFR) the check supports, e.g. "164.312(e)(1)" (transmission security). */
  hipaa?: string[];
}

export const MIN_BACKUP_DAYS = 7;
/** The only ports open to the internet, and only on the load balancer's group. */
export const PUBLIC_PORTS = [80, 443];
export const CLASSIFICATION_TAG = "DataClassification";

const FAILURE = 90;

/** State records of one resource type, as [logicalId, attributes]. */
function recordsOf(state: StateDocument, type: string): [string, Record<string, unknown>][] {
  return Object.entries(state.resources)
    .filter(([, r]) => r.type === type)
    .map(([id, r]) => [id, r.attributes ?? {}]);
}

const upFix = (a: AuditContext, logicalId: string) => `run 'platform up --env ${a.config.environment}' to restore ${logicalId}`;

/** Runs `one` per recorded resource of `type` and combines; skipped when none is recorded. */
async function perResource(a: AuditContext, type: string, what: string, one: (logicalId: string, attrs: Record<string, unknown>) => Promise<CheckResult>): Promise<CheckResult> {
  const records = recordsOf(a.state, type);
  if (!records.length) return skipped(`no ${what} recorded in state`);
  return combine(await Promise.all(records.map(([id, attrs]) => one(id, attrs))));
}

const buckets = (a: AuditContext, one: (logicalId: string, bucket: string) => Promise<CheckResult>) =>
  perResource(a, "s3:bucket", "S3 bucket", (id, attrs) => one(id, String(attrs.name)));

const s3Encryption: AuditCheck = {
  id: "s3-encryption",
  title: "S3 buckets encrypted at rest",
  controls: [],
  noControl: "the standard no longer has a bucket-encryption control ([S3.4] left it; S3 encrypts every new object since 2023-01-05)",
  run: (a) =>
    buckets(a, async (id, bucket) => {
      const enc = await findBucketEncryption(a.ctx, bucket);
      // buckets.encryption.kmsKeyArn is for the data buckets; the audit bucket is SSE-S3 by design (see addAuditTrail).
      const kms = id === opsIds.auditBucket ? undefined : a.config.buckets.encryption.kmsKeyArn;
      if (!enc) return failed([`${bucket}: no default encryption`], `bucket ${bucket} has no default encryption`, upFix(a, `${id}.encryption`), FAILURE);
      if (kms && (enc.algorithm !== "aws:kms" || enc.kmsKeyArn !== kms)) {
        return failed([`${bucket}: ${enc.algorithm}${enc.kmsKeyArn ? ` ${enc.kmsKeyArn}` : ""}`], `bucket ${bucket} is not encrypted with the configured KMS key`, upFix(a, `${id}.encryption`), FAILURE);
      }
      return passed([`${bucket}: ${enc.algorithm}${enc.kmsKeyArn ? ` (${enc.kmsKeyArn})` : ""}`]);
    }),
};

const s3PublicAccess: AuditCheck = {
  id: "s3-public-access-blocked",
  title: "S3 public access blocked",
  controls: ["S3.8"],
  run: (a) =>
    buckets(a, async (id, bucket) => {
      const pab = await findPublicAccessBlock(a.ctx, bucket);
      const off = pab ? (["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"] as const).filter((k) => !pab[k]) : ["all four settings"];
      if (off.length) return failed([`${bucket}: not blocked: ${off.join(", ")}`], `bucket ${bucket} does not block public access (${off.join(", ")})`, upFix(a, `${id}.public-access-block`), FAILURE);
      return passed([`${bucket}: all four block public access settings on`]);
    }),
};

/** True when the policy denies every request made without TLS (aws:SecureTransport false). */
export function deniesInsecureTransport(policy: unknown): boolean {
  const statements = (policy as { Statement?: unknown })?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  return list.some((s: Record<string, any>) => {
    const principalAll = s.Principal === "*" || s.Principal?.AWS === "*";
    const actions = [s.Action].flat();
    const secure = s.Condition?.Bool?.["aws:SecureTransport"];
    return s.Effect === "Deny" && principalAll && actions.some((x) => x === "s3:*" || x === "*") && String(secure) === "false";
  });
}

const s3TlsOnly: AuditCheck = {
  id: "s3-tls-only",
  title: "S3 bucket policies deny requests without TLS",
  controls: ["S3.5"],
  run: (a) =>
    buckets(a, async (id, bucket) => {
      const policy = await findBucketPolicy(a.ctx, bucket);
      if (!policy || !deniesInsecureTransport(policy.policy)) {
        return failed([`${bucket}: ${policy ? "policy does not deny aws:SecureTransport=false" : "no bucket policy"}`], `bucket ${bucket} accepts requests without TLS`, upFix(a, `${id}.policy`), FAILURE);
      }
      return passed([`${bucket}: denies aws:SecureTransport=false`]);
    }),
};

/** The database as RDS reports it now; undefined when state records none. Shared by the database checks. */
function databaseReader() {
  const cache = new WeakMap<AuditContext, () => Promise<{ logicalId: string; db: DbInstanceAttrs | undefined } | undefined>>();
  return (a: AuditContext) => {
    let read = cache.get(a);
    if (!read) {
      read = once(async () => {
        const [rec] = recordsOf(a.state, "rds:db-instance");
        if (!rec) return undefined;
        return { logicalId: rec[0], db: await findDbInstanceById(a.ctx, String(rec[1].identifier)) };
      });
      cache.set(a, read);
    }
    return read();
  };
}
const readDatabase = databaseReader();

function databaseCheck(meta: Omit<AuditCheck, "run">, test: (a: AuditContext, db: DbInstanceAttrs, logicalId: string) => CheckResult | Promise<CheckResult>): AuditCheck {
  return {
    ...meta,
    run: async (a) => {
      const found = await readDatabase(a);
      if (!found) return skipped("no RDS instance recorded in state");
      if (!found.db) return failed([`${found.logicalId}: not found in RDS`], "the database recorded in state does not exist", upFix(a, found.logicalId), FAILURE);
      return test(a, found.db, found.logicalId);
    },
  };
}

const rdsEncrypted = databaseCheck({ id: "rds-encrypted", title: "Database storage encrypted", controls: ["RDS.3"] }, (_a, db) =>
  db.storageEncrypted
    ? passed([`${db.identifier}: storage encrypted`])
    : failed([`${db.identifier}: StorageEncrypted false`], `database ${db.identifier} is not encrypted at rest`, "encryption is fixed at creation: restore an encrypted copy of a snapshot into a new instance and move to it", FAILURE),
);

const rdsNotPublic = databaseCheck({ id: "rds-not-public", title: "Database not publicly accessible", controls: ["RDS.2"] }, (a, db, id) =>
  db.publiclyAccessible
    ? failed([`${db.identifier}: PubliclyAccessible true`], `database ${db.identifier} is publicly accessible`, upFix(a, id), FAILURE)
    : passed([`${db.identifier}: not publicly accessible`]),
);

// RDS.11 fails below 7 days of backup retention, as this check does.
const rdsBackups = databaseCheck({ id: "rds-backups", title: `Database backups kept at least ${MIN_BACKUP_DAYS} days`, controls: ["RDS.11"] }, (a, db) =>
  db.backupRetentionDays >= MIN_BACKUP_DAYS
    ? passed([`${db.identifier}: backups kept ${db.backupRetentionDays} days`])
    : failed([`${db.identifier}: backups kept ${db.backupRetentionDays} days`], `database ${db.identifier} keeps backups ${db.backupRetentionDays} days, fewer than ${MIN_BACKUP_DAYS}`, `set database.backupRetentionDays to ${MIN_BACKUP_DAYS} or more in config/${a.config.environment}.json and run 'platform up --env ${a.config.environment}'`, FAILURE),
);

// RDS.8 asks it of every instance; the platform requires it in protected environments only (src/config/protection.ts).
const rdsDeletionProtection = databaseCheck({ id: "rds-deletion-protection", title: "Database deletion protection (protected environments)", controls: ["RDS.8"] }, (a, db) => {
  if (!isProtected(a.config)) return skipped(`required in protected environments only (${a.config.environment} is not); ${db.identifier}: deletion protection ${db.deletionProtection ? "on" : "off"}`);
  return db.deletionProtection
    ? passed([`${db.identifier}: deletion protection on`])
    : failed([`${db.identifier}: deletion protection off`], `protected database ${db.identifier} can be deleted`, `set database.deletionProtection to true in config/${a.config.environment}.json and run 'platform up --env ${a.config.environment}'`, FAILURE);
});

const rdsForceSsl = databaseCheck(
  {
    id: "rds-force-ssl",
    title: "Database requires TLS (rds.force_ssl)",
    controls: [],
    noControl: "the standard checks rds.force_ssl only for SQL Server ([RDS.41]) and TLS only for MariaDB ([RDS.44]), not for PostgreSQL",
  },
  async (a, db) => {
    const group = await findDbParameterGroupByName(a.ctx, db.parameterGroupName);
    const value = group?.parameters["rds.force_ssl"];
    if (value === "1") return passed([`${db.parameterGroupName}: rds.force_ssl=1`]);
    const [pgId] = recordsOf(a.state, "rds:db-parameter-group")[0] ?? ["data.database.parameter-group"];
    return failed([`${db.parameterGroupName}: rds.force_ssl=${value ?? "(engine default)"}`], `database ${db.identifier} accepts connections without TLS`, upFix(a, pgId), FAILURE);
  },
);

/** An ingress rule open to the whole internet, IPv4 or IPv6. */
const openToInternet = (r: SecurityGroupRule) => !r.IsEgress && (r.CidrIpv4 === "0.0.0.0/0" || r.CidrIpv6 === "::/0");

// EC2.18 allows unrestricted ingress on 80/443 only; EC2.19 forbids it on high-risk ports. This check is stricter than both.
const securityGroupsClosed: AuditCheck = {
  id: "sg-no-open-ingress",
  title: "No security group open to the internet except the load balancer's 80/443",
  controls: ["EC2.18", "EC2.19"],
  run: async (a) => {
    const groups = recordsOf(a.state, "ec2:security-group");
    if (!groups.length) return skipped("no security groups recorded in state");
    const albGroup = a.state.resources["network.security-group.alb"]?.physicalId;
    const out = await a.ctx.aws.get(EC2Client).send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: groups.map(([, g]) => String(g.groupId)) }] }));
    const open = (out.SecurityGroupRules ?? []).filter(openToInternet);
    // A blue-green API's test listener, on its own port, is open to the internet only when its config lists 0.0.0.0/0.
    const deployment = a.config.services.api.deployment;
    const ports = [...PUBLIC_PORTS, ...(deployment.strategy === "blue-green" && deployment.testListenerCidrs?.includes("0.0.0.0/0") ? [deployment.testListenerPort] : [])];
    const allowed = (r: SecurityGroupRule) => r.GroupId === albGroup && r.IpProtocol === "tcp" && r.FromPort === r.ToPort && ports.includes(r.FromPort ?? -1);
    const bad = open.filter((r) => !allowed(r));
    const describe = (r: SecurityGroupRule) => `${r.GroupId} ${r.SecurityGroupRuleId}: ${r.IpProtocol === "-1" ? "all traffic" : `${r.IpProtocol} ${r.FromPort}-${r.ToPort}`} from ${r.CidrIpv4 ?? r.CidrIpv6}`;
    if (bad.length) {
      return failed(bad.map(describe), `${bad.length} ingress rule(s) open to the internet beyond the load balancer's 80/443`, `revoke ${bad.map((r) => r.SecurityGroupRuleId).join(", ")} (aws ec2 revoke-security-group-ingress --group-id <group> --security-group-rule-ids <id>); platform never adds them`, FAILURE);
    }
    return passed([`${groups.length} groups; open to the internet: ${open.length ? open.map(describe).join("; ") : "nothing"}`]);
  },
};

const flowLogs: AuditCheck = {
  id: "vpc-flow-logs",
  title: "VPC flow logs on",
  controls: ["EC2.6"],
  run: async (a) => {
    const vpcId = a.state.resources["network.vpc"]?.physicalId;
    if (!vpcId) return skipped("no VPC recorded in state");
    const out = await a.ctx.aws.get(EC2Client).send(new DescribeFlowLogsCommand({ Filter: [{ Name: "resource-id", Values: [vpcId] }] }));
    const active = (out.FlowLogs ?? []).filter((f) => f.FlowLogStatus === "ACTIVE");
    if (!active.length) return failed([`${vpcId}: no active flow log`], `VPC ${vpcId} has no flow logs`, `set network.flowLogs.enabled to true in config/${a.config.environment}.json and run 'platform up --env ${a.config.environment}'`, FAILURE);
    return passed(active.map((f) => `${vpcId}: ${f.FlowLogId} (${f.TrafficType}) → ${f.LogGroupName ?? f.LogDestination}`));
  },
};

const logRetention: AuditCheck = {
  id: "log-retention",
  title: "Log groups have a retention period",
  controls: [],
  noControl: "the standard has no CloudWatch Logs control",
  run: (a) =>
    perResource(a, "logs:log-group", "log group", async (id, attrs) => {
      const name = String(attrs.name);
      const group = await findLogGroupByName(a.ctx, name);
      if (!group) return failed([`${name}: not found`], `log group ${name} recorded in state does not exist`, upFix(a, id), FAILURE);
      if (group.retentionDays === undefined) return failed([`${name}: never expires`], `log group ${name} has no retention period`, upFix(a, id), FAILURE);
      return passed([`${name}: ${group.retentionDays} days${group.kmsKeyArn ? `, KMS ${group.kmsKeyArn}` : ""}`]);
    }),
};

const secretsEncrypted: AuditCheck = {
  id: "secrets-encrypted",
  title: "Secrets encrypted with the configured key",
  controls: [],
  noControl: "the standard's Secrets Manager controls ([SecretsManager.1]-[SecretsManager.4]) cover rotation and unused secrets, not the key",
  run: (a) =>
    perResource(a, "secretsmanager:secret", "secret", async (id, attrs) => {
      const found = await findSecretById(a.ctx, String(attrs.arn));
      const want = a.config.secrets.kmsKeyId;
      if (!found) return failed([`${attrs.name}: not found`], `secret ${attrs.name} recorded in state does not exist`, upFix(a, id), FAILURE);
      const key = found.kmsKeyId ?? "aws/secretsmanager (AWS managed key)";
      if (want && found.kmsKeyId !== want) return failed([`${found.name}: ${key}`], `secret ${found.name} is not encrypted with ${want}`, upFix(a, id), FAILURE);
      return passed([`${found.name}: ${key}`]);
    }),
};

const cloudTrail: AuditCheck = {
  id: "cloudtrail-logging",
  title: "CloudTrail trail logging",
  // CloudTrail.1: a multi-Region trail recording management events (the platform's selector records all of them);
  // CloudTrail.4: log file validation.
  controls: ["CloudTrail.1", "CloudTrail.4"],
  run: async (a) => {
    const trails = recordsOf(a.state, "cloudtrail:trail");
    if (!trails.length) return skipped("no CloudTrail trail in this environment's state (the operations layer is not deployed)");
    const parts = await Promise.all(
      trails.map(async ([id, attrs]) => {
        // The trail module's finder reads the trail, its status and its event selectors.
        const trail = await cloudTrailType.find(a.ctx, { logicalId: id, recorded: attrs as unknown as TrailAttrs });
        const name = String(attrs.name ?? attrs.arn);
        if (!trail) return failed([`${name}: not found`], `trail ${name} recorded in state does not exist`, upFix(a, id), FAILURE);
        const problems = [!trail.isLogging && "not logging", !trail.multiRegion && "single-region", !trail.logFileValidation && "log file validation off"].filter(Boolean) as string[];
        if (problems.length) return failed([`${trail.name}: ${problems.join(", ")}`], `trail ${trail.name}: ${problems.join(", ")}`, upFix(a, id), FAILURE);
        return passed([`${trail.name}: logging, multi-region, log file validation on`]);
      }),
    );
    return combine(parts);
  },
};

const classificationTags: AuditCheck = {
  id: "tags-data-classification",
  title: `Every resource tagged ${CLASSIFICATION_TAG}`,
  controls: [],
  noControl: "the standard has no tag-presence control",
  run: async (a) => {
    const identity = { project: a.config.project, environment: a.config.environment };
    const missing: string[] = [];
    let count = 0;
    const client = a.ctx.aws.get(ResourceGroupsTaggingAPIClient);
    const filters = [{ Key: TAG_PROJECT, Values: [identity.project] }, { Key: TAG_ENVIRONMENT, Values: [identity.environment] }];
    for await (const page of paginateGetResources({ client }, { TagFilters: filters, ResourcesPerPage: 100 })) {
      for (const r of page.ResourceTagMappingList ?? []) {
        count++;
        if (!(r.Tags ?? []).some((t) => t.Key === CLASSIFICATION_TAG && t.Value)) missing.push(r.ResourceARN!);
      }
    }
    if (!count) return skipped("no resources tagged with this environment's Project and Environment");
    if (missing.length) {
      const shown = missing.slice(0, 10);
      return failed(
        [`${missing.length} of ${count} resources lack ${CLASSIFICATION_TAG}`, ...shown, ...(missing.length > shown.length ? [`... and ${missing.length - shown.length} more`] : [])],
        `${missing.length} resources have no ${CLASSIFICATION_TAG} tag`,
        `add "${CLASSIFICATION_TAG}" (e.g. "Internal") to tags in config/${a.config.environment}.json, which every resource carries (the PHI buckets keep their own), and run 'platform up --env ${a.config.environment}'`,
        FAILURE,
      );
    }
    return passed([`${count} resources, all tagged ${CLASSIFICATION_TAG}`]);
  },
};

export function auditChecks(): AuditCheck[] {
  return [
    s3Encryption,
    s3PublicAccess,
    s3TlsOnly,
    rdsEncrypted,
    rdsNotPublic,
    rdsBackups,
    rdsDeletionProtection,
    rdsForceSsl,
    securityGroupsClosed,
    flowLogs,
    cloudTrail,
    logRetention,
    secretsEncrypted,
    classificationTags,
    ...identityChecks,
    ...dataChecks,
    ...protectionChecks(),
  ];
}
