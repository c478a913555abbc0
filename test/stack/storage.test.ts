import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { bucketNameProblem, type Config } from "../../src/config/schema.js";
import { UserError } from "../../src/errors.js";
import { registry } from "../../src/resources/index.js";
import { StackBuilder, type StackFacts } from "../../src/stack/builder.js";
import { buildStack } from "../../src/stack/index.js";
import { Ref, type Stack, type StackNode } from "../../src/stack/model.js";
import { addStorage, bucketName, storageIds } from "../../src/stack/storage.js";
import { runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { putObjectVersion } from "../fakes/s3-buckets.js";
import { pushImage } from "../fakes/ecr.js";

const facts: StackFacts = { accountId: "123456789012", region: "us-east-1", availabilityZones: ["us-east-1a", "us-east-1b"] };
const KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const BUCKETS = ["raw", "silver", "gold", "lineage", "artifacts"] as const;

function configFrom(env: string, body: Record<string, unknown>): Config {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-storage-"));
  mkdirSync(path.join(dir, "config"));
  writeFileSync(path.join(dir, "config", `${env}.json`), JSON.stringify(body));
  return loadConfig({ env, cwd: dir }).config;
}

function storageStack(config: Config, f: StackFacts = facts): Stack {
  const b = new StackBuilder(config, f);
  addStorage(b, config);
  return b.build();
}

const node = (stack: Stack, id: string) => stack.nodes.find((n) => n.logicalId === id) as StackNode<any> | undefined;
const refOf = (v: unknown) => (v instanceof Ref ? `${v.logicalId}.${v.attribute}` : v);

describe("storage nodes", () => {
  const config = configFrom("dev", { project: "clinical-platform" });
  const stack = storageStack(config);

  it("adds each bucket with its six settings, each repository with its lifecycle policy, and two log groups", () => {
    expect(stack.nodes.map((n) => n.logicalId)).toEqual([
      ...BUCKETS.flatMap((k) => [
        `data.bucket.${k}`,
        ...["encryption", "public-access-block", "policy", "versioning", "lifecycle", "ownership-controls"].map((s) => `data.bucket.${k}.${s}`),
      ]),
      ...["api", "dbt-runner", "worker"].flatMap((r) => [`data.ecr.${r}`, `data.ecr.${r}.lifecycle`]),
      "data.log-group.ecs",
      "data.log-group.ecs-exec",
      "data.log-group.rds",
    ]);
    for (const n of stack.nodes) expect(registry.get(n.type.type), n.type.type).toBe(n.type);
  });

  it("hangs every setting on its bucket's name", () => {
    for (const k of BUCKETS) {
      for (const n of stack.nodes.filter((x) => x.logicalId.startsWith(`data.bucket.${k}.`))) {
        expect(refOf((n.spec as { bucket: unknown }).bucket), n.logicalId).toBe(`data.bucket.${k}.name`);
      }
    }
    expect(refOf(node(stack, "data.ecr.api.lifecycle")!.spec.repository)).toBe("data.ecr.api.name");
  });

  it("secures every bucket: AES-256, all four public access blocks, TLS only, bucket owner enforced", () => {
    const name = "clinical-platform-dev-raw-123456789012";
    expect(node(stack, "data.bucket.raw.encryption")!.spec).toMatchObject({ algorithm: "AES256" });
    expect(node(stack, "data.bucket.raw.public-access-block")!.spec).toMatchObject({ blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true });
    expect(node(stack, "data.bucket.raw.policy")!.spec.policy.Statement[0]).toMatchObject({
      Effect: "Deny",
      Resource: [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
    expect(node(stack, "data.bucket.raw.ownership-controls")!.spec).toMatchObject({ objectOwnership: "BucketOwnerEnforced" });
  });

  it("versions the PHI buckets (raw, silver, gold) by default, and aborts incomplete uploads after 7 days everywhere", () => {
    expect(BUCKETS.map((k) => node(stack, `data.bucket.${k}.versioning`)!.spec.enabled)).toEqual([true, true, true, false, false]);
    expect((stack.notes ?? []).join("\n")).not.toMatch(/allowUnversioned/);
    for (const k of BUCKETS) {
      expect(node(stack, `data.bucket.${k}.lifecycle`)!.spec.rules).toEqual([{ ID: "platform-managed", Status: "Enabled", Filter: { Prefix: "" }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }]);
    }
  });

  it("tags raw, silver and gold DataClassification=PHI, the others Internal, with the standard tags", () => {
    for (const k of BUCKETS) {
      expect(node(stack, `data.bucket.${k}`)!.spec.tags).toEqual({
        Project: "clinical-platform",
        Environment: "dev",
        ManagedBy: "platform",
        "platform:logical-id": `data.bucket.${k}`,
        DataClassification: ["raw", "silver", "gold"].includes(k) ? "PHI" : "Internal",
      });
    }
  });

  it("names repositories <project>-<env>/<name>, scans on push, keeps the last 20 images", () => {
    expect(["api", "dbt-runner", "worker"].map((r) => node(stack, `data.ecr.${r}`)!.spec.name)).toEqual([
      "clinical-platform-dev/api",
      "clinical-platform-dev/dbt-runner",
      "clinical-platform-dev/worker",
    ]);
    expect(node(stack, "data.ecr.api")!.spec).toMatchObject({ scanOnPush: true, imageTagMutability: "MUTABLE", encryption: { type: "AES256" } });
    expect(node(stack, "data.ecr.api.lifecycle")!.spec.policy.rules[0].selection.countNumber).toBe(20);
  });

  it("creates the ECS and RDS log groups with the configured retention", () => {
    expect(node(stack, storageIds.ecsLogGroup)!.spec).toMatchObject({ name: "/ecs/clinical-platform-dev", retentionDays: 7 });
    expect(node(stack, storageIds.rdsLogGroup)!.spec).toMatchObject({ name: "/aws/rds/instance/clinical-platform-dev-db/postgresql", retentionDays: 7 });
  });

  it("outputs bucket names, repository URIs and the ECS log group", () => {
    expect(Object.fromEntries(Object.entries(stack.outputs).map(([k, r]) => [k, refOf(r)]))).toEqual({
      bucket_raw: "data.bucket.raw.name",
      bucket_silver: "data.bucket.silver.name",
      bucket_gold: "data.bucket.gold.name",
      bucket_lineage: "data.bucket.lineage.name",
      bucket_artifacts: "data.bucket.artifacts.name",
      ecr_repository_api_url: "data.ecr.api.uri",
      ecr_repository_dbt_runner_url: "data.ecr.dbt-runner.uri",
      ecr_repository_worker_url: "data.ecr.worker.uri",
      ecs_log_group: "data.log-group.ecs.name",
    });
  });

  it("is part of the whole stack", () => {
    const whole = buildStack(config, facts);
    expect(whole.nodes.filter((n) => n.logicalId.startsWith("data.bucket.") || n.logicalId.startsWith("data.ecr."))).toHaveLength(41);
  });
});

describe("bucket names", () => {
  it.each([
    ["the shipped configs", ["dev", "staging", "prod"].map((env) => loadConfig({ env, cwd: path.resolve(import.meta.dirname, "../..") }).config)],
    ["the longest <project>-<env> allowed (25 characters)", [configFrom("production", { project: "abcdefghijklmn" })]],
  ])("are <project>-<env>-<bucket>-<account>, lowercase, ≤ 63 characters and valid for S3, for %s", (_case, configs) => {
    for (const config of configs) {
      for (const k of BUCKETS) {
        const name = bucketName(config, facts.accountId, k);
        expect(name).toBe(`${config.project}-${config.environment}-${k}-123456789012`);
        expect(name.length).toBeLessThanOrEqual(63);
        expect(name).toBe(name.toLowerCase());
        expect(bucketNameProblem(name)).toBeUndefined();
      }
    }
  });

  it("takes a name from the config", () => {
    const config = configFrom("dev", { buckets: { raw: { name: "acme-phi-raw-landing" } } });
    const stack = storageStack(config);
    expect(node(stack, "data.bucket.raw")!.spec.name).toBe("acme-phi-raw-landing");
    expect(node(stack, "data.bucket.raw.policy")!.spec.policy.Statement[0].Resource).toEqual(["arn:aws:s3:::acme-phi-raw-landing", "arn:aws:s3:::acme-phi-raw-landing/*"]);
  });

  it("uses the region's partition in bucket ARNs", () => {
    const stack = storageStack(configFrom("dev", { region: "cn-north-1" }), { ...facts, region: "cn-north-1" });
    expect(node(stack, "data.bucket.gold.policy")!.spec.policy.Statement[0].Resource[0]).toBe("arn:aws-cn:s3:::clinical-platform-dev-gold-123456789012");
  });

  it.each([
    [{ buckets: { raw: { name: "Has_Upper" } } }, /buckets.raw.name: 3-63 lowercase letters/],
    [{ buckets: { raw: { name: "same-name" }, gold: { name: "same-name" } } }, /buckets.gold.name: same-name is already the name of buckets.raw/],
    [{ buckets: { raw: { name: "xn--punycode" } } }, /buckets.raw.name: must not start with "xn--"/],
    [{ buckets: { silver: { lifecycle: { transitionToIaDays: 10 } } } }, /buckets.silver.lifecycle.transitionToIaDays: Too small/],
    [{ buckets: { gold: { lifecycle: { transitionToIaDays: 30, transitionToGlacierDays: 45 } } } }, /transitionToGlacierDays must be at least 30 days after transitionToIaDays/],
    [{ buckets: { encryption: { kmsKeyArn: "alias/data" } } }, /buckets.encryption.kmsKeyArn: a KMS key ARN/],
    [{ buckets: { bronze: {} } }, /buckets: unknown key "bronze"/],
    [{ ecr: { imageTagMutability: "SOMETIMES" } }, /ecr.imageTagMutability/],
    [{ ecr: { keepLastImages: 0 } }, /ecr.keepLastImages: Too small/],
  ])("rejects %j", (body, message) => {
    expect(() => configFrom("dev", body)).toThrow(UserError);
    expect(() => configFrom("dev", body)).toThrow(message);
  });
});

describe("storage from config", () => {
  it("applies versioning, lifecycle, KMS and ECR settings", () => {
    const config = configFrom("dev", {
      buckets: {
        encryption: { kmsKeyArn: KEY },
        silver: { versioning: true, lifecycle: { transitionToIaDays: 30, transitionToGlacierDays: 60, expireNoncurrentDays: 90, abortMultipartDays: 3 } },
        raw: { versioning: false, allowUnversioned: true },
      },
      ecr: { imageTagMutability: "IMMUTABLE", keepLastImages: 5, scanOnPush: false, kmsKeyArn: KEY },
      logs: { retentionDays: 30 },
    });
    const stack = storageStack(config);
    expect(node(stack, "data.bucket.silver.versioning")!.spec.enabled).toBe(true);
    expect(node(stack, "data.bucket.raw.versioning")!.spec.enabled).toBe(false);
    // the opt-out is a finding the plan reports
    expect((stack.notes ?? []).join("\n")).toMatch(/finding: buckets\.raw\.allowUnversioned is true: \S+ holds PHI without versioning/);
    expect(node(stack, "data.bucket.silver.lifecycle")!.spec.rules[0]).toEqual({
      ID: "platform-managed",
      Status: "Enabled",
      Filter: { Prefix: "" },
      Transitions: [
        { Days: 30, StorageClass: "STANDARD_IA" },
        { Days: 60, StorageClass: "GLACIER" },
      ],
      NoncurrentVersionExpiration: { NoncurrentDays: 90 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 },
    });
    expect(node(stack, "data.bucket.lineage.encryption")!.spec).toMatchObject({ algorithm: "aws:kms", kmsKeyArn: KEY, bucketKeyEnabled: true });
    expect(node(stack, "data.ecr.worker")!.spec).toMatchObject({ imageTagMutability: "IMMUTABLE", scanOnPush: false, encryption: { type: "KMS", kmsKeyArn: KEY } });
    expect(node(stack, "data.ecr.worker.lifecycle")!.spec.policy.rules[0].selection.countNumber).toBe(5);
    expect(node(stack, storageIds.rdsLogGroup)!.spec.retentionDays).toBe(30);
  });
});

describe("teardown of data against the fake AWS", () => {
  let aws: FakeAws;
  let cwd: string;
  const DEV = { project: "clinical-platform", region: "us-east-1", network: { natGateway: false }, logs: { retentionDays: 7 } };
  const RAW = "clinical-platform-dev-raw-123456789012";
  const API = "clinical-platform-dev/api";

  beforeEach(() => {
    aws = installFakeAws();
    cwd = tempProject({ dev: DEV });
  });
  afterEach(() => aws.restore());

  it("status shows drift in every bucket setting, repository and log group, and up corrects it", async () => {
    expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
    const raw = aws.s3.buckets.get(RAW)!;
    delete raw.publicAccessBlock;
    raw.versioning = "Suspended";
    raw.policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "s3:GetObject", Resource: `arn:aws:s3:::${RAW}/*` }] });
    raw.tags = { ...raw.tags, DataClassification: "Public" };
    delete raw.lifecycle;
    raw.encryption = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: KEY }, BucketKeyEnabled: true }] };
    raw.ownershipControls = { Rules: [{ ObjectOwnership: "ObjectWriter" }] };
    aws.ecr.repositories.get(API)!.imageScanningConfiguration.scanOnPush = false;
    aws.ecr.repositories.get(API)!.lifecyclePolicyText = JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 500 }, action: { type: "expire" } }] });
    aws.logs.groups.get("/ecs/clinical-platform-dev")!.retentionInDays = 3653;

    const status = await runCli(cwd, ["status", "--env", "dev", "--json"]);
    const byId = Object.fromEntries((JSON.parse(status.stdout).resources as { logicalId: string; status: string; changes: { field: string }[] }[]).map((r) => [r.logicalId, r]));
    const drifted = Object.entries(byId).filter(([, r]) => r.status !== "in-sync").map(([id, r]) => [id, r.status, r.changes.map((c) => c.field).join(",")]);
    expect(drifted).toEqual([
      ["data.bucket.raw", "drifted", "tags"],
      ["data.bucket.raw.encryption", "drifted", "algorithm"],
      ["data.bucket.raw.public-access-block", "missing", ""],
      ["data.bucket.raw.policy", "drifted", "policy"],
      ["data.bucket.raw.versioning", "drifted", "enabled"],
      ["data.bucket.raw.lifecycle", "drifted", "rules"],
      ["data.bucket.raw.ownership-controls", "drifted", "objectOwnership"],
      ["data.ecr.api", "drifted", "scanOnPush"],
      ["data.ecr.api.lifecycle", "drifted", "policy"],
      ["data.log-group.ecs", "drifted", "retentionDays"],
    ]);

    aws.cloud.calls.length = 0;
    expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
    expect(aws.cloud.mutatingCalls().map((c) => c.command).sort()).toEqual(
      [
        "PutBucketTagging",
        "PutBucketEncryption",
        "PutPublicAccessBlock",
        "PutBucketPolicy",
        "PutBucketVersioning",
        "PutBucketLifecycleConfiguration",
        "PutBucketOwnershipControls",
        "PutImageScanningConfiguration",
        "PutLifecyclePolicy",
        "PutRetentionPolicy",
      ].sort(),
    );
    const after = JSON.parse((await runCli(cwd, ["status", "--env", "dev", "--json"])).stdout).resources as { status: string }[];
    expect(new Set(after.map((r) => r.status))).toEqual(new Set(["in-sync"]));
  });

  it("down keeps a bucket and a repository that hold data; down --delete-data removes them", async () => {
    const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(up.code).toBe(0);
    const outputs = JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8")).outputs;
    expect(outputs).toMatchObject({ bucket_raw: RAW, ecr_repository_api_url: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${API}`, ecs_log_group: "/ecs/clinical-platform-dev" });
    expect(aws.s3.buckets.get(RAW)!.tags.DataClassification).toBe("PHI");
    expect(aws.logs.groups.get("/ecs/clinical-platform-dev")!.retentionInDays).toBe(7);
    putObjectVersion(aws.s3, RAW, "patients/2024.parquet");
    putObjectVersion(aws.s3, RAW, "patients/2024.parquet");
    pushImage(aws.ecr, API, "v1");

    aws.cloud.calls.length = 0;
    const down = await runCli(cwd, ["down", "--env", "dev", "--yes"]);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain(`data.bucket.raw: S3 bucket ${RAW} holds 2 object versions or delete markers; nothing was deleted. Run 'platform down --delete-data'`);
    expect(down.stdout).toContain(`data.ecr.api: ECR repository ${API} holds 1 image (RepositoryNotEmptyException); nothing was deleted. Run 'platform down --delete-data'`);
    expect(aws.cloud.callsTo("DeleteObjects")).toEqual([]);
    expect(aws.cloud.callsTo("DeleteBucket").map((c) => c.input.Bucket)).not.toContain(RAW);
    expect(aws.s3.buckets.get(RAW)!.objects.get("patients/2024.parquet")).toHaveLength(2);
    expect(aws.s3.buckets.get(RAW)!.publicAccessBlock).toMatchObject({ BlockPublicAcls: true, RestrictPublicBuckets: true });
    expect(aws.s3.buckets.get(RAW)!.policy).toContain("aws:SecureTransport");
    expect(aws.ecr.repositories.get(API)!.images).toHaveLength(1);
    expect(aws.s3.buckets.has("clinical-platform-dev-silver-123456789012")).toBe(false);

    const forced = await runCli(cwd, ["down", "--env", "dev", "--yes", "--delete-data"]);
    expect(forced.code).toBe(0);
    expect(aws.s3.buckets.size).toBe(0);
    expect(aws.ecr.repositories.size).toBe(0);
    expect(aws.cloud.callsTo("DeleteRepository").at(-1)!.input).toEqual({ repositoryName: API, force: true });
  });
});
