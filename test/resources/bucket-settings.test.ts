import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  DeleteBucketLifecycleCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import {
  BUCKET_SETTING_TYPES,
  bucketEncryption,
  bucketLifecycle,
  bucketOwnershipControls,
  bucketPolicy,
  bucketPublicAccessBlock,
  bucketVersioning,
  canonicalRule,
  denyInsecureTransportPolicy,
  lifecycleRules,
} from "../../src/resources/bucket-settings.js";
import { testContext } from "../helpers.js";

const s3 = mockClient(S3Client);
const BUCKET = "clinical-platform-dev-raw-123456789012";
const ARN = `arn:aws:s3:::${BUCKET}`;
const KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const s3Error = (name: string, status = 404) => new S3ServiceException({ name, message: name, $fault: "client", $metadata: { httpStatusCode: status } });
const recorded = <T>(attrs: T) => ({ logicalId: "data.bucket.raw.x", recorded: attrs });

beforeEach(() => s3.reset());

describe("every bucket setting", () => {
  const stubs: [string, () => void][] = [
    ["s3:bucket-encryption", () => s3.on(GetBucketEncryptionCommand).rejects(s3Error("NoSuchBucket"))],
    ["s3:bucket-public-access-block", () => s3.on(GetPublicAccessBlockCommand).rejects(s3Error("NoSuchBucket"))],
    ["s3:bucket-policy", () => s3.on(GetBucketPolicyCommand).rejects(s3Error("NoSuchBucket"))],
    ["s3:bucket-versioning", () => s3.on(GetBucketVersioningCommand).rejects(s3Error("NoSuchBucket"))],
    ["s3:bucket-lifecycle", () => s3.on(GetBucketLifecycleConfigurationCommand).rejects(s3Error("NoSuchBucket"))],
    ["s3:bucket-ownership-controls", () => s3.on(GetBucketOwnershipControlsCommand).rejects(s3Error("NoSuchBucket"))],
  ];

  it.each(stubs)("%s reads as absent with one call when the bucket is gone", async (type, stub) => {
    stub();
    const setting = BUCKET_SETTING_TYPES.find((t) => t.type === type)!;
    expect(await setting.find(testContext(), recorded({ bucket: BUCKET } as never))).toBeUndefined();
    expect(s3.calls()).toHaveLength(1);
  });

  it.each(BUCKET_SETTING_TYPES.map((t) => [t.type, t] as const))("%s looks nothing up without a recorded bucket, and its destroy sends nothing", async (_type, setting) => {
    expect(await setting.find(testContext(), { logicalId: "x" })).toBeUndefined();
    await setting.destroy(testContext({ flags: { deleteData: true } }), { bucket: BUCKET } as never);
    expect(s3.calls()).toHaveLength(0);
  });

  it.each(BUCKET_SETTING_TYPES.map((t) => [t.type, t] as const))("%s is replaced when its bucket changes", (_type, setting) => {
    const actual = { bucket: "old-bucket", rules: [] } as never;
    expect((setting.diff as (s: unknown, a: unknown) => { field: string; action: string }[])({ bucket: BUCKET, rules: [] }, actual)).toContainEqual(
      expect.objectContaining({ field: "bucket", action: "replace" }),
    );
  });
});

