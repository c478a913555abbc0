import { z } from "zod";
import { cidrContains, cidrsOverlap, parseCidr } from "./cidr.js";
import { EXTRA_GENERATORS } from "../secrets/generate.js";
import { BUILT_IN_SECRETS } from "../secrets/catalog.js";

/** CloudWatch Logs accepts only these retention periods (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** `<project>-<environment>` prefixes every name; load balancer and target group names allow 32 characters with a suffix of up to 7. */
export const MAX_NAME_PREFIX = 25;

export const ENVIRONMENT_PATTERN = /^[a-z][a-z0-9-]{0,8}[a-z0-9]$|^[a-z]$/;
export const ENVIRONMENT_RULE = "1-10 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen";

const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
/** S3 bucket naming rules (general purpose buckets); the reserved prefixes and suffixes are checked in superRefine. */
export const STATE_BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const cidrBlock = z
  .string()
  .refine((s) => parseCidr(s) !== undefined, { message: 'must be an IPv4 CIDR block with host bits zero, e.g. "10.0.0.0/16"' });

/** ACM certificate ARNs (the load balancer's HTTPS listener takes only these here). */
export const ACM_CERTIFICATE_ARN = /^arn:aws(-cn|-us-gov)?:acm:([a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d):\d{12}:certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Fargate's CPU units and the memory (MiB) each allows (AWS Fargate task definition parameters, "Task size"):
 * 256 takes 512, 1024 or 2048; from 512 up, steps of 1024 MiB within the range (8 and 16 vCPU: steps of 4096 and 8192).
 */
export const FARGATE_SIZES: Record<number, { min: number; max: number; step: number; extra?: number[] }> = {
  256: { min: 1024, max: 2048, step: 1024, extra: [512] },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
};

/** Why Fargate would refuse this CPU/memory pair, in one line; undefined when it is allowed. */
export function fargateSizeProblem(cpu: number, memory: number): string | undefined {
  const size = FARGATE_SIZES[cpu];
  if (!size) return `cpu ${cpu} is not a Fargate size; use one of ${Object.keys(FARGATE_SIZES).join(", ")}`;
  const allowed = (memory >= size.min && memory <= size.max && (memory - size.min) % size.step === 0) || Boolean(size.extra?.includes(memory));
  if (allowed) return undefined;
  const range = `${size.extra?.length ? `${size.extra.join(", ")}, ` : ""}${size.min}-${size.max} in steps of ${size.step}`;
  return `memory ${memory} MiB is not allowed with cpu ${cpu} on Fargate; cpu ${cpu} takes ${range} MiB`;
}

/** A Docker image tag (1-128 of letters, digits, _ . -, not starting with . or -) or an image digest (sha256:<64 hex>). */
export const IMAGE_TAG_PATTERN = /^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[a-f0-9]{64})$/;
export const IMAGE_TAG_RULE = 'an image tag (letters, digits, "_", "." or "-", at most 128, not starting with "." or "-") or a digest "sha256:<64 hex digits>"';

const fargateCpu = z.int().describe("Fargate CPU units: 256 (.25 vCPU), 512, 1024, 2048, 4096, 8192 or 16384.");
const fargateMemory = z.int().describe("Memory in MiB; must be allowed with cpu on Fargate (256: 512-2048; 512: 1024-4096; 1024: 2048-8192; 2048: 4096-16384; 4096: 8192-30720).");
const desiredCount = z.int().min(0).max(1000);

/** Ports the load balancer already uses or that browsers refuse; the blue-green test listener takes another. */
const RESERVED_TEST_PORTS = [80, 443];
/** A smoke-test path: an absolute URL path with an optional query, no spaces. */
export const SMOKE_TEST_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%\/?-]*$/;

/** How `platform deploy` releases the API: rolling updates, or blue-green with a test listener, a smoke test and a bake time. */
const apiDeploymentSchema = z
  .strictObject({
    strategy: z
      .enum(["rolling", "blue-green"])
      .default("rolling")
      .describe("rolling: ECS replaces the tasks in place. blue-green: a second service and target group (green) beside the first (blue); deploy starts the new revision on the idle one, smoke-tests it through the test listener, switches the production listener, and keeps the old one running for the bake time."),
    testListenerPort: z.int().min(1).max(65535).default(8443).describe("Blue-green: the port of the test listener that forwards to the idle slot."),
    testListenerCidrs: z
      .array(cidrBlock)
      .min(1)
      .max(20)
      .refine((cidrs) => new Set(cidrs).size === cidrs.length, { message: "lists a range twice" })
      .optional()
      .describe("Blue-green: who may reach the test listener (the release candidate, and during the bake the previous release): your CI runners' and office ranges. Required for blue-green; there is no internet default."),
    allowPublicTestListener: z
      .boolean()
      .default(false)
      .describe("Gives up: keeping the release candidate off the internet. Lets a protected environment's testListenerCidrs include 0.0.0.0/0; plan and audit report it."),
    bakeMinutes: z.int().min(0).max(1440).default(15).describe("Blue-green: minutes the previous revision keeps running after the switch; alarms or unhealthy targets in that time switch traffic back."),
    smokeTestPath: z.string().regex(SMOKE_TEST_PATH, 'an absolute URL path such as "/health"').optional().describe("Blue-green: deploy GETs this path through the test listener and needs a 2xx or 3xx answer before production traffic moves (deploy --smoke-test overrides it)."),
    smokeTestHost: z
      .string()
      .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a DNS name such as "api.example.org"')
      .optional()
      .describe("Blue-green with a certificate: the API's host name, which the certificate covers; the smoke test sends it as Host and TLS server name (the load balancer's own DNS name is not on the certificate)."),
  })
  .refine((d) => !RESERVED_TEST_PORTS.includes(d.testListenerPort), { message: "the production listeners use 80 and 443; choose another port", path: ["testListenerPort"] })
  .refine((d) => d.strategy !== "blue-green" || d.testListenerCidrs !== undefined, {
    message: 'blue-green needs the ranges that may reach its test listener (e.g. ["203.0.113.0/24"], your CI runners and office); there is no internet default',
    path: ["testListenerCidrs"],
  })
  .prefault({});

