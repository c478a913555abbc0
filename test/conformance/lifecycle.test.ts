/**
 * The dev stack's whole life cycle, every option on (NAT, monitoring, blue-green, alarms, budget, CloudTrail, BI role,
 * GitHub OIDC), driven through the real CLI (a child process) against moto over TLS, with a recording proxy in between
 * that counts calls per action. The steps build on each other and run in order.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { DeleteRolePolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import { EC2Client, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { DeletePublicAccessBlockCommand, S3Client } from "@aws-sdk/client-s3";
import { DeleteDBSnapshotCommand, RDSClient } from "@aws-sdk/client-rds";
import { describe, expect, it } from "vitest";
import { show, useMoto } from "./env.js";
import { recordMeasurement } from "./record.js";
import { directClientConfig, fullConfig, liveTaggedArns, project, putImage } from "./stack.js";

const c = useMoto();
const cwd = project({ dev: fullConfig("dev") });
const mutating = (from: number) => c.proxy.calls.slice(from).filter((call) => call.mutating).map((call) => `${call.service}:${call.action}`);
const state = (env = "dev") => JSON.parse(readFileSync(path.join(cwd, "state", `${env}.json`), "utf8")) as { resources: Record<string, { physicalId: string; attributes: Record<string, unknown> }> };
const direct = () => directClientConfig(c.tls, c.moto.port);

describe("life cycle against moto", { timeout: 600_000 }, () => {
  it("plan --detailed-exitcode on nothing exits 2", async () => {
    const r = await c.cli(cwd, ["plan", "--env", "dev", "--detailed-exitcode"]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stdout).toMatch(/Plan: \d+ to create, 0 to update/);
    expect(mutating(0)).toEqual([]);
  });

  it("up creates everything", async () => {
    const r = await c.cli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/Apply complete: \d+ created/);
  });

  it("plan --detailed-exitcode after up exits 0, and a second up makes no mutating call", async () => {
    const plan = await c.cli(cwd, ["plan", "--env", "dev", "--detailed-exitcode"]);
    expect(plan.code, show(plan)).toBe(0);
    const from = c.proxy.calls.length;
    const up = await c.cli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(up.code, show(up)).toBe(0);
    expect(mutating(from)).toEqual([]);
    recordMeasurement("noOpUpCalls", c.proxy.calls.length - from);
  });

  it("status shows every resource in sync, reading only", async () => {
    const from = c.proxy.calls.length;
    const r = await c.cli(cwd, ["status", "--env", "dev"]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).not.toMatch(/drift|missing|out of sync/i);
    expect(mutating(from)).toEqual([]);
    recordMeasurement("statusCalls", c.proxy.calls.length - from);
  });

  it("outputs --json", async () => {
    const r = await c.cli(cwd, ["outputs", "--env", "dev", "--json"]);
    expect(r.code, show(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      github_actions_role_arn: "arn:aws:iam::123456789012:role/clinical-platform-dev-github-actions",
      audit_bucket: "clinical-platform-dev-audit-123456789012",
    });
  });

  it("up updates in place: a new tag on every resource, the budget's amount and subscribers, the alarm emails", async () => {
    const sets = ["--set", "tags.Team=conformance", "--set", "budget.monthlyUsd=30", "--set", 'budget.emails=["finance@example.org","cfo@example.org"]', "--set", 'alarms.email=["oncall@example.org","pager@example.org"]'];
    const r = await c.cli(cwd, ["up", "--env", "dev", "--yes", ...sets]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/Apply complete: \d+ created, [1-9]\d* updated, 0 replaced, 0 deleted/);
    const plan = await c.cli(cwd, ["plan", "--env", "dev", "--detailed-exitcode", ...sets]);
    expect(plan.code, show(plan)).toBe(0);
    // The repair run below goes back to the config as written: the tag comes off again (the untag calls).
  });

  it("bootstrap-secrets keeps existing values; --rotate replaces one and the database password", async () => {
    const r = await c.cli(cwd, ["bootstrap-secrets", "--env", "dev", "--yes"]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/database-credentials\s+\S+\s+\S+\s+kept/);
    const rotated = await c.cli(cwd, ["bootstrap-secrets", "--env", "dev", "--yes", "--rotate", "database-credentials"]);
    expect(rotated.code, show(rotated)).toBe(0);
    expect(rotated.stdout).toMatch(/database-credentials\s+\S+\s+\S+\s+rotated/);
    expect(c.proxy.calls.some((call) => call.action === "ModifyDBInstance")).toBe(true);
  });

  it("deploy rolling, deploy blue-green, rollback", async () => {
    const v1 = await putImage(c.tls, c.moto.port, "clinical-platform-dev/api", "v1");
    const v2 = await putImage(c.tls, c.moto.port, "clinical-platform-dev/api", "v2");
    const rolling = await c.cli(cwd, ["deploy", "--env", "dev", "--service", "api", "--image", "v1", "--strategy", "rolling"]);
    expect(rolling.code, show(rolling)).toBe(0);
    expect(rolling.stdout).toContain(v1);
    const bg = await c.cli(cwd, ["deploy", "--env", "dev", "--service", "api", "--image", "v2", "--strategy", "blue-green", "--smoke-test", "true", "--bake-minutes", "0"]);
    expect(bg.code, show(bg)).toBe(0);
    expect(bg.stdout).toMatch(/api-green \(green\) serves production/);
    expect(bg.stdout).toContain(v2);
    const back = await c.cli(cwd, ["rollback", "--env", "dev", "--service", "api", "--smoke-test", "true", "--bake-minutes", "0"]);
    expect(back.code, show(back)).toBe(0);
    expect(back.stdout).toMatch(/api \(blue\) serves production: .*@sha256/);
    expect(back.stdout).toContain(v1);
  });

  // promote copies the image between repositories through ECR's layer API (BatchCheckLayerAvailability,
  // GetDownloadUrlForLayer, InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload), which moto 5.2.1 does not
  // implement (an HTML 500). Patching moto for it is the next step; until then this step is listed, not run.
  it.todo("promote ships the digest dev runs to staging (needs moto patches for the ECR layer API)");

  it("troubleshoot passes, then names the cause after a rule or a policy is removed behind the tool's back", async () => {
    for (const args of [["db-connectivity", "--probe", "none"], ["ecs-tasks"], ["secrets-access"]]) {
      const r = await c.cli(cwd, ["troubleshoot", ...args, "--env", "dev"]);
      expect(r.code, `${args.join(" ")}: ${show(r)}`).toBe(0);
    }
    const rule = state().resources["network.security-group-rule.db-api-in"]!.attributes as { groupId: string; securityGroupRuleId: string };
    await new EC2Client(direct()).send(new RevokeSecurityGroupIngressCommand({ GroupId: rule.groupId, SecurityGroupRuleIds: [rule.securityGroupRuleId] }));
    const db = await c.cli(cwd, ["troubleshoot", "db-connectivity", "--probe", "none", "--env", "dev"]);
    expect(db.code, show(db)).toBe(1);
    expect(db.stdout).toMatch(/FAIL\s+2\. Security groups admit PostgreSQL/);
    expect(db.stdout).toContain(rule.groupId);

    await new IAMClient(direct()).send(new DeleteRolePolicyCommand({ RoleName: "clinical-platform-dev-ecs-task-execution", PolicyName: "read-secrets" }));
    const secrets = await c.cli(cwd, ["troubleshoot", "secrets-access", "--env", "dev"]);
    expect(secrets.code, show(secrets)).toBe(1);
    expect(secrets.stdout).toMatch(/not allowed \(no policy grants it\)/);

    const repaired = await c.cli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(repaired.code, show(repaired)).toBe(0);
    const again = await c.cli(cwd, ["troubleshoot", "db-connectivity", "--probe", "none", "--env", "dev"]);
    expect(again.code, show(again)).toBe(0);
  });

  it("audit passes, then fails naming the bucket after its public access block is deleted", async () => {
    const ok = await c.cli(cwd, ["audit", "--env", "dev"]);
    expect(ok.code, show(ok)).toBe(0);
    const bucket = state().resources["data.bucket.raw.public-access-block"]!.physicalId;
    await new S3Client(direct()).send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    const bad = await c.cli(cwd, ["audit", "--env", "dev"]);
    expect(bad.code, show(bad)).toBe(1);
    expect(bad.stdout).toMatch(/FAIL\s+2\. S3 public access blocked/);
    expect(bad.stdout).toContain(bucket);
  });

  it("db snapshot, db snapshots, db restore", async () => {
    const snap = await c.cli(cwd, ["db", "snapshot", "--env", "dev", "--name", "conformance-1"]);
    expect(snap.code, show(snap)).toBe(0);
    const list = await c.cli(cwd, ["db", "snapshots", "--env", "dev"]);
    expect(list.code, show(list)).toBe(0);
    expect(list.stdout).toMatch(/conformance-1\s+manual\s+.*available/);
    const restore = await c.cli(cwd, ["db", "restore", "--env", "dev", "--snapshot", "conformance-1", "--yes"]);
    expect(restore.code, show(restore)).toBe(0);
    expect(state().resources["data.database.instance"]!.physicalId).not.toBe("clinical-platform-dev-db");
    // A manual snapshot is the user's backup: down leaves it and reports it as still there (exit 1). The user deletes it.
    await new RDSClient(direct()).send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: "conformance-1" }));
  });

  it("down --delete-data --skip-final-snapshot leaves nothing tagged; down again exits 0", async () => {
    const r = await c.cli(cwd, ["down", "--env", "dev", "--yes", "--delete-data", "--skip-final-snapshot", "--force-delete-secrets"]);
    expect(r.code, show(r)).toBe(0);
    expect(await liveTaggedArns(c.tls, c.moto.port, "dev")).toEqual([]);
    const again = await c.cli(cwd, ["down", "--env", "dev", "--yes"]);
    expect(again.code, show(again)).toBe(0);
  });
});
