import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { estimateConfig, footprint, priceFootprint, type Footprint } from "../../src/cost/estimate.js";
import { costDeltaLine, estimateState, retiredCost, usd } from "../../src/cost/from-state.js";
import { priceKey, type PriceTable, US_EAST_1_PRICES } from "../../src/cost/prices.js";
import { emptyState, type StateDocument } from "../../src/state/document.js";

/** Round numbers, so every expected figure below can be worked out by hand. */
const PRICES: PriceTable = {
  taken: "2000-01",
  region: "us-east-1",
  hoursPerMonth: 100,
  rdsInstanceHour: { "db.t3.micro": 0.1, "db.t3.small": 0.2 },
  rdsGp3GbMonth: 1,
  natGatewayHour: 0.5,
  natGatewayGb: 0.01,
  albHour: 0.2,
  albLcuHour: 0.01,
  publicIpv4Hour: 0.001,
  fargateVcpuHour: 0.04,
  fargateGbHour: 0.004,
  secretMonth: 0.5,
  logsIngestGb: 1,
  logsStoreGbMonth: 0.1,
  alarmMetricMonth: 0.1,
  dashboardMonth: 3,
  s3StandardGbMonth: 0.02,
  ecrGbMonth: 0.1,
  source: ["Test pricing page"],
};
const ASSUME = { natProcessedGb: 10, logIngestGb: 2, s3StoredGb: 100, ecrStoredGb: 1, albLcu: 1 };
const EMPTY: Footprint = { databases: [], natGateways: 0, loadBalancers: 0, publicIpv4: 0, tasks: [], secrets: 0, logGroups: 0, buckets: 0, repositories: 0, alarmMetrics: 0, dashboards: 0 };

function config(over: Record<string, unknown> = {}): Config {
  const cwd = mkdtempSync(path.join(tmpdir(), "cost-"));
  mkdirSync(path.join(cwd, "config"));
  writeFileSync(path.join(cwd, "config", "dev.json"), JSON.stringify(over));
  return loadConfig({ env: "dev", cwd }).config;
}
const byItem = (items: { item: string; monthly: number }[]) => Object.fromEntries(items.map((i) => [i.item, i.monthly]));

describe("priceFootprint", () => {
  it("multiplies quantities by the table's prices and totals them", () => {
    const e = priceFootprint(
      { ...EMPTY, databases: [{ instanceClass: "db.t3.small", multiAz: true, storageGb: 20 }], natGateways: 1, loadBalancers: 1, publicIpv4: 3, tasks: [{ name: "api", vcpu: 0.5, memoryGb: 1, count: 2 }], secrets: 3 },
      "us-east-1",
      PRICES,
      ASSUME,
    );
    expect(byItem(e.items)).toEqual({
      "RDS PostgreSQL db.t3.small Multi-AZ": 40, // 100 h × 2 AZ × 0.2
      "RDS gp3 storage (Multi-AZ: two copies)": 40, // 20 GB × 2 × 1
      "NAT gateway": 50,
      "NAT gateway data processed (assumed 10 GB)": 0.1,
      "Application Load Balancer": 20,
      "Load balancer capacity (assumed 1 LCU)": 1,
      "Public IPv4 addresses": 0.3,
      "Fargate api: 2 × 0.5 vCPU": 4, // 2 × 0.5 × 100 × 0.04
      "Fargate api: 2 × 1 GB": 0.8,
      "Secrets Manager secrets": 1.5,
    });
    expect(e.total).toBe(157.7);
    expect(e).toMatchObject({ region: "us-east-1", basis: "us-east-1 prices", exact: true, pricesTaken: "2000-01", unpriced: [] });
  });

  it("approximates other regions with the multiplier and says so", () => {
    const e = priceFootprint({ ...EMPTY, natGateways: 1 }, "eu-central-1", PRICES, ASSUME);
    expect(e.exact).toBe(false);
    expect(e.basis).toBe("us-east-1 prices × 1.15 (an approximation for eu-central-1)");
    expect(byItem(e.items)["NAT gateway"]).toBe(57.5); // 50 × 1.15
    expect(e.total).toBeCloseTo(57.62, 1); // (50 + 0.1) × 1.15, each item rounded to cents
  });

  it("lists an instance class without a price as unpriced and leaves it out of the total", () => {
    const e = priceFootprint({ ...EMPTY, databases: [{ instanceClass: "db.x2g.16xlarge", multiAz: false, storageGb: 10 }] }, "us-east-1", PRICES, ASSUME);
    expect(e.unpriced).toEqual(["RDS instance class db.x2g.16xlarge (not in the price table)"]);
    expect(e.items[0]).toMatchObject({ item: "RDS PostgreSQL db.x2g.16xlarge", unitPrice: undefined, monthly: 0 });
    expect(e.total).toBe(10);
  });
});

