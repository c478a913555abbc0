import { parse as parseYaml } from "yaml";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { runCli, tempProject } from "../cli-harness.js";

let aws: FakeAws;
let cwd: string;
const config = (environment: string) => ({
  environment,
  services: { containerInsights: true },
  alarms: { email: ["oncall@example.org"] },
  github: { repository: "acme/clinical", branches: ["main"], environments: [environment] },
  bi: { enabled: true, principalArns: ["arn:aws:iam::123456789012:role/analytics"] },
});
beforeEach(() => {
  aws = installFakeAws();
  cwd = tempProject({ dev: config("dev"), staging: config("staging") });
});
afterEach(() => aws.restore());

const PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

it("up creates alarms, topic, dashboard, trail and CI/BI roles; status shows alarm states; down leaves the OIDC provider while staging uses it", async () => {
  const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(up.stderr).toBe("");
  expect(up.code).toBe(0);
  expect([...aws.cloudwatch.alarms.keys()].sort()).toEqual(
    ["api-5xx-rate", "api-p95-latency", "api-running-below-desired", "api-unhealthy-targets", "db-connections", "db-cpu", "db-free-storage"].map((n) => `clinical-platform-dev-${n}`),
  );
  const p95 = aws.cloudwatch.alarms.get("clinical-platform-dev-api-p95-latency")!.input;
  expect(p95.Dimensions[0].Value).toMatch(/^app\/clinical-platform-dev[^/]*\/[\w]+$/);
  expect(p95.ExtendedStatistic).toBe("p95");
  expect(aws.cloudwatch.dashboards.has("clinical-platform-dev")).toBe(true);
  const topic = [...aws.sns.topics.values()][0]!;
  expect(topic.subscriptions.map((s) => s.Endpoint)).toEqual(["oncall@example.org"]);
  const trail = aws.cloudtrail.trails.get("clinical-platform-dev-audit")!;
  expect(trail).toMatchObject({ IsLogging: true, IsMultiRegionTrail: true, LogFileValidationEnabled: true, S3BucketName: "clinical-platform-dev-audit-123456789012" });
  expect(aws.iam.oidcProviders?.get(PROVIDER)?.Tags).toMatchObject({ "platform:used-by:clinical-platform-dev": "true" });
  expect(aws.iam.roles.has("clinical-platform-dev-github-actions")).toBe(true);
  expect(aws.iam.roles.has("clinical-platform-dev-bi-readonly")).toBe(true);

  const again = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(again.code).toBe(0);
  const mutating = aws.cloud.mutatingCalls().length;
  await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(aws.cloud.mutatingCalls().slice(mutating).map((c) => c.command)).toEqual([]);

  aws.cloudwatch.alarms.get("clinical-platform-dev-db-cpu")!.StateValue = "ALARM";
  const status = await runCli(cwd, ["status", "--env", "dev", "--wide"]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/ops\.alarm\.db-cpu\s+cloudwatch:metric-alarm\s+\S+\s+in sync\s+state ALARM/);
  expect(status.stdout).toMatch(/ops\.alarm\.api-p95-latency\s+cloudwatch:metric-alarm\s+\S+\s+in sync\s+state INSUFFICIENT_DATA/);

  const url = await runCli(cwd, ["outputs", "dashboard_url", "--env", "dev"]);
  expect(url.stdout.trim()).toBe("https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=clinical-platform-dev");
  const outputs = JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8")).outputs;
  expect(outputs).toMatchObject({ github_actions_role_arn: "arn:aws:iam::123456789012:role/clinical-platform-dev-github-actions", audit_bucket: "clinical-platform-dev-audit-123456789012" });

  const ci = await runCli(cwd, ["ci", "init", "--repo", "acme/clinical", "--env", "dev"]);
  expect(ci.code).toBe(0);
  const wf = readFileSync(path.join(cwd, ".github/workflows/deploy-dev.yml"), "utf8");
  expect(wf).toContain('role-to-assume: "arn:aws:iam::123456789012:role/clinical-platform-dev-github-actions"');
  expect(wf).toContain('id-token: "write"');
  expect(wf).toContain('run: "npx platform deploy --env dev --service api --image ${{ github.sha }} --yes"');
  expect(wf).toMatch(/branches:\n\s+- "main"/);
  // The job runs in the GitHub environment the role trusts; every action is pinned by commit.
  const parsed = parseYaml(wf);
  expect(parsed.jobs.deploy.environment).toBe("dev");
  const uses = parsed.jobs.deploy.steps.map((st: { uses?: string }) => st.uses).filter(Boolean);
  expect(uses).toHaveLength(4);
  for (const u of uses) expect(u).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
  const elsewhere = await runCli(cwd, ["ci", "init", "--repo", "acme/clinical", "--env", "dev", "--output", ".github/workflows/other.yml"]);
  expect(elsewhere.code).toBe(2);
  expect(elsewhere.stderr).toMatch(/--output .github\/workflows\/other.yml: the deploy role of dev trusts only .github\/workflows\/deploy-dev.yml \(github.workflow/);
  const again2 = await runCli(cwd, ["ci", "init", "--repo", "acme/clinical", "--env", "dev"]);
  expect(again2.code).toBe(2);
  expect(again2.stderr).toMatch(/already exists; pass --force/);
  expect((await runCli(cwd, ["ci", "init", "--repo", "acme/clinical", "--env", "dev", "--force"])).code).toBe(0);
  expect((await runCli(cwd, ["ci", "init", "--repo", "not a repo", "--env", "dev"])).code).toBe(2);
  const noRole = await runCli(cwd, ["ci", "init", "--repo", "acme/clinical", "--env", "staging"]);
  expect(noRole.code).toBe(2);
  expect(noRole.stderr).toMatch(/run 'platform up --env staging' first/);

  expect((await runCli(cwd, ["up", "--env", "staging", "--yes"])).code).toBe(0);
  expect(Object.keys(aws.iam.oidcProviders!.get(PROVIDER)!.Tags)).toEqual(expect.arrayContaining(["platform:used-by:clinical-platform-dev", "platform:used-by:clinical-platform-staging"]));

  const down = await runCli(cwd, ["down", "--env", "dev", "--yes"]);
  expect(down.code, down.stdout + down.stderr).toBe(0);
  expect([...aws.cloudwatch.alarms.keys()].filter((n) => n.includes("-dev-"))).toEqual([]);
  expect(aws.cloudwatch.dashboards.has("clinical-platform-dev")).toBe(false);
  expect(aws.cloudtrail.trails.has("clinical-platform-dev-audit")).toBe(false);
  expect(aws.iam.roles.has("clinical-platform-dev-github-actions")).toBe(false);
  const provider = aws.iam.oidcProviders!.get(PROVIDER)!;
  expect(provider.Tags["platform:used-by:clinical-platform-dev"]).toBeUndefined();
  expect(provider.Tags["platform:used-by:clinical-platform-staging"]).toBe("true");

  expect((await runCli(cwd, ["down", "--env", "staging", "--yes"])).code).toBe(0);
  expect(aws.iam.oidcProviders!.size).toBe(0);
  expect(aws.sns.topics.size).toBe(0);
  expect(aws.cloudwatch.alarms.size).toBe(0);
  expect(aws.cloudtrail.trails.size).toBe(0);
}, 60_000);
