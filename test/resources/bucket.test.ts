import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketTaggingCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { UserError } from "../../src/errors.js";
import { bucket, estimateObjectCount, type BucketAttrs } from "../../src/resources/bucket.js";
import { testContext, testTags } from "../helpers.js";

const s3 = mockClient(S3Client);
const ID = "data.bucket.raw";
const NAME = "clinical-platform-dev-raw-123456789012";
const tags = { ...testTags(ID), DataClassification: "PHI" };
const spec = { name: NAME, tags };
const attrs: BucketAttrs = { ...spec, arn: `arn:aws:s3:::${NAME}` };
const s3Error = (name: string, status = 400) => new S3ServiceException({ name, message: name, $fault: "client", $metadata: { httpStatusCode: status } });
const tagSet = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

beforeEach(() => s3.reset());

describe("s3:bucket find", () => {
  it("reads the recorded bucket with one GetBucketTagging call", async () => {
    s3.on(GetBucketTaggingCommand, { Bucket: NAME }).resolves({ TagSet: tagSet(tags) });
    const found = await bucket.find(testContext(), { logicalId: ID, recorded: attrs });
    expect(found).toEqual(attrs);
    expect(s3.calls()).toHaveLength(1);
  });

  it("reads a bucket without tags as tags {} (NoSuchTagSet), so the missing tags show as drift", async () => {
    s3.on(GetBucketTaggingCommand).rejects(s3Error("NoSuchTagSet", 404));
    const found = await bucket.find(testContext(), { logicalId: ID, recorded: attrs });
    expect(found).toEqual({ ...attrs, tags: {} });
    expect(bucket.diff(spec, found!)).toEqual([{ field: "tags", from: {}, to: tags, action: "update" }]);
  });

  it("returns undefined for a bucket deleted outside platform (NoSuchBucket)", async () => {
    s3.on(GetBucketTaggingCommand).rejects(s3Error("NoSuchBucket", 404));
    expect(await bucket.find(testContext(), { logicalId: ID, recorded: attrs })).toBeUndefined();
  });

  it("looks nothing up without a recorded name", async () => {
    expect(await bucket.find(testContext(), { logicalId: ID })).toBeUndefined();
    expect(s3.calls()).toHaveLength(0);
  });

  it("propagates other errors (AccessDenied: the name now belongs to someone else)", async () => {
    s3.on(GetBucketTaggingCommand).rejects(s3Error("AccessDenied", 403));
    await expect(bucket.find(testContext(), { logicalId: ID, recorded: attrs })).rejects.toMatchObject({ name: "AccessDenied" });
  });
});