/** ECS services and one-off tasks: sizes per service, the image tag, Container Insights. */
const servicesSchema = z
  .strictObject({
    imageTag: z
      .string()
      .regex(IMAGE_TAG_PATTERN, IMAGE_TAG_RULE)
      .default("latest")
      .describe("The image tag (or sha256 digest) every service runs from its ECR repository; up --image TAG overrides it for one run."),
    containerInsights: z.boolean().default(false).describe("CloudWatch Container Insights on the cluster (extra CloudWatch cost); prod turns it on."),
    ecsExec: z
      .boolean()
      .optional()
      .describe("ECS Exec (platform exec) into the services' tasks; default: on, off in protected environments. Sessions are logged to CloudWatch Logs (encrypted with logs.kmsKeyArn when set)."),
    api: z
      .strictObject({
        cpu: fargateCpu.default(256),
        memory: fargateMemory.default(512),
        desiredCount: desiredCount.default(1).describe("API tasks behind the load balancer; the container port is network.appPort and the health check loadBalancer.healthCheckPath."),
        deployment: apiDeploymentSchema,
      })
      .prefault({}),
    worker: z
      .strictObject({
        enabled: z.boolean().default(false).describe("Run the background worker service."),
        cpu: fargateCpu.default(256),
        memory: fargateMemory.default(512),
        desiredCount: desiredCount.default(1),
      })
      .prefault({}),
    dbtRunner: z
      .strictObject({
        cpu: fargateCpu.default(512),
        memory: fargateMemory.default(1024),
      })
      .prefault({})
      .describe("The dbt runner's task definition (it runs as one-off tasks, not as a service)."),
  })
  .superRefine((services, ctx) => {
    for (const key of ["api", "worker", "dbtRunner"] as const) {
      const problem = fargateSizeProblem(services[key].cpu, services[key].memory);
      if (problem) ctx.addIssue({ code: "custom", path: [key, "memory"], message: problem });
    }
  })
  .prefault({})
  .describe("The ECS services (api, optional worker) and the dbt runner's one-off tasks.");

/** RDS enhanced monitoring intervals, in seconds (0 is off). */
export const MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60] as const;

/** Names RDS for PostgreSQL keeps for itself, and SQL keywords it rejects, as the master user name. */
const RESERVED_USERNAMES = ["rdsadmin", "rdsrepladmin", "rds_superuser", "rds_replication", "public", "user", "all", "select", "table", "default"];
/** Database names that exist on every instance or belong to RDS. */
const RESERVED_DB_NAMES = ["postgres", "rdsadmin", "template0", "template1"];

/** Length in minutes of a daily "hh24:mi-hh24:mi" or weekly "ddd:hh24:mi-ddd:hh24:mi" window; it may run past midnight or the week's end. */
function windowMinutes(window: string): number {
  const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const weekly = window.split("-")[0]!.split(":").length === 3;
  const minuteOf = (part: string) => {
    const bits = part.split(":");
    const [day, hh, mm] = weekly ? [days.indexOf(bits[0]!), bits[1], bits[2]] : [0, bits[0], bits[1]];
    return day * 1440 + Number(hh) * 60 + Number(mm);
  };
  const [from, to] = window.split("-").map(minuteOf) as [number, number];
  const cycle = weekly ? 7 * 1440 : 1440;
  return (to - from + cycle) % cycle;
}

const tagKey = z.string().min(1).max(128);

/** What an environment may hold; the first two make it protected (src/config/protection.ts). */
export const DATA_CLASSIFICATIONS = ["PHI", "Confidential", "Internal", "Public"] as const;
export const PROTECTED_CLASSIFICATIONS: readonly string[] = ["PHI", "Confidential"];

