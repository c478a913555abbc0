import { readFileSync } from "node:fs";
import path from "node:path";
import { CreateLogGroupCommand, CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { memoryIo, runCli, tempProject, withoutGuardNotice } from "../cli-harness.js";
import { pushImage } from "../fakes/ecr.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { putObjectVersion } from "../fakes/s3-buckets.js";
import { TEST_WAITS, optOutOfKeysIn } from "../helpers.js";
import { expectGone } from "./convergence.js";

/**
 * Teardown safety: down deletes only what state records and the tags prove is this environment's, keeps the protections
 * of data, images and the database, asks before destroying prod, and its closing sweep says whether anything is left.
 */
let aws: FakeAws;
let cwd: string;
beforeEach(() => {
  aws = installFakeAws();
  cwd = tempProject();
  optOutOfKeysIn(cwd, "staging", "prod");
});
afterEach(() => aws.restore());

const UP = ["up", "--env", "dev", "--yes"];
const DOWN = ["down", "--env", "dev", "--yes"];
const state = (env = "dev") => JSON.parse(readFileSync(path.join(cwd, `state/${env}.json`), "utf8"));
const mentions = (name: string) => aws.cloud.mutatingCalls().filter((c) => JSON.stringify(c.input).includes(name));
const TRUST_ECS_TASKS = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }] });
const oursTags = (logicalId: string) => ({ Project: "clinical-platform", Environment: "dev", ManagedBy: "platform", "platform:logical-id": logicalId });

describe("down touches only what is provably this environment's", () => {
  it("leaves alone resources that merely share the name prefix, and lists (without deleting) what is tagged but not in state", async () => {
    expect((await runCli(cwd, UP)).code).toBe(0);
    // Look-alikes: the environment's naming, no tags of ours.
    await new S3Client({ region: "us-east-1" }).send(new CreateBucketCommand({ Bucket: "clinical-platform-dev-raw-123456789012-backup" }));
    await new IAMClient({ region: "us-east-1" }).send(new CreateRoleCommand({ RoleName: "clinical-platform-dev-api-task-old", AssumeRolePolicyDocument: TRUST_ECS_TASKS }));
    // Tagged as this environment's, but no run recorded it: down lists it and leaves it.
    const logs = new CloudWatchLogsClient({ region: "us-east-1" });
    await logs.send(new CreateLogGroupCommand({ logGroupName: "/ecs/clinical-platform-dev/extra", tags: oursTags("data.log-group.extra") }));
    aws.cloud.calls.length = 0;

    const down = await runCli(cwd, DOWN);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/Destroy complete: \d+ deleted\./);
    expect(down.stdout).toMatch(/Still there, tagged with clinical-platform\/dev \(down deletes only what its state records\):/);
    expect(down.stdout).toMatch(/arn:aws:logs:us-east-1:123456789012:log-group:\/ecs\/clinical-platform-dev\/extra\s+data\.log-group\.extra/);
    expect(down.stdout).not.toMatch(/-backup|api-task-old/);
    for (const name of ["clinical-platform-dev-raw-123456789012-backup", "clinical-platform-dev-api-task-old", "/ecs/clinical-platform-dev/extra"]) expect(mentions(name), name).toEqual([]);
    expect(aws.s3.buckets.has("clinical-platform-dev-raw-123456789012-backup")).toBe(true);
    expect(aws.iam.roles.has("clinical-platform-dev-api-task-old")).toBe(true);
  });

  it("refuses a recorded resource whose tags say it belongs to another environment, and deletes the rest", async () => {
    expect((await runCli(cwd, UP)).code).toBe(0);
    const raw = state().resources["data.bucket.raw"].physicalId as string;
    aws.s3.buckets.get(raw)!.tags = { ...oursTags("data.bucket.raw"), Environment: "staging" };
    aws.cloud.calls.length = 0;
    const down = await runCli(cwd, DOWN);
    expect(down.code).toBe(1);
    // Its settings (untagged) hang on a bucket whose tags say staging: refused before the bucket is even reached.
    expect(down.stdout.replace(/\s+/g, " ")).toMatch(new RegExp(`data\\.bucket\\.raw\\.encryption .*\\(${raw}\\) carries no tags and hangs on no resource whose tags prove it this environment's`));
    expect(mentions(raw).filter((c) => c.mutating && c.service === "s3").map((c) => c.command)).toEqual([]);
    expect(aws.s3.buckets.has(raw)).toBe(true);
    expect(mentions(raw).filter((c) => c.command === "DeleteBucket")).toEqual([]);
    expect(aws.ec2.vpcs.size).toBe(0);
  });

  it("--dry-run lists what would be deleted and what would be left, and changes nothing", async () => {
    expect((await runCli(cwd, UP)).code).toBe(0);
    await new CloudWatchLogsClient({ region: "us-east-1" }).send(new CreateLogGroupCommand({ logGroupName: "/ecs/clinical-platform-dev/extra", tags: oursTags("data.log-group.extra") }));
    aws.cloud.calls.length = 0;
    const dry = await runCli(cwd, ["down", "--env", "dev", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`down would delete ${Object.keys(state().resources).length} resources from dev:`));
    expect(dry.stdout).toMatch(/data\.database\.instance\s+rds:db-instance\s+\S+/);
    expect(dry.stdout).toMatch(/but not in state, so down would leave them:\n.*\n.*log-group:\/ecs\/clinical-platform-dev\/extra\s+data\.log-group\.extra/);
    expect(aws.cloud.mutatingCalls()).toEqual([]);
  });
});

