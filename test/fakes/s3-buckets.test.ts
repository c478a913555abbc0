import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketTaggingCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { FakeCloud } from "./cloud.js";
import { addMultipartUpload, bucketTaggingSource, putObjectVersion, registerS3BucketsFake, versionCount } from "./s3-buckets.js";
import { registerS3ObjectsFake } from "./s3-objects.js";
import { extraS3Handlers, newS3State, s3Model, type S3State } from "./s3.js";

let cloud: FakeCloud;
let state: S3State;
const client = new S3Client({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
const send = (command: unknown) => client.send(command as never) as Promise<any>;

beforeEach(async () => {
  registerS3ObjectsFake();
  registerS3BucketsFake();
  cloud = new FakeCloud();
  state = newS3State();
  cloud.install([s3Model(cloud, state)]);
  await send(new CreateBucketCommand({ Bucket: "bucket-1" }));
});
afterEach(() => cloud.restore());

describe("fake S3 buckets", () => {
  it("registers no command that test/fakes/s3-objects.ts also registers", () => {
    const ours = Object.keys(extraS3Handlers.at(-1)!(cloud, state));
    const others = extraS3Handlers.slice(0, -1).map((h) => Object.keys(h(cloud, state)));
    const overlap = ours.filter((c) => others.some((o) => o.includes(c)));
    expect(others.length).toBeGreaterThan(0);
    expect(overlap).toEqual([]);
  });

  it("answers NoSuchTagSet for a bucket without tags and validates tag sets", async () => {
    await expect(send(new GetBucketTaggingCommand({ Bucket: "bucket-1" }))).rejects.toMatchObject({ name: "NoSuchTagSet" });
    await expect(send(new PutBucketTaggingCommand({ Bucket: "bucket-1", Tagging: { TagSet: [{ Key: "aws:x", Value: "1" }] } }))).rejects.toMatchObject({ name: "InvalidTag" });
    await send(new PutBucketTaggingCommand({ Bucket: "bucket-1", Tagging: { TagSet: [{ Key: "Project", Value: "p" }] } }));
    expect(await send(new GetBucketTaggingCommand({ Bucket: "bucket-1" }))).toMatchObject({ TagSet: [{ Key: "Project", Value: "p" }] });
    expect(bucketTaggingSource(state)()).toEqual([{ arn: "arn:aws:s3:::bucket-1", tags: { Project: "p" } }]);
  });

  it("gives new buckets AWS's defaults and answers NoSuchBucket for a missing one", async () => {
    expect(await send(new GetPublicAccessBlockCommand({ Bucket: "bucket-1" }))).toMatchObject({ PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true } });
    await expect(send(new GetPublicAccessBlockCommand({ Bucket: "nope" }))).rejects.toMatchObject({ name: "NoSuchBucket" });
  });

  it("rejects lifecycle rules S3 rejects: Standard-IA before 30 days, Glacier less than 30 days after it", async () => {
    const rule = (ia: number, glacier: number) => ({
      ID: "r",
      Status: "Enabled" as const,
      Filter: { Prefix: "" },
      Transitions: [
        { Days: ia, StorageClass: "STANDARD_IA" as const },
        { Days: glacier, StorageClass: "GLACIER" as const },
      ],
    });
    await expect(send(new GetBucketLifecycleConfigurationCommand({ Bucket: "bucket-1" }))).rejects.toMatchObject({ name: "NoSuchLifecycleConfiguration" });
    await expect(send(new PutBucketLifecycleConfigurationCommand({ Bucket: "bucket-1", LifecycleConfiguration: { Rules: [rule(29, 90)] } }))).rejects.toMatchObject({ name: "InvalidArgument" });
    await expect(send(new PutBucketLifecycleConfigurationCommand({ Bucket: "bucket-1", LifecycleConfiguration: { Rules: [rule(30, 59)] } }))).rejects.toMatchObject({ name: "InvalidArgument" });
    await send(new PutBucketLifecycleConfigurationCommand({ Bucket: "bucket-1", LifecycleConfiguration: { Rules: [rule(30, 60)] } }));
    expect((await send(new GetBucketLifecycleConfigurationCommand({ Bucket: "bucket-1" }))).Rules).toEqual([rule(30, 60)]);
  });

  it("pages ListObjectVersions by key then newest first, resuming after KeyMarker/VersionIdMarker", async () => {
    state.buckets.get("bucket-1")!.versioning = "Enabled";
    const a1 = putObjectVersion(state, "bucket-1", "a");
    const a2 = putObjectVersion(state, "bucket-1", "a");
    const b1 = putObjectVersion(state, "bucket-1", "b");
    const bMarker = putObjectVersion(state, "bucket-1", "b", { deleteMarker: true });
    const first = await send(new ListObjectVersionsCommand({ Bucket: "bucket-1", MaxKeys: 3 }));
    expect(first).toMatchObject({ IsTruncated: true, NextKeyMarker: "b", NextVersionIdMarker: bMarker.versionId });
    expect(first.Versions.map((v: { VersionId: string; IsLatest: boolean }) => [v.VersionId, v.IsLatest])).toEqual([
      [a2.versionId, true],
      [a1.versionId, false],
    ]);
    expect(first.DeleteMarkers.map((v: { VersionId: string }) => v.VersionId)).toEqual([bMarker.versionId]);
    const second = await send(new ListObjectVersionsCommand({ Bucket: "bucket-1", MaxKeys: 3, KeyMarker: first.NextKeyMarker, VersionIdMarker: first.NextVersionIdMarker }));
    expect(second).toMatchObject({ IsTruncated: false, Versions: [{ Key: "b", VersionId: b1.versionId, IsLatest: false }] });
    expect(second.DeleteMarkers).toEqual([]);
    await expect(send(new ListObjectVersionsCommand({ Bucket: "bucket-1", VersionIdMarker: "x" }))).rejects.toMatchObject({ name: "InvalidArgument" });
  });

  it("counts only current objects in ListObjectsV2", async () => {
    state.buckets.get("bucket-1")!.versioning = "Enabled";
    putObjectVersion(state, "bucket-1", "a");
    putObjectVersion(state, "bucket-1", "b");
    putObjectVersion(state, "bucket-1", "b", { deleteMarker: true });
    expect(await send(new ListObjectsV2Command({ Bucket: "bucket-1" }))).toMatchObject({ KeyCount: 1, IsTruncated: false, Contents: [{ Key: "a" }] });
    putObjectVersion(state, "bucket-1", "c");
    const paged = await send(new ListObjectsV2Command({ Bucket: "bucket-1", MaxKeys: 1 }));
    expect(paged).toMatchObject({ KeyCount: 1, IsTruncated: true, Contents: [{ Key: "a" }] });
    expect(await send(new ListObjectsV2Command({ Bucket: "bucket-1", ContinuationToken: paged.NextContinuationToken }))).toMatchObject({ KeyCount: 1, Contents: [{ Key: "c" }] });
  });

  it("deletes 1 to 1000 keys per DeleteObjects (MalformedXML otherwise), and DeleteBucket waits for the last version", async () => {
    state.buckets.get("bucket-1")!.versioning = "Enabled";
    for (let i = 0; i < 1001; i++) putObjectVersion(state, "bucket-1", `k${i}`);
    addMultipartUpload(state, "bucket-1", "upload");
    const all = [...state.buckets.get("bucket-1")!.objects].map(([Key, versions]) => ({ Key, VersionId: versions[0]!.versionId }));
    await expect(send(new DeleteObjectsCommand({ Bucket: "bucket-1", Delete: { Objects: all.map((v) => ({ Key: v.Key, VersionId: v.VersionId })) } }))).rejects.toMatchObject({ name: "MalformedXML" });
    await expect(send(new DeleteObjectsCommand({ Bucket: "bucket-1", Delete: { Objects: [] } }))).rejects.toMatchObject({ name: "MalformedXML" });
    const out = await send(new DeleteObjectsCommand({ Bucket: "bucket-1", Delete: { Objects: all.slice(0, 1000).map((v) => ({ Key: v.Key, VersionId: v.VersionId })) } }));
    expect(out.Deleted).toHaveLength(1000);
    await expect(send(new DeleteBucketCommand({ Bucket: "bucket-1" }))).rejects.toMatchObject({ name: "BucketNotEmpty" });
    await send(new DeleteObjectsCommand({ Bucket: "bucket-1", Delete: { Objects: [all[1000]!], Quiet: true } }));
    expect(versionCount(state, "bucket-1")).toBe(0);
    await send(new DeleteBucketCommand({ Bucket: "bucket-1" }));
    expect(state.buckets.has("bucket-1")).toBe(false);
  });

  it("adds a delete marker when DeleteObjects names no version in a versioned bucket", async () => {
    state.buckets.get("bucket-1")!.versioning = "Enabled";
    putObjectVersion(state, "bucket-1", "a");
    const out = await send(new DeleteObjectsCommand({ Bucket: "bucket-1", Delete: { Objects: [{ Key: "a" }] } }));
    expect(out.Deleted).toEqual([{ Key: "a", DeleteMarker: true, DeleteMarkerVersionId: expect.any(String) }]);
    expect(versionCount(state, "bucket-1")).toBe(2);
  });
});