describe("alarms and dashboards", () => {
  const alarm = (values: Record<string, unknown>) => ({ logicalId: "ops.alarm.x", type: "cloudwatch:metric-alarm", values });
  const metric = { namespace: "AWS/RDS", metricName: "CPUUtilization", dimensions: {}, stat: "Average", period: 300 };

  it("count one alarm metric per single-metric alarm and one per metric (not expression) of a metric-math alarm", () => {
    const fp = footprint([
      alarm({ metric }),
      alarm({ queries: [{ id: "errors", metric, returnData: false }, { id: "requests", metric, returnData: false }, { id: "rate", expression: "100 * errors / requests", returnData: true }] }),
      { logicalId: "ops.dashboard", type: "cloudwatch:dashboard", values: { name: "clinical-platform-dev" } },
    ]);
    expect(fp).toMatchObject({ alarmMetrics: 3, dashboards: 1 });
  });

  it("are priced per alarm metric-month and per dashboard-month", () => {
    const e = priceFootprint({ ...EMPTY, alarmMetrics: 7, dashboards: 1 }, "us-east-1", PRICES, ASSUME);
    expect(e.items).toEqual([
      { item: "CloudWatch alarms", quantity: 7, unit: "alarm metric-months", unitPrice: 0.1, monthly: 0.7 },
      { item: "CloudWatch dashboards", quantity: 1, unit: "dashboard-months", unitPrice: 3, monthly: 3 },
    ]);
    expect(e.total).toBe(3.7);
  });
});

describe("prices no public material confirmed", () => {
  const checked: PriceTable = {
    ...PRICES,
    checks: {
      [priceKey("rdsInstanceHour", "db.t3.small")]: { seenIn: "nowhere reliable", verified: false },
      [priceKey("rdsInstanceHour", "db.t3.micro")]: { seenIn: "a dated Infracost run", dated: "2023-10", verified: true },
      [priceKey("natGatewayHour")]: { seenIn: "a price book", dated: "2026-09", verified: true },
    },
  };

  it("are named in the estimate and its assumptions when used, with the number used", () => {
    const e = priceFootprint({ ...EMPTY, databases: [{ instanceClass: "db.t3.small", multiAz: false, storageGb: 20 }], natGateways: 1 }, "us-east-1", checked, ASSUME);
    expect(e.unverifiedPrices).toEqual(["RDS PostgreSQL db.t3.small ($0.2 per instance-hour)"]);
    expect(e.assumptions).toContain("prices not confirmed by public pricing material, carried over from 2024-06: RDS PostgreSQL db.t3.small ($0.2 per instance-hour)");
    expect(byItem(e.items)["RDS PostgreSQL db.t3.small"]).toBe(20); // still priced and in the total
  });

  it("are not mentioned when the estimate does not use them", () => {
    const e = priceFootprint({ ...EMPTY, databases: [{ instanceClass: "db.t3.micro", multiAz: false, storageGb: 20 }] }, "us-east-1", checked, ASSUME);
    expect(e.unverifiedPrices).toEqual([]);
    expect(e.assumptions.join(" ")).not.toContain("not confirmed");
  });
});