describe("protections", () => {
  it("keeps buckets with data and repositories with images unless --delete-data, and takes a final database snapshot", async () => {
    expect((await runCli(cwd, UP)).code).toBe(0);
    const resources = state().resources;
    const raw = resources["data.bucket.raw"].physicalId as string;
    const repo = resources["data.ecr.api"].physicalId as string;
    putObjectVersion(aws.s3, raw, "patients/1.json", { body: "{}" });
    pushImage(aws.ecr, repo, "v1");

    const down = await runCli(cwd, DOWN);
    expect(down.code).toBe(1);
    const summary = down.stdout.replace(/\s*│\s*/g, " ").replace(/\s+/g, " ");
    expect(summary).toMatch(/data\.bucket\.raw .*holds 1 object.*--delete-data/);
    expect(summary).toMatch(/data\.ecr\.api .*RepositoryNotEmptyException.*--delete-data/);
    expect(aws.s3.buckets.has(raw)).toBe(true);
    expect(aws.s3.buckets.get(raw)!.objects.size).toBe(1);
    expect(aws.ecr.repositories.has(repo)).toBe(true);
    // The database went, with a final snapshot (no --skip-final-snapshot).
    expect(aws.cloud.callsTo("DeleteDBInstance")[0]!.input).toMatchObject({ FinalDBSnapshotIdentifier: expect.stringMatching(/^clinical-platform-dev-db-final-/) });
    expect(Object.keys(state().resources).sort()).toEqual(expect.arrayContaining(["data.bucket.raw", "data.ecr.api"]));

    const forced = await runCli(cwd, [...DOWN, "--delete-data"]);
    expect(forced.code, forced.stdout).toBe(0);
    await expectGone(aws, cwd);
    // The final snapshot keeps the instance's tags (it stays classified PHI) and is reported as kept, not left over.
    const [final] = [...aws.rds.snapshots.values()];
    expect(final!.Tags).toMatchObject({ DataClassification: "PHI", Environment: "dev" });
    expect(forced.stdout).toMatch(/Kept: 1 database snapshot\(s\), tagged like the environment/);
    expect(forced.stdout).toMatch(/Nothing tagged with clinical-platform\/dev remains/);
  });

  it("down --delete-data refuses, before deleting anything, while the audit bucket holds logs; audit.allowDeletingAuditLogs gives that up", async () => {
    expect((await runCli(cwd, UP)).code).toBe(0);
    const audit = state().resources["ops.audit.bucket"].physicalId as string;
    putObjectVersion(aws.s3, audit, "AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/08/log.json.gz", { body: "{}" });
    aws.cloud.calls.length = 0;
    const refused = await runCli(cwd, [...DOWN, "--delete-data"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^error: ops\\.audit\\.bucket \\(${audit}\\) holds 1 audit log file\\(s\\) inside their 2557-day retention; down --delete-data would delete them, so nothing was deleted\\. Run down without --delete-data .* or set audit\\.allowDeletingAuditLogs to true in config/dev\\.json`));
    expect(aws.cloud.mutatingCalls().filter((c) => !["PutObject"].includes(c.command))).toEqual([]);

    const plan = await runCli(cwd, ["plan", "--env", "dev", "--set", "audit.allowDeletingAuditLogs=true"]);
    expect(plan.stdout).toMatch(/finding: audit\.allowDeletingAuditLogs is true: down --delete-data may delete/);
    const allowed = await runCli(cwd, [...DOWN, "--delete-data", "--set", "audit.allowDeletingAuditLogs=true"]);
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(aws.s3.buckets.has(audit)).toBe(false);
  });

  it("a second down judges every ARN the tagging API still lists by reading it: INACTIVE ECS clusters and services are gone", async () => {
    expect((await runCli(cwd, UP)).code).toBe(0);
    aws.ecs.indexLagsDeletes = true;
    const first = await runCli(cwd, [...DOWN, "--delete-data"]);
    expect(first.code, first.stdout).toBe(0);
    // State no longer records the cluster and service; the tagging API still lists them, INACTIVE.
    const listed = [...aws.ecs.clusters.values(), ...aws.ecs.services.values()].filter((x) => x.status === "INACTIVE");
    expect(listed.length).toBeGreaterThanOrEqual(2);
    aws.cloud.calls.length = 0;
    const second = await runCli(cwd, DOWN);
    expect(second.stdout).not.toMatch(/Still there/);
    expect(second.stdout).toMatch(/Nothing tagged with clinical-platform\/dev remains\./);
    expect(second.code).toBe(0);
    expect(aws.cloud.callsTo("DescribeClusters").length).toBeGreaterThan(0);
    expect(aws.cloud.callsTo("DescribeServices").length).toBeGreaterThan(0);
    expect(aws.cloud.mutatingCalls()).toEqual([]);
  });

  it("prod: refuses --yes alone and a mistyped name; typing the name destroys it", async () => {
    const prod = ["--env", "prod", "--disable-deletion-protection"];
    expect((await runCli(cwd, ["up", "--env", "prod", "--yes"])).code).toBe(0);
    aws.cloud.calls.length = 0;
    const yesOnly = await runCli(cwd, ["down", ...prod, "--yes"]);
    expect(yesOnly.code).toBe(2);
    expect(yesOnly.stderr).toMatch(/prod is a protected environment: pass --yes --force-prod to destroy it without typing its name/);

    const typed = async (answer: string) => {
      const io = memoryIo();
      // A terminal: isTTY, and (like process.stdout) not ended when the prompt's output stream ends.
      for (const s of [io.stdin, io.stdout] as { isTTY?: boolean; _isStdio?: boolean }[]) Object.assign(s, { isTTY: true, _isStdio: true });
      const running = main(["down", ...prod], io, { cwd, waits: TEST_WAITS });
      setTimeout(() => (io.stdin as unknown as NodeJS.WritableStream).write(`${answer}\n`), 50);
      return { code: await running, stdout: io.out(), stderr: withoutGuardNotice(io.err()) };
    };
    const wrong = await typed("production");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: not confirmed: nothing was deleted\n$/);
    expect(aws.cloud.mutatingCalls()).toEqual([]);

    const right = await typed("prod");
    expect(right.stdout).toMatch(/This deletes \d+ resources of protected environment prod\. Type its name to/);
    expect(right.code, right.stdout + right.stderr).toBe(0);
    expect(Object.keys(state("prod").resources)).toEqual([]);
  });
});
