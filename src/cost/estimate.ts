import type { Config } from "../config/schema.js";
import { buildStack } from "../stack/index.js";
import { Ref } from "../stack/model.js";
import { priceKey, regionPricing, type PriceTable, US_EAST_1_PRICES } from "./prices.js";

/**
 * A monthly cost estimate: what the environment's resources cost by the hour and month at list prices, from the
 * config (or, in from-state.ts, from what state records). Pure: no AWS call. Usage-based charges that the config does
 * not decide are either excluded or priced at an assumed volume that the estimate states.
 */
export interface LineItem {
  item: string;
  quantity: number;
  unit: string;
  /** Undefined when the table has no price for it (an instance class it does not list): not in the total. */
  unitPrice: number | undefined;
  monthly: number;
}

export interface Estimate {
  region: string;
  /** Which prices: "us-east-1 prices", or "us-east-1 prices × 1.15 (an approximation for eu-central-1)". */
  basis: string;
  exact: boolean;
  pricesTaken: string;
  sources: string[];
  items: LineItem[];
  total: number;
  assumptions: string[];
  excluded: string[];
  /** Items that could not be priced. */
  unpriced: string[];
  /** Items priced with a number no public pricing material confirmed (see `checks` in prices.ts). */
  unverifiedPrices: string[];
}

