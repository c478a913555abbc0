import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/** docs/iam-policy.json is generated from the SDK calls in src/ (scripts/gen-iam-policy.mjs); it must follow the code. */
const repo = path.resolve(import.meta.dirname, "../..");
const text = readFileSync(path.join(repo, "docs", "iam-policy.json"), "utf8");
const doc = JSON.parse(text);

describe("docs/iam-policy.json", () => {
  it("matches the SDK calls in src/ (regenerate with node scripts/gen-iam-policy.mjs)", () => {
    const check = spawnSync(process.execPath, [path.join(repo, "scripts", "gen-iam-policy.mjs"), "--check"], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });

  it("fits a customer managed policy (6,144 characters without whitespace) and names what up calls", () => {
    expect(text.replace(/\s/g, "").length).toBeLessThanOrEqual(6144);
    const actions: string[] = doc.Statement[0].Action;
    for (const action of ["ec2:CreateVpc", "rds:CreateDBInstance", "ecs:CreateService", "elasticloadbalancing:CreateLoadBalancer", "iam:PutRolePolicy", "s3:PutBucketPolicy", "secretsmanager:CreateSecret", "tag:GetResources"]) {
      expect(actions).toContain(action);
    }
    // Secret values and objects are never granted by a wildcard.
    expect(actions.filter((a) => /^(s3|secretsmanager):.*\*/.test(a))).toEqual([]);
    expect(doc.Statement.find((s: { Sid: string }) => s.Sid === "PassPlatformRolesToTheirServices").Condition.StringEquals["iam:PassedToService"]).toContain("ecs-tasks.amazonaws.com");
  });
});
