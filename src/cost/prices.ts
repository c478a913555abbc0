/**
 * The prices `platform cost` multiplies by: AWS on-demand list prices for us-east-1 (N. Virginia), Linux, in USD, as
 * the AWS pricing pages named in `source` showed them on `PRICES_TAKEN`. They are written down here rather than read
 * from the AWS Price List API so the estimate needs no AWS call and is reproducible; update them (and the date) when
 * AWS changes a price. Other regions are approximated with a multiplier, and the output says so.
 */
export interface PriceTable {
  /** When the prices were read from the pricing pages (YYYY-MM). */
  taken: string;
  /** The region the prices are for. */
  region: string;
  /** Hours in a month, as AWS's own calculator counts them. */
  hoursPerMonth: number;
  /** RDS for PostgreSQL, single-AZ, on-demand, USD per instance-hour; Multi-AZ is twice this. */
  rdsInstanceHour: Record<string, number>;
  /** RDS gp3 storage, USD per GB-month (single-AZ; Multi-AZ is twice this). */
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
  /** S3 Standard, USD per GB-month (first 50 TB). */
  s3StandardGbMonth: number;
  /** ECR storage, USD per GB-month. */
  ecrGbMonth: number;
  /** The pricing pages the numbers come from, by name. */
  source: string[];
}

export const PRICES_TAKEN = "2024-06";

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
  s3StandardGbMonth: 0.023,
  ecrGbMonth: 0.1,
  source: [
    "Amazon RDS for PostgreSQL Pricing",
    "Amazon VPC Pricing (NAT gateway, public IPv4 addresses)",
    "Elastic Load Balancing Pricing (Application Load Balancer)",
    "AWS Fargate Pricing",
    "AWS Secrets Manager Pricing",
    "Amazon CloudWatch Pricing (Logs)",
    "Amazon S3 Pricing",
    "Amazon ECR Pricing",
  ],
};

/**
 * How much dearer a region is than us-east-1, roughly (compared on the same pages for Fargate, RDS and NAT gateway).
 * Regions priced exactly like us-east-1 are 1; the others are approximations, and regions not listed use `FALLBACK`.
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
