import { z } from "zod";
import { cidrContains, cidrsOverlap, parseCidr } from "./cidr.js";

/** CloudWatch Logs accepts only these retention periods (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** `<project>-<environment>` prefixes every name; load balancer and target group names allow 32 characters with a suffix of up to 7. */
export const MAX_NAME_PREFIX = 25;

export const ENVIRONMENT_PATTERN = /^[a-z][a-z0-9-]{0,8}[a-z0-9]$|^[a-z]$/;
export const ENVIRONMENT_RULE = "1-10 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen";

const cidrBlock = z
  .string()
  .refine((s) => parseCidr(s) !== undefined, { message: 'must be an IPv4 CIDR block with host bits zero, e.g. "10.0.0.0/16"' });

const tagKey = z.string().min(1).max(128);
const RESERVED_TAGS = ["Project", "Environment", "ManagedBy", "platform:logical-id"];

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Path of the JSON Schema, for editors."),
    project: z
      .string()
      .regex(/^[a-z][a-z0-9-]*[a-z0-9]$/, "lowercase letters, digits and hyphens, starting with a letter")
      .max(20)
      .default("clinical-platform")
      .describe("Prefix of every name: <project>-<environment>-<role>."),
    environment: z
      .string()
      .regex(ENVIRONMENT_PATTERN, ENVIRONMENT_RULE)
      .optional()
      .describe("The environment's name; defaults to the config file's name (dev for config/dev.json)."),
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'an AWS region such as "us-east-1"')
      .default("us-east-1"),
    endpoint: z
      .url()
      .optional()
      .describe("An AWS-compatible endpoint (LocalStack: http://localhost:4566). AWS_ENDPOINT_URL overrides it."),
    tags: z.record(tagKey, z.string().max(256)).default({}).describe("Extra tags on every taggable resource."),
    network: z
      .strictObject({
        cidr: cidrBlock.default("10.0.0.0/16").describe("The VPC's range, /16 to /26."),
        publicSubnets: z
          .tuple([cidrBlock, cidrBlock])
          .optional()
          .describe("Two public subnet ranges (AZ a, AZ b); derived from cidr when omitted."),
        privateSubnets: z
          .tuple([cidrBlock, cidrBlock])
          .optional()
          .describe("Two private subnet ranges (AZ a, AZ b); derived from cidr when omitted."),
        natGateway: z
          .boolean()
          .default(false)
          .describe("A NAT gateway (about $33/month plus data) so private subnets reach the internet."),
        flowLogs: z
          .strictObject({
            enabled: z.boolean().default(true),
            trafficType: z.enum(["ALL", "ACCEPT", "REJECT"]).default("ALL"),
          })
          .prefault({}),
        appPort: z.int().min(1).max(65535).default(8000).describe("The port the API container listens on."),
      })
      .prefault({}),
    database: z
      .strictObject({
        instanceClass: z
          .string()
          .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'an RDS instance class such as "db.t3.micro"')
          .default("db.t3.micro"),
      })
      .prefault({}),
    monitoring: z
      .strictObject({
        prometheus: z.boolean().default(false),
        grafana: z.boolean().default(false),
        openlineage: z.boolean().default(false),
      })
      .prefault({}),
    logs: z
      .strictObject({
        retentionDays: z
          .number()
          .refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n), {
            message: `one of ${LOG_RETENTION_DAYS.join(", ")}`,
          })
          .default(7),
      })
      .prefault({}),
  })
  .superRefine((cfg, ctx) => {
    for (const key of Object.keys(cfg.tags)) {
      if (RESERVED_TAGS.includes(key)) ctx.addIssue({ code: "custom", path: ["tags", key], message: `${RESERVED_TAGS.join(", ")} are set by platform itself` });
      else if (key.toLowerCase().startsWith("aws:")) ctx.addIssue({ code: "custom", path: ["tags", key], message: 'tag keys may not start with "aws:"' });
    }
    const vpc = parseCidr(cfg.network.cidr);
    if (!vpc) return;
    if (vpc.prefix < 16 || vpc.prefix > 26) {
      ctx.addIssue({ code: "custom", path: ["network", "cidr"], message: "AWS allows VPC ranges from /16 to /28, and four subnets need at least a /26" });
      return;
    }
    const subnets: { path: (string | number)[]; text: string }[] = [];
    for (const key of ["publicSubnets", "privateSubnets"] as const) {
      cfg.network[key]?.forEach((text, i) => subnets.push({ path: ["network", key, i], text }));
    }
    const parsed = subnets.map((s) => ({ ...s, cidr: parseCidr(s.text) }));
    for (const [i, s] of parsed.entries()) {
      if (!s.cidr) continue;
      if (!cidrContains(vpc, s.cidr)) {
        ctx.addIssue({ code: "custom", path: s.path, message: `${s.text} is outside the VPC range ${cfg.network.cidr}` });
      } else if (s.cidr.prefix > 28) {
        ctx.addIssue({ code: "custom", path: s.path, message: "AWS subnets are /28 or larger" });
      }
      for (const other of parsed.slice(i + 1)) {
        if (other.cidr && cidrsOverlap(s.cidr, other.cidr)) {
          ctx.addIssue({ code: "custom", path: other.path, message: `${other.text} overlaps ${s.text} (${s.path.join(".")})` });
        }
      }
    }
  });

export type ConfigInput = z.input<typeof ConfigSchema>;
/** A validated configuration: every default applied and the environment name settled. */
export type Config = z.output<typeof ConfigSchema> & { environment: string };
