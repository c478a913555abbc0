import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AwsClients } from "../../src/aws/clients.js";
import { emptyState, type StateDocument } from "../../src/state/document.js";
import { LocalBackend } from "../../src/state/local.js";
import { newLockInfo } from "../../src/state/lock.js";
import { S3Backend } from "../../src/state/s3.js";
import { TLS_ONLY_SID } from "../../src/state/bootstrap.js";
import { runCli, tempProject } from "../cli-harness.js";
import { FakeCloud } from "../fakes/cloud.js";
import { newS3State, s3Model, type S3State } from "../fakes/s3.js";
import { registerS3BucketsFake } from "../fakes/s3-buckets.js";
import { addForeignBucket, currentVersion, objectText, registerS3ObjectsFake } from "../fakes/s3-objects.js";
import { stsModel } from "../fakes/sts.js";

const BUCKET = "acme-platform-state";
const KEY = "clinical-platform/dev.json";
const LOCK = `${KEY}.lock`;
const identity = { project: "clinical-platform", environment: "dev", region: "us-east-1", accountId: "123456789012" };
const S3_DEV = { project: "clinical-platform", region: "us-east-1", state: { backend: "s3", bucket: BUCKET } };
const LOCAL_DEV = { project: "clinical-platform", region: "us-east-1", state: { bucket: BUCKET } };

let cloud: FakeCloud;
let s3: S3State;
let cwd: string;

beforeEach(() => {
  registerS3ObjectsFake();
  registerS3BucketsFake();
  cloud = new FakeCloud();
  s3 = newS3State();
  cloud.install([stsModel(cloud), s3Model(cloud, s3)]);
});
afterEach(() => cloud.restore());

function makeBucket(name = BUCKET) {
  s3.buckets.set(name, { name, region: "us-east-1", createdAt: new Date(), tags: {}, versioning: "Enabled", objects: new Map(), multipartUploads: new Map() });
}

const backend = () => S3Backend.of(new AwsClients({ region: "us-east-1", maxAttempts: 1 }), { bucket: BUCKET, key: KEY, region: "us-east-1" });
const stored = (key = KEY): StateDocument | undefined => {
  const text = objectText(s3, BUCKET, key);
  return text === undefined ? undefined : JSON.parse(text);
};
const mutating = () => cloud.mutatingCalls().map((c) => `${c.command} ${c.input.Key ?? c.input.Bucket}`);

function sampleState(serial = 3): StateDocument {
  const stamp = "2025-01-01T00:00:00.000Z";
  const record = (type: string, physicalId: string, dependsOn: string[] = []) => ({ type, physicalId, attributes: { id: physicalId }, dependsOn, createdAt: stamp, updatedAt: stamp });
  return {
    ...emptyState(identity),
    serial,
    resources: { "network.vpc": record("ec2:vpc", "vpc-1"), "network.subnet.public-a": record("ec2:subnet", "subnet-1", ["network.vpc"]) },
    outputs: { vpcId: "vpc-1" },
  };
}

async function seedS3(doc = sampleState()): Promise<StateDocument> {
  const b = backend();
  await b.read();
  await b.write(doc);
  return doc;
}

