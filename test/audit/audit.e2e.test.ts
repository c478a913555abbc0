import { readFileSync } from "node:fs";
import path from "node:path";
import { AuthorizeSecurityGroupIngressCommand, EC2Client } from "@aws-sdk/client-ec2";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

/** `platform audit` end to end: up against the fake AWS, audit, drift one control by hand, audit again. */
const DEV = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../config/dev.json"), "utf8"));
const COMPLIANT_DEV = { ...DEV, $schema: undefined, tags: { ...DEV.tags, DataClassification: "Internal" } };
const CHECK_LINE = /^(PASS|FAIL|SKIP) {2}\d+\. .*$/gm;

let aws: FakeAws;
let cwd: string;
let state: Record<string, { physicalId: string; attributes: Record<string, any> }>;

beforeEach(async () => {
  aws = installFakeAws();
  cwd = tempProject({ dev: COMPLIANT_DEV });
  const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(up.code, up.stderr).toBe(0);
  state = JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8")).resources;
});
afterEach(() => aws.restore());

const statusOf = (stdout: string) => Object.fromEntries([...stdout.matchAll(CHECK_LINE)].map((m) => [m[0].replace(/^\S+ {2}\d+\. /, ""), m[1]]));

describe("platform audit", () => {
  it("passes a freshly deployed dev environment; deletion protection (prod only) is skipped", async () => {
    const r = await runCli(cwd, ["audit", "--env", "dev"]);
    expect(r.stderr).toBe("");
    expect(r.code, r.stdout).toBe(0);
    expect(statusOf(r.stdout)).toEqual({
      "S3 buckets encrypted at rest": "PASS",
      "S3 public access blocked [S3.8]": "PASS",
      "S3 bucket policies deny requests without TLS [S3.5]": "PASS",
      "Database storage encrypted": "PASS",
      "Database not publicly accessible": "PASS",
      "Database backups kept at least 7 days": "PASS",
      "Database deletion protection (production)": "SKIP",
      "Database requires TLS (rds.force_ssl)": "PASS",
      "No security group open to the internet except the load balancer's 80/443 [EC2.18]": "PASS",
      "VPC flow logs on": "PASS",
      "CloudTrail trail logging": "PASS",
      "Log groups have a retention period": "PASS",
      "Secrets encrypted with the configured key": "PASS",
      "Every resource tagged DataClassification": "PASS",
    });
    expect(r.stdout).toMatch(/Summary: All 13 checks that ran passed \(1 skipped\)\./);
  });

  it("fails and names the rule when a security group is opened to the internet", async () => {
    const dbGroup = state["network.security-group.db"]!.physicalId;
    await new EC2Client({ region: "us-east-1" }).send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: dbGroup, IpPermissions: [{ IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }),
    );
    const r = await runCli(cwd, ["audit", "--env", "dev"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}9\. No security group open to the internet except the load balancer's 80\/443 \[EC2\.18\]$/m);
    expect(r.stdout).toContain(`${dbGroup} `);
    expect(r.stdout).toMatch(/tcp 5432-5432 from 0\.0\.0\.0\/0/);
    expect(r.stdout).toMatch(/Summary: 1 of 14 checks failed/);
  });

  it("fails when a bucket's public access block is removed, naming the bucket and the fix", async () => {
    const raw = state["data.bucket.raw"]!.physicalId;
    delete (aws.s3.buckets.get(raw) as any).publicAccessBlock;
    const r = await runCli(cwd, ["audit", "--env", "dev"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}2\. S3 public access blocked \[S3\.8\]$/m);
    expect(r.stdout).toContain(`cause: bucket ${raw} does not block public access`);
    expect(r.stdout).toContain("fix: run 'platform up --env dev' to restore data.bucket.raw.public-access-block");
  });

  it("fails the tag check where resources lack DataClassification", async () => {
    const plain = tempProject({ dev: { ...DEV, $schema: undefined, tags: { CostCenter: "data-platform" } } });
    expect((await runCli(plain, ["up", "--env", "dev", "--yes"])).code).toBe(0);
    const r = await runCli(plain, ["audit", "--env", "dev", "--json"]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ name: "audit", environment: "dev", ok: false });
    const tags = doc.checks.find((c: { id: string }) => c.id === "tags-data-classification");
    expect(tags.status).toBe("failed");
    expect(tags.fix).toContain('add "DataClassification"');
    expect(doc.checks.find((c: { id: string }) => c.id === "s3-tls-only")).toMatchObject({ status: "passed", controls: ["S3.5"] });
  });

  it.each([
    ["the database keeps backups 1 day", (a: FakeAws) => (a.rds.instances.values().next().value!.BackupRetentionPeriod = 1), /^FAIL {2}6\. Database backups kept at least 7 days$/m, "keeps backups 1 days, fewer than 7"],
    ["the database is unencrypted", (a: FakeAws) => (a.rds.instances.values().next().value!.StorageEncrypted = false), /^FAIL {2}4\. Database storage encrypted$/m, "is not encrypted at rest"],
    ["the database is public", (a: FakeAws) => ((a.rds.instances.values().next().value as any).PubliclyAccessible = true), /^FAIL {2}5\. Database not publicly accessible$/m, "is publicly accessible"],
    ["a log group never expires", (a: FakeAws) => (a.logs.groups.values().next().value!.retentionInDays = undefined), /^FAIL {2}12\. Log groups have a retention period$/m, "has no retention period"],
    ["the VPC's flow log is deleted", (a: FakeAws) => a.ec2.flowLogs.clear(), /^FAIL {2}10\. VPC flow logs on$/m, "has no flow logs"],
  ])("fails when %s", async (_what, drift, line, cause) => {
    drift(aws);
    const r = await runCli(cwd, ["audit", "--env", "dev"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(line);
    expect(r.stdout).toContain(cause);
  });
});
