import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  type CreateBucketCommandInput,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ObjectIdentifier,
  PutBucketTaggingCommand,
  S3Client,
  waitUntilBucketNotExists,
} from "@aws-sdk/client-s3";
import { hasCode, orUndefined } from "../aws/errors.js";
import { isOurs, TAG_LOGICAL_ID, tagList, tagRecord } from "../aws/tags.js";
import { UserError } from "../errors.js";
import { retryWhile } from "./retry.js";
import { waitFor } from "../run/wait-for.js";
import { compareFields, compareTags, waiterOptions, type ResourceContext, type ResourceType, knownKey } from "./types.js";
import { partitionOf, bucketArn } from "./spec-helpers.js";
export { partitionOf, bucketArn };

export interface BucketSpec {
  /** Globally unique, 3-63 lowercase characters (validated with the config). */
  name: string;
  tags: Record<string, string>;
}

export interface BucketAttrs extends BucketSpec {
  arn: string;
}

const KIND = "S3 bucket";
/** DeleteObjects takes at most 1000 keys per request (API reference, DeleteObjects). */
export const DELETE_BATCH = 1000;
/** Codes S3 returns for a bucket that is there but briefly invisible, or busy with another configuration change. */
export const BUCKET_SETTLING = ["NoSuchBucket", "OperationAborted"];

const s3 = (ctx: ResourceContext) => ctx.aws.get(S3Client);

/** The bucket's tags; {} when it has none (NoSuchTagSet); undefined when the bucket does not exist (NoSuchBucket). */
async function readTags(ctx: ResourceContext, name: string): Promise<Record<string, string> | undefined> {
  try {
    const out = await orUndefined(s3(ctx).send(new GetBucketTaggingCommand({ Bucket: name })));
    return out && tagRecord(out.TagSet);
  } catch (err) {
    if (hasCode(err, "NoSuchTagSet")) return {};
    throw err;
  }
}

/** One call: the tags are what adoption and drift need, and GetBucketTagging fails with NoSuchBucket when it is gone. */
export async function findBucketByName(ctx: ResourceContext, name: string): Promise<BucketAttrs | undefined> {
  const tags = await readTags(ctx, name);
  return tags && { name, arn: bucketArn(name, ctx.region), tags };
}

/** "created" (us-east-1 also answers 200 for a bucket this account already owns), "owned" (BucketAlreadyOwnedByYou). */
async function createBucket(ctx: ResourceContext, name: string, logicalId: string): Promise<"created" | "owned"> {
  // us-east-1 takes no LocationConstraint (sending "us-east-1" fails with InvalidLocationConstraint); every other region needs it.
  const input: CreateBucketCommandInput = { Bucket: name, ObjectOwnership: "BucketOwnerEnforced" };
  if (ctx.region !== "us-east-1") input.CreateBucketConfiguration = { LocationConstraint: ctx.region as never };
  try {
    await s3(ctx).send(new CreateBucketCommand(input));
    return "created";
  } catch (err) {
    if (hasCode(err, "BucketAlreadyOwnedByYou")) return "owned";
    if (hasCode(err, "BucketAlreadyExists")) {
      throw new UserError(
        `${logicalId}: S3 bucket name ${name} belongs to another AWS account (BucketAlreadyExists; bucket names are global). Set another "name" for this bucket under "buckets" in the config and run again`,
      );
    }
    throw err;
  }
}

async function putTags(ctx: ResourceContext, name: string, tags: Record<string, string>): Promise<void> {
  // PutBucketTagging replaces the whole tag set.
  await retryWhile(ctx, BUCKET_SETTLING, 60, () => s3(ctx).send(new PutBucketTaggingCommand({ Bucket: name, Tagging: { TagSet: tagList(tags) } })));
}

/** Right after CreateBucket the bucket can be briefly invisible; read until it shows. */
async function readBack(ctx: ResourceContext, name: string): Promise<BucketAttrs> {
  const found = await waitFor({
    what: `${KIND} ${name} to be visible`,
    refresh: () => readTags(ctx, name),
    done: (tags) => tags !== undefined,
    budgetSeconds: 60,
    waits: ctx.waits,
    signal: ctx.signal,
    minReads: 3,
  });
  return { name, arn: bucketArn(name, ctx.region), tags: found! };
}

/**
 * An existing bucket of ours is adopted only when its tags prove it is this environment's `logicalId`. A bucket this
 * account already owned without tags is not (it may hold someone's data); in us-east-1 a fresh bucket and an untagged
 * owned one look the same (both answer 200), so there an untagged bucket counts as just created.
 */
