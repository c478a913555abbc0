import {
  DeleteBucketLifecycleCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  type LifecycleRule,
  type ObjectOwnership,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  type ServerSideEncryption,
} from "@aws-sdk/client-s3";
import { hasCode, isNotFound, orUndefined } from "../aws/errors.js";
import { BUCKET_SETTLING } from "./bucket.js";
import { retryWhile } from "./retry.js";
import { waitFor } from "../run/wait-for.js";
import { compareFields, sameValue, type Change, type ResourceContext, type ResourceType, knownKey } from "./types.js";
import { denyInsecureTransportPolicy, LIFECYCLE_RULE_ID, lifecycleRules, type LifecycleSettings } from "./spec-helpers.js";
export { denyInsecureTransportPolicy, LIFECYCLE_RULE_ID, lifecycleRules, type LifecycleSettings };

/**
 * The settings of an S3 bucket, each its own resource type (as Terraform splits aws_s3_bucket_*): every one is read with
 * exactly one call, so a no-op run stays cheap, and drift in one shows as that setting, not as "the bucket".
 * They share this file because they share everything but their one Get and one Put.
 *
 * Every setting spec starts with `bucket` (a ref to the bucket's name). A setting that is not configured on a bucket
 * that exists reads as absent (undefined), so `up` puts it again; a bucket that is gone (NoSuchBucket) also reads absent.
 *
 * Destroy leaves the setting in place: deleting the bucket removes every setting with it, and `down` destroys settings
 * before their bucket, so deleting them first would strip encryption, the public access block and the TLS policy from a
 * bucket that then survives because it still holds data (no --delete-data). The stack always has every setting of every
 * bucket, so no setting is ever dropped from the config on its own.
 */
interface BucketSetting {
  bucket: string;
}

const s3 = (ctx: ResourceContext) => ctx.aws.get(S3Client);

/** Puts a setting: right after CreateBucket the bucket can be briefly invisible, and S3 refuses concurrent configuration changes (OperationAborted). */
async function putSetting(ctx: ResourceContext, put: () => Promise<unknown>): Promise<void> {
  await retryWhile(ctx, BUCKET_SETTLING, 60, put);
}

async function keepSetting(): Promise<void> {
  // Deliberately nothing: see the file comment.
}

/** create and update are the same Put; both end by reading back what S3 recorded. */
function putThenRead<S extends BucketSetting, A>(put: (ctx: ResourceContext, spec: S) => Promise<void>, read: (ctx: ResourceContext, bucket: string) => Promise<A | undefined>, what: string) {
  return async (ctx: ResourceContext, spec: S): Promise<A> => {
    await put(ctx, spec);
    const found = await waitFor({
      what: `${what} of S3 bucket ${spec.bucket} to be visible`,
      refresh: () => read(ctx, spec.bucket),
      done: (a) => a !== undefined,
      budgetSeconds: 30,
      waits: ctx.waits,
      signal: ctx.signal,
      minReads: 3,
    });
    return found!;
  };
}

const bucketField = { field: "bucket" as const, action: "replace" as const };

// ---- default encryption ----

export interface BucketEncryptionSpec extends BucketSetting {
  /** "AES256" (SSE-S3) or "aws:kms" (SSE-KMS). */
  algorithm: "AES256" | "aws:kms";
  /** With aws:kms: the key's ARN. */
  kmsKeyArn?: string;
  /** With aws:kms: an S3 Bucket Key, which cuts KMS requests (and their cost) by orders of magnitude. */
  bucketKeyEnabled?: boolean;
}

export interface BucketEncryptionAttrs extends BucketSetting {
  algorithm: string;
  kmsKeyArn?: string;
  bucketKeyEnabled: boolean;
}

export async function findBucketEncryption(ctx: ResourceContext, bucket: string): Promise<BucketEncryptionAttrs | undefined> {
  // ServerSideEncryptionConfigurationNotFoundError is rare since 2023 (every bucket has SSE-S3 at least), but emulators return it.
  const out = await orUndefined(s3(ctx).send(new GetBucketEncryptionCommand({ Bucket: bucket })));
  const rule = out?.ServerSideEncryptionConfiguration?.Rules?.[0];
  const byDefault = rule?.ApplyServerSideEncryptionByDefault;
  if (!byDefault?.SSEAlgorithm) return undefined;
  return {
    bucket,
    algorithm: byDefault.SSEAlgorithm,
    ...(byDefault.KMSMasterKeyID ? { kmsKeyArn: byDefault.KMSMasterKeyID } : {}),
    bucketKeyEnabled: rule?.BucketKeyEnabled ?? false,
  };
}

