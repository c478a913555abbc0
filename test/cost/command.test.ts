import { pushImage } from "../fakes/ecr.js";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

describe("platform cost", () => {
  it("says it is an estimate in the first line, prints the table and total, the prices' region and date, and needs no AWS", async () => {
    const r = await runCli(tempProject(), ["cost", "--env", "dev"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const [first] = r.stdout.split("\n");
    expect(first).toBe("ESTIMATE, not a bill: monthly cost of clinical-platform dev in us-east-1 at on-demand list prices");
    expect(r.stdout).toMatch(/^Prices: us-east-1 prices, taken 2026-11 from AWS Price List figures in Infracost's test fixtures; .*\.$/m);
    expect(r.stdout).toMatch(/^RDS PostgreSQL db\.t3\.micro\s+730 instance-hours\s+\$0\.018\s+\$13\.14$/m);
    expect(r.stdout).toMatch(/^Total \(estimate\)\s+\$\d+\.\d\d$/m);
    expect(r.stdout).toMatch(/^CloudWatch alarms\s+7 alarm metric-months\s+\$0\.1\s+\$0\.70$/m);
    expect(r.stdout).toMatch(/^CloudWatch dashboards\s+1 dashboard-months\s+\$3\s+\$3\.00$/m);
    expect(r.stdout).toContain("Excluded: data transfer out");
    expect(r.stdout).not.toContain("not confirmed by public pricing material");
  });

  it("says which prices no public pricing material confirmed when the config uses one", async () => {
    const r = await runCli(tempProject(), ["cost", "--env", "dev", "--set", "database.instanceClass=db.m5.large"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^RDS PostgreSQL db\.m5\.large\s+730 instance-hours\s+\$0\.178\s+\$129\.94$/m);
    expect(r.stdout).toMatch(/^Assumed: .*prices not confirmed by public pricing material, carried over from 2024-06: RDS PostgreSQL db\.m5\.large \(\$0\.178 per instance-hour\)\.$/m);
    const doc = JSON.parse((await runCli(tempProject(), ["cost", "--env", "dev", "--json", "--set", "database.instanceClass=db.m5.large"])).stdout);
    expect(doc.unverifiedPrices).toEqual(["RDS PostgreSQL db.m5.large ($0.178 per instance-hour)"]);
  });

  it("--json prints the estimate document; prod costs more than dev; other regions are flagged as approximated", async () => {
    const cwd = tempProject();
    const dev = JSON.parse((await runCli(cwd, ["cost", "--env", "dev", "--json"])).stdout);
    const prod = JSON.parse((await runCli(cwd, ["cost", "--env", "prod", "--json"])).stdout);
    expect(dev).toMatchObject({ environment: "dev", estimate: true, currency: "USD", region: "us-east-1", exact: true });
    expect(dev.total).toBe(Math.round(dev.items.reduce((s: number, i: { monthly: number }) => s + i.monthly, 0) * 100) / 100);
    expect(prod.total).toBeGreaterThan(dev.total);
    const eu = await runCli(cwd, ["cost", "--env", "dev", "--region", "eu-central-1"]);
    expect(eu.stdout).toContain("Prices for eu-central-1 are approximated from us-east-1's.");
  });
});

describe("platform plan cost delta", () => {
  let aws: FakeAws | undefined;
  afterEach(() => aws?.restore());

  it("shows $0 → the config's estimate before the first up, and no cost change when the plan has no changes", async () => {
    aws = installFakeAws();
    const cwd = tempProject();
    const planned = JSON.parse((await runCli(cwd, ["cost", "--env", "dev", "--json"])).stdout).total.toFixed(2);
    const before = await runCli(cwd, ["plan", "--env", "dev"]);
    expect(before.stdout).toContain(`Estimated monthly cost: $0.00 → $${planned} (+$${planned})`);
    expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
    // The fake's repositories hold no images, so up leaves the API service at 0 tasks: "No changes", and the cost of
    // what runs (no API task, no task address: $12.66 under the config's estimate) stays as it is.
    const after = await runCli(cwd, ["plan", "--env", "dev"]);
    expect(after.stdout).toMatch(/No changes/);
    const [, current] = /Estimated monthly cost: \$([\d.]+), no change;/.exec(after.stdout) ?? [];
    expect(Number(current)).toBe(Math.round((Number(planned) - 12.66) * 100) / 100);
    expect(JSON.parse((await runCli(cwd, ["plan", "--env", "dev", "--json"])).stdout).estimatedMonthlyCost).toMatchObject({ current: Number(current), planned: Number(current), delta: 0 });
    // Pushed, the API scales to its count: the plan's cost rises by its tasks.
    pushImage(aws.ecr, "clinical-platform-dev/api", "latest");
    const bigger = await runCli(cwd, ["plan", "--env", "dev", "--json", "--set", "services.api.desiredCount=3"]);
    const doc = JSON.parse(bigger.stdout).estimatedMonthlyCost;
    expect(doc.planned).toBeGreaterThan(Number(planned));
    expect(doc.delta).toBeGreaterThan(0);
  });
});