/** ELB security policies that allow TLS 1.2 and later only (TLS13-1-2-*, TLS13-1-3-*, FS-1-2-*, TLS-1-2-*). */
export const TLS12_POLICY = /^ELBSecurityPolicy-(TLS13-1-[23]-|FS-1-2-|TLS-1-2-)[A-Za-z0-9-]+$/;

/** A KMS key's ARN (not an alias: S3 and ECR report the key ARN back, so an alias would show as drift on every run). */
const kmsKeyArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'a KMS key ARN such as "arn:aws:kms:us-east-1:123456789012:key/1234abcd-..."');

/** The data-lake buckets, in the order they are created; raw and gold are versioned by default. */
export const BUCKET_KEYS = ["raw", "silver", "gold", "lineage", "artifacts"] as const;
export type BucketKey = (typeof BUCKET_KEYS)[number];
/** The buckets that hold protected health information: versioned, and data-event logged in the trail. */
export const PHI_BUCKET_KEYS: readonly BucketKey[] = ["raw", "silver", "gold"];
const VERSIONED_BY_DEFAULT: readonly BucketKey[] = PHI_BUCKET_KEYS;

const lifecycleDays = z.int().min(1).max(36500);
const bucketLifecycle = z
  .strictObject({
    transitionToIaDays: z.int().min(30).max(36500).optional().describe("Move current objects to S3 Standard-IA after this many days (S3 requires at least 30)."),
    transitionToGlacierDays: lifecycleDays.optional().describe("Move current objects to S3 Glacier Flexible Retrieval after this many days (at least 30 after transitionToIaDays)."),
    expireNoncurrentDays: lifecycleDays.optional().describe("Permanently delete versions this many days after they stop being current (versioned buckets)."),
    abortMultipartDays: lifecycleDays.default(7).describe("Abort multipart uploads left incomplete for this many days."),
  })
  .refine((l) => l.transitionToIaDays === undefined || l.transitionToGlacierDays === undefined || l.transitionToGlacierDays >= l.transitionToIaDays + 30, {
    message: "transitionToGlacierDays must be at least 30 days after transitionToIaDays (objects stay 30 days in Standard-IA)",
    path: ["transitionToGlacierDays"],
  });

const bucketSettings = (key: BucketKey) =>
  z
    .strictObject({
      name: z.string().optional().describe(`The bucket's name; defaults to <project>-<environment>-${key}-<account id>. S3 names are global: set one when the default is taken.`),
      versioning: z.boolean().default(VERSIONED_BY_DEFAULT.includes(key)).describe("Keep every version of every object (required for the PHI buckets raw, silver and gold unless allowUnversioned)."),
      ...(PHI_BUCKET_KEYS.includes(key)
        ? {
            allowUnversioned: z
              .boolean()
              .default(false)
              .describe("Gives up versioning of this PHI bucket: an overwritten or deleted object is lost for good (no recovery from a mistake or ransomware). plan and audit report it."),
          }
        : {}),
      lifecycle: bucketLifecycle.prefault({}),
    })
    .prefault({});

const bucketsSchema = z
  .strictObject({
    encryption: z
      .strictObject({
        kmsKeyArn: kmsKeyArn.optional().describe("Encrypt every bucket with this KMS key (SSE-KMS, with an S3 Bucket Key); absent means S3-managed keys (SSE-S3, AES-256)."),
      })
      .prefault({}),
    ...(Object.fromEntries(BUCKET_KEYS.map((k) => [k, bucketSettings(k)])) as { [K in BucketKey]: ReturnType<typeof bucketSettings> }),
  })
  .prefault({})
  .describe("The data-lake buckets: raw, silver, gold, lineage and artifacts.");

const ecrSchema = z
  .strictObject({
    imageTagMutability: z.enum(["MUTABLE", "IMMUTABLE"]).optional().describe("IMMUTABLE refuses to push a tag that already exists. Default: MUTABLE, IMMUTABLE in protected environments (MUTABLE there needs allowMutableTags)."),
    allowMutableTags: z.boolean().default(false).describe("Gives up: a tag always naming the same image. Lets a protected environment's repositories be MUTABLE; plan and audit report it."),
    keepLastImages: z.int().min(1).max(10000).default(20).describe("The lifecycle policy expires all but the newest N images of each repository."),
    scanOnPush: z.boolean().default(true).describe("Scan every pushed image for vulnerabilities."),
    kmsKeyArn: kmsKeyArn.optional().describe("Encrypt images with this KMS key; absent means AES-256. Fixed when a repository is created."),
  })
  .prefault({})
  .describe("The container image repositories: api, dbt-runner and worker.");