async function putEncryption(ctx: ResourceContext, spec: BucketEncryptionSpec): Promise<void> {
  const kms = spec.algorithm === "aws:kms";
  await putSetting(ctx, () =>
    s3(ctx).send(
      new PutBucketEncryptionCommand({
        Bucket: spec.bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: spec.algorithm as ServerSideEncryption, ...(kms && spec.kmsKeyArn ? { KMSMasterKeyID: spec.kmsKeyArn } : {}) },
              ...(kms ? { BucketKeyEnabled: spec.bucketKeyEnabled ?? true } : {}),
            },
          ],
        },
      }),
    ),
  );
}

const writeEncryption = putThenRead(putEncryption, findBucketEncryption, "default encryption");

export const bucketEncryption: ResourceType<BucketEncryptionSpec, BucketEncryptionAttrs> = {
  type: "s3:bucket-encryption",
  find: async (ctx, { recorded, wanted }) => {
    const bucket = knownKey(recorded?.bucket, wanted?.bucket);
    return bucket ? findBucketEncryption(ctx, bucket) : undefined;
  },
  // The key and the Bucket Key matter only with aws:kms; going back to AES256 is the algorithm change alone.
  diff: (spec, actual) =>
    compareFields(spec, actual, [bucketField, { field: "algorithm" }, ...(spec.algorithm === "aws:kms" ? [{ field: "kmsKeyArn" as const }, { field: "bucketKeyEnabled" as const }] : [])]),
  create: writeEncryption,
  update: writeEncryption,
  destroy: keepSetting,
  physicalId: (a) => a.bucket,
};

// ---- public access block ----

export interface PublicAccessBlockSpec extends BucketSetting {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

export type PublicAccessBlockAttrs = PublicAccessBlockSpec;

const PUBLIC_ACCESS_FIELDS = ["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"] as const;

export async function findPublicAccessBlock(ctx: ResourceContext, bucket: string): Promise<PublicAccessBlockAttrs | undefined> {
  const out = await orUndefined(s3(ctx).send(new GetPublicAccessBlockCommand({ Bucket: bucket })));
  const c = out?.PublicAccessBlockConfiguration;
  if (!c) return undefined;
  return {
    bucket,
    blockPublicAcls: c.BlockPublicAcls ?? false,
    ignorePublicAcls: c.IgnorePublicAcls ?? false,
    blockPublicPolicy: c.BlockPublicPolicy ?? false,
    restrictPublicBuckets: c.RestrictPublicBuckets ?? false,
  };
}

async function putPublicAccessBlock(ctx: ResourceContext, spec: PublicAccessBlockSpec): Promise<void> {
  await putSetting(ctx, () =>
    s3(ctx).send(
      new PutPublicAccessBlockCommand({
        Bucket: spec.bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: spec.blockPublicAcls,
          IgnorePublicAcls: spec.ignorePublicAcls,
          BlockPublicPolicy: spec.blockPublicPolicy,
          RestrictPublicBuckets: spec.restrictPublicBuckets,
        },
      }),
    ),
  );
}

const writePublicAccessBlock = putThenRead(putPublicAccessBlock, findPublicAccessBlock, "public access block");

export const bucketPublicAccessBlock: ResourceType<PublicAccessBlockSpec, PublicAccessBlockAttrs> = {
  type: "s3:bucket-public-access-block",
  find: async (ctx, { recorded, wanted }) => {
    const bucket = knownKey(recorded?.bucket, wanted?.bucket);
    return bucket ? findPublicAccessBlock(ctx, bucket) : undefined;
  },
  diff: (spec, actual) => compareFields(spec, actual, [bucketField, ...PUBLIC_ACCESS_FIELDS.map((field) => ({ field }))]),
  create: writePublicAccessBlock,
  update: writePublicAccessBlock,
  destroy: keepSetting,
  physicalId: (a) => a.bucket,
};

// ---- bucket policy ----

export interface BucketPolicySpec extends BucketSetting {
  /** The policy document, as an object. */
  policy: Record<string, unknown>;
}

export type BucketPolicyAttrs = BucketPolicySpec;

/**
 * The form in which two policies compare: a one-element list and its element are the same to AWS, and so is the order
 * of a list of strings (AWS may hand back either form).
 */
export function normalizePolicy(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalizePolicy);
    if (items.length === 1) return items[0];
    return items.every((i) => typeof i === "string") ? [...(items as string[])].sort() : items;
  }
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizePolicy(v)]));
  return value;
}

export async function findBucketPolicy(ctx: ResourceContext, bucket: string): Promise<BucketPolicyAttrs | undefined> {
  const out = await orUndefined(s3(ctx).send(new GetBucketPolicyCommand({ Bucket: bucket })));
  return out?.Policy ? { bucket, policy: JSON.parse(out.Policy) as Record<string, unknown> } : undefined;
}