describe("US_EAST_1_PRICES", () => {
  const T = US_EAST_1_PRICES;
  const SCALAR = ["rdsGp3GbMonth", "natGatewayHour", "natGatewayGb", "albHour", "albLcuHour", "publicIpv4Hour", "fargateVcpuHour", "fargateGbHour", "secretMonth", "logsIngestGb", "logsStoreGbMonth", "alarmMetricMonth", "dashboardMonth", "s3StandardGbMonth", "ecrGbMonth"] as const;

  it("labels every price with where it was checked, and has a check for nothing it does not price", () => {
    const keys = [...SCALAR.map((f) => priceKey(f)), ...Object.keys(T.rdsInstanceHour).map((c) => priceKey("rdsInstanceHour", c))];
    for (const key of keys) expect(T.checks?.[key]?.seenIn, key).toMatch(/\S/);
    expect(Object.keys(T.checks ?? {}).sort()).toEqual(keys.sort());
    expect(T.taken).toBe("2026-11");
  });

  it("marks the RDS classes no stored material confirmed as unverified, and only those", () => {
    const unverified = Object.entries(T.checks ?? {}).filter(([, c]) => !c.verified).map(([k]) => k);
    expect(unverified.sort()).toEqual(["rdsInstanceHour:db.m5.large", "rdsInstanceHour:db.m6i.large", "rdsInstanceHour:db.r6g.large", "rdsInstanceHour:db.t4g.large"]);
  });

  it("holds the verified list prices (us-east-1, Linux/x86, PostgreSQL)", () => {
    expect(T.rdsInstanceHour).toMatchObject({ "db.t3.micro": 0.018, "db.t3.medium": 0.072, "db.t3.large": 0.145, "db.t4g.micro": 0.016, "db.m6g.large": 0.159, "db.r5.large": 0.25 });
    expect([T.rdsGp3GbMonth, T.natGatewayHour, T.natGatewayGb, T.albHour, T.albLcuHour, T.publicIpv4Hour]).toEqual([0.115, 0.045, 0.045, 0.0225, 0.008, 0.005]);
    expect([T.fargateVcpuHour, T.fargateGbHour, T.secretMonth, T.logsIngestGb, T.logsStoreGbMonth]).toEqual([0.04048, 0.004445, 0.4, 0.5, 0.03]);
    expect([T.alarmMetricMonth, T.dashboardMonth, T.s3StandardGbMonth, T.ecrGbMonth]).toEqual([0.1, 3, 0.023, 0.1]);
  });
});

describe("estimateConfig", () => {
  it("prices the dev config: db.t3.micro, no NAT, one ALB, the API at 1 × 0.25 vCPU / 0.5 GB with a public IP", () => {
    const e = estimateConfig(config(), PRICES, ASSUME);
    const items = byItem(e.items);
    expect(items["RDS PostgreSQL db.t3.micro"]).toBe(10);
    expect(items["RDS gp3 storage"]).toBe(20);
    expect(items["NAT gateway"]).toBeUndefined();
    expect(items["Application Load Balancer"]).toBe(20);
    expect(items["Public IPv4 addresses"]).toBe(0.3); // 2 for the ALB + 1 API task without NAT
    expect(items["Fargate api: 1 × 0.25 vCPU"]).toBe(1);
    expect(items["Fargate api: 1 × 0.5 GB"]).toBe(0.2);
    expect(items["Secrets Manager secrets"]).toBe(1.5); // credentials, app key, JWT key
    // 5xx rate (2 metrics), p95 latency, unhealthy targets, database CPU, free storage, connections; no Container Insights in dev.
    expect(items["CloudWatch alarms"]).toBe(0.7);
    expect(items["CloudWatch dashboards"]).toBe(3);
  });

  it("adds the NAT gateway's hours and Elastic IP, drops task public IPs, and doubles Multi-AZ", () => {
    const base = estimateConfig(config(), PRICES, ASSUME);
    const prod = estimateConfig(config({ network: { natGateway: true }, database: { multiAz: true, instanceClass: "db.t3.small" }, services: { api: { desiredCount: 3 } } }), PRICES, ASSUME);
    const items = byItem(prod.items);
    expect(items["NAT gateway"]).toBe(50);
    expect(items["RDS PostgreSQL db.t3.small Multi-AZ"]).toBe(40);
    expect(items["Public IPv4 addresses"]).toBe(0.3); // 2 ALB + 1 EIP; tasks have none
    expect(items["Fargate api: 3 × 0.25 vCPU"]).toBe(3);
    expect(prod.total).toBeGreaterThan(base.total);
  });
});

