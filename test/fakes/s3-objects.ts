import { createHash, randomUUID } from "node:crypto";
import type { FakeCloud } from "./cloud.js";
import { fromTagList } from "./cloud.js";
import { bucketOrThrow, extraS3Handlers, s3Error, type FakeBucket, type FakeObjectVersion, type S3State } from "./s3.js";

/**
 * The object part of the S3 fake, with S3's conditional requests, plus the bucket calls `platform state bootstrap`
 * makes (CreateBucket, HeadBucket, PutBucket*). The Get and Delete bucket calls (GetBucketPolicy, which bootstrap reads
 * to keep other statements, included) live in test/fakes/s3-buckets.ts: no command is registered by both files.
 * - PutObject `IfNoneMatch: "*"`: 412 PreconditionFailed when a current version exists (a delete marker does not count).
 * - PutObject / DeleteObject `IfMatch: etag`: 412 when the current ETag differs, 404 NoSuchKey when there is no object.
 * - GetObject returns the ETag and a Body with transformToString(), as the SDK's stream mixin does.
 * - New buckets get AWS's defaults since 2023: Block Public Access on, BucketOwnerEnforced, SSE-S3 encryption.
 * Tests inject one-off failures (409 ConditionalRequestConflict, AccessDenied) with `injectS3Fault`, and buckets owned
 * by other accounts with `addForeignBucket`.
 */
export function registerS3ObjectsFake(): void {
  if (!extraS3Handlers.includes(objectHandlers)) extraS3Handlers.push(objectHandlers);
}

export interface S3Fault {
  command: string;
  key?: string;
  code: string;
  status: number;
}

const faults = new WeakMap<S3State, S3Fault[]>();
const foreign = new WeakMap<S3State, Set<string>>();

/** The next `command` (on `key`, when given) fails once with `code`. */
export function injectS3Fault(state: S3State, fault: S3Fault): void {
  faults.set(state, [...(faults.get(state) ?? []), fault]);
}

/** A bucket name another account owns: CreateBucket says BucketAlreadyExists, HeadBucket 403. */
export function addForeignBucket(state: S3State, name: string): void {
  foreign.set(state, new Set([...(foreign.get(state) ?? []), name]));
}

function takeFault(state: S3State, command: string, key?: string): void {
  const list = faults.get(state) ?? [];
  const i = list.findIndex((f) => f.command === command && (f.key === undefined || f.key === key));
  if (i < 0) return;
  const [fault] = list.splice(i, 1);
  throw s3Error(fault!.code, `injected ${fault!.code}`, fault!.status);
}

/** The current version of a key, undefined when there is none or it is a delete marker. */
export function currentVersion(bucket: FakeBucket, key: string): FakeObjectVersion | undefined {
  const latest = bucket.objects.get(key)?.at(-1);
  return latest && !latest.isDeleteMarker ? latest : undefined;
}

/** The object's text, for assertions. */
export function objectText(state: S3State, bucket: string, key: string): string | undefined {
  const body = currentVersion(bucketOrThrow(state, bucket), key)?.body;
  return body && Buffer.from(body).toString("utf8");
}

function toBytes(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array();
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return new Uint8Array(body);
  throw new Error(`fake s3: PutObject Body of type ${typeof body} is not modelled`);
}

/** What the SDK's sdkStreamMixin gives a GetObject Body. */
function streamBody(bytes: Uint8Array) {
  return {
    transformToString: async (encoding = "utf-8") => new TextDecoder(encoding).decode(bytes),
    transformToByteArray: async () => new Uint8Array(bytes),
  };
}

function checkPreconditions(bucket: FakeBucket, key: string, input: { IfMatch?: string; IfNoneMatch?: string }): void {
  const current = currentVersion(bucket, key);
  if (input.IfNoneMatch !== undefined) {
    if (input.IfNoneMatch !== "*") throw s3Error("NotImplemented", "A header you provided implies functionality that is not implemented", 501);
    if (current) throw s3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412);
  }
  if (input.IfMatch !== undefined) {
    if (!current) throw s3Error("NoSuchKey", "The specified key does not exist.", 404);
    if (input.IfMatch !== "*" && input.IfMatch !== current.etag) throw s3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412);
  }
}

