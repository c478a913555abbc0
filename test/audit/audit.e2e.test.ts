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
const ACCOUNT = "123456789012";
const DB = "clinical-platform-dev-db";
const TRAIL = "clinical-platform-dev-audit";
const RAW = `clinical-platform-dev-raw-${ACCOUNT}`;

type State = Record<string, { physicalId: string; attributes: Record<string, any> }>;

let aws: FakeAws;
afterEach(() => aws.restore());

async function deploy(cwd: string, env: string): Promise<State> {
  const up = await runCli(cwd, ["up", "--env", env, "--yes"]);
  expect(up.code, up.stderr).toBe(0);
  return JSON.parse(readFileSync(path.join(cwd, `state/${env}.json`), "utf8")).resources;
}

const statusOf = (stdout: string) => Object.fromEntries([...stdout.matchAll(CHECK_LINE)].map((m) => [m[0].replace(/^\S+ {2}\d+\. /, ""), m[1]]));

describe("platform audit of a deployed dev environment", () => {
  let cwd: string;
  let state: State;

  beforeEach(async () => {
    aws = installFakeAws();
    cwd = tempProject({ dev: COMPLIANT_DEV });
    state = await deploy(cwd, "dev");
  });

  it("passes a freshly deployed dev environment, each check with its FSBP controls; the protected environments' checks are skipped", async () => {
    const r = await runCli(cwd, ["audit", "--env", "dev"]);
    expect(r.stderr).toBe("");
    expect(r.code, r.stdout).toBe(0);
    expect(statusOf(r.stdout)).toEqual({
      "S3 buckets encrypted at rest": "PASS",
      "S3 public access blocked [S3.8]": "PASS",
      "S3 bucket policies deny requests without TLS [S3.5]": "PASS",
      "Database storage encrypted [RDS.3]": "PASS",
      "Database not publicly accessible [RDS.2]": "PASS",
      "Database backups kept at least 7 days [RDS.11]": "PASS",
      "Database deletion protection (protected environments) [RDS.8]": "SKIP",
      "Database requires TLS (rds.force_ssl)": "PASS",
      "No security group open to the internet except the load balancer's 80/443 [EC2.18, EC2.19]": "PASS",
      "VPC flow logs on [EC2.6]": "PASS",
      "CloudTrail trail logging [CloudTrail.1, CloudTrail.4]": "PASS",
      "Log groups have a retention period": "PASS",
      "Secrets encrypted with the configured key": "PASS",
      "Every resource tagged DataClassification": "PASS",
      "GitHub deploy role trusts only the deploy workflow in its GitHub environment [HIPAA 164.312(a)(1)]": "SKIP",
      "GitHub deploy role may change only this stack's services, listeners and roles [HIPAA 164.308(a)(4)]": "SKIP",
      "BI role connects only to this stack's database, and another account needs an external id [HIPAA 164.308(a)(4)]": "SKIP",
      "Database IAM authentication on [RDS.10]": "PASS",
      "Database snapshots keep the instance's tags [RDS.17]": "PASS",
      "PHI buckets (raw, silver, gold) versioned [HIPAA 164.312(c)(1)]": "PASS",
      "Audit logs kept through their retention (down --delete-data refuses) [HIPAA 164.312(b)]": "PASS",
      "Load balancer serves HTTPS only; HTTP only redirects (protected environments) [ELB.1, HIPAA 164.312(e)(1)]": "SKIP",
      "HTTPS listeners allow TLS 1.2 and later only [ELB.17, HIPAA 164.312(e)(2)(ii)]": "SKIP",
      "Blue-green test listener not open to the internet (protected environments) [HIPAA 164.312(a)(1), HIPAA 164.312(e)(1)]": "SKIP",
      "Monitoring UIs not routed from the internet [HIPAA 164.312(a)(1), HIPAA 164.312(d)]": "PASS",
      "ECS Exec off in protected environments; sessions logged wherever it is on [HIPAA 164.312(b), HIPAA 164.312(a)(1)]": "PASS",
      "Log groups encrypted with the environment's KMS key (protected environments) [HIPAA 164.312(a)(2)(iv)]": "SKIP",
      "Image tags immutable (protected environments) [ECR.2, HIPAA 164.312(c)(1)]": "SKIP",
      "Database admits only the API, dbt and Marquez groups [HIPAA 164.312(a)(1), HIPAA 164.308(a)(4)]": "PASS",
      "Tasks reach AWS through VPC endpoints (protected environments) [HIPAA 164.312(e)(1)]": "SKIP",
    });
    expect(r.stdout).toContain(`${RAW}: AES256`);
    expect(r.stdout).toContain("clinical-platform-dev-postgres16: rds.force_ssl=1");
    expect(r.stdout).toContain(`${TRAIL}: logging, multi-region, log file validation on`);
    expect(r.stdout).toContain(`required in protected environments only (dev is not); ${DB}: deletion protection off`);
    expect(r.stdout).toContain("clinical-platform-dev-cluster: ECS Exec on for api; session logging to /ecs/clinical-platform-dev/exec");
    expect(r.stdout).toMatch(/Summary: All 20 checks that ran passed \(10 skipped\)\./);
  });

  it("fails and names the rule when a security group is opened to the internet", async () => {
    const dbGroup = state["network.security-group.db"]!.physicalId;
    await new EC2Client({ region: "us-east-1" }).send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: dbGroup, IpPermissions: [{ IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }),
    );
    const r = await runCli(cwd, ["audit", "--env", "dev"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}9\. No security group open to the internet except the load balancer's 80\/443 \[EC2\.18, EC2\.19\]$/m);
    expect(r.stdout).toContain(`${dbGroup} `);
    expect(r.stdout).toMatch(/tcp 5432-5432 from 0\.0\.0\.0\/0/);
    expect(r.stdout).toMatch(/fix: revoke sgr-\w+ \(aws ec2 revoke-security-group-ingress/);
    // The database's own check names the rule too.
    expect(r.stdout).toMatch(/^FAIL {2}29\. Database admits only the API, dbt and Marquez groups/m);
    expect(r.stdout).toMatch(/Summary: 2 of 30 checks failed/);
  });

  it("fails the tag check where resources lack DataClassification", async () => {
    const plain = tempProject({ dev: { ...DEV, $schema: undefined, tags: { CostCenter: "data-platform" } } });
    await deploy(plain, "dev");
    const r = await runCli(plain, ["audit", "--env", "dev", "--json"]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ name: "audit", environment: "dev", ok: false });
    const tags = doc.checks.find((c: { id: string }) => c.id === "tags-data-classification");
    expect(tags.status).toBe("failed");
    expect(tags.controls).toEqual([]);
    expect(tags.evidence[0]).toMatch(/^\d+ of \d+ resources lack DataClassification$/);
    expect(tags.fix).toContain('add "DataClassification"');
    expect(doc.checks.find((c: { id: string }) => c.id === "s3-tls-only")).toMatchObject({ status: "passed", controls: ["S3.5"] });
  });

  // Each drift breaks one control; the audit names the resource, says what is wrong and how to fix it, and exits 1.
  const bucket = (a: FakeAws, name: string) => a.s3.buckets.get(name)! as any;
  const trail = (a: FakeAws) => a.cloudtrail.trails.get(TRAIL)!;
  const forceSsl = (a: FakeAws) => a.rds.parameterGroups.get("clinical-platform-dev-postgres16")!.user;
  const restore = (id: string) => `fix: run 'platform up --env dev' to restore ${id}`;
  it.each<[string, (a: FakeAws) => unknown, RegExp, string[]]>([
    ["a bucket loses its default encryption", (a) => delete bucket(a, RAW).encryption, /^FAIL {2}1\. S3 buckets encrypted at rest$/m, [`${RAW}: no default encryption`, `cause: bucket ${RAW} has no default encryption`, restore("data.bucket.raw.encryption")]],
    ["a bucket policy is deleted", (a) => delete bucket(a, RAW).policy, /^FAIL {2}3\. S3 bucket policies deny requests without TLS \[S3\.5\]$/m, [`${RAW}: no bucket policy`, `cause: bucket ${RAW} accepts requests without TLS`, restore("data.bucket.raw.policy")]],
    [
      "a bucket policy stops denying plain HTTP",
      (a) => (bucket(a, RAW).policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "s3:GetObject", Resource: `arn:aws:s3:::${RAW}/*` }] })),
      /^FAIL {2}3\. S3 bucket policies deny requests without TLS \[S3\.5\]$/m,
      [`${RAW}: policy does not deny aws:SecureTransport=false`, `cause: bucket ${RAW} accepts requests without TLS`, restore("data.bucket.raw.policy")],
    ],
    ["the database keeps backups 1 day", (a) => (a.rds.instances.values().next().value!.BackupRetentionPeriod = 1), /^FAIL {2}6\. Database backups kept at least 7 days \[RDS\.11\]$/m, [`cause: database ${DB} keeps backups 1 days, fewer than 7`, "fix: set database.backupRetentionDays to 7 or more in config/dev.json and run 'platform up --env dev'"]],
    ["the database is unencrypted", (a) => (a.rds.instances.values().next().value!.StorageEncrypted = false), /^FAIL {2}4\. Database storage encrypted \[RDS\.3\]$/m, [`cause: database ${DB} is not encrypted at rest`, "fix: encryption is fixed at creation: restore an encrypted copy of a snapshot"]],
    ["the database is public", (a) => ((a.rds.instances.values().next().value as any).PubliclyAccessible = true), /^FAIL {2}5\. Database not publicly accessible \[RDS\.2\]$/m, [`${DB}: PubliclyAccessible true`, `cause: database ${DB} is publicly accessible`, restore("data.database.instance")]],
    ["rds.force_ssl is turned off", (a) => forceSsl(a).set("rds.force_ssl", "0"), /^FAIL {2}8\. Database requires TLS \(rds\.force_ssl\)$/m, ["clinical-platform-dev-postgres16: rds.force_ssl=0", `cause: database ${DB} accepts connections without TLS`, restore("data.database.parameter-group")]],
    ["rds.force_ssl is reset to the engine default", (a) => forceSsl(a).delete("rds.force_ssl"), /^FAIL {2}8\. Database requires TLS \(rds\.force_ssl\)$/m, ["clinical-platform-dev-postgres16: rds.force_ssl=(engine default)", restore("data.database.parameter-group")]],
    ["the VPC's flow log is deleted", (a) => a.ec2.flowLogs.clear(), /^FAIL {2}10\. VPC flow logs on \[EC2\.6\]$/m, ["has no flow logs", "fix: set network.flowLogs.enabled to true in config/dev.json and run 'platform up --env dev'"]],
    ["the trail stops logging", (a) => (trail(a).IsLogging = false), /^FAIL {2}11\. CloudTrail trail logging \[CloudTrail\.1, CloudTrail\.4\]$/m, [`cause: trail ${TRAIL}: not logging`, restore("ops.audit.trail")]],
    ["the trail loses log file validation", (a) => (trail(a).LogFileValidationEnabled = false), /^FAIL {2}11\. CloudTrail trail logging/m, [`cause: trail ${TRAIL}: log file validation off`, restore("ops.audit.trail")]],
    ["the trail is made single-region", (a) => (trail(a).IsMultiRegionTrail = false), /^FAIL {2}11\. CloudTrail trail logging/m, [`cause: trail ${TRAIL}: single-region`, restore("ops.audit.trail")]],
    ["the trail is deleted", (a) => a.cloudtrail.trails.clear(), /^FAIL {2}11\. CloudTrail trail logging/m, [`${TRAIL}: not found`, `cause: trail ${TRAIL} recorded in state does not exist`, restore("ops.audit.trail")]],
    ["a log group never expires", (a) => (a.logs.groups.values().next().value!.retentionInDays = undefined), /^FAIL {2}12\. Log groups have a retention period$/m, ["has no retention period", "fix: run 'platform up --env dev' to restore data.log-group."]],
    ["a log group is deleted", (a) => a.logs.groups.delete("/ecs/clinical-platform-dev"), /^FAIL {2}12\. Log groups have a retention period$/m, ["/ecs/clinical-platform-dev: not found", "cause: log group /ecs/clinical-platform-dev recorded in state does not exist", restore("data.log-group.ecs")]],
    ["a secret is deleted", (a) => a.secretsmanager.secrets.clear(), /^FAIL {2}13\. Secrets encrypted with the configured key$/m, ["clinical-platform-dev/database/credentials: not found", "cause: secret clinical-platform-dev/database/credentials recorded in state does not exist", restore("secrets.database-credentials")]],
  ])("fails when %s, naming the resource and the fix", async (_what, drift, line, expected) => {
    drift(aws);
    const r = await runCli(cwd, ["audit", "--env", "dev"]);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(line);
    for (const text of expected) expect(r.stdout).toContain(text);
  });

  it("fails every database check, naming the recorded instance, when the database is gone", async () => {
    aws.rds.instances.clear();
    const r = await runCli(cwd, ["audit", "--env", "dev", "--json"]);
    expect(r.code).toBe(1);
    const byId = Object.fromEntries(JSON.parse(r.stdout).checks.map((c: { id: string }) => [c.id, c]));
    for (const id of ["rds-encrypted", "rds-not-public", "rds-backups", "rds-deletion-protection", "rds-force-ssl"]) {
      expect(byId[id], id).toMatchObject({ status: "failed", evidence: ["data.database.instance: not found in RDS"], cause: "the database recorded in state does not exist", fix: "run 'platform up --env dev' to restore data.database.instance" });
    }
  });
});

