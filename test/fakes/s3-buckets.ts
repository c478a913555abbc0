import { createHash, randomUUID } from "node:crypto";
import type { FakeCloud, Tags } from "./cloud.js";
import { bucketOrThrow, extraS3Handlers, s3Error, type FakeBucket, type FakeObjectVersion, type S3State } from "./s3.js";
import type { TagSource } from "./tagging.js";

/**
 * The bucket part of the S3 fake: reading and deleting bucket settings, listing and deleting object versions in
 * batches, multipart uploads, and DeleteBucket. CreateBucket, HeadBucket and the PutBucket{Versioning,Encryption,Policy,
 * OwnershipControls} / PutPublicAccessBlock calls live in test/fakes/s3-objects.ts (as do the single-object calls and
 * `addForeignBucket`). No command is registered by both files (a test checks).
 *
 * Modelled as S3 documents it: "not configured" errors per setting (404), NoSuchTagSet, DeleteBucketEncryption resetting
 * to SSE-S3, ListObjectVersions ordered by key then newest first and paged by KeyMarker/VersionIdMarker (≤ 1000 entries,
 * versions and delete markers together), ListObjectsV2 counting current objects, DeleteObjects taking 1-1000 keys
 * (MalformedXML otherwise), BucketNotEmpty while any version or delete marker remains. Incomplete multipart uploads do
 * not block DeleteBucket (AWS deletes them with the bucket). Objects are seeded with `putObjectVersion`.
 */
export function registerS3BucketsFake(): void {
  if (!extraS3Handlers.includes(bucketHandlers)) extraS3Handlers.push(bucketHandlers);
}

const MAX_KEYS = 1000;
const MALFORMED_XML = "The XML you provided was not well-formed or did not validate against our published schema";

/** Seeds one version of `key` (or a delete marker) as PutObject / DeleteObject would leave it. */
export function putObjectVersion(state: S3State, bucketName: string, key: string, options: { body?: string; deleteMarker?: boolean } = {}): FakeObjectVersion {
  const bucket = bucketOrThrow(state, bucketName);
  const body = options.deleteMarker ? undefined : new TextEncoder().encode(options.body ?? `${key} body`);
  const version: FakeObjectVersion = {
    versionId: bucket.versioning === "Enabled" ? randomUUID().replace(/-/g, "") : "null",
    body,
    etag: body ? `"${createHash("md5").update(body).digest("hex")}"` : "",
    lastModified: new Date(),
    isDeleteMarker: Boolean(options.deleteMarker),
  };
  const versions = bucket.objects.get(key) ?? [];
  // Unversioned and suspended buckets keep a single "null" version per key, replaced in place.
  bucket.objects.set(key, [...versions.filter((v) => v.versionId !== version.versionId), version]);
  return version;
}

/** Seeds an incomplete multipart upload; returns its id. */
export function addMultipartUpload(state: S3State, bucketName: string, key: string): string {
  const uploadId = randomUUID().replace(/-/g, "");
  bucketOrThrow(state, bucketName).multipartUploads.set(uploadId, { key, uploadId });
  return uploadId;
}

/** Every version and delete marker the bucket holds. */
export function versionCount(state: S3State, bucketName: string): number {
  return [...bucketOrThrow(state, bucketName).objects.values()].reduce((n, list) => n + list.length, 0);
}

/** Buckets with tags, for GetResources (ARNs of buckets carry neither region nor account). */
export function bucketTaggingSource(state: S3State): TagSource {
  return () => [...state.buckets.values()].filter((b) => Object.keys(b.tags).length).map((b) => ({ arn: `arn:aws:s3:::${b.name}`, tags: { ...b.tags } }));
}

interface ListedVersion {
  key: string;
  version: FakeObjectVersion;
  isLatest: boolean;
}

/** Keys in order, each key's versions newest first: the order ListObjectVersions pages through. */
function listedVersions(bucket: FakeBucket, prefix = ""): ListedVersion[] {
  return [...bucket.objects.keys()]
    .filter((k) => k.startsWith(prefix))
    .sort()
    .flatMap((key) => {
      const versions = bucket.objects.get(key)!;
      return [...versions].reverse().map((version, i) => ({ key, version, isLatest: i === 0 }));
    });
}