describe("s3:bucket create", () => {
  it("creates in us-east-1 without a LocationConstraint, then tags it and reads it back", async () => {
    s3.on(CreateBucketCommand).resolves({});
    s3.on(GetBucketTaggingCommand).rejectsOnce(s3Error("NoSuchTagSet", 404)).resolves({ TagSet: tagSet(tags) });
    s3.on(PutBucketTaggingCommand).resolves({});

    const created = await bucket.create(testContext(), spec, { logicalId: ID });

    expect(created).toEqual(attrs);
    const input = s3.commandCalls(CreateBucketCommand)[0]!.args[0].input;
    expect(input).toEqual({ Bucket: NAME, ObjectOwnership: "BucketOwnerEnforced" });
    expect(s3).toHaveReceivedCommandWith(PutBucketTaggingCommand, { Bucket: NAME, Tagging: { TagSet: expect.arrayContaining([{ Key: "DataClassification", Value: "PHI" }, { Key: "platform:logical-id", Value: ID }]) } });
  });

  it("passes the region as LocationConstraint outside us-east-1", async () => {
    s3.on(CreateBucketCommand).resolves({});
    s3.on(GetBucketTaggingCommand).rejectsOnce(s3Error("NoSuchTagSet", 404)).resolves({ TagSet: tagSet(tags) });
    s3.on(PutBucketTaggingCommand).resolves({});
    const created = await bucket.create(testContext({ region: "eu-west-1" }), spec, { logicalId: ID });
    expect(s3).toHaveReceivedCommandWith(CreateBucketCommand, { Bucket: NAME, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } });
    expect(created.arn).toBe(`arn:aws:s3:::${NAME}`);
  });

  it("retries the first read while a new bucket is not yet visible", async () => {
    s3.on(CreateBucketCommand).resolves({});
    s3.on(GetBucketTaggingCommand).rejectsOnce(s3Error("NoSuchBucket", 404)).rejectsOnce(s3Error("NoSuchTagSet", 404)).resolves({ TagSet: tagSet(tags) });
    s3.on(PutBucketTaggingCommand).resolves({});
    await expect(bucket.create(testContext(), spec, { logicalId: ID })).resolves.toEqual(attrs);
    expect(s3).toHaveReceivedCommandTimes(GetBucketTaggingCommand, 3);
  });

  it("adopts a bucket it already owns when the tags prove it is this logical bucket (BucketAlreadyOwnedByYou)", async () => {
    s3.on(CreateBucketCommand).rejects(s3Error("BucketAlreadyOwnedByYou", 409));
    s3.on(GetBucketTaggingCommand).resolves({ TagSet: tagSet(tags) });
    const adopted = await bucket.create(testContext({ region: "eu-west-1" }), spec, { logicalId: ID });
    expect(adopted).toEqual(attrs);
    expect(s3).not.toHaveReceivedCommand(PutBucketTaggingCommand);
  });

  it("adopts a bucket of ours whose DataClassification drifted, and corrects the tags", async () => {
    s3.on(CreateBucketCommand).rejects(s3Error("BucketAlreadyOwnedByYou", 409));
    s3.on(GetBucketTaggingCommand).resolvesOnce({ TagSet: tagSet({ ...tags, DataClassification: "Public" }) }).resolves({ TagSet: tagSet(tags) });
    s3.on(PutBucketTaggingCommand).resolves({});
    await bucket.create(testContext({ region: "eu-west-1" }), spec, { logicalId: ID });
    expect(s3).toHaveReceivedCommandWith(PutBucketTaggingCommand, { Tagging: { TagSet: expect.arrayContaining([{ Key: "DataClassification", Value: "PHI" }]) } });
  });

  it.each<[string, string | undefined, Record<string, string>]>([
    ["untagged, already owned", "BucketAlreadyOwnedByYou", {}],
    ["tagged as another logical bucket", undefined, testTags("data.bucket.gold")],
    ["tagged as another environment", "BucketAlreadyOwnedByYou", { ...tags, Environment: "prod" }],
  ])("refuses a bucket that is %s, and tags nothing", async (_case, createError, existingTags) => {
    if (createError) s3.on(CreateBucketCommand).rejects(s3Error(createError, 409));
    else s3.on(CreateBucketCommand).resolves({}); // us-east-1 answers 200 for a bucket the account owns
    if (Object.keys(existingTags).length) s3.on(GetBucketTaggingCommand).resolves({ TagSet: tagSet(existingTags) });
    else s3.on(GetBucketTaggingCommand).rejects(s3Error("NoSuchTagSet", 404));
    const err = await bucket.create(testContext(), spec, { logicalId: ID }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(new RegExp(`${ID}: S3 bucket ${NAME} already exists in this account and is not tagged as this environment's ${ID}`));
    expect(s3).not.toHaveReceivedCommand(PutBucketTaggingCommand);
  });

  it("says the name belongs to another account and to set it in the config (BucketAlreadyExists)", async () => {
    s3.on(CreateBucketCommand).rejects(s3Error("BucketAlreadyExists", 409));
    const err = await bucket.create(testContext(), spec, { logicalId: ID }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      `${ID}: S3 bucket name ${NAME} belongs to another AWS account (BucketAlreadyExists; bucket names are global). Set another "name" for this bucket under "buckets" in the config and run again`,
    );
    expect(s3).not.toHaveReceivedCommand(GetBucketTaggingCommand);
  });
});

describe("s3:bucket diff and update", () => {
  it("replaces on a new name and updates tags in place", () => {
    expect(bucket.diff({ ...spec, name: "other-name" }, attrs)).toEqual([{ field: "name", from: NAME, to: "other-name", action: "replace" }]);
    expect(bucket.diff(spec, { ...attrs, tags: { ...tags, DataClassification: "Internal", "aws:cloudformation:stack-name": "x" } })).toEqual([
      { field: "tags", from: { ...tags, DataClassification: "Internal" }, to: tags, action: "update" },
    ]);
    expect(bucket.diff(spec, attrs)).toEqual([]);
  });

  it("puts the whole tag set on a tag change and reads back", async () => {
    s3.on(PutBucketTaggingCommand).resolves({});
    s3.on(GetBucketTaggingCommand).resolves({ TagSet: tagSet(tags) });
    const drifted = { ...attrs, tags: { ...tags, DataClassification: "Internal" } };
    const updated = await bucket.update!(testContext(), spec, drifted, bucket.diff(spec, drifted));
    expect(updated).toEqual(attrs);
    expect(s3).toHaveReceivedCommandWith(PutBucketTaggingCommand, { Bucket: NAME, Tagging: { TagSet: tagSet(tags) } });
  });
});

