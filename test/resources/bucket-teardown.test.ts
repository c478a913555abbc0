import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { bucket, estimateObjectCount, type BucketAttrs } from "../../src/resources/bucket.js";
import { FakeCloud } from "../fakes/cloud.js";
import { addMultipartUpload, putObjectVersion, registerS3BucketsFake, versionCount } from "../fakes/s3-buckets.js";
import { registerS3ObjectsFake } from "../fakes/s3-objects.js";
import { newS3State, s3Model, type S3State } from "../fakes/s3.js";
import { testContext, testTags } from "../helpers.js";

/** Teardown of a bucket that holds data, against the stateful S3 fake (built on aws-sdk-client-mock). */
const ID = "data.bucket.raw";
const NAME = "clinical-platform-dev-raw-123456789012";
const tags = { ...testTags(ID), DataClassification: "PHI" };
const attrs: BucketAttrs = { name: NAME, tags, arn: `arn:aws:s3:::${NAME}` };

describe("s3:bucket destroy --delete-data (stateful fake)", () => {
  let cloud: FakeCloud;
  let state: S3State;

  beforeEach(() => {
    registerS3ObjectsFake();
    registerS3BucketsFake();
    cloud = new FakeCloud();
    state = newS3State();
    cloud.install([s3Model(cloud, state)]);
  });
  afterEach(() => cloud.restore());

  async function versionedBucket(): Promise<void> {
    const client = testContext().aws.get(S3Client);
    await client.send(new CreateBucketCommand({ Bucket: NAME }));
    state.buckets.get(NAME)!.versioning = "Enabled";
    state.buckets.get(NAME)!.tags = tags;
  }

  it("empties 2,500 versions and delete markers in three DeleteObjects calls of at most 1000, aborts uploads, then deletes the bucket", async () => {
    await versionedBucket();
    for (let i = 0; i < 1000; i++) {
      const key = `raw/part-${String(i).padStart(4, "0")}.parquet`;
      putObjectVersion(state, NAME, key);
      putObjectVersion(state, NAME, key);
      if (i % 2 === 0) putObjectVersion(state, NAME, key, { deleteMarker: true });
    }
    addMultipartUpload(state, NAME, "raw/big.parquet");
    expect(versionCount(state, NAME)).toBe(2500);
    const ctx = testContext({ flags: { deleteData: true } });

    await bucket.destroy(ctx, attrs);

    const deletes = cloud.callsTo("DeleteObjects");
    expect(deletes.map((c) => c.input.Delete.Objects.length)).toEqual([1000, 1000, 500]);
    expect(deletes.every((c) => c.input.Delete.Quiet === true && c.input.Delete.Objects.every((o: { VersionId?: string }) => o.VersionId))).toBe(true);
    expect(cloud.callsTo("AbortMultipartUpload")).toHaveLength(1);
    expect(state.buckets.has(NAME)).toBe(false);
    const order = cloud.mutatingCalls().map((c) => c.command);
    expect(order.at(-1)).toBe("DeleteBucket");
    expect(ctx.notes).toEqual([
      `emptying ${NAME}: deleting every object version and delete marker`,
      `1000 object versions and delete markers deleted from ${NAME}, more to go`,
      `2000 object versions and delete markers deleted from ${NAME}, more to go`,
      `2500 object versions and delete markers deleted from ${NAME}`,
      `${NAME} emptied: 2500 object versions and delete markers deleted, 1 incomplete upload aborted`,
    ]);
  });

  it("without --delete-data leaves every version and the bucket in place", async () => {
    await versionedBucket();
    for (let i = 0; i < 5; i++) putObjectVersion(state, NAME, `k${i}`);
    await expect(bucket.destroy(testContext(), attrs)).rejects.toThrow(/holds 5 object versions/);
    expect(cloud.mutatingCalls().map((c) => c.command)).toEqual(["CreateBucket"]);
    expect(versionCount(state, NAME)).toBe(5);
  });

  it("estimates the current object count with one ListObjectsV2 call", async () => {
    await versionedBucket();
    putObjectVersion(state, NAME, "a");
    putObjectVersion(state, NAME, "b");
    putObjectVersion(state, NAME, "b", { deleteMarker: true });
    cloud.calls.length = 0;
    expect(await estimateObjectCount(testContext(), NAME)).toEqual({ count: 1, more: false });
    expect(cloud.calls.map((c) => c.command)).toEqual(["ListObjectsV2"]);
    expect(await estimateObjectCount(testContext(), "gone-bucket")).toBeUndefined();
  });
});