function pageSize(maxKeys: number | undefined): number {
  if (maxKeys === undefined) return MAX_KEYS;
  if (maxKeys < 0) throw s3Error("InvalidArgument", "max-keys cannot be negative");
  return Math.min(maxKeys, MAX_KEYS);
}

function validateTags(tagSet: { Key?: string; Value?: string }[] | undefined): Tags {
  const tags: Tags = {};
  if (!tagSet || tagSet.length > 50) throw s3Error("InvalidTag", "Object tags cannot be greater than 50");
  for (const { Key, Value = "" } of tagSet) {
    if (!Key || Key.length > 128 || Value.length > 256) throw s3Error("InvalidTag", "The TagKey or TagValue you have provided is too long or empty.");
    if (Key.toLowerCase().startsWith("aws:")) throw s3Error("InvalidTag", "Your TagKey cannot be prefixed with aws:");
    if (Key in tags) throw s3Error("InvalidTag", "Cannot provide multiple Tags with the same key");
    tags[Key] = Value;
  }
  return tags;
}

type Rule = Record<string, any>;

/** The checks PutBucketLifecycleConfiguration makes that platform could trip over. */
function validateLifecycle(rules: Rule[] | undefined): void {
  if (!rules?.length || rules.length > 1000) throw s3Error("MalformedXML", MALFORMED_XML);
  const ids = new Set<string>();
  for (const r of rules) {
    if (r.Status !== "Enabled" && r.Status !== "Disabled") throw s3Error("MalformedXML", MALFORMED_XML);
    if (r.ID !== undefined && (r.ID.length > 255 || ids.has(r.ID))) throw s3Error("InvalidArgument", "Rule ID must be unique and at most 255 characters");
    if (r.ID !== undefined) ids.add(r.ID);
    if ((r.Filter === undefined) === (r.Prefix === undefined)) throw s3Error("MalformedXML", MALFORMED_XML);
    const actions = ["Expiration", "Transitions", "NoncurrentVersionExpiration", "NoncurrentVersionTransitions", "AbortIncompleteMultipartUpload"];
    if (!actions.some((a) => r[a] !== undefined && !(Array.isArray(r[a]) && !r[a].length))) {
      throw s3Error("InvalidRequest", "At least one action needs to be specified in a rule");
    }
    const days = Object.fromEntries((r.Transitions ?? []).map((t: Rule) => [t.StorageClass, t.Days]));
    if (days.STANDARD_IA !== undefined && days.STANDARD_IA < 30) {
      throw s3Error("InvalidArgument", "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'");
    }
    if (days.STANDARD_IA !== undefined && days.GLACIER !== undefined && days.GLACIER < days.STANDARD_IA + 30) {
      throw s3Error("InvalidArgument", "'Days' in the Transition action for StorageClass 'GLACIER' must be 30 days more than the Transition action for StorageClass 'STANDARD_IA'");
    }
    if (r.AbortIncompleteMultipartUpload && (r.Filter?.Tag || r.Filter?.And?.Tags)) {
      throw s3Error("InvalidArgument", "AbortIncompleteMultipartUpload cannot be specified with Tags.");
    }
  }
}