describe("platform state bootstrap", () => {
  beforeEach(() => {
    cwd = tempProject({});
  });

  it("creates a versioned, encrypted, private, TLS-only bucket without an environment config", async () => {
    const run = await runCli(cwd, ["state", "bootstrap", "--bucket", BUCKET, "--region", "us-east-1"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(`created S3 bucket ${BUCKET} in us-east-1`);
    expect(run.stdout).toMatch(`"state": { "backend": "s3", "bucket": "${BUCKET}", "region": "us-east-1" }`);
    const create = cloud.callsTo("CreateBucket")[0]!.input;
    expect(create).toEqual({ Bucket: BUCKET, ObjectOwnership: "BucketOwnerEnforced" }); // us-east-1: no LocationConstraint
    const bucket = s3.buckets.get(BUCKET)!;
    expect(bucket.versioning).toBe("Enabled");
    expect(bucket.encryption).toEqual({ Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] });
    expect(bucket.publicAccessBlock).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    expect(bucket.ownershipControls).toEqual({ Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] });
    expect(JSON.parse(bucket.policy!).Statement).toEqual([
      {
        Sid: TLS_ONLY_SID,
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
    expect(cloud.callsTo("HeadBucket")).toHaveLength(1);
  });

  it("sends a LocationConstraint outside us-east-1, and is idempotent: a second run re-applies the settings and keeps other policy statements", async () => {
    const first = await runCli(cwd, ["state", "bootstrap", "--bucket", BUCKET, "--region", "eu-west-1"]);
    expect(first.code).toBe(0);
    expect(cloud.callsTo("CreateBucket")[0]!.input.CreateBucketConfiguration).toEqual({ LocationConstraint: "eu-west-1" });
    const bucket = s3.buckets.get(BUCKET)!;
    const extra = { Sid: "ReadForAuditors", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:role/audit" }, Action: "s3:GetObject", Resource: `arn:aws:s3:::${BUCKET}/*` };
    bucket.policy = JSON.stringify({ Version: "2012-10-17", Statement: [...JSON.parse(bucket.policy!).Statement, extra] });
    bucket.versioning = "Suspended"; // drift

    const second = await runCli(cwd, ["state", "bootstrap", "--bucket", BUCKET, "--region", "eu-west-1"]);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(`S3 bucket ${BUCKET} already exists and is yours`);
    expect(s3.buckets.get(BUCKET)!.versioning).toBe("Enabled");
    const statements = JSON.parse(s3.buckets.get(BUCKET)!.policy!).Statement;
    expect(statements.map((s: { Sid: string }) => s.Sid)).toEqual(["ReadForAuditors", TLS_ONLY_SID]);
  });

  it("fails clearly when the name belongs to another account", async () => {
    addForeignBucket(s3, BUCKET);
    const run = await runCli(cwd, ["state", "bootstrap", "--bucket", BUCKET, "--region", "us-east-1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: creating S3 bucket ${BUCKET}: BucketAlreadyExists: the name belongs to another AWS account (bucket names are global) (choose another name, e.g. ${BUCKET}-<account id>)\n`);
    expect(mutating()).toEqual([`CreateBucket ${BUCKET}`]);
  });

  it.each([
    [["--bucket", "Bad_Name", "--region", "us-east-1"], /--bucket Bad_Name: 3-63 lowercase letters/],
    [["--bucket", "xn--state", "--region", "us-east-1"], /must not start with "xn--"/],
    [["--region", "us-east-1"], /no bucket given: pass --bucket with a globally unique S3 bucket name\n/m],
    [["--bucket", BUCKET], /no region given: pass --region with the state bucket's region \(e.g. --region us-east-1\), or --env to use the environment's\n/m],
  ])("refuses bad input before any AWS call: %j", async (args, message) => {
    const run = await runCli(cwd, ["state", "bootstrap", ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(cloud.calls).toEqual([]);
  });

  it("takes the bucket and region from the environment's config with --env", async () => {
    cwd = tempProject({ dev: { ...S3_DEV, region: "eu-central-1" } });
    const run = await runCli(cwd, ["state", "bootstrap", "--env", "dev"]);
    expect(run.code).toBe(0);
    expect(s3.buckets.get(BUCKET)!.region).toBe("eu-central-1");
    expect(run.stdout).toMatch("platform state migrate --env dev --to s3");
  });
});

describe("platform state list | show | pull with S3 state", () => {
  beforeEach(() => {
    cwd = tempProject({ dev: S3_DEV });
    makeBucket();
  });

  it("lists, shows and pulls what the S3 state records, without writing anything", async () => {
    const doc = await seedS3();
    cloud.calls.length = 0;
    const list = await runCli(cwd, ["state", "list", "--env", "dev"]);
    expect(list).toEqual({ code: 0, stdout: "network.subnet.public-a\nnetwork.vpc\n", stderr: "" });

    const show = await runCli(cwd, ["state", "show", "network.subnet.public-a", "--env", "dev"]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^# network.subnet.public-a\ntype {8}ec2:subnet\nphysical id subnet-1\ndepends on  network.vpc\n/);

    const showJson = await runCli(cwd, ["state", "show", "network.vpc", "--env", "dev", "--json"]);
    expect(JSON.parse(showJson.stdout)).toEqual({ logicalId: "network.vpc", ...doc.resources["network.vpc"] });

    const pull = await runCli(cwd, ["state", "pull", "--env", "dev"]);
    expect(pull.code).toBe(0);
    expect(JSON.parse(pull.stdout)).toEqual(doc);
    expect(mutating()).toEqual([]);
  });

  it("says there is nothing yet, and refuses an unknown id", async () => {
    const list = await runCli(cwd, ["state", "list", "--env", "dev"]);
    expect(list).toEqual({ code: 0, stdout: "", stderr: `there is no state at s3://${BUCKET}/${KEY} yet.\n` });
    const pull = await runCli(cwd, ["state", "pull", "--env", "dev"]);
    expect(pull.code).toBe(2);
    expect(pull.stderr).toMatch(/there is no state at s3:\/\/.+ yet: run 'platform up --env dev' first/);
    await seedS3();
    const show = await runCli(cwd, ["state", "show", "network.nope", "--env", "dev"]);
    expect(show.code).toBe(2);
    expect(show.stderr).toBe(`error: state s3://${BUCKET}/${KEY} records no resource "network.nope"; see 'platform state list --env dev'\n`);
  });

  it("lets outputs read the S3 state too", async () => {
    await seedS3();
    const run = await runCli(cwd, ["outputs", "vpcId", "--env", "dev"]);
    expect(run).toEqual({ code: 0, stdout: "vpc-1\n", stderr: "" });
  });

  it("reports a missing state bucket with the command that creates it", async () => {
    s3.buckets.clear();
    const run = await runCli(cwd, ["state", "list", "--env", "dev"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: reading state s3:\/\/acme-platform-state\/clinical-platform\/dev.json: NoSuchBucket: .+platform state bootstrap --bucket acme-platform-state --region [a-z0-9-]+'/);
  });
});

describe("platform state push", () => {
  beforeEach(() => {
    cwd = tempProject({ dev: S3_DEV });
    makeBucket();
  });
  const writeFile = (doc: unknown) => {
    const file = path.join(cwd, "edited.json");
    writeFileSync(file, JSON.stringify(doc));
    return "edited.json";
  };

  it("replaces the state with a pulled and edited copy, under the lock, with a higher serial", async () => {
    const doc = await seedS3(sampleState(3));
    const edited = { ...doc, outputs: { vpcId: "vpc-2" } };
    const run = await runCli(cwd, ["state", "push", writeFile(edited), "--env", "dev"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(`Pushed edited.json to s3://${BUCKET}/${KEY} (serial 4, 2 resources).`);
    expect(stored()).toEqual({ ...edited, serial: 4 });
    expect(mutating()).toEqual([`PutObject ${KEY}`, `PutObject ${LOCK}`, `PutObject ${KEY}`, `DeleteObject ${LOCK}`]);
  });

  it.each([
    ["a lower serial", (doc: StateDocument) => ({ ...doc, serial: 2 }), /edited.json has serial 2, older than serial 3 at s3:\/\/.+: the state changed after it was pulled; pull again and redo the edit, or pass --force/],
    ["another lineage", (doc: StateDocument) => ({ ...doc, lineage: "other-lineage" }), /edited.json has lineage other-lineage, but s3:\/\/.+ has .+: it is another state of this environment; pass --force/],
  ])("refuses %s unless --force", async (_name, change, message) => {
    const doc = await seedS3(sampleState(3));
    const file = writeFile({ ...change(doc), outputs: { vpcId: "vpc-9" } });
    const refused = await runCli(cwd, ["state", "push", file, "--env", "dev"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(message);
    expect(stored()).toEqual(doc);
    expect(stored(LOCK)).toBeUndefined();

    const forced = await runCli(cwd, ["state", "push", file, "--env", "dev", "--force"]);
    expect(forced.code).toBe(0);
    expect(stored()).toMatchObject({ ...change(doc), outputs: { vpcId: "vpc-9" }, serial: 4 });
  });

  it("refuses a file of another environment, or no state file at all", async () => {
    await seedS3();
    const other = await runCli(cwd, ["state", "push", writeFile({ ...sampleState(9), environment: "prod" }), "--env", "dev", "--force"]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/edited.json: this state belongs to environment "prod", not "dev"/);
    const missing = await runCli(cwd, ["state", "push", "nope.json", "--env", "dev"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope.json: cannot read it \(ENOENT\)/);
  });
});

describe("platform state rm, locking and unlock", () => {
  beforeEach(() => {
    cwd = tempProject({ dev: S3_DEV });
    makeBucket();
  });

  it("forgets a resource under the lock without deleting it in AWS", async () => {
    const doc = await seedS3();
    cloud.calls.length = 0;
    const run = await runCli(cwd, ["state", "rm", "network.subnet.public-a", "--env", "dev"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Removed network.subnet.public-a from s3:\/\/.+\nThe AWS resources were not deleted/);
    expect(Object.keys(stored()!.resources)).toEqual(["network.vpc"]);
    expect(stored()!.serial).toBe(doc.serial + 1);
    expect(mutating()).toEqual([`PutObject ${LOCK}`, `PutObject ${KEY}`, `DeleteObject ${LOCK}`]);
    expect(cloud.callsTo("PutObject")[0]!.input).toMatchObject({ IfNoneMatch: "*" });
    expect(cloud.callsTo("PutObject")[1]!.input).toMatchObject({ IfMatch: expect.any(String) });
  });

  it("refuses an unknown id, removes nothing and releases the lock", async () => {
    const doc = await seedS3();
    const run = await runCli(cwd, ["state", "rm", "network.vpc", "network.nope", "--env", "dev"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/records no resource "network.nope"; nothing was removed/);
    expect(stored()).toEqual(doc);
    expect(stored(LOCK)).toBeUndefined();
  });

  it("shows what --dry-run would forget, without the lock or a write", async () => {
    const doc = await seedS3();
    cloud.calls.length = 0;
    const run = await runCli(cwd, ["state", "rm", "network.vpc", "--env", "dev", "--dry-run"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("would remove network.vpc (ec2:vpc vpc-1)\n");
    expect(mutating()).toEqual([]);
    expect(stored()).toEqual(doc);
  });

  it("two runs racing on one environment: one wins, the other names the holder, and the state stays intact", async () => {
    await seedS3();
    cloud.timings = { latencyMs: 3, provisioningMs: {} };
    const [a, b] = await Promise.all([
      runCli(cwd, ["state", "rm", "network.vpc", "--env", "dev"]),
      runCli(cwd, ["state", "rm", "network.subnet.public-a", "--env", "dev"]),
    ]);
    const [winner, loser] = a.code === 0 ? [a, b] : [b, a];
    expect(winner.code).toBe(0);
    expect(loser.code).toBe(1);
    expect(loser.stderr).toMatch(new RegExp(`^error: the state at s3://${BUCKET}/${KEY} is locked by .+ \\(pid ${process.pid}\\) running "state rm --env dev" since .+; wait for it to finish, or pass --lock-timeout 600 to wait up to 10 minutes for it \\(the lock is valid until .+ UTC \\(in 2 h 0 min\\)\\)\\n$`));
    expect(Object.keys(stored()!.resources)).toHaveLength(1);
    expect(stored()!.serial).toBe(4);
    expect(stored(LOCK)).toBeUndefined();
  });

  it("waits for the holder with --lock-timeout", async () => {
    await seedS3();
    const held = await backend().lock(newLockInfo("up --env dev"));
    setTimeout(() => void held.release(), 60);
    const run = await runCli(cwd, ["state", "rm", "network.vpc", "--env", "dev", "--lock-timeout", "5"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(Object.keys(stored()!.resources)).toEqual(["network.subnet.public-a"]);
  });

  it("a run that died holding the lock: reported as stale, unlock shows the holder and removes it, then work resumes", async () => {
    const doc = await seedS3();
    await backend().lock(newLockInfo("up --env dev", new Date(Date.now() - 3 * 3600 * 1000))); // never released

    const blocked = await runCli(cwd, ["state", "rm", "network.vpc", "--env", "dev"]);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(/running "up --env dev" since .+; the lock expired at .+ UTC \(1 h 0 min ago\) and looks stale: if that run is gone, run 'platform state unlock --env dev'/);
    expect(stored()).toEqual(doc);

    const noTty = await runCli(cwd, ["state", "unlock", "--env", "dev"]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toMatch(/pass --force once you are sure that run is gone/);
    expect(stored(LOCK)).toBeDefined();

    const unlock = await runCli(cwd, ["state", "unlock", "--env", "dev", "--force"]);
    expect(unlock.code).toBe(0);
    expect(unlock.stdout).toMatch(new RegExp(`^Locked by .+ \\(pid ${process.pid}\\) running "up --env dev" since .+ UTC \\(3 h 0 min ago\\); the lock expired at .+ UTC \\(1 h 0 min ago\\) and looks stale\\.\\nUnlocked s3://${BUCKET}/${KEY}\\.\\n$`));
    expect(cloud.callsTo("DeleteObject").at(-1)!.input).toMatchObject({ Key: LOCK, IfMatch: expect.any(String) });
    expect(stored(LOCK)).toBeUndefined();

    const again = await runCli(cwd, ["state", "unlock", "--env", "dev", "--force"]);
    expect(again.stdout).toBe(`s3://${BUCKET}/${KEY} is not locked.\n`);
    const resumed = await runCli(cwd, ["state", "rm", "network.vpc", "--env", "dev"]);
    expect(resumed.code).toBe(0);
  });

  it("unlock still works for the local backend", async () => {
    cwd = tempProject({ dev: { project: "clinical-platform", region: "us-east-1" } });
    const local = new LocalBackend(path.join(cwd, "state", "dev.json"), cwd);
    await local.lock(newLockInfo("up --env dev"));
    const run = await runCli(cwd, ["state", "unlock", "--env", "dev", "--force"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Unlocked state\/dev.json\./);
    expect(existsSync(path.join(cwd, "state", "dev.lock"))).toBe(false);
    expect(cloud.calls).toEqual([]);
  });
});

describe("platform state migrate", () => {
  const localFile = () => path.join(cwd, "state", "dev.json");

  it("moves a local state to S3 and back, comparing the copies before removing the originals", async () => {
    cwd = tempProject({ dev: LOCAL_DEV });
    makeBucket();
    const doc = sampleState(7);
    await new LocalBackend(localFile(), cwd).write(doc);

    const toS3 = await runCli(cwd, ["state", "migrate", "--env", "dev", "--to", "s3"]);
    expect(toS3.stderr).toBe("");
    expect(toS3.code).toBe(0);
    expect(toS3.stdout).toMatch(`Moved the state of dev from state/dev.json to s3://${BUCKET}/${KEY} (serial 7)`);
    expect(toS3.stdout).toMatch(/config\/dev.json still says state.backend "local": set it to "s3"/);
    expect(stored()).toEqual(doc);
    expect(existsSync(localFile())).toBe(false);
    expect(existsSync(path.join(cwd, "state", "dev.lock"))).toBe(false);
    expect(stored(LOCK)).toBeUndefined();
    expect(cloud.callsTo("PutObject").find((c) => c.input.Key === KEY)!.input).toMatchObject({ IfNoneMatch: "*" });
    expect(cloud.callsTo("GetObject").filter((c) => c.input.Key === KEY)).toHaveLength(2); // before and after the write

    writeFileSync(path.join(cwd, "config", "dev.json"), JSON.stringify(S3_DEV));
    const list = await runCli(cwd, ["state", "list", "--env", "dev"]);
    expect(list.stdout).toBe("network.subnet.public-a\nnetwork.vpc\n");

    const toLocal = await runCli(cwd, ["state", "migrate", "--env", "dev", "--to", "local"]);
    expect(toLocal.stderr).toBe("");
    expect(toLocal.code).toBe(0);
    expect(JSON.parse(readFileSync(localFile(), "utf8"))).toEqual(doc);
    expect(currentVersion(s3.buckets.get(BUCKET)!, KEY)).toBeUndefined();
    expect(s3.buckets.get(BUCKET)!.objects.get(KEY)!.some((v) => !v.isDeleteMarker)).toBe(true); // older versions kept
    expect(cloud.callsTo("DeleteObject").find((c) => c.input.Key === KEY)!.input).toMatchObject({ IfMatch: expect.any(String) });
  });

  it("refuses to overwrite a different state at the destination unless --force, leaving the source in place", async () => {
    cwd = tempProject({ dev: LOCAL_DEV });
    makeBucket();
    const doc = sampleState(7);
    await new LocalBackend(localFile(), cwd).write(doc);
    const other = await seedS3(sampleState(2));

    const refused = await runCli(cwd, ["state", "migrate", "--env", "dev", "--to", "s3"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`s3://${BUCKET}/${KEY} already holds a state \\(lineage ${other.lineage}, serial 2\\) that differs from state/dev.json .+; pass --force to overwrite it`));
    expect(stored()).toEqual(other);
    expect(existsSync(localFile())).toBe(true);
    expect(stored(LOCK)).toBeUndefined();
    expect(existsSync(path.join(cwd, "state", "dev.lock"))).toBe(false);

    const forced = await runCli(cwd, ["state", "migrate", "--env", "dev", "--to", "s3", "--force"]);
    expect(forced.code).toBe(0);
    expect(stored()).toEqual(doc);
    expect(existsSync(localFile())).toBe(false);
  });

  it("takes the source's lock: a run holding it blocks the migration", async () => {
    cwd = tempProject({ dev: LOCAL_DEV });
    makeBucket();
    await new LocalBackend(localFile(), cwd).write(sampleState());
    const held = await new LocalBackend(localFile(), cwd).lock(newLockInfo("up --env dev"));
    const run = await runCli(cwd, ["state", "migrate", "--env", "dev", "--to", "s3"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the state at state\/dev.json is locked by .+ running "up --env dev"/);
    expect(stored()).toBeUndefined();
    await held.release();
  });

  it("needs the bucket in the config to migrate to S3, and a valid --to", async () => {
    cwd = tempProject({ dev: { project: "clinical-platform", region: "us-east-1" } });
    const noBucket = await runCli(cwd, ["state", "migrate", "--env", "dev", "--to", "s3"]);
    expect(noBucket.code).toBe(2);
    expect(noBucket.stderr).toMatch(/the config names no state bucket/);
    const badTo = await runCli(cwd, ["state", "migrate", "--env", "dev", "--to", "gcs"]);
    expect(badTo.code).toBe(2);
    expect(badTo.stderr).toMatch(/argument 'gcs' is invalid. Allowed choices are s3, local/);
  });
});

describe("commands that open the environment use the S3 state and lock", () => {
  it("up is refused while another run holds the lock, before anything is touched", async () => {
    makeBucket();
    cwd = tempProject({ dev: S3_DEV });
    const held = await backend().lock(newLockInfo("down --env dev"));
    const run = await runCli(cwd, ["up", "--env", "dev", "--yes", "--lock-timeout", "0"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^error: the state at s3://${BUCKET}/${KEY} is locked by .+ running "down --env dev" since `));
    expect(mutating()).toEqual([`PutObject ${LOCK}`, `PutObject ${LOCK}`]); // ours, then the refused attempt
    expect(stored(LOCK)!).toMatchObject({ id: held.info.id });
    await held.release();
  });

  it("down reads, writes and releases the S3 state: every write conditional on the last ETag", async () => {
    cloud.restore();
    const { installFakeAws } = await import("../fakes/index.js");
    const { EC2Client, CreateVpcCommand } = await import("@aws-sdk/client-ec2");
    const aws = installFakeAws();
    try {
      s3 = aws.s3;
      cloud = aws.cloud;
      makeBucket();
      cwd = tempProject({ dev: S3_DEV });
      const tags = { Project: "clinical-platform", Environment: "dev", ManagedBy: "platform", "platform:logical-id": "network.vpc" };
      const out = await new EC2Client({ region: "us-east-1" }).send(
        new CreateVpcCommand({ CidrBlock: "10.0.0.0/16", TagSpecifications: [{ ResourceType: "vpc", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] }),
      );
      const vpcId = out.Vpc!.VpcId!;
      const stamp = "2025-01-01T00:00:00.000Z";
      const attributes = { vpcId, cidrBlock: "10.0.0.0/16", enableDnsSupport: true, enableDnsHostnames: true, tags };
      const seeded = await seedS3({ ...emptyState(identity), serial: 1, resources: { "network.vpc": { type: "ec2:vpc", physicalId: vpcId, attributes, dependsOn: [], createdAt: stamp, updatedAt: stamp } } });
      cloud.calls.length = 0;

      const down = await runCli(cwd, ["down", "--env", "dev", "--yes"]);
      expect(down.stderr).toBe("");
      expect(down.code).toBe(0);
      expect(aws.ec2.vpcs.has(vpcId)).toBe(false);
      const doc = stored()!;
      expect(doc).toMatchObject({ lineage: seeded.lineage, resources: {}, outputs: {} });
      const writes = cloud.callsTo("PutObject").filter((c) => c.input.Key === KEY).map((c) => c.input);
      expect(writes).toHaveLength(doc.serial - 1);
      expect(writes.every((w) => typeof w.IfMatch === "string" && w.IfNoneMatch === undefined)).toBe(true);
      expect(stored(LOCK)).toBeUndefined();
      expect(existsSync(path.join(cwd, "state"))).toBe(false);
    } finally {
      aws.restore();
    }
  });
});
