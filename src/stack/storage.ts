import { ecrTagMutability, ecsExecEnabled } from "../config/protection.js";
import { NAME_LIMITS, namePrefix, physicalName } from "../config/naming.js";
import { BUCKET_KEYS, type BucketKey, type Config } from "../config/schema.js";
import { bucketArn, denyInsecureTransportPolicy, keepLastImagesPolicy, lifecycleRules } from "../resources/spec-helpers.js";
import {
  type BucketEncryptionSpec,
  type BucketPolicySpec,
  type LifecycleRuleSpec,
} from "../resources/bucket-settings.js";
import { bucket, bucketEncryption, bucketLifecycle, bucketOwnershipControls, bucketPolicy, bucketPublicAccessBlock, bucketVersioning, ecrLifecyclePolicy, ecrRepository, logGroup } from "../resources/catalog.js";
import type { StackBuilder } from "./builder.js";
import { servingDatabaseIdentifier } from "./database.js";
import { ref, type Unresolved } from "./model.js";

export const REPOSITORIES = ["api", "dbt-runner", "worker"] as const;
export type RepositoryKey = (typeof REPOSITORIES)[number];

export const BUCKET_SETTINGS = ["encryption", "public-access-block", "policy", "versioning", "lifecycle", "ownership-controls"] as const;
export type BucketSettingKey = (typeof BUCKET_SETTINGS)[number];

/** Buckets that hold patient data: tagged DataClassification=PHI. The others hold lineage metadata and build artifacts. */
export const PHI_BUCKETS: readonly BucketKey[] = ["raw", "silver", "gold"];

export const storageIds = {
  bucket: (key: BucketKey) => `data.bucket.${key}`,
  bucketSetting: (key: BucketKey, setting: BucketSettingKey) => `data.bucket.${key}.${setting}`,
  repository: (key: RepositoryKey) => `data.ecr.${key}`,
  lifecyclePolicy: (key: RepositoryKey) => `data.ecr.${key}.lifecycle`,
  ecsLogGroup: "data.log-group.ecs",
  /** ECS Exec session logs (only while services.ecsExec is on). */
  execLogGroup: "data.log-group.ecs-exec",
  rdsLogGroup: "data.log-group.rds",
} as const;

/** `<project>-<env>-<bucket>-<account id>` (at most 25 + 10 + 13 = 48 characters), unless the config names it. */
export function bucketName(config: Config, accountId: string, key: BucketKey): string {
  return config.buckets[key].name ?? physicalName(config, `${key}-${accountId}`, NAME_LIMITS.bucket);
}

/** `<project>-<env>/api`: one namespace per environment. */
export function repositoryName(config: Config, key: RepositoryKey): string {
  return `${namePrefix(config)}/${key}`;
}

/**
 * The log group RDS exports an instance's PostgreSQL log to: named after the instance, so it follows the identifier
 * that serves (`<project>-<env>-db`, or the `-r<yyyymmddhhmmss>` instance `db restore` pointed the stack at).
 */
export function rdsLogGroupName(instanceIdentifier: string): string {
  return `/aws/rds/instance/${instanceIdentifier}/postgresql`;
}

/** The data layer's storage: the lake's buckets with their settings, the image repositories, and the log groups. */
export function addStorage(b: StackBuilder, config: Config): void {
  for (const key of BUCKET_KEYS) addBucket(b, config, key);
  for (const key of REPOSITORIES) addRepository(b, config, key);
  addLogGroups(b, config);
}

function addBucket(b: StackBuilder, config: Config, key: BucketKey): void {
  const id = storageIds.bucket(key);
  const settings = config.buckets[key];
  const name = bucketName(config, b.accountId, key);
  const kmsKeyArn = config.buckets.encryption.kmsKeyArn;
  addPrivateBucket(b, {
    id,
    name,
    dataClassification: PHI_BUCKETS.includes(key) ? "PHI" : "Internal",
    setting: (s) => storageIds.bucketSetting(key, s),
    encryption: kmsKeyArn ? { algorithm: "aws:kms", kmsKeyArn, bucketKeyEnabled: true } : { algorithm: "AES256" },
    policy: denyInsecureTransportPolicy(bucketArn(name, b.region)),
    versioning: settings.versioning,
    rules: lifecycleRules(settings.lifecycle),
  });
  b.output(`bucket_${key}`, id, "name");
  if (PHI_BUCKETS.includes(key) && !settings.versioning) {
    b.note(`finding: buckets.${key}.allowUnversioned is true: ${name} holds PHI without versioning; an overwritten or deleted object is lost for good`);
  }
}