/** Extra secret names: lowercase words; no hyphen plus six characters at the end (Secrets Manager's ARN suffix looks like that). */
const EXTRA_SECRET_NAME = /^(?![a-z0-9-]*-[a-z0-9]{6}$)[a-z][a-z0-9-]{0,62}[a-z0-9]$/;
const EXTRA_SECRET_RULE = "2-64 lowercase letters, digits or hyphens, starting with a letter, not ending with a hyphen plus six characters";
const KMS_KEY_PATTERN = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+|alias\/[A-Za-z0-9/_-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const RESERVED_TAGS = ["Project", "Environment", "ManagedBy", "platform:logical-id"];

/** CloudWatch alarms on the API, the database and the API service; notifications go to an SNS topic. */
const alarmsSchema = z
  .strictObject({
    email: z.array(z.email()).max(20).default([]).describe("Addresses subscribed to the alarm topic (each must confirm the email AWS sends)."),
    api5xxRatePercent: z.number().min(0).max(100).default(5).describe("Alarm when 5xx responses exceed this share of API requests (percent, over 5 minutes)."),
    apiP95LatencySeconds: z.number().positive().max(3600).default(1.5).describe("Alarm when the API's p95 response time exceeds this (seconds, over 5 minutes)."),
    dbCpuPercent: z.number().min(1).max(100).default(80).describe("Alarm when the database's CPU exceeds this (percent, 3 x 5 minutes)."),
    dbFreeStorageGiB: z.number().positive().max(65536).default(2).describe("Alarm when the database's free storage falls below this (GiB)."),
    dbConnections: z.int().min(1).max(100000).default(80).describe("Alarm when the database has more connections than this."),
  })
  .prefault({})
  .describe("CloudWatch alarms and their email notifications.");

/** The CloudTrail trail and its audit bucket. */
const auditSchema = z
  .strictObject({
    trail: z.boolean().default(true).describe("A multi-region CloudTrail trail of the account's management events, into a dedicated audit bucket."),
    dataEvents: z.boolean().default(false).describe("Also record S3 data events (object reads and writes) on the PHI buckets (raw, silver, gold); extra CloudTrail cost. prod turns it on."),
    retentionDays: z.int().min(1).max(36500).default(2557).describe("Days audit log files are kept (default 2557, 7 years)."),
    allowDeletingAuditLogs: z
      .boolean()
      .default(false)
      .describe("Gives up keeping the audit logs through their retention: down --delete-data may then empty and delete the audit bucket. Without it, down --delete-data refuses while the bucket holds logs. plan and audit report it."),
  })
  .prefault({})
  .describe("The audit trail.");

const GITHUB_REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
/** Branch and GitHub environment names as they appear in the OIDC token's sub claim; no IAM wildcards or quotes. */
const GITHUB_REF_NAME = /^[A-Za-z0-9._\/-]{1,200}$/;
/** A workflow file of the repository, as it appears in the token's job_workflow_ref. */
const GITHUB_WORKFLOW_PATH = /^\.github\/workflows\/[A-Za-z0-9._-]{1,100}\.ya?ml$/;

/** GitHub Actions deploys through OIDC: no long-lived AWS keys in GitHub. */
const githubSchema = z
  .strictObject({
    repository: z.string().regex(GITHUB_REPOSITORY, 'a GitHub repository "OWNER/NAME"').optional().describe("The repository whose workflows may deploy this environment; the OIDC provider and the role exist only when set."),
    branches: z.array(z.string().regex(GITHUB_REF_NAME, "a branch name (letters, digits, . _ / -)")).default(["main"]).describe("Branches whose workflow runs may assume the deploy role."),
    environments: z
      .array(z.string().regex(GITHUB_REF_NAME, "a GitHub environment name (letters, digits, . _ / -)"))
      .default([])
      .describe("GitHub environments whose jobs may assume the deploy role (the token's sub is repo:OWNER/NAME:environment:NAME); empty means one named like this environment. Protect it with required reviewers in GitHub."),
    workflow: z
      .string()
      .regex(GITHUB_WORKFLOW_PATH, "a workflow file such as .github/workflows/deploy-prod.yml")
      .optional()
      .describe("The only workflow whose jobs may assume the deploy role (the token's job_workflow_ref, on the branches above); default .github/workflows/deploy-<environment>.yml, the file platform ci init writes."),
    allowAnyWorkflowOnBranch: z
      .boolean()
      .default(false)
      .describe("Gives up pinning the deploy role to one workflow and GitHub environment: every workflow run on the branches above may assume it (the trust of platform before 0.2). plan and audit report it."),
  })
  .prefault({})
  .describe("GitHub Actions access: role <project>-<env>-github-actions.");

/** A read-only role for BI tools. */
const biSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe("Create the read-only BI role <project>-<env>-bi-readonly."),
    principalArns: z
      .array(z.string().regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:(root|role\/.+|user\/.+)$/, "an IAM role, user or account root ARN"))
      .default([])
      .describe("Who may assume the BI role (IAM roles, users or account roots)."),
    databaseIamAuth: z.boolean().default(false).describe("Also allow rds-db:connect as the database user bi_readonly of this stack's instance (create that user with GRANT rds_iam; platform turns IAM authentication on)."),
    externalId: z
      .string()
      .regex(/^[\w+=,.@:\/-]{2,1224}$/, "2-1224 letters, digits and + = , . @ : / - _ (the sts:ExternalId the other account's tool sends)")
      .optional()
      .describe("Required when a principal is in another account: the role is assumable only with this sts:ExternalId (the confused-deputy guard). Not a secret, but unique per customer."),
  })
  .prefault({})
  .describe("Read-only access for analytics: the gold bucket (and the database through IAM authentication).");

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Path of the JSON Schema, for editors."),
    project: z
      .string()
      .regex(/^[a-z][a-z0-9-]*[a-z0-9]$/, "lowercase letters, digits and hyphens, starting with a letter")
      .max(20)
      .default("clinical-platform")
      .describe("Prefix of every name: <project>-<environment>-<role>."),
    environment: z
      .string()
      .regex(ENVIRONMENT_PATTERN, ENVIRONMENT_RULE)
      .optional()
      .describe("The environment's name; defaults to the config file's name (dev for config/dev.json)."),
    region: z
      .string()
      .regex(REGION_PATTERN, 'an AWS region such as "us-east-1"')
      .default("us-east-1"),
    dataClassification: z
      .enum(DATA_CLASSIFICATIONS)
      .optional()
      .describe("What the environment holds. PHI and Confidential make it protected (see protected); also the default of the DataClassification tag."),
    protected: z
      .boolean()
      .optional()
      .describe("Protected environments get typed confirmations, --force-prod, required deletion protection, HTTPS, encrypted logs, no ECS Exec by default. Default: true when dataClassification is PHI or Confidential; it cannot be false for those."),
    endpoint: z
      .url()
      .optional()
      .describe("An AWS-compatible endpoint (LocalStack: http://localhost:4566). AWS_ENDPOINT_URL overrides it."),
    state: z
      .strictObject({
        backend: z.enum(["local", "s3"]).default("local").describe('Where state lives: "local" (state/<env>.json) or "s3".'),
        bucket: z
          .string()
          .regex(STATE_BUCKET_PATTERN, "an S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit")
          .optional()
          .describe("The state bucket (create it with: platform state bootstrap --bucket NAME). Required for the s3 backend."),
        key: z
          .string()
          .min(1)
          .max(1019)
          .regex(/^[^/]/, "must not start with /")
          // IAM reads * and ? in a Resource as wildcards and ${...} as a policy variable: the deploy role's S3 resource
          // would then cover other objects of the bucket.
          .regex(/^[^*?$]*$/, "must not contain *, ? or $ (IAM would read them as wildcards or a policy variable in the deploy role's S3 resource); use letters, digits, / . _ -")
          .optional()
          .describe("The state object's key; defaults to <project>/<environment>.json. The lock is <key>.lock."),
        region: z
          .string()
          .regex(REGION_PATTERN, 'an AWS region such as "us-east-1"')
          .optional()
          .describe("The state bucket's region; defaults to the config's region."),
      })
      .prefault({})
      .describe("Where this environment's state is kept and locked."),
    tags: z.record(tagKey, z.string().max(256)).default({}).describe("Extra tags on every taggable resource."),
    budget: z
      .strictObject({
        enabled: z.boolean().default(true).describe("A monthly AWS Budgets cost budget for this environment (account-level, named <project>-<environment>)."),
        monthlyUsd: z.number().positive().max(1_000_000_000).default(25).describe("The monthly cost budget in USD."),
        emails: z
          .array(z.email())
          .max(10)
          .default([])
          .describe("Who gets the alerts (at 80% of actual spend and 100% of forecast spend); none: the budget has no alerts."),
      })
      .prefault({})
      .describe("Cost budget and alerts. Spend is filtered on the tag Environment, which must be activated as a cost allocation tag in Billing."),
    network: z
      .strictObject({
        cidr: cidrBlock.default("10.0.0.0/16").describe("The VPC's range, /16 to /26."),
        publicSubnets: z
          .tuple([cidrBlock, cidrBlock])
          .optional()
          .describe("Two public subnet ranges (AZ a, AZ b); derived from cidr when omitted."),
        privateSubnets: z
          .tuple([cidrBlock, cidrBlock])
          .optional()
          .describe("Two private subnet ranges (AZ a, AZ b); derived from cidr when omitted."),
        natGateway: z
          .boolean()
          .default(false)
          .describe("A NAT gateway (about $33/month plus data) so private subnets reach the internet."),
        flowLogs: z
          .strictObject({
            enabled: z.boolean().default(true),
            trafficType: z.enum(["ALL", "ACCEPT", "REJECT"]).default("ALL"),
          })
          .prefault({}),
        appPort: z.int().min(1).max(65535).default(8000).describe("The port the API container listens on."),
        vpcEndpoints: z
          .boolean()
          .optional()
          .describe("VPC endpoints for S3 (gateway), ECR (api, dkr), Secrets Manager and CloudWatch Logs (interface, about $7.30/month each per AZ), so tasks reach AWS without the internet; task egress is then limited to them and the database. Default: on in protected environments."),
      })
      .prefault({}),
    loadBalancer: z
      .strictObject({
        certificateArn: z
          .string()
          .regex(ACM_CERTIFICATE_ARN, "an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<id>")
          .optional()
          .describe("Serve HTTPS on 443 with this ACM certificate (in the environment's region); HTTP on 80 then redirects to HTTPS. Required in protected environments."),
        sslPolicy: z
          .string()
          .regex(TLS12_POLICY, "an ELB security policy allowing only TLS 1.2 and later, e.g. ELBSecurityPolicy-TLS13-1-2-2021-06")
          .default("ELBSecurityPolicy-TLS13-1-2-2021-06")
          .describe("The HTTPS listeners' TLS policy (TLS 1.2 and later only)."),
        allowPlainHttp: z
          .boolean()
          .default(false)
          .describe("Gives up: encryption in transit between clients and the load balancer. Lets a protected environment run without a certificate (plain HTTP); plan and audit report it."),
        healthCheckPath: z
          .string()
          .max(1024)
          .regex(/^\/[A-Za-z0-9_\-.$/~"'@:+&]*$/, 'a path starting with "/" (letters, digits and _ - . $ / ~ " \' @ : + &)')
          .default("/health")
          .describe("The path the load balancer checks on each API task."),
        deregistrationDelaySeconds: z
          .int()
          .min(0)
          .max(3600)
          .default(30)
          .describe("How long a stopping API task keeps serving its in-flight requests (AWS's default is 300)."),
        idleTimeoutSeconds: z.int().min(1).max(4000).default(60).describe("Connections idle this long are closed."),
        deletionProtection: z.boolean().default(false).describe("The load balancer cannot be deleted until this is turned off (down --disable-deletion-protection does it)."),
      })
      .prefault({}),
    database: z
      .strictObject({
        instanceClass: z
          .string()
          .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'an RDS instance class such as "db.t3.micro"')
          .default("db.t3.micro"),
        engineVersion: z
          .string()
          .regex(/^(1[2-9]|[2-9]\d)(\.\d{1,3})?$/, 'a PostgreSQL version: a major such as "16", or major.minor such as "16.11"')
          .default("16")
          .describe('PostgreSQL version. A major ("16") lets RDS pick its default minor at creation; "16.11" asks for at least that minor. Minor upgrades apply in place; major upgrades are not done by platform.'),
        allocatedStorage: z.int().min(20).max(65536).default(20).describe("Storage in GiB (gp3, encrypted). It can only grow."),
        maxAllocatedStorage: z.int().min(21).max(65536).optional().describe("Storage autoscaling ceiling in GiB, above allocatedStorage; omit to keep autoscaling off."),
        backupRetentionDays: z.int().min(0).max(35).default(7).describe("Days of automated backups (0 turns them off)."),
        preferredBackupWindow: z
          .string()
          .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'a daily UTC window "hh24:mi-hh24:mi" such as "03:00-03:30"')
          .optional()
          .describe("Daily UTC backup window, at least 30 minutes, not overlapping the maintenance window; AWS picks one when omitted."),
        preferredMaintenanceWindow: z
          .string()
          .regex(
            /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$/,
            'a weekly UTC window "ddd:hh24:mi-ddd:hh24:mi" such as "sun:04:00-sun:04:30"',
          )
          .optional()
          .describe("Weekly UTC maintenance window, at least 30 minutes; AWS picks one when omitted."),
        multiAz: z.boolean().default(false).describe("A standby in a second availability zone (doubles the instance cost)."),
        deletionProtection: z.boolean().default(false).describe("RDS refuses to delete the database; down needs --disable-deletion-protection."),
        performanceInsights: z
          .boolean()
          .default(true)
          .describe("Performance Insights (7 days, free tier); left off on classes that lack it (db.t3.micro/small, db.t4g.micro/small), as plan says."),
        enhancedMonitoringInterval: z
          .int()
          .refine((n) => (MONITORING_INTERVALS as readonly number[]).includes(n), { message: `one of ${MONITORING_INTERVALS.join(", ")}` })
          .default(0)
          .describe("Enhanced monitoring interval in seconds (0 turns it off); platform creates the monitoring role when on."),
        username: z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9_]{0,15}$/, "1-16 letters, digits or underscores, starting with a letter")
          .refine((s) => !RESERVED_USERNAMES.includes(s.toLowerCase()), { message: `may not be a reserved name (${RESERVED_USERNAMES.join(", ")})` })
          .default("platform_admin")
          .describe("The master user; its password lives only in the Secrets Manager secret <project>-<env>/database/credentials."),
        dbName: z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9_]{0,62}$/, "1-63 letters, digits or underscores, starting with a letter")
          .refine((s) => !RESERVED_DB_NAMES.includes(s.toLowerCase()), { message: `may not be a reserved name (${RESERVED_DB_NAMES.join(", ")})` })
          .default("clinical")
          .describe("The database created in the instance."),
      })
      .superRefine((db, ctx) => {
        if (db.maxAllocatedStorage !== undefined && db.maxAllocatedStorage <= db.allocatedStorage) {
          ctx.addIssue({ code: "custom", path: ["maxAllocatedStorage"], message: `must be above allocatedStorage (${db.allocatedStorage}); omit it to keep autoscaling off` });
        }
        if (db.preferredBackupWindow && windowMinutes(db.preferredBackupWindow) < 30) {
          ctx.addIssue({ code: "custom", path: ["preferredBackupWindow"], message: "must be at least 30 minutes long" });
        }
        if (db.preferredMaintenanceWindow && windowMinutes(db.preferredMaintenanceWindow) < 30) {
          ctx.addIssue({ code: "custom", path: ["preferredMaintenanceWindow"], message: "must be at least 30 minutes long" });
        }
      })
      .prefault({}),
    services: servicesSchema,
    monitoring: z
      .strictObject({
        prometheus: z.boolean().default(false),
        grafana: z.boolean().default(false),
        openlineage: z.boolean().default(false),
        uiAccessCidrs: z
          .array(cidrBlock)
          .max(4)
          .default([])
          .describe("Ranges that may reach Grafana and Marquez through the load balancer (listener rules matching the source IP, on /grafana* and /marquez*). Empty (the default): the UIs are not routed from the load balancer at all; reach them through an ECS Exec port-forwarding session."),
      })
      .prefault({}),
    secrets: z
      .strictObject({
        recoveryWindowDays: z
          .int()
          .min(7)
          .max(30)
          .default(7)
          .describe("Days a deleted secret stays restorable (Secrets Manager allows 7 to 30); down --force-delete-secrets skips it."),
        kmsKeyId: z
          .string()
          .regex(KMS_KEY_PATTERN, "a KMS key ARN, key id, alias ARN or alias/name")
          .optional()
          .describe("KMS key that encrypts every secret; default: the AWS-managed key aws/secretsmanager."),
        extra: z
          .record(
            z.string().regex(EXTRA_SECRET_NAME, EXTRA_SECRET_RULE),
            z.strictObject({
              description: z.string().min(1).max(2048),
              generate: z
                .enum(EXTRA_GENERATORS)
                .default("external")
                .describe("token-64 or password-32: generated by bootstrap-secrets; external: you supply it (--set-secret, --from-file)."),
            }),
          )
          .default({})
          .describe("More secrets under <project>-<env>/extra/<name>, e.g. third-party API keys."),
      })
      .prefault({}),
    logs: z
      .strictObject({
        retentionDays: z
          .number()
          .refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n), {
            message: `one of ${LOG_RETENTION_DAYS.join(", ")}`,
          })
          .default(7),
        kmsKeyArn: kmsKeyArn
          .optional()
          .describe("Encrypt every log group (and ECS Exec session logs) with this KMS key; its key policy must allow the principal logs.<region>.amazonaws.com. Required in protected environments."),
        allowAwsOwnedKey: z
          .boolean()
          .default(false)
          .describe("Gives up: a key you control and audit for the logs (CloudWatch Logs then encrypts with an AWS-owned key). Lets a protected environment run without logs.kmsKeyArn; plan and audit report it."),
      })
      .prefault({}),
    buckets: bucketsSchema,
    ecr: ecrSchema,
    alarms: alarmsSchema,
    audit: auditSchema,
    github: githubSchema,
    bi: biSchema,
    images: z
      .strictObject({
        allowedRegistries: z
          .array(z.string().regex(/^[a-z0-9][a-z0-9.-]*(:\d+)?\/[A-Za-z0-9._\/-]*$/, 'a registry and path prefix such as "public.ecr.aws/docker/library/"'))
          .default([])
          .describe("Image name prefixes, besides this environment's own ECR repositories, that deploy --image (and rollback, and state) may name; such images are accepted by digest only (<name>@sha256:...)."),
      })
      .prefault({})
      .describe("Where the services' images may come from."),
  })
  .superRefine((cfg, ctx) => {
    const bucketNames = new Map<string, BucketKey>();
    for (const key of BUCKET_KEYS) {
      const name = cfg.buckets[key].name;
      if (name === undefined) continue;
      const problem = bucketNameProblem(name);
      if (problem) ctx.addIssue({ code: "custom", path: ["buckets", key, "name"], message: problem });
      const other = bucketNames.get(name);
      if (other) ctx.addIssue({ code: "custom", path: ["buckets", key, "name"], message: `${name} is already the name of buckets.${other}` });
      bucketNames.set(name, key);
    }
    for (const key of PHI_BUCKET_KEYS) {
      const bucket = cfg.buckets[key] as { versioning: boolean; allowUnversioned?: boolean };
      if (!bucket.versioning && !bucket.allowUnversioned) {
        ctx.addIssue({
          code: "custom",
          path: ["buckets", key, "versioning"],
          message: `${key} holds PHI and must be versioned (an overwritten or deleted object would be lost for good); remove "versioning": false, or set buckets.${key}.allowUnversioned to true to accept that`,
        });
      }
    }
    for (const name of Object.keys(cfg.secrets.extra)) {
      if ((BUILT_IN_SECRETS as readonly string[]).includes(name)) ctx.addIssue({ code: "custom", path: ["secrets", "extra", name], message: `${BUILT_IN_SECRETS.join(", ")} are platform's own secrets; choose another name` });
    }
    if (cfg.state.backend === "s3" && !cfg.state.bucket) {
      ctx.addIssue({ code: "custom", path: ["state", "bucket"], message: `required when state.backend is "s3": a globally unique name such as "${cfg.project}-platform-state" (create it with: platform state bootstrap --bucket ${cfg.project}-platform-state --region ${cfg.state.region ?? cfg.region})` });
    }
    if (cfg.state.bucket && STATE_BUCKET_PATTERN.test(cfg.state.bucket)) {
      const problem = bucketNameProblem(cfg.state.bucket);
      if (problem) ctx.addIssue({ code: "custom", path: ["state", "bucket"], message: problem });
    }
    for (const key of Object.keys(cfg.tags)) {
      if (RESERVED_TAGS.includes(key)) ctx.addIssue({ code: "custom", path: ["tags", key], message: `${RESERVED_TAGS.join(", ")} are set by platform itself` });
      else if (key.toLowerCase().startsWith("aws:")) ctx.addIssue({ code: "custom", path: ["tags", key], message: 'tag keys may not start with "aws:"' });
    }
    if (cfg.project === "internal" || cfg.project.startsWith("internal-")) {
      ctx.addIssue({ code: "custom", path: ["project"], message: 'load balancer names may not start with "internal-": choose another project name' });
    }
    const certRegion = cfg.loadBalancer.certificateArn && ACM_CERTIFICATE_ARN.exec(cfg.loadBalancer.certificateArn)?.[2];
    if (certRegion && certRegion !== cfg.region) {
      ctx.addIssue({ code: "custom", path: ["loadBalancer", "certificateArn"], message: `the certificate is in ${certRegion}; a load balancer in ${cfg.region} needs a certificate from ACM in ${cfg.region}` });
    }
    if (cfg.protected === false && cfg.dataClassification && PROTECTED_CLASSIFICATIONS.includes(cfg.dataClassification)) {
      ctx.addIssue({ code: "custom", path: ["protected"], message: `a ${cfg.dataClassification} environment is always protected: remove "protected": false (or change dataClassification)` });
    }
    const tagged = cfg.tags.DataClassification;
    if (cfg.dataClassification && tagged !== undefined && tagged !== cfg.dataClassification) {
      ctx.addIssue({ code: "custom", path: ["tags", "DataClassification"], message: `says "${tagged}" but dataClassification is "${cfg.dataClassification}": make them equal, or drop the tag (it defaults to dataClassification)` });
    }
    if (cfg.bi.enabled && cfg.bi.principalArns.length === 0) {
      ctx.addIssue({ code: "custom", path: ["bi", "principalArns"], message: "at least one principal must be allowed to assume the BI role when bi.enabled is true" });
    }
    const vpc = parseCidr(cfg.network.cidr);
    if (!vpc) return;
    if (vpc.prefix < 16 || vpc.prefix > 26) {
      ctx.addIssue({ code: "custom", path: ["network", "cidr"], message: "AWS allows VPC ranges from /16 to /28, and four subnets need at least a /26" });
      return;
    }
    const subnets: { path: (string | number)[]; text: string }[] = [];
    for (const key of ["publicSubnets", "privateSubnets"] as const) {
      cfg.network[key]?.forEach((text, i) => subnets.push({ path: ["network", key, i], text }));
    }
    const parsed = subnets.map((s) => ({ ...s, cidr: parseCidr(s.text) }));
    for (const [i, s] of parsed.entries()) {
      if (!s.cidr) continue;
      if (!cidrContains(vpc, s.cidr)) {
        ctx.addIssue({ code: "custom", path: s.path, message: `${s.text} is outside the VPC range ${cfg.network.cidr}` });
      } else if (s.cidr.prefix > 28) {
        ctx.addIssue({ code: "custom", path: s.path, message: "AWS subnets are /28 or larger" });
      }
      for (const other of parsed.slice(i + 1)) {
        if (other.cidr && cidrsOverlap(s.cidr, other.cidr)) {
          ctx.addIssue({ code: "custom", path: other.path, message: `${other.text} overlaps ${s.text} (${s.path.join(".")})` });
        }
      }
    }
  });

/** Why S3 would refuse this bucket name, beyond STATE_BUCKET_PATTERN; undefined when it is fine. */
export function bucketNameProblem(name: string): string | undefined {
  if (!STATE_BUCKET_PATTERN.test(name)) return "3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit";
  if (name.includes("..")) return "must not contain two adjacent dots";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "must not look like an IP address";
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return 'must not start with "xn--", "sthree-" or "amzn-s3-demo-"';
  if (/(-s3alias|--ol-s3|--x-s3|--table-s3|\.mrap)$/.test(name)) return 'must not end with "-s3alias", "--ol-s3", "--x-s3", "--table-s3" or ".mrap"';
  return undefined;
}

/** A validated configuration: every default applied and the environment name settled. */
export type Config = z.output<typeof ConfigSchema> & { environment: string };
