import { S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { awsError, type FakeCloud, type ServiceModel, type Tags } from "./cloud.js";

/**
 * The S3 part of the fake: buckets with their settings, and objects with every version and delete marker.
 * Bucket-level commands live in test/fakes/s3-buckets.ts, object-level ones (with conditional writes) in
 * test/fakes/s3-objects.ts; each registers its handlers in `extraS3Handlers`.
 */
export interface FakeObjectVersion {
  versionId: string;
  body: Uint8Array | undefined; // undefined for a delete marker
  etag: string;
  lastModified: Date;
  isDeleteMarker: boolean;
}

export interface FakeBucket {
  name: string;
  region: string;
  createdAt: Date;
  tags: Tags;
  versioning?: "Enabled" | "Suspended";
  encryption?: unknown;
  publicAccessBlock?: unknown;
  policy?: string;
  lifecycle?: unknown;
  ownershipControls?: unknown;
  /** key → versions, newest last. */
  objects: Map<string, FakeObjectVersion[]>;
  multipartUploads: Map<string, { key: string; uploadId: string }>;
}

export interface S3State {
  buckets: Map<string, FakeBucket>;
}

export function newS3State(): S3State {
  return { buckets: new Map() };
}

export const s3Error = (code: string, message: string, status = 400) => awsError(S3ServiceException, code, message, status);

export function bucketOrThrow(state: S3State, name: string): FakeBucket {
  const bucket = state.buckets.get(name);
  if (!bucket) throw s3Error("NoSuchBucket", "The specified bucket does not exist", 404);
  return bucket;
}

export const extraS3Handlers: ((cloud: FakeCloud, state: S3State) => Record<string, (input: any) => unknown>)[] = [];

export function s3Model(cloud: FakeCloud, state: S3State): ServiceModel {
  const handlers = Object.assign({}, ...extraS3Handlers.map((h) => h(cloud, state)));
  return { service: "s3", client: S3Client, handlers };
}
