import { readFileSync } from "node:fs";
import path from "node:path";
import { IAMClient, PutRolePolicyCommand, UpdateAssumeRolePolicyCommand } from "@aws-sdk/client-iam";
import { ModifyDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds";
import { PutBucketVersioningCommand, S3Client } from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

/**
 * The identity and data-protection audit checks (src/audit/identity-checks.ts, data-checks.ts) end to end: a fresh
 * up with the GitHub and BI roles passes every one; each weakness planted afterwards fails audit (exit 1) naming the
 * resource and the fix; each config opt-out is reported as a finding.
 */
const DEV = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../config/dev.json"), "utf8"));
const ACCOUNT = "123456789012";
const CONFIG = {
  ...DEV,
  $schema: undefined,
  github: { repository: "acme/clinical", branches: ["main"] },
  bi: { enabled: true, principalArns: [`arn:aws:iam::${ACCOUNT}:role/analytics`], databaseIamAuth: true },
};
const CHECK_LINE = /^(PASS|FAIL|SKIP) {2}\d+\. (.*)$/gm;
const GITHUB_ROLE = "clinical-platform-dev-github-actions";
const BI_ROLE = "clinical-platform-dev-bi-readonly";
const DB = "clinical-platform-dev-db";
const SILVER = `clinical-platform-dev-silver-${ACCOUNT}`;

let aws: FakeAws;
let cwd: string;
const iam = () => new IAMClient({ region: "us-east-1" });
const statusOf = (stdout: string) => Object.fromEntries([...stdout.matchAll(CHECK_LINE)].map((m) => [m[2]!.replace(/ \[.*\]$/, ""), m[1]]));
/** The block of one check: its line and the evidence, cause and fix lines under it. */
const blockOf = (stdout: string, title: string) => {
  const start = stdout.lastIndexOf("\n", stdout.indexOf(title)) + 1;
  const rest = stdout.slice(start);
  const end = rest.slice(1).search(/^(PASS|FAIL|SKIP) {2}\d+\.|^Summary:/m);
  return end < 0 ? rest : rest.slice(0, end + 1);
};

beforeEach(async () => {
  aws = installFakeAws();
  cwd = tempProject({ dev: CONFIG });
  const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(up.code, up.stderr).toBe(0);
});
afterEach(() => aws.restore());

const audit = () => runCli(cwd, ["audit", "--env", "dev"]);

describe("identity and data-protection audit checks", () => {
  it("a fresh up with the GitHub and BI roles passes every one of them", async () => {
    const r = await audit();
    expect(r.code, r.stdout).toBe(0);
    const s = statusOf(r.stdout);
    for (const title of [
      "GitHub deploy role trusts only the deploy workflow in its GitHub environment",
      "GitHub deploy role may change only this stack's services, listeners and roles",
      "BI role connects only to this stack's database, and another account needs an external id",
      "Database IAM authentication on",
      "Database snapshots keep the instance's tags",
      "PHI buckets (raw, silver, gold) versioned",
      "Audit logs kept through their retention (down --delete-data refuses)",
    ]) {
      expect(s[title], title).toBe("PASS");
    }
    expect(r.stdout).toContain(`${GITHUB_ROLE}: acme/clinical/.github/workflows/deploy-dev.yml on main, GitHub environment dev`);
    expect(r.stdout).toMatch(new RegExp(`${BI_ROLE}: rds-db:connect only db-\\w+/bi_readonly`));
  });

  it("fails the trust check when the GitHub role trusts every workflow on main again", async () => {
    const providerArn = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
    const wide = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: providerArn },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: { StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" }, StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/clinical:ref:refs/heads/main" } },
        },
      ],
    };
    await iam().send(new UpdateAssumeRolePolicyCommand({ RoleName: GITHUB_ROLE, PolicyDocument: JSON.stringify(wide) }));
    const r = await audit();
    expect(r.code).toBe(1);
    const block = blockOf(r.stdout, "GitHub deploy role trusts only");
    expect(block).toMatch(/^FAIL/);
    expect(block).toContain(`${GITHUB_ROLE}: a statement does not pin the workflow (no token.actions.githubusercontent.com:job_workflow_ref condition)`);
    expect(block).toContain(`${GITHUB_ROLE}: a statement trusts sub repo:acme/clinical:ref:refs/heads/main, not the GitHub environment (repo:acme/clinical:environment:dev)`);
    expect(block).toContain("fix: run 'platform up --env dev' to restore the trust policy of ops.github.role as platform builds it");
  });

  it("fails the scope check when the deploy role may update any service or pass any role", async () => {
    const wide = { Version: "2012-10-17", Statement: [{ Sid: "Everything", Effect: "Allow", Action: ["ecs:UpdateService", "iam:PassRole"], Resource: "*" }] };
    await iam().send(new PutRolePolicyCommand({ RoleName: GITHUB_ROLE, PolicyName: "extra", PolicyDocument: JSON.stringify(wide) }));
    const r = await audit();
    expect(r.code).toBe(1);
    const block = blockOf(r.stdout, "GitHub deploy role may change only");
    expect(block).toMatch(/^FAIL/);
    expect(block).toContain(`${GITHUB_ROLE}: policy extra Everything: ecs:UpdateService, iam:PassRole on *`);
    expect(block).toContain("fix: run 'platform up --env dev' to restore the policies of ops.github.role");
  });

  it("fails the BI check when rds-db:connect reaches any instance", async () => {
    const wide = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "rds-db:connect", Resource: `arn:aws:rds-db:us-east-1:${ACCOUNT}:dbuser:*/bi_readonly` }] };
    await iam().send(new PutRolePolicyCommand({ RoleName: BI_ROLE, PolicyName: "read-gold", PolicyDocument: JSON.stringify(wide) }));
    const r = await audit();
    expect(r.code).toBe(1);
    const block = blockOf(r.stdout, "BI role connects only");
    expect(block).toMatch(/^FAIL/);
    expect(block).toMatch(new RegExp(`${BI_ROLE}: policy read-gold: rds-db:connect on arn:aws:rds-db:us-east-1:${ACCOUNT}:dbuser:\\*/bi_readonly, not db-\\w+/bi_readonly`));
    expect(block).toContain("fix: run 'platform up --env dev' to restore the policies of ops.bi.role");
  });

  it("fails the database checks when IAM authentication and copying tags to snapshots are turned off", async () => {
    await new RDSClient({ region: "us-east-1" }).send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: DB, CopyTagsToSnapshot: false, EnableIAMDatabaseAuthentication: false, ApplyImmediately: true }));
    const r = await audit();
    expect(r.code).toBe(1);
    const iamBlock = blockOf(r.stdout, "Database IAM authentication on");
    expect(iamBlock).toMatch(/^FAIL/);
    expect(iamBlock).toContain(`${DB}: IAMDatabaseAuthenticationEnabled false`);
    expect(iamBlock).toContain("fix: run 'platform up --env dev' to restore data.database.instance (EnableIAMDatabaseAuthentication)");
    const tagsBlock = blockOf(r.stdout, "Database snapshots keep the instance's tags");
    expect(tagsBlock).toMatch(/^FAIL/);
    expect(tagsBlock).toContain(`${DB}: CopyTagsToSnapshot false`);
    expect(tagsBlock).toContain("fix: run 'platform up --env dev' to turn CopyTagsToSnapshot back on for data.database.instance");
    // up repairs both
    expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
    expect((await audit()).code).toBe(0);
  });

  it("fails the versioning check when a PHI bucket's versioning is suspended", async () => {
    await new S3Client({ region: "us-east-1" }).send(new PutBucketVersioningCommand({ Bucket: SILVER, VersioningConfiguration: { Status: "Suspended" } }));
    const r = await audit();
    expect(r.code).toBe(1);
    const block = blockOf(r.stdout, "PHI buckets (raw, silver, gold) versioned");
    expect(block).toMatch(/^FAIL/);
    expect(block).toContain(`${SILVER}: versioning suspended or never enabled`);
    expect(block).toContain("fix: run 'platform up --env dev' to turn versioning back on for data.bucket.silver.versioning");
  });

  it("reports each opt-out in config as a finding: any workflow on the branch, deleting audit logs", async () => {
    const r = await runCli(cwd, ["audit", "--env", "dev", "--set", "github.allowAnyWorkflowOnBranch=true", "--set", "audit.allowDeletingAuditLogs=true"]);
    expect(r.code).toBe(1);
    const trust = blockOf(r.stdout, "GitHub deploy role trusts only");
    expect(trust).toContain(`${GITHUB_ROLE}: github.allowAnyWorkflowOnBranch is true`);
    expect(trust).toContain("fix: remove github.allowAnyWorkflowOnBranch from config/dev.json");
    const logs = blockOf(r.stdout, "Audit logs kept through their retention");
    expect(logs).toContain(`clinical-platform-dev-audit-${ACCOUNT}: audit.allowDeletingAuditLogs is true`);
    expect(logs).toContain("fix: remove audit.allowDeletingAuditLogs from config/dev.json");
  });
});