describe("s3:bucket-encryption", () => {
  const aes = { bucket: BUCKET, algorithm: "AES256" as const };
  const kms = { bucket: BUCKET, algorithm: "aws:kms" as const, kmsKeyArn: KEY, bucketKeyEnabled: true };

  it("reads the default rule", async () => {
    s3.on(GetBucketEncryptionCommand, { Bucket: BUCKET }).resolves({
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: KEY }, BucketKeyEnabled: true }] },
    });
    expect(await bucketEncryption.find(testContext(), recorded(kms))).toEqual(kms);
  });

  it("reads no configuration as absent (ServerSideEncryptionConfigurationNotFoundError)", async () => {
    s3.on(GetBucketEncryptionCommand).rejects(s3Error("ServerSideEncryptionConfigurationNotFoundError"));
    expect(await bucketEncryption.find(testContext(), recorded({ ...aes, bucketKeyEnabled: false }))).toBeUndefined();
  });

  it("puts SSE-S3 without a key or Bucket Key", async () => {
    s3.on(PutBucketEncryptionCommand).resolves({});
    s3.on(GetBucketEncryptionCommand).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" }, BucketKeyEnabled: false }] } });
    expect(await bucketEncryption.create(testContext(), aes, { logicalId: "x" })).toEqual({ ...aes, bucketKeyEnabled: false });
    expect(s3.commandCalls(PutBucketEncryptionCommand)[0]!.args[0].input).toEqual({
      Bucket: BUCKET,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
    });
  });

  it("puts SSE-KMS with the key and a Bucket Key", async () => {
    s3.on(PutBucketEncryptionCommand).resolves({});
    s3.on(GetBucketEncryptionCommand).resolves({
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: KEY }, BucketKeyEnabled: true }] },
    });
    await bucketEncryption.create(testContext(), kms, { logicalId: "x" });
    expect(s3).toHaveReceivedCommandWith(PutBucketEncryptionCommand, {
      Bucket: BUCKET,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: KEY }, BucketKeyEnabled: true }] },
    });
  });

  it("diffs the algorithm, and the key only under aws:kms", () => {
    expect(bucketEncryption.diff(aes, { ...aes, bucketKeyEnabled: false })).toEqual([]);
    expect(bucketEncryption.diff(aes, { bucket: BUCKET, algorithm: "aws:kms", kmsKeyArn: KEY, bucketKeyEnabled: true })).toEqual([
      { field: "algorithm", from: "aws:kms", to: "AES256", action: "update" },
    ]);
    expect(bucketEncryption.diff(kms, { ...kms, kmsKeyArn: KEY.replace("1234abcd", "9999abcd"), bucketKeyEnabled: false }).map((c) => c.field)).toEqual(["kmsKeyArn", "bucketKeyEnabled"]);
  });

  it("retries a Put that collides with another configuration change (OperationAborted)", async () => {
    s3.on(PutBucketEncryptionCommand).rejectsOnce(s3Error("OperationAborted", 409)).resolves({});
    s3.on(GetBucketEncryptionCommand).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] } });
    await bucketEncryption.update!(testContext(), aes, { ...kms }, []);
    expect(s3).toHaveReceivedCommandTimes(PutBucketEncryptionCommand, 2);
  });
});

describe("s3:bucket-public-access-block", () => {
  const all = { bucket: BUCKET, blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true };

  it("reads the four settings, and no configuration as absent", async () => {
    s3.on(GetPublicAccessBlockCommand)
      .resolvesOnce({ PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: true } })
      .rejects(s3Error("NoSuchPublicAccessBlockConfiguration"));
    const drifted = await bucketPublicAccessBlock.find(testContext(), recorded(all));
    expect(bucketPublicAccessBlock.diff(all, drifted!)).toEqual([{ field: "blockPublicPolicy", from: false, to: true, action: "update" }]);
    expect(await bucketPublicAccessBlock.find(testContext(), recorded(all))).toBeUndefined();
  });

  it("puts all four settings", async () => {
    s3.on(PutPublicAccessBlockCommand).resolves({});
    s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } });
    expect(await bucketPublicAccessBlock.create(testContext(), all, { logicalId: "x" })).toEqual(all);
    expect(s3).toHaveReceivedCommandWith(PutPublicAccessBlockCommand, {
      Bucket: BUCKET,
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
    });
  });
});