function assertAdoptable(ctx: ResourceContext, name: string, logicalId: string, outcome: "created" | "owned", tags: Record<string, string>): void {
  const untagged = Object.keys(tags).length === 0;
  if (outcome === "created" && untagged) return;
  if (isOurs(tags, ctx.identity, logicalId)) return;
  throw new UserError(
    `${logicalId}: S3 bucket ${name} already exists in this account and is not tagged as this environment's ${logicalId}; ` +
      `delete it, tag it (${TAG_LOGICAL_ID}=${logicalId}, Project=${ctx.identity.project}, Environment=${ctx.identity.environment}, ManagedBy=platform) to adopt it, or set another "name" for this bucket under "buckets" in the config`,
  );
}

// ---- emptying, for teardown ----

export interface ObjectCount {
  /** Object versions and delete markers seen in one page. */
  count: number;
  /** True when there are more than one page holds. */
  more: boolean;
}

/** One ListObjectVersions page: enough to say whether a bucket holds anything, and roughly how much. */
async function countVersions(ctx: ResourceContext, name: string): Promise<ObjectCount | undefined> {
  const out = await orUndefined(s3(ctx).send(new ListObjectVersionsCommand({ Bucket: name, MaxKeys: DELETE_BATCH })));
  if (!out) return undefined;
  return { count: (out.Versions?.length ?? 0) + (out.DeleteMarkers?.length ?? 0), more: Boolean(out.IsTruncated) };
}

/** A cheap estimate of the current objects (one ListObjectsV2 call): for status. Undefined when the bucket is gone. */
export async function estimateObjectCount(ctx: ResourceContext, name: string): Promise<ObjectCount | undefined> {
  const out = await orUndefined(s3(ctx).send(new ListObjectsV2Command({ Bucket: name, MaxKeys: DELETE_BATCH })));
  return out && { count: out.KeyCount ?? 0, more: Boolean(out.IsTruncated) };
}

export function describeCount(c: ObjectCount): string {
  return c.more ? `more than ${c.count}` : String(c.count);
}

/** Deletes one batch (≤ 1000) of versions and delete markers; any per-key error stops the run. */
async function deleteBatch(ctx: ResourceContext, name: string, objects: ObjectIdentifier[]): Promise<void> {
  const out = await s3(ctx).send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: objects, Quiet: true } }));
  const failed = out.Errors ?? [];
  if (failed.length) {
    const first = failed[0]!;
    throw Object.assign(new Error(`${failed.length} of ${objects.length} object versions could not be deleted, first ${first.Key} (${first.VersionId}): ${first.Message ?? first.Code}`), {
      name: first.Code ?? "DeleteObjectsFailed",
    });
  }
}

/**
 * Deletes every object version and delete marker, one page of ≤ 1000 at a time. Each round lists from the start
 * again: the page just deleted is gone, and no marker ever points at a deleted version.
 */