/** What distinguishes one private bucket from another; everything else about them is the same. */
export interface PrivateBucket {
  id: string;
  name: string;
  dataClassification: string;
  /** The logical id of each of its settings. */
  setting: (s: BucketSettingKey) => string;
  encryption: Omit<BucketEncryptionSpec, "bucket">;
  policy: Unresolved<BucketPolicySpec["policy"]>;
  versioning: boolean;
  rules: LifecycleRuleSpec[];
}

/**
 * A bucket and its six settings, each a resource of its own (one read each, drift per setting): encryption, public
 * access blocked on all four counts, a policy, versioning, lifecycle rules, and ACLs disabled (owner enforced). The
 * data lake's buckets and the CloudTrail audit bucket are built this way.
 */
export function addPrivateBucket(b: StackBuilder, p: PrivateBucket): void {
  b.add(p.id, bucket, { name: p.name, tags: { ...b.tags(p.id), DataClassification: p.dataClassification } });
  const on = ref(p.id, "name");
  b.add(p.setting("encryption"), bucketEncryption, { bucket: on, ...p.encryption });
  b.add(p.setting("public-access-block"), bucketPublicAccessBlock, { bucket: on, blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true });
  b.add(p.setting("policy"), bucketPolicy, { bucket: on, policy: p.policy });
  b.add(p.setting("versioning"), bucketVersioning, { bucket: on, enabled: p.versioning });
  b.add(p.setting("lifecycle"), bucketLifecycle, { bucket: on, rules: p.rules });
  b.add(p.setting("ownership-controls"), bucketOwnershipControls, { bucket: on, objectOwnership: "BucketOwnerEnforced" });
}

function addRepository(b: StackBuilder, config: Config, key: RepositoryKey): void {
  const id = storageIds.repository(key);
  const { kmsKeyArn } = config.ecr;
  b.add(id, ecrRepository, {
    name: repositoryName(config, key),
    scanOnPush: config.ecr.scanOnPush,
    imageTagMutability: ecrTagMutability(config),
    encryption: kmsKeyArn ? { type: "KMS", kmsKeyArn } : { type: "AES256" },
    tags: b.tags(id),
  });
  b.add(storageIds.lifecyclePolicy(key), ecrLifecyclePolicy, { repository: ref(id, "name"), policy: keepLastImagesPolicy(config.ecr.keepLastImages) });
  b.output(`ecr_repository_${key.replace(/-/g, "_")}_url`, id, "uri");
}

/** The log group of ECS Exec sessions. */
export const execLogGroupName = (config: Config) => `/ecs/${namePrefix(config)}/exec`;

function addLogGroups(b: StackBuilder, config: Config): void {
  const retentionDays = config.logs.retentionDays;
  const ecs = storageIds.ecsLogGroup;
  const kms = config.logs.kmsKeyArn ? { kmsKeyArn: config.logs.kmsKeyArn } : {};
  b.add(ecs, logGroup, { name: `/ecs/${namePrefix(config)}`, retentionDays, ...kms, tags: b.tags(ecs) });
  if (ecsExecEnabled(config)) {
    // ECS Exec sessions (commands and output), written by the task's SSM agent under the task role.
    b.add(storageIds.execLogGroup, logGroup, { name: execLogGroupName(config), retentionDays, ...kms, tags: b.tags(storageIds.execLogGroup) });
  }
  // Created ahead of the database, so its retention is ours rather than RDS's "never expire".
  const rds = storageIds.rdsLogGroup;
  b.add(rds, logGroup, { name: rdsLogGroupName(servingDatabaseIdentifier(config, b.facts.databaseIdentifier)), retentionDays, ...kms, tags: b.tags(rds) });
  b.output("ecs_log_group", ecs, "name");
}