describe("platform audit with configured keys, and before anything is deployed", () => {
  beforeEach(() => {
    aws = installFakeAws();
  });

  it("checks data buckets and secrets against the configured KMS keys: passes as deployed, fails when they fall back to AWS-managed keys", async () => {
    const key = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const cwd = tempProject({ dev: { ...COMPLIANT_DEV, buckets: { encryption: { kmsKeyArn: key } }, secrets: { kmsKeyId: key } } });
    await deploy(cwd, "dev");
    const ok = await runCli(cwd, ["audit", "--env", "dev"]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain(`${RAW}: aws:kms (${key})`);
    expect(ok.stdout).toContain(`clinical-platform-dev-audit-${ACCOUNT}: AES256`); // the CloudTrail bucket is SSE-S3 by design
    expect(ok.stdout).toContain(`clinical-platform-dev/database/credentials: ${key}`);

    (aws.s3.buckets.get(RAW) as any).encryption = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] };
    for (const secret of aws.secretsmanager.secrets.values()) secret.kmsKeyId = undefined;
    const r = await runCli(cwd, ["audit", "--env", "dev"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}1\. S3 buckets encrypted at rest$/m);
    expect(r.stdout).toContain(`${RAW}: AES256`);
    expect(r.stdout).toContain(`cause: bucket ${RAW} is not encrypted with the configured KMS key`);
    expect(r.stdout).toContain("fix: run 'platform up --env dev' to restore data.bucket.raw.encryption");
    expect(r.stdout).toMatch(/^FAIL {2}13\. Secrets encrypted with the configured key$/m);
    expect(r.stdout).toContain("clinical-platform-dev/database/credentials: aws/secretsmanager (AWS managed key)");
    expect(r.stdout).toContain(`secret clinical-platform-dev/database/credentials is not encrypted with ${key}`);
    expect(r.stdout).toContain("fix: run 'platform up --env dev' to restore secrets.database-credentials;");
    expect(r.stdout).toMatch(/Summary: 2 of 30 checks failed/);
  });

  it("fails (exit 1, nothing deployed) on an environment that was never deployed, instead of passing 0 checks", async () => {
    const cwd = tempProject({ dev: COMPLIANT_DEV });
    for (const args of [["audit", "--env", "dev"], ["audit", "--env", "dev", "--json"]]) {
      const r = await runCli(cwd, args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: nothing deployed: dev has no resources in state, so there is nothing to audit; run 'platform up --env dev' first\n$/);
      expect(r.stdout).not.toMatch(/PASS|0 checks|"ok": true/);
    }
  });
});