describe("s3:bucket-policy", () => {
  const policy = denyInsecureTransportPolicy(ARN);
  const spec = { bucket: BUCKET, policy };

  it("denies every request without TLS, on the bucket and its objects", () => {
    expect(policy).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [ARN, `${ARN}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });
  });

  it("compares parsed JSON: key order, list order and one-element lists do not count", async () => {
    const reordered = {
      Statement: { Condition: { Bool: { "aws:SecureTransport": "false" } }, Resource: [`${ARN}/*`, ARN], Action: ["s3:*"], Principal: "*", Effect: "Deny", Sid: "DenyInsecureTransport" },
      Version: "2012-10-17",
    };
    s3.on(GetBucketPolicyCommand, { Bucket: BUCKET }).resolves({ Policy: JSON.stringify(reordered) });
    const found = await bucketPolicy.find(testContext(), recorded(spec));
    expect(bucketPolicy.diff(spec, found!)).toEqual([]);
  });

  it("shows a changed policy as drift", () => {
    const weakened = { ...policy, Statement: [{ ...policy.Statement[0]!, Condition: { Bool: { "aws:SecureTransport": "true" } } }] };
    expect(bucketPolicy.diff(spec, { bucket: BUCKET, policy: weakened })).toEqual([{ field: "policy", from: weakened, to: policy, action: "update" }]);
  });

  it("reads no policy as absent (NoSuchBucketPolicy) and puts it as JSON text", async () => {
    s3.on(GetBucketPolicyCommand).rejectsOnce(s3Error("NoSuchBucketPolicy")).resolves({ Policy: JSON.stringify(policy) });
    s3.on(PutBucketPolicyCommand).resolves({});
    expect(await bucketPolicy.find(testContext(), recorded(spec))).toBeUndefined();
    expect(await bucketPolicy.create(testContext(), spec, { logicalId: "x" })).toEqual(spec);
    expect(s3).toHaveReceivedCommandWith(PutBucketPolicyCommand, { Bucket: BUCKET, Policy: JSON.stringify(policy) });
  });
});

describe("s3:bucket-versioning", () => {
  it.each([
    [{ Status: "Enabled" }, true],
    [{ Status: "Suspended" }, false],
    [{}, false],
  ] as const)("reads %j as enabled=%s", async (out, enabled) => {
    s3.on(GetBucketVersioningCommand).resolves(out);
    expect(await bucketVersioning.find(testContext(), recorded({ bucket: BUCKET, enabled: true }))).toEqual({ bucket: BUCKET, enabled });
  });

  it("enables versioning on create", async () => {
    s3.on(PutBucketVersioningCommand).resolves({});
    s3.on(GetBucketVersioningCommand).resolves({ Status: "Enabled" });
    expect(await bucketVersioning.create(testContext(), { bucket: BUCKET, enabled: true }, { logicalId: "x" })).toEqual({ bucket: BUCKET, enabled: true });
    expect(s3).toHaveReceivedCommandWith(PutBucketVersioningCommand, { Bucket: BUCKET, VersioningConfiguration: { Status: "Enabled" } });
  });

  it("leaves a new unversioned bucket unversioned rather than marking it Suspended", async () => {
    s3.on(GetBucketVersioningCommand).resolves({});
    expect(await bucketVersioning.create(testContext(), { bucket: BUCKET, enabled: false }, { logicalId: "x" })).toEqual({ bucket: BUCKET, enabled: false });
    expect(s3).not.toHaveReceivedCommand(PutBucketVersioningCommand);
  });

  it("suspends versioning that someone turned on", async () => {
    s3.on(PutBucketVersioningCommand).resolves({});
    s3.on(GetBucketVersioningCommand).resolves({ Status: "Suspended" });
    const actual = { bucket: BUCKET, enabled: true };
    const spec = { bucket: BUCKET, enabled: false };
    expect(bucketVersioning.diff(spec, actual)).toEqual([{ field: "enabled", from: true, to: false, action: "update" }]);
    await bucketVersioning.update!(testContext(), spec, actual, bucketVersioning.diff(spec, actual));
    expect(s3).toHaveReceivedCommandWith(PutBucketVersioningCommand, { Bucket: BUCKET, VersioningConfiguration: { Status: "Suspended" } });
  });
});

describe("s3:bucket-lifecycle", () => {
  const rules = lifecycleRules({ transitionToIaDays: 30, transitionToGlacierDays: 90, expireNoncurrentDays: 365, abortMultipartDays: 7 });
  const spec = { bucket: BUCKET, rules };

  it("builds one whole-bucket rule from the config", () => {
    expect(rules).toEqual([
      {
        ID: "platform-managed",
        Status: "Enabled",
        Filter: { Prefix: "" },
        Transitions: [
          { Days: 30, StorageClass: "STANDARD_IA" },
          { Days: 90, StorageClass: "GLACIER" },
        ],
        NoncurrentVersionExpiration: { NoncurrentDays: 365 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      },
    ]);
    expect(lifecycleRules({ abortMultipartDays: 7 })).toEqual([{ ID: "platform-managed", Status: "Enabled", Filter: { Prefix: "" }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }]);
    expect(lifecycleRules({})).toEqual([]);
  });

  it.each([
    ["the filter as written", { Filter: { Prefix: "" } }],
    ["an empty filter", { Filter: {} }],
    ["the legacy top-level Prefix", { Prefix: "" }],
  ])("reads S3's answer with %s as no drift", async (_case, filter) => {
    const { Filter: _f, ...rest } = rules[0]!;
    s3.on(GetBucketLifecycleConfigurationCommand).resolves({
      Rules: [{ ...rest, ...filter, Transitions: [...rest.Transitions!].reverse() } as never],
      TransitionDefaultMinimumObjectSize: "all_storage_classes_128K",
    });
    const found = await bucketLifecycle.find(testContext(), recorded({ bucket: BUCKET, rules: [] }));
    expect(bucketLifecycle.diff(spec, found!)).toEqual([]);
  });

  it("reads no configuration as no rules (not absent), so a bucket with no rules wanted is in sync", async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(s3Error("NoSuchLifecycleConfiguration"));
    const found = await bucketLifecycle.find(testContext(), recorded({ bucket: BUCKET, rules: [] }));
    expect(found).toEqual({ bucket: BUCKET, rules: [] });
    expect(bucketLifecycle.diff({ bucket: BUCKET, rules: [] }, found!)).toEqual([]);
    expect(bucketLifecycle.diff(spec, found!)).toEqual([{ field: "rules", from: [], to: rules.map(canonicalRule), action: "update" }]);
  });

  it("shows a rule added outside platform as drift", async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).resolves({ Rules: [...(rules as never[]), { ID: "someone-elses", Status: "Enabled", Filter: { Prefix: "tmp/" }, Expiration: { Days: 1 } }] });
    const found = await bucketLifecycle.find(testContext(), recorded({ bucket: BUCKET, rules: [] }));
    expect(bucketLifecycle.diff(spec, found!).map((c) => c.field)).toEqual(["rules"]);
  });

  it("puts the rules, or deletes the configuration when none are wanted", async () => {
    s3.on(PutBucketLifecycleConfigurationCommand).resolves({});
    s3.on(DeleteBucketLifecycleCommand).resolves({});
    s3.on(GetBucketLifecycleConfigurationCommand).resolvesOnce({ Rules: rules as never[] }).rejects(s3Error("NoSuchLifecycleConfiguration"));
    expect(await bucketLifecycle.create(testContext(), spec, { logicalId: "x" })).toEqual({ bucket: BUCKET, rules: rules.map(canonicalRule) });
    expect(s3).toHaveReceivedCommandWith(PutBucketLifecycleConfigurationCommand, { Bucket: BUCKET, LifecycleConfiguration: { Rules: rules } });
    await bucketLifecycle.update!(testContext(), { bucket: BUCKET, rules: [] }, { bucket: BUCKET, rules: rules.map(canonicalRule) }, []);
    expect(s3).toHaveReceivedCommandWith(DeleteBucketLifecycleCommand, { Bucket: BUCKET });
  });
});

describe("s3:bucket-ownership-controls", () => {
  const spec = { bucket: BUCKET, objectOwnership: "BucketOwnerEnforced" as const };

  it("reads the rule, and no controls as absent (OwnershipControlsNotFoundError)", async () => {
    s3.on(GetBucketOwnershipControlsCommand).resolvesOnce({ OwnershipControls: { Rules: [{ ObjectOwnership: "ObjectWriter" }] } }).rejects(s3Error("OwnershipControlsNotFoundError"));
    const drifted = await bucketOwnershipControls.find(testContext(), recorded(spec));
    expect(bucketOwnershipControls.diff(spec, drifted!)).toEqual([{ field: "objectOwnership", from: "ObjectWriter", to: "BucketOwnerEnforced", action: "update" }]);
    expect(await bucketOwnershipControls.find(testContext(), recorded(spec))).toBeUndefined();
  });

  it("puts BucketOwnerEnforced", async () => {
    s3.on(PutBucketOwnershipControlsCommand).resolves({});
    s3.on(GetBucketOwnershipControlsCommand).resolves({ OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] } });
    expect(await bucketOwnershipControls.update!(testContext(), spec, { ...spec, objectOwnership: "ObjectWriter" }, [])).toEqual(spec);
    expect(s3).toHaveReceivedCommandWith(PutBucketOwnershipControlsCommand, { Bucket: BUCKET, OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] } });
  });

  it("retries while a just-created bucket is not yet visible (NoSuchBucket)", async () => {
    s3.on(PutBucketOwnershipControlsCommand).rejectsOnce(s3Error("NoSuchBucket")).resolves({});
    s3.on(GetBucketOwnershipControlsCommand).resolves({ OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] } });
    await bucketOwnershipControls.create(testContext(), spec, { logicalId: "x" });
    expect(s3).toHaveReceivedCommandTimes(PutBucketOwnershipControlsCommand, 2);
  });
});