describe("s3:bucket destroy (aws-sdk-client-mock)", () => {
  it("deletes an empty bucket and waits until HeadBucket says it is gone", async () => {
    s3.on(ListObjectVersionsCommand).resolves({ IsTruncated: false });
    s3.on(DeleteBucketCommand).resolves({});
    s3.on(HeadBucketCommand).rejects(s3Error("NotFound", 404));
    await bucket.destroy(testContext(), attrs);
    expect(s3).toHaveReceivedCommandWith(ListObjectVersionsCommand, { Bucket: NAME, MaxKeys: 1000 });
    expect(s3).toHaveReceivedCommandWith(DeleteBucketCommand, { Bucket: NAME });
    expect(s3).not.toHaveReceivedCommand(DeleteObjectsCommand);
  });

  it("refuses a bucket that holds versions without --delete-data, naming the bucket, the count and the flag; deletes nothing", async () => {
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: "a", VersionId: "1" }, { Key: "b", VersionId: "2" }],
      DeleteMarkers: [{ Key: "c", VersionId: "3" }],
      IsTruncated: false,
    });
    const err = await bucket.destroy(testContext(), attrs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      `${ID}: S3 bucket ${NAME} holds 3 object versions or delete markers; nothing was deleted. Run 'platform down --delete-data' to delete every version with the bucket, or empty it yourself first`,
    );
    expect(s3).not.toHaveReceivedCommand(DeleteObjectsCommand);
    expect(s3).not.toHaveReceivedCommand(DeleteBucketCommand);
  });

  it("says 'more than 1000' when the first page is truncated", async () => {
    s3.on(ListObjectVersionsCommand).resolves({ Versions: Array.from({ length: 1000 }, (_, i) => ({ Key: `k${i}`, VersionId: "v" })), IsTruncated: true });
    await expect(bucket.destroy(testContext(), attrs)).rejects.toThrow(/holds more than 1000 object versions/);
  });

  it("is done when the bucket is already gone", async () => {
    s3.on(ListObjectVersionsCommand).rejects(s3Error("NoSuchBucket", 404));
    await expect(bucket.destroy(testContext(), attrs)).resolves.toBeUndefined();
    expect(s3).not.toHaveReceivedCommand(DeleteBucketCommand);
  });

  it("still refuses when objects arrive between the check and DeleteBucket (BucketNotEmpty)", async () => {
    s3.on(ListObjectVersionsCommand).resolves({});
    s3.on(DeleteBucketCommand).rejects(s3Error("BucketNotEmpty", 409));
    await expect(bucket.destroy(testContext(), attrs)).rejects.toThrow(/holds 1 object versions or delete markers; nothing was deleted. Run 'platform down --delete-data'/);
  });

  it("stops when DeleteObjects reports per-key errors instead of looping", async () => {
    s3.on(ListObjectVersionsCommand).resolves({ Versions: [{ Key: "a", VersionId: "1" }] });
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: "a", VersionId: "1", Code: "AccessDenied", Message: "Access Denied" }] });
    await expect(bucket.destroy(testContext({ flags: { deleteData: true } }), attrs)).rejects.toMatchObject({ name: "AccessDenied", message: expect.stringMatching(/1 of 1 object versions could not be deleted/) });
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectsCommand, 1);
    expect(s3).not.toHaveReceivedCommand(DeleteBucketCommand);
  });
});

describe("object counts and multipart uploads", () => {
  it("reports more when the listing is truncated", async () => {
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 1000, IsTruncated: true });
    expect(await estimateObjectCount(testContext(), NAME)).toEqual({ count: 1000, more: true });
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: NAME, MaxKeys: 1000 });
  });

  it("pages through multipart uploads by KeyMarker and UploadIdMarker", async () => {
    s3.on(ListObjectVersionsCommand).resolves({});
    s3.on(ListMultipartUploadsCommand)
      .resolvesOnce({ Uploads: [{ Key: "a", UploadId: "u1" }], IsTruncated: true, NextKeyMarker: "a", NextUploadIdMarker: "u1" })
      .resolves({ Uploads: [{ Key: "b", UploadId: "u2" }], IsTruncated: false });
    s3.on(DeleteBucketCommand).resolves({});
    s3.on(HeadBucketCommand).rejects(s3Error("NotFound", 404));
    s3.on(AbortMultipartUploadCommand, { UploadId: "u2" }).rejects(s3Error("NoSuchUpload", 404));
    s3.on(AbortMultipartUploadCommand, { UploadId: "u1" }).resolves({});
    await bucket.destroy(testContext({ flags: { deleteData: true } }), attrs);
    expect(s3.commandCalls(ListMultipartUploadsCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: NAME },
      { Bucket: NAME, KeyMarker: "a", UploadIdMarker: "u1" },
    ]);
    expect(s3).toHaveReceivedCommandTimes(AbortMultipartUploadCommand, 2);
    expect(s3).toHaveReceivedCommand(DeleteBucketCommand);
  });
});