function bucketHandlers(_cloud: FakeCloud, state: S3State): Record<string, (input: any) => unknown> {
  const bucketOf = (input: { Bucket: string }) => bucketOrThrow(state, input.Bucket);
  const notConfigured = (code: string, message: string) => s3Error(code, message, 404);

  return {
    GetBucketTagging: (input) => {
      const bucket = bucketOf(input);
      if (!Object.keys(bucket.tags).length) throw notConfigured("NoSuchTagSet", "The TagSet does not exist");
      return { TagSet: Object.entries(bucket.tags).map(([Key, Value]) => ({ Key, Value })) };
    },
    PutBucketTagging: (input) => {
      const bucket = bucketOf(input);
      bucket.tags = validateTags(input.Tagging?.TagSet);
      return {};
    },
    DeleteBucketTagging: (input) => {
      bucketOf(input).tags = {};
      return {};
    },

    GetBucketEncryption: (input) => {
      const bucket = bucketOf(input);
      if (!bucket.encryption) throw notConfigured("ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found");
      return { ServerSideEncryptionConfiguration: bucket.encryption };
    },
    DeleteBucketEncryption: (input) => {
      // Since 2023 a bucket always has default encryption: deleting the configuration resets it to SSE-S3.
      bucketOf(input).encryption = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" }, BucketKeyEnabled: false }] };
      return {};
    },

    GetPublicAccessBlock: (input) => {
      const bucket = bucketOf(input);
      if (!bucket.publicAccessBlock) throw notConfigured("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found");
      return { PublicAccessBlockConfiguration: bucket.publicAccessBlock };
    },
    DeletePublicAccessBlock: (input) => {
      delete bucketOf(input).publicAccessBlock;
      return {};
    },

    GetBucketPolicy: (input) => {
      const bucket = bucketOf(input);
      if (!bucket.policy) throw notConfigured("NoSuchBucketPolicy", "The bucket policy does not exist");
      return { Policy: bucket.policy };
    },
    DeleteBucketPolicy: (input) => {
      delete bucketOf(input).policy;
      return {};
    },

    GetBucketVersioning: (input) => {
      const bucket = bucketOf(input);
      // A bucket that never had versioning answers without a Status.
      return bucket.versioning ? { Status: bucket.versioning, MFADelete: "Disabled" } : {};
    },

    GetBucketLifecycleConfiguration: (input) => {
      const bucket = bucketOf(input);
      if (!bucket.lifecycle) throw notConfigured("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist");
      return { Rules: structuredClone(bucket.lifecycle), TransitionDefaultMinimumObjectSize: "all_storage_classes_128K" };
    },
    PutBucketLifecycleConfiguration: (input) => {
      const bucket = bucketOf(input);
      validateLifecycle(input.LifecycleConfiguration?.Rules);
      bucket.lifecycle = structuredClone(input.LifecycleConfiguration.Rules);
      return { TransitionDefaultMinimumObjectSize: "all_storage_classes_128K" };
    },
    DeleteBucketLifecycle: (input) => {
      delete bucketOf(input).lifecycle;
      return {};
    },

    GetBucketOwnershipControls: (input) => {
      const bucket = bucketOf(input);
      if (!bucket.ownershipControls) throw notConfigured("OwnershipControlsNotFoundError", "The bucket ownership controls were not found");
      return { OwnershipControls: bucket.ownershipControls };
    },
    DeleteBucketOwnershipControls: (input) => {
      delete bucketOf(input).ownershipControls;
      return {};
    },

    ListObjectVersions: (input) => {
      const bucket = bucketOf(input);
      if (input.Delimiter !== undefined) throw new Error("fake s3: ListObjectVersions with Delimiter is not modelled");
      if (input.VersionIdMarker !== undefined && input.KeyMarker === undefined) throw s3Error("InvalidArgument", "A version-id marker cannot be specified without a key marker.");
      const all = listedVersions(bucket, input.Prefix);
      let start = 0;
      if (input.KeyMarker !== undefined && input.VersionIdMarker !== undefined) {
        const at = all.findIndex((v) => v.key === input.KeyMarker && v.version.versionId === input.VersionIdMarker);
        if (at < 0) throw s3Error("InvalidArgument", "Invalid version id specified");
        start = at + 1;
      } else if (input.KeyMarker !== undefined) {
        start = all.findIndex((v) => v.key > input.KeyMarker);
        if (start < 0) start = all.length;
      }
      const size = pageSize(input.MaxKeys);
      const page = all.slice(start, start + size);
      const truncated = start + size < all.length;
      const last = page.at(-1);
      return {
        Name: bucket.name,
        Prefix: input.Prefix ?? "",
        KeyMarker: input.KeyMarker ?? "",
        VersionIdMarker: input.VersionIdMarker ?? "",
        MaxKeys: size,
        IsTruncated: truncated,
        ...(truncated && last ? { NextKeyMarker: last.key, NextVersionIdMarker: last.version.versionId } : {}),
        Versions: page
          .filter((v) => !v.version.isDeleteMarker)
          .map((v) => ({ Key: v.key, VersionId: v.version.versionId, IsLatest: v.isLatest, ETag: v.version.etag, Size: v.version.body!.length, LastModified: v.version.lastModified, StorageClass: "STANDARD" })),
        DeleteMarkers: page.filter((v) => v.version.isDeleteMarker).map((v) => ({ Key: v.key, VersionId: v.version.versionId, IsLatest: v.isLatest, LastModified: v.version.lastModified })),
      };
    },

    ListObjectsV2: (input) => {
      const bucket = bucketOf(input);
      if (input.Delimiter !== undefined) throw new Error("fake s3: ListObjectsV2 with Delimiter is not modelled");
      const after = input.ContinuationToken !== undefined ? Buffer.from(input.ContinuationToken, "base64").toString() : (input.StartAfter ?? "");
      const current = [...bucket.objects.entries()]
        .filter(([key, versions]) => key.startsWith(input.Prefix ?? "") && key > after && versions.length && !versions.at(-1)!.isDeleteMarker)
        .sort(([a], [b]) => (a < b ? -1 : 1));
      const size = pageSize(input.MaxKeys);
      const page = current.slice(0, size);
      const truncated = page.length > 0 && current.length > size;
      return {
        Name: bucket.name,
        Prefix: input.Prefix ?? "",
        MaxKeys: size,
        KeyCount: page.length,
        IsTruncated: truncated,
        ...(truncated ? { NextContinuationToken: Buffer.from(page.at(-1)![0]).toString("base64") } : {}),
        ...(page.length
          ? { Contents: page.map(([Key, v]) => ({ Key, ETag: v.at(-1)!.etag, Size: v.at(-1)!.body!.length, LastModified: v.at(-1)!.lastModified, StorageClass: "STANDARD" })) }
          : {}),
      };
    },

    DeleteObjects: (input) => {
      const bucket = bucketOf(input);
      const objects: { Key?: string; VersionId?: string }[] = input.Delete?.Objects ?? [];
      if (!objects.length || objects.length > MAX_KEYS) throw s3Error("MalformedXML", MALFORMED_XML);
      const deleted = objects.map(({ Key, VersionId }) => {
        const versions = bucket.objects.get(Key!) ?? [];
        if (VersionId !== undefined) {
          const removed = versions.find((v) => v.versionId === VersionId);
          const rest = versions.filter((v) => v.versionId !== VersionId);
          if (rest.length) bucket.objects.set(Key!, rest);
          else bucket.objects.delete(Key!);
          return { Key, VersionId, ...(removed?.isDeleteMarker ? { DeleteMarker: true, DeleteMarkerVersionId: VersionId } : {}) };
        }
        if (bucket.versioning) {
          const marker = putObjectVersion(state, bucket.name, Key!, { deleteMarker: true });
          return { Key, DeleteMarker: true, DeleteMarkerVersionId: marker.versionId };
        }
        bucket.objects.delete(Key!);
        return { Key };
      });
      return input.Delete.Quiet ? {} : { Deleted: deleted };
    },

    ListMultipartUploads: (input) => {
      const bucket = bucketOf(input);
      const all = [...bucket.multipartUploads.values()].sort((a, b) => (a.key === b.key ? (a.uploadId < b.uploadId ? -1 : 1) : a.key < b.key ? -1 : 1));
      let start = 0;
      if (input.KeyMarker !== undefined) {
        start = all.findIndex((u) => u.key > input.KeyMarker || (u.key === input.KeyMarker && input.UploadIdMarker !== undefined && u.uploadId > input.UploadIdMarker));
        if (start < 0) start = all.length;
      }
      const size = Math.min(input.MaxUploads ?? MAX_KEYS, MAX_KEYS);
      const page = all.slice(start, start + size);
      const truncated = start + size < all.length;
      return {
        Bucket: bucket.name,
        IsTruncated: truncated,
        MaxUploads: size,
        ...(truncated ? { NextKeyMarker: page.at(-1)!.key, NextUploadIdMarker: page.at(-1)!.uploadId } : {}),
        Uploads: page.map((u) => ({ Key: u.key, UploadId: u.uploadId, Initiated: new Date(), StorageClass: "STANDARD" })),
      };
    },
    AbortMultipartUpload: (input) => {
      const bucket = bucketOf(input);
      const upload = bucket.multipartUploads.get(input.UploadId);
      if (!upload || upload.key !== input.Key) throw s3Error("NoSuchUpload", "The specified upload does not exist.", 404);
      bucket.multipartUploads.delete(input.UploadId);
      return {};
    },

    DeleteBucket: (input) => {
      const bucket = bucketOf(input);
      if ([...bucket.objects.values()].some((versions) => versions.length)) {
        throw s3Error("BucketNotEmpty", "The bucket you tried to delete is not empty. You must delete all versions in the bucket.", 409);
      }
      state.buckets.delete(bucket.name);
      return {};
    },
  };
}