/** Volumes the config does not decide, priced at these amounts per month (stated in the output). */
export interface Assumptions {
  natProcessedGb: number;
  logIngestGb: number;
  s3StoredGb: number;
  ecrStoredGb: number;
  /** Load balancer capacity units used on average. */
  albLcu: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = { natProcessedGb: 10, logIngestGb: 5, s3StoredGb: 50, ecrStoredGb: 2, albLcu: 1 };

export const EXCLUDED = [
  "data transfer out to the internet and between availability zones",
  "S3, Secrets Manager, ECR, SNS and CloudWatch API requests and notifications",
  "NAT gateway data processing beyond the assumed volume",
  "RDS backup storage beyond the database's size, snapshots, Performance Insights beyond the free tier",
  "CloudWatch custom metrics and Container Insights",
  "CloudTrail data events ($0.10 per 100,000 when audit.dataEvents is on; the first copy of management events is free)",
  "KMS keys, taxes and support plans",
];

/** The quantities that cost money, read from resources (stack specs or recorded attributes) by type. */
export interface Footprint {
  databases: { instanceClass: string; multiAz: boolean; storageGb: number }[];
  natGateways: number;
  loadBalancers: number;
  publicIpv4: number;
  tasks: { name: string; vcpu: number; memoryGb: number; count: number }[];
  secrets: number;
  logGroups: number;
  buckets: number;
  repositories: number;
  /** Metrics watched by CloudWatch alarms: one per single-metric alarm, one per metric of a metric-math alarm. */
  alarmMetrics: number;
  dashboards: number;
}

/** One resource as the footprint reads it: its type ("rds:db-instance") and its spec or recorded attributes. */
export interface CostedResource {
  logicalId: string;
  type: string;
  values: Record<string, unknown>;
}

export function footprint(resources: CostedResource[]): Footprint {
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const taskDefinitions = ofType("ecs:task-definition");
  const taskDefinitionFor = (ref: unknown) =>
    ref instanceof Ref ? taskDefinitions.find((t) => t.logicalId === ref.logicalId) : taskDefinitions.find((t) => t.values.arn === ref);
  const tasks = ofType("ecs:service").map((s) => {
    const td = taskDefinitionFor(s.values.taskDefinitionArn);
    return {
      name: String(s.values.name ?? s.logicalId),
      vcpu: Number(td?.values.cpu ?? 0) / 1024,
      memoryGb: Number(td?.values.memory ?? 0) / 1024,
      count: Number(s.values.desiredCount ?? 0),
      publicIp: s.values.assignPublicIp === true,
    };
  });
  const albs = ofType("elbv2:load-balancer");
  return {
    databases: ofType("rds:db-instance").map((d) => ({
      instanceClass: String(d.values.instanceClass),
      multiAz: d.values.multiAz === true,
      storageGb: Number(d.values.allocatedStorage ?? 0),
    })),
    natGateways: ofType("ec2:nat-gateway").length,
    loadBalancers: albs.length,
    // An internet-facing ALB holds one public address per subnet (zone); the NAT gateway its Elastic IP; tasks without NAT one each.
    publicIpv4:
      ofType("ec2:eip").length +
      albs.reduce((n, a) => n + (Array.isArray(a.values.subnetIds) ? a.values.subnetIds.length : 2), 0) +
      tasks.filter((t) => t.publicIp).reduce((n, t) => n + t.count, 0),
    tasks: tasks.map(({ publicIp: _, ...t }) => t),
    secrets: ofType("secretsmanager:secret").length,
    logGroups: ofType("logs:log-group").length,
    buckets: ofType("s3:bucket").length,
    repositories: ofType("ecr:repository").length,
    alarmMetrics: ofType("cloudwatch:metric-alarm").reduce((n, a) => n + alarmMetricCount(a.values), 0),
    dashboards: ofType("cloudwatch:dashboard").length,
  };
}

/** What CloudWatch bills an alarm for: its metric, or each metric (not expression) of a metric-math alarm. */
function alarmMetricCount(alarm: Record<string, unknown>): number {
  if (alarm.metric) return 1;
  const queries = Array.isArray(alarm.queries) ? (alarm.queries as { metric?: unknown }[]) : [];
  return queries.filter((q) => q.metric).length;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Prices a footprint: one line item per thing that costs money, and the total of those priced. */
export function priceFootprint(fp: Footprint, region: string, table: PriceTable = US_EAST_1_PRICES, assume: Assumptions = DEFAULT_ASSUMPTIONS): Estimate {
  const { factor, basis, exact } = regionPricing(table, region);
  const h = table.hoursPerMonth;
  const items: LineItem[] = [];
  const unpriced: string[] = [];
  const unverifiedPrices: string[] = [];
  const add = (item: string, quantity: number, unit: string, unitPrice: number | undefined, key: string) => {
    if (quantity <= 0) return;
    const price = unitPrice === undefined ? undefined : unitPrice * factor;
    items.push({ item, quantity, unit, unitPrice: price, monthly: price === undefined ? 0 : round(quantity * price) });
    if (unitPrice !== undefined && table.checks?.[key]?.verified === false) unverifiedPrices.push(`${item} ($${unitPrice} per ${unit.replace(/s$/, "")})`);
  };
  for (const db of fp.databases) {
    const hourly = table.rdsInstanceHour[db.instanceClass];
    if (hourly === undefined) unpriced.push(`RDS instance class ${db.instanceClass} (not in the price table)`);
    const azs = db.multiAz ? 2 : 1;
    add(`RDS PostgreSQL ${db.instanceClass}${db.multiAz ? " Multi-AZ" : ""}`, h * azs, "instance-hours", hourly, priceKey("rdsInstanceHour", db.instanceClass));
    add(`RDS gp3 storage${db.multiAz ? " (Multi-AZ: two copies)" : ""}`, db.storageGb * azs, "GB-months", table.rdsGp3GbMonth, priceKey("rdsGp3GbMonth"));
  }
  add("NAT gateway", fp.natGateways * h, "hours", table.natGatewayHour, priceKey("natGatewayHour"));
  add(`NAT gateway data processed (assumed ${assume.natProcessedGb} GB)`, fp.natGateways * assume.natProcessedGb, "GB", table.natGatewayGb, priceKey("natGatewayGb"));
  add("Application Load Balancer", fp.loadBalancers * h, "hours", table.albHour, priceKey("albHour"));
  add(`Load balancer capacity (assumed ${assume.albLcu} LCU)`, fp.loadBalancers * assume.albLcu * h, "LCU-hours", table.albLcuHour, priceKey("albLcuHour"));
  add("Public IPv4 addresses", fp.publicIpv4 * h, "address-hours", table.publicIpv4Hour, priceKey("publicIpv4Hour"));
  for (const t of fp.tasks) {
    add(`Fargate ${t.name}: ${t.count} × ${t.vcpu} vCPU`, t.count * t.vcpu * h, "vCPU-hours", table.fargateVcpuHour, priceKey("fargateVcpuHour"));
    add(`Fargate ${t.name}: ${t.count} × ${t.memoryGb} GB`, t.count * t.memoryGb * h, "GB-hours", table.fargateGbHour, priceKey("fargateGbHour"));
  }
  add("Secrets Manager secrets", fp.secrets, "secret-months", table.secretMonth, priceKey("secretMonth"));
  if (fp.logGroups) {
    add(`CloudWatch Logs ingestion (assumed ${assume.logIngestGb} GB)`, assume.logIngestGb, "GB", table.logsIngestGb, priceKey("logsIngestGb"));
    add(`CloudWatch Logs storage (assumed ${assume.logIngestGb} GB kept)`, assume.logIngestGb, "GB-months", table.logsStoreGbMonth, priceKey("logsStoreGbMonth"));
  }
  add("CloudWatch alarms", fp.alarmMetrics, "alarm metric-months", table.alarmMetricMonth, priceKey("alarmMetricMonth"));
  add("CloudWatch dashboards", fp.dashboards, "dashboard-months", table.dashboardMonth, priceKey("dashboardMonth"));
  if (fp.buckets) add(`S3 Standard storage (assumed ${assume.s3StoredGb} GB over ${fp.buckets} buckets)`, assume.s3StoredGb, "GB-months", table.s3StandardGbMonth, priceKey("s3StandardGbMonth"));
  if (fp.repositories) add(`ECR image storage (assumed ${assume.ecrStoredGb} GB)`, assume.ecrStoredGb, "GB-months", table.ecrGbMonth, priceKey("ecrGbMonth"));
  const total = round(items.reduce((sum, i) => sum + i.monthly, 0));
  const assumptions = [
    `${h} hours a month; services run at their desired counts all month`,
    `${assume.natProcessedGb} GB through each NAT gateway, ${assume.logIngestGb} GB of logs, ${assume.s3StoredGb} GB in S3, ${assume.ecrStoredGb} GB of images, ${assume.albLcu} LCU on the load balancer`,
    "list prices with no free tier subtracted (free-tier allowances belong to the account, shared by its environments)",
    ...(unverifiedPrices.length ? [`prices not confirmed by public pricing material, carried over from 2024-06: ${unverifiedPrices.join(", ")}`] : []),
  ];
  return { region, basis, exact, pricesTaken: table.taken, sources: table.source, items, total, assumptions, excluded: EXCLUDED, unpriced, unverifiedPrices };
}

/** Stand-in facts: the estimate does not depend on the account or the zones' names. */
const ESTIMATE_FACTS = { accountId: "000000000000" };

/** The estimate for a config: the stack it would build, priced. */
export function estimateConfig(config: Config, table?: PriceTable, assume?: Assumptions): Estimate {
  const stack = buildStack(config, { ...ESTIMATE_FACTS, region: config.region, availabilityZones: [`${config.region}a`, `${config.region}b`] });
  const resources = stack.nodes.map((n) => ({ logicalId: n.logicalId, type: n.type.type, values: n.spec as Record<string, unknown> }));
  return priceFootprint(footprint(resources), config.region, table, assume);
}