function addVersion(bucket: FakeBucket, key: string, version: Omit<FakeObjectVersion, "versionId">): FakeObjectVersion {
  const versioned = bucket.versioning === "Enabled" || bucket.versioning === "Suspended";
  const full = { ...version, versionId: bucket.versioning === "Enabled" ? randomUUID().replace(/-/g, "") : "null" };
  const versions = bucket.objects.get(key) ?? [];
  // Unversioned (or suspended) buckets keep one "null" version per key, replaced in place.
  bucket.objects.set(key, versioned ? [...versions.filter((v) => v.versionId !== "null" || bucket.versioning === "Enabled"), full] : [full]);
  return full;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SSE_ALGORITHMS = ["AES256", "aws:kms", "aws:kms:dsse"];

function objectHandlers(cloud: FakeCloud, state: S3State): Record<string, (input: any) => unknown> {
  const objectOf = (input: { Bucket: string; Key: string }) => currentVersion(bucketOrThrow(state, input.Bucket), input.Key);
  return {
    PutObject: (input) => {
      takeFault(state, "PutObject", input.Key);
      const bucket = bucketOrThrow(state, input.Bucket);
      checkPreconditions(bucket, input.Key, input);
      const body = toBytes(input.Body);
      const etag = `"${createHash("md5").update(body).digest("hex")}"`;
      const version = addVersion(bucket, input.Key, { body, etag, lastModified: new Date(), isDeleteMarker: false });
      return { ETag: etag, ...(bucket.versioning === "Enabled" ? { VersionId: version.versionId } : {}) };
    },
    GetObject: (input) => {
      takeFault(state, "GetObject", input.Key);
      const object = objectOf(input);
      if (!object) throw s3Error("NoSuchKey", "The specified key does not exist.", 404);
      return { Body: streamBody(object.body!), ETag: object.etag, ContentLength: object.body!.length, LastModified: object.lastModified, VersionId: object.versionId };
    },
    HeadObject: (input) => {
      takeFault(state, "HeadObject", input.Key);
      const object = objectOf(input);
      // HEAD responses have no body, so the SDK can only name the error after the status.
      if (!object) throw s3Error("NotFound", "Not Found", 404);
      return { ETag: object.etag, ContentLength: object.body!.length, LastModified: object.lastModified, VersionId: object.versionId };
    },
    DeleteObject: (input) => {
      takeFault(state, "DeleteObject", input.Key);
      const bucket = bucketOrThrow(state, input.Bucket);
      if (input.VersionId) {
        bucket.objects.set(input.Key, (bucket.objects.get(input.Key) ?? []).filter((v) => v.versionId !== input.VersionId));
        return { VersionId: input.VersionId };
      }
      checkPreconditions(bucket, input.Key, { IfMatch: input.IfMatch });
      if (bucket.versioning) {
        const marker = addVersion(bucket, input.Key, { body: undefined, etag: "", lastModified: new Date(), isDeleteMarker: true });
        return { DeleteMarker: true, ...(bucket.versioning === "Enabled" ? { VersionId: marker.versionId } : {}) };
      }
      bucket.objects.delete(input.Key);
      return {};
    },

    CreateBucket: (input) => {
      takeFault(state, "CreateBucket");
      const name: string = input.Bucket;
      if (!BUCKET_NAME.test(name) || name.includes("..")) throw s3Error("InvalidBucketName", "The specified bucket is not valid.");
      const constraint: string | undefined = input.CreateBucketConfiguration?.LocationConstraint;
      if (constraint === "us-east-1") throw s3Error("InvalidLocationConstraint", "The specified location-constraint is not valid");
      const region = constraint ?? "us-east-1";
      if (foreign.get(state)?.has(name)) throw s3Error("BucketAlreadyExists", "The requested bucket name is not available.", 409);
      const existing = state.buckets.get(name);
      if (existing) {
        // us-east-1 answers 200 for a bucket you already own there (legacy behaviour); every other case is 409.
        if (region === "us-east-1" && existing.region === "us-east-1") return { Location: `/${name}` };
        throw s3Error("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", 409);
      }
      const ownership = input.ObjectOwnership ?? "BucketOwnerEnforced";
      state.buckets.set(name, {
        name,
        region,
        createdAt: new Date(),
        tags: fromTagList(input.CreateBucketConfiguration?.Tags),
        publicAccessBlock: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
        ownershipControls: { Rules: [{ ObjectOwnership: ownership }] },
        encryption: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" }, BucketKeyEnabled: false }] },
        objects: new Map(),
        multipartUploads: new Map(),
      });
      return { Location: region === "us-east-1" ? `/${name}` : `http://${name}.s3.amazonaws.com/`, BucketArn: `arn:aws:s3:::${name}` };
    },
    HeadBucket: (input) => {
      takeFault(state, "HeadBucket");
      if (foreign.get(state)?.has(input.Bucket)) throw s3Error("Forbidden", "Forbidden", 403);
      const bucket = state.buckets.get(input.Bucket);
      if (!bucket) throw s3Error("NotFound", "Not Found", 404);
      return { BucketRegion: bucket.region, BucketArn: `arn:aws:s3:::${bucket.name}` };
    },
    PutBucketVersioning: (input) => {
      takeFault(state, "PutBucketVersioning");
      const bucket = bucketOrThrow(state, input.Bucket);
      const status = input.VersioningConfiguration?.Status;
      if (status !== "Enabled" && status !== "Suspended") throw s3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
      bucket.versioning = status;
      return {};
    },
    PutBucketEncryption: (input) => {
      takeFault(state, "PutBucketEncryption");
      const bucket = bucketOrThrow(state, input.Bucket);
      const rules = input.ServerSideEncryptionConfiguration?.Rules ?? [];
      if (!rules.length || rules.some((r: any) => !SSE_ALGORITHMS.includes(r.ApplyServerSideEncryptionByDefault?.SSEAlgorithm))) {
        throw s3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
      }
      bucket.encryption = input.ServerSideEncryptionConfiguration;
      return {};
    },
    PutPublicAccessBlock: (input) => {
      takeFault(state, "PutPublicAccessBlock");
      bucketOrThrow(state, input.Bucket).publicAccessBlock = input.PublicAccessBlockConfiguration;
      return {};
    },
    PutBucketOwnershipControls: (input) => {
      takeFault(state, "PutBucketOwnershipControls");
      const bucket = bucketOrThrow(state, input.Bucket);
      const rules = input.OwnershipControls?.Rules ?? [];
      if (rules.length !== 1 || !["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"].includes(rules[0].ObjectOwnership)) {
        throw s3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
      }
      bucket.ownershipControls = input.OwnershipControls;
      return {};
    },
    PutBucketPolicy: (input) => {
      takeFault(state, "PutBucketPolicy");
      const bucket = bucketOrThrow(state, input.Bucket);
      let policy: { Statement?: { Effect?: string; Principal?: unknown; Condition?: unknown }[] };
      try {
        policy = JSON.parse(input.Policy);
      } catch {
        throw s3Error("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'");
      }
      if (!Array.isArray(policy.Statement) || !policy.Statement.length) throw s3Error("MalformedPolicy", "Missing required field Statement");
      const isPublic = policy.Statement.some((s) => s.Effect === "Allow" && (s.Principal === "*" || (s.Principal as { AWS?: unknown })?.AWS === "*") && !s.Condition);
      if (isPublic && (bucket.publicAccessBlock as { BlockPublicPolicy?: boolean } | undefined)?.BlockPublicPolicy) {
        throw s3Error("AccessDenied", "User is not authorized to perform: s3:PutBucketPolicy because public policies are blocked by the BlockPublicPolicy block public access setting.", 403);
      }
      bucket.policy = input.Policy;
      return {};
    },
  };
}