async function putPolicy(ctx: ResourceContext, spec: BucketPolicySpec): Promise<void> {
  await putSetting(ctx, () => s3(ctx).send(new PutBucketPolicyCommand({ Bucket: spec.bucket, Policy: JSON.stringify(spec.policy) })));
}

const writePolicy = putThenRead(putPolicy, findBucketPolicy, "bucket policy");

export const bucketPolicy: ResourceType<BucketPolicySpec, BucketPolicyAttrs> = {
  type: "s3:bucket-policy",
  find: async (ctx, { recorded, wanted }) => {
    const bucket = knownKey(recorded?.bucket, wanted?.bucket);
    return bucket ? findBucketPolicy(ctx, bucket) : undefined;
  },
  diff(spec, actual) {
    const changes: Change[] = compareFields(spec, actual, [bucketField]);
    if (!sameValue(normalizePolicy(spec.policy), normalizePolicy(actual.policy))) changes.push({ field: "policy", from: actual.policy, to: spec.policy, action: "update" });
    return changes;
  },
  create: writePolicy,
  update: writePolicy,
  destroy: keepSetting,
  physicalId: (a) => a.bucket,
};

// ---- versioning ----

export interface BucketVersioningSpec extends BucketSetting {
  enabled: boolean;
}

export type BucketVersioningAttrs = BucketVersioningSpec;

/** Never absent while the bucket exists: a bucket that never had versioning reads as not enabled. */
export async function findBucketVersioning(ctx: ResourceContext, bucket: string): Promise<BucketVersioningAttrs | undefined> {
  const out = await orUndefined(s3(ctx).send(new GetBucketVersioningCommand({ Bucket: bucket })));
  return out && { bucket, enabled: out.Status === "Enabled" };
}

/** Off is "Suspended": a bucket that had versioning can never go back to unversioned. */
async function putVersioning(ctx: ResourceContext, spec: BucketVersioningSpec): Promise<void> {
  await putSetting(ctx, () =>
    s3(ctx).send(new PutBucketVersioningCommand({ Bucket: spec.bucket, VersioningConfiguration: { Status: spec.enabled ? "Enabled" : "Suspended" } })),
  );
}

const writeVersioning = putThenRead(putVersioning, findBucketVersioning, "versioning");

export const bucketVersioning: ResourceType<BucketVersioningSpec, BucketVersioningAttrs> = {
  type: "s3:bucket-versioning",
  find: async (ctx, { recorded, wanted }) => {
    const bucket = knownKey(recorded?.bucket, wanted?.bucket);
    return bucket ? findBucketVersioning(ctx, bucket) : undefined;
  },
  diff: (spec, actual) => compareFields(spec, actual, [bucketField, { field: "enabled" }]),
  async create(ctx, spec) {
    // A new bucket is unversioned, which is already "off": leave it so rather than marking it Suspended.
    const current = spec.enabled ? undefined : await retryWhile(ctx, BUCKET_SETTLING, 60, () => s3(ctx).send(new GetBucketVersioningCommand({ Bucket: spec.bucket })));
    if (spec.enabled || current?.Status === "Enabled") return writeVersioning(ctx, spec);
    return { bucket: spec.bucket, enabled: false };
  },
  update: writeVersioning,
  destroy: keepSetting,
  physicalId: (a) => a.bucket,
};

// ---- lifecycle rules ----

/** A lifecycle rule in the shape GetBucketLifecycleConfiguration returns it, normalised (see canonicalRule). */
export type CanonicalLifecycleRule = Record<string, unknown>;

/** The rules platform writes; a subset of S3's LifecycleRule, already in canonical form. */
export interface LifecycleRuleSpec {
  ID: string;
  Status: "Enabled" | "Disabled";
  Filter: { Prefix: string };
  Transitions?: { Days: number; StorageClass: "STANDARD_IA" | "GLACIER" }[];
  NoncurrentVersionExpiration?: { NoncurrentDays: number };
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
}

export interface BucketLifecycleSpec extends BucketSetting {
  /** Empty: no lifecycle configuration at all. */
  rules: LifecycleRuleSpec[];
}

export interface BucketLifecycleAttrs extends BucketSetting {
  /** Every rule on the bucket, ours or not, canonical. */
  rules: CanonicalLifecycleRule[];
}

/**
 * A rule as plain JSON in one form: dates as ISO strings, no empty lists, a whole-bucket filter always `{ Prefix: "" }`
 * (S3 may answer with an empty Filter, or the legacy top-level Prefix), transitions ordered by age.
 */