describe("estimateState", () => {
  const at = "2024-01-01T00:00:00Z";
  const record = (type: string, attributes: Record<string, unknown>) => ({ type, physicalId: "x", attributes, dependsOn: [], createdAt: at, updatedAt: at });
  const state = (): StateDocument => ({
    ...emptyState({ project: "clinical-platform", environment: "dev", region: "us-east-1", accountId: "123456789012" }),
    resources: {
      "data.database.instance": record("rds:db-instance", { instanceClass: "db.t3.micro", multiAz: false, allocatedStorage: 30 }),
      "compute.load-balancer": record("elbv2:load-balancer", { subnetIds: ["a", "b"] }),
      "compute.task-definition.api": record("ecs:task-definition", { arn: "arn:td/api:3", cpu: 1024, memory: 2048 }),
      "compute.service.api": record("ecs:service", { name: "api", taskDefinitionArn: "arn:td/api:3", desiredCount: 2, assignPublicIp: false }),
      "network.nat-gateway": record("ec2:nat-gateway", {}),
      "network.elastic-ip.nat": record("ec2:eip", {}),
    },
  });

  it("derives quantities from the recorded attributes", () => {
    const e = estimateState(state(), PRICES, ASSUME);
    expect(byItem(e.items)).toEqual({
      "RDS PostgreSQL db.t3.micro": 10,
      "RDS gp3 storage": 30,
      "NAT gateway": 50,
      "NAT gateway data processed (assumed 10 GB)": 0.1,
      "Application Load Balancer": 20,
      "Load balancer capacity (assumed 1 LCU)": 1,
      "Public IPv4 addresses": 0.3,
      "Fargate api: 2 × 1 vCPU": 8,
      "Fargate api: 2 × 2 GB": 1.6,
    });
  });

  it("counts the metrics of the recorded alarms and the recorded dashboard", () => {
    const metric = { namespace: "AWS/ApplicationELB", metricName: "RequestCount", dimensions: {}, stat: "Sum", period: 300 };
    const s = state();
    s.resources["ops.alarm.api-5xx-rate"] = record("cloudwatch:metric-alarm", { name: "a", queries: [{ id: "e", metric, returnData: false }, { id: "r", metric, returnData: false }, { id: "rate", expression: "e / r", returnData: true }] });
    s.resources["ops.alarm.db-cpu"] = record("cloudwatch:metric-alarm", { name: "b", metric });
    s.resources["ops.dashboard"] = record("cloudwatch:dashboard", { name: "clinical-platform-dev" });
    const items = byItem(estimateState(s, PRICES, ASSUME).items);
    expect(items["CloudWatch alarms"]).toBe(0.3);
    expect(items["CloudWatch dashboards"]).toBe(3);
  });

  it("costs nothing for an empty state", () => {
    expect(estimateState(emptyState({ project: "p", environment: "dev", region: "us-east-1", accountId: "1" }), PRICES, ASSUME)).toMatchObject({ items: [], total: 0 });
  });

  it("the plan line shows both totals and the signed difference", () => {
    const before = estimateState(state(), PRICES, ASSUME);
    const after = { ...before, total: before.total + 12.5 };
    expect(costDeltaLine(before, after)).toBe("Estimated monthly cost: $121.00 → $133.50 (+$12.50); an estimate at list prices, see 'platform cost'");
    expect(costDeltaLine(after, before)).toContain("(-$12.50)");
    expect(costDeltaLine(before, before)).toBe("Estimated monthly cost: $121.00, no change; an estimate at list prices, see 'platform cost'");
  });

  it("names the part of the cost that retired database instances make (up keeps them until --retire-old)", () => {
    const s = state();
    s.resources["data.database.instance.retired-20260101"] = { ...record("rds:db-instance", { instanceClass: "db.t3.micro", multiAz: false, allocatedStorage: 30 }), physicalId: "clinical-platform-dev-db", retired: { from: "data.database.instance", replacedBy: "clinical-platform-dev-db-r20260101000000", at: "2026-01-02T00:00:00Z" } };
    const retired = retiredCost(s, PRICES, ASSUME)!;
    const withRetired = estimateState(s, PRICES, ASSUME);
    expect(retired.identifiers).toEqual(["clinical-platform-dev-db"]);
    expect(retired.total).toBeCloseTo(withRetired.total - estimateState(state(), PRICES, ASSUME).total, 2);
    expect(costDeltaLine(withRetired, withRetired, retired, "dev")).toBe(
      `Estimated monthly cost: ${usd(withRetired.total)}, no change; ${usd(retired.total)} of it is the retired database instance clinical-platform-dev-db, kept until 'platform db restore --env dev --retire-old' deletes it; an estimate at list prices, see 'platform cost'`,
    );
  });
});