async function deleteAllVersions(ctx: ResourceContext, name: string, progress: (message: string) => void): Promise<number> {
  let deleted = 0;
  for (;;) {
    const page = await orUndefined(s3(ctx).send(new ListObjectVersionsCommand({ Bucket: name, MaxKeys: DELETE_BATCH })));
    const objects: ObjectIdentifier[] = [...(page?.Versions ?? []), ...(page?.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (!objects.length) return deleted;
    for (let i = 0; i < objects.length; i += DELETE_BATCH) await deleteBatch(ctx, name, objects.slice(i, i + DELETE_BATCH));
    deleted += objects.length;
    progress(`${deleted} object versions and delete markers deleted from ${name}${page?.IsTruncated ? ", more to go" : ""}`);
  }
}

/** Aborts every incomplete multipart upload (their parts are stored and billed until then). */
async function abortMultipartUploads(ctx: ResourceContext, name: string): Promise<number> {
  let aborted = 0;
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  do {
    const page = await orUndefined(s3(ctx).send(new ListMultipartUploadsCommand({ Bucket: name, KeyMarker, UploadIdMarker })));
    for (const upload of page?.Uploads ?? []) {
      try {
        await s3(ctx).send(new AbortMultipartUploadCommand({ Bucket: name, Key: upload.Key!, UploadId: upload.UploadId! }));
      } catch (err) {
        if (!hasCode(err, "NoSuchUpload")) throw err; // completed or aborted meanwhile
      }
      aborted += 1;
    }
    const more = page?.IsTruncated;
    KeyMarker = more ? page?.NextKeyMarker : undefined;
    UploadIdMarker = more ? page?.NextUploadIdMarker : undefined;
  } while (KeyMarker);
  return aborted;
}

function refuseToDelete(logicalId: string, name: string, seen: ObjectCount): UserError {
  return new UserError(
    `${logicalId}: S3 bucket ${name} holds ${describeCount(seen)} object versions or delete markers; nothing was deleted. ` +
      `Run 'platform down --delete-data' to delete every version with the bucket, or empty it yourself first`,
  );
}

async function emptyBucket(ctx: ResourceContext, name: string, logicalId: string): Promise<void> {
  const note = (message: string) => ctx.note(logicalId, message);
  note(`emptying ${name}: deleting every object version and delete marker`);
  const deleted = await deleteAllVersions(ctx, name, note);
  const aborted = await abortMultipartUploads(ctx, name);
  note(`${name} emptied: ${deleted} object versions and delete markers deleted, ${aborted} incomplete ${aborted === 1 ? "upload" : "uploads"} aborted`);
}

async function deleteBucket(ctx: ResourceContext, name: string, logicalId: string, seen: ObjectCount): Promise<void> {
  try {
    // OperationAborted: a configuration change on the bucket is still in flight.
    await retryWhile(ctx, ["OperationAborted"], 60, () => orUndefined(s3(ctx).send(new DeleteBucketCommand({ Bucket: name }))));
  } catch (err) {
    // Objects written between the check and the delete: still never deleted without --delete-data.
    if (hasCode(err, "BucketNotEmpty") && !ctx.flags.deleteData) throw refuseToDelete(logicalId, name, { count: Math.max(seen.count, 1), more: seen.more });
    throw err;
  }
  await waitUntilBucketNotExists(waiterOptions(ctx, s3(ctx), 60), { Bucket: name });
}

export const bucket: ResourceType<BucketSpec, BucketAttrs> = {
  type: "s3:bucket",

  // The name is the key: the recorded one, else the one create would use.
  async find(ctx, { recorded, wanted }) {
    const name = knownKey(recorded?.name, wanted?.name);
    return name ? findBucketByName(ctx, name) : undefined;
  },

  // CreateBucket takes no tags: a run killed between CreateBucket and PutBucketTagging leaves the bucket untagged. In
  // us-east-1 CreateBucket answers 200 for a bucket this account already owns, so there an untagged one of the name has
  // always counted as just created (see assertAdoptable); elsewhere only the tags prove a bucket ours.
  owns: (ctx, actual, logicalId) => isOurs(actual.tags, ctx.identity, logicalId) || (Object.keys(actual.tags).length === 0 && ctx.region === "us-east-1"),

  diff(spec, actual) {
    return [...compareFields(spec, actual, [{ field: "name", action: "replace" }]), ...compareTags(spec.tags, actual.tags)];
  },

  async create(ctx, spec, { logicalId }) {
    const outcome = await createBucket(ctx, spec.name, logicalId);
    const existing = await readBack(ctx, spec.name);
    assertAdoptable(ctx, spec.name, logicalId, outcome, existing.tags);
    if (compareTags(spec.tags, existing.tags).length) await putTags(ctx, spec.name, spec.tags);
    return readBack(ctx, spec.name);
  },

  async update(ctx, spec, actual, changes) {
    if (changes.some((c) => c.field === "tags")) await putTags(ctx, actual.name, spec.tags);
    return readBack(ctx, actual.name);
  },

  /**
   * Refuses (nothing deleted) while the bucket holds any object version or delete marker, unless the run has
   * --delete-data; then empties it in batches with progress notes, aborts incomplete uploads, and deletes it.
   */
  async destroy(ctx, actual) {
    const logicalId = actual.tags[TAG_LOGICAL_ID] ?? actual.name;
    const seen = await countVersions(ctx, actual.name);
    if (!seen) return; // already gone
    if (seen.count > 0 && !ctx.flags.deleteData) throw refuseToDelete(logicalId, actual.name, seen);
    if (ctx.flags.deleteData) await emptyBucket(ctx, actual.name, logicalId);
    await deleteBucket(ctx, actual.name, logicalId, seen);
  },

  physicalId: (a) => a.name,

  async details(ctx, actual) {
    const count = await estimateObjectCount(ctx, actual.name);
    return count && `${describeCount(count)} objects`;
  },
};