export function canonicalRule(rule: LifecycleRule | LifecycleRuleSpec | CanonicalLifecycleRule): CanonicalLifecycleRule {
  const r = JSON.parse(JSON.stringify(rule)) as Record<string, unknown>;
  const filter = (r.Filter ?? { Prefix: r.Prefix ?? "" }) as Record<string, unknown>;
  delete r.Prefix;
  r.Filter = Object.keys(filter).length ? filter : { Prefix: "" };
  for (const [list, key] of [
    ["Transitions", "Days"],
    ["NoncurrentVersionTransitions", "NoncurrentDays"],
  ] as const) {
    const items = r[list] as Record<string, number>[] | undefined;
    if (!items) continue;
    if (!items.length) delete r[list];
    else items.sort((a, b) => (a[key] ?? 0) - (b[key] ?? 0));
  }
  return r;
}

export async function findBucketLifecycle(ctx: ResourceContext, bucket: string): Promise<BucketLifecycleAttrs | undefined> {
  try {
    const out = await s3(ctx).send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    const rules = (out.Rules ?? []).map(canonicalRule).sort((a, b) => String(a.ID ?? "").localeCompare(String(b.ID ?? "")));
    return { bucket, rules };
  } catch (err) {
    // No configuration is a state like any other ("no rules"); only a missing bucket is "absent".
    if (hasCode(err, "NoSuchLifecycleConfiguration")) return { bucket, rules: [] };
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function putLifecycle(ctx: ResourceContext, spec: BucketLifecycleSpec): Promise<void> {
  if (!spec.rules.length) {
    await putSetting(ctx, () => s3(ctx).send(new DeleteBucketLifecycleCommand({ Bucket: spec.bucket })));
    return;
  }
  await putSetting(ctx, () =>
    s3(ctx).send(new PutBucketLifecycleConfigurationCommand({ Bucket: spec.bucket, LifecycleConfiguration: { Rules: spec.rules as unknown as LifecycleRule[] } })),
  );
}

const writeLifecycle = putThenRead(putLifecycle, findBucketLifecycle, "lifecycle configuration");

export const bucketLifecycle: ResourceType<BucketLifecycleSpec, BucketLifecycleAttrs> = {
  type: "s3:bucket-lifecycle",
  find: async (ctx, { recorded, wanted }) => {
    const bucket = knownKey(recorded?.bucket, wanted?.bucket);
    return bucket ? findBucketLifecycle(ctx, bucket) : undefined;
  },
  diff(spec, actual) {
    const changes: Change[] = compareFields(spec, actual, [bucketField]);
    const want = spec.rules.map(canonicalRule).sort((a, b) => String(a.ID ?? "").localeCompare(String(b.ID ?? "")));
    if (!sameValue(want, actual.rules)) changes.push({ field: "rules", from: actual.rules, to: want, action: "update" });
    return changes;
  },
  create: writeLifecycle,
  update: writeLifecycle,
  destroy: keepSetting,
  physicalId: (a) => a.bucket,
};

// ---- ownership controls ----

export interface OwnershipControlsSpec extends BucketSetting {
  /** BucketOwnerEnforced: ACLs are disabled and the bucket owner owns every object. */
  objectOwnership: "BucketOwnerEnforced" | "BucketOwnerPreferred" | "ObjectWriter";
}

export type OwnershipControlsAttrs = OwnershipControlsSpec;

export async function findOwnershipControls(ctx: ResourceContext, bucket: string): Promise<OwnershipControlsAttrs | undefined> {
  const out = await orUndefined(s3(ctx).send(new GetBucketOwnershipControlsCommand({ Bucket: bucket })));
  const ownership = out?.OwnershipControls?.Rules?.[0]?.ObjectOwnership;
  return ownership ? { bucket, objectOwnership: ownership as OwnershipControlsSpec["objectOwnership"] } : undefined;
}

async function putOwnershipControls(ctx: ResourceContext, spec: OwnershipControlsSpec): Promise<void> {
  await putSetting(ctx, () =>
    s3(ctx).send(new PutBucketOwnershipControlsCommand({ Bucket: spec.bucket, OwnershipControls: { Rules: [{ ObjectOwnership: spec.objectOwnership as ObjectOwnership }] } })),
  );
}

const writeOwnershipControls = putThenRead(putOwnershipControls, findOwnershipControls, "ownership controls");

export const bucketOwnershipControls: ResourceType<OwnershipControlsSpec, OwnershipControlsAttrs> = {
  type: "s3:bucket-ownership-controls",
  find: async (ctx, { recorded, wanted }) => {
    const bucket = knownKey(recorded?.bucket, wanted?.bucket);
    return bucket ? findOwnershipControls(ctx, bucket) : undefined;
  },
  diff: (spec, actual) => compareFields(spec, actual, [bucketField, { field: "objectOwnership" }]),
  create: writeOwnershipControls,
  update: writeOwnershipControls,
  destroy: keepSetting,
  physicalId: (a) => a.bucket,
};

export const BUCKET_SETTING_TYPES = [bucketEncryption, bucketPublicAccessBlock, bucketPolicy, bucketVersioning, bucketLifecycle, bucketOwnershipControls] as const;
