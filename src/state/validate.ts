import { z } from "zod";
import { UserError } from "../errors.js";

/**
 * State is input, not truth: whoever can write the state object (a bucket policy, a laptop) must not be able to make
 * platform act on what it chooses, nor crash it. Every document read is checked against this schema before use: the
 * shape, ids and names as strings, ids of the kinds their names say, resource ARNs of this account. A document that
 * fails is refused (exit 2) naming the field; images recorded by deploy are checked against the config in
 * checkRecordedImages.
 */

const ACCOUNT = /^\d{12}$/;
const TIMESTAMP = z.string().min(1);
/** Attribute names whose values are ids, names or ARNs: strings, or lists of strings. */
const SCALAR_ID = /(^|[a-z])(Id|Name|Arn|Uri)$|^(id|name|arn|identifier|uri|bucket)$/;
const LIST_ID = /(Ids|Names|Arns)$/;
/** EC2 ids whose prefix says their kind. */
const ID_PREFIX: Record<string, string> = {
  vpcId: "vpc-",
  subnetId: "subnet-",
  groupId: "sg-",
  routeTableId: "rtb-",
  internetGatewayId: "igw-",
  natGatewayId: "nat-",
  allocationId: "eipalloc-",
  networkAclId: "acl-",
  flowLogId: "fl-",
  associationId: "rtbassoc-",
  securityGroupRuleId: "sgr-",
};
const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:.+$/;

const resourceRecord = z.looseObject({
  type: z.string().regex(/^[a-z0-9-]+:[a-z0-9-]+$/, "a resource type such as ec2:vpc"),
  physicalId: z.string().min(1, "a resource id"),
  attributes: z.record(z.string(), z.unknown()),
  dependsOn: z.array(z.string()).default([]),
  createdAt: TIMESTAMP.optional(),
  updatedAt: TIMESTAMP.optional(),
  retired: z.object({ from: z.string(), replacedBy: z.string(), at: z.string() }).optional(),
});

const deployment = z.looseObject({
  image: z.string().min(1),
  digest: z.string().regex(/^sha256:[a-f0-9]{64}$/, "an image digest sha256:<64 hex digits>").optional(),
  configImageTag: z.string(),
  taskDefinitionArn: z.string().regex(ARN, "a task definition ARN"),
  deployedAt: z.string(),
});

const release = z.looseObject({
  live: z.enum(["blue", "green"]).optional(),
  previous: z
    .object({
      image: z.string().min(1),
      digest: z.string().regex(/^sha256:[a-f0-9]{64}$/, "an image digest sha256:<64 hex digits>").optional(),
      taskDefinitionArn: z.string().regex(ARN, "a task definition ARN"),
      slot: z.enum(["blue", "green"]).optional(),
    })
    .optional(),
  bakingUntil: z.string().optional(),
});

export const StateSchema = z
  .looseObject({
    version: z.int().min(1),
    lineage: z.string().min(1),
    serial: z.int().min(0),
    project: z.string().min(1),
    environment: z.string().min(1),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region"),
    accountId: z.string().regex(ACCOUNT, "a 12-digit AWS account id"),
    resources: z.record(z.string(), resourceRecord),
    outputs: z.record(z.string(), z.unknown()).default({}),
    generations: z.record(z.string(), z.int().min(0)).optional(),
    deployments: z.record(z.string(), deployment).optional(),
    releases: z.record(z.string(), release).optional(),
  })
  .superRefine((doc, ctx) => {
    for (const [logicalId, record] of Object.entries(doc.resources)) {
      for (const [key, value] of Object.entries(record.attributes)) {
        const path = ["resources", logicalId, "attributes", key];
        if (value === undefined || value === null) continue;
        if (SCALAR_ID.test(key) && typeof value !== "string") ctx.addIssue({ code: "custom", path, message: `expected a string, found ${Array.isArray(value) ? "a list" : typeof value}` });
        else if (LIST_ID.test(key) && !(Array.isArray(value) && value.every((v) => typeof v === "string"))) ctx.addIssue({ code: "custom", path, message: "expected a list of strings" });
        else if (ID_PREFIX[key] && !String(value).startsWith(ID_PREFIX[key]!)) ctx.addIssue({ code: "custom", path, message: `expected an id starting with ${ID_PREFIX[key]}` });
        else if (key === "arn") {
          const m = ARN.exec(String(value));
          if (!m) ctx.addIssue({ code: "custom", path, message: "expected an ARN" });
          else if (m[1] && m[1] !== "aws" && m[1] !== doc.accountId) ctx.addIssue({ code: "custom", path, message: `names account ${m[1]}, not this state's ${doc.accountId}` });
        }
      }
    }
  });

/** Checks a parsed state document; refuses (exit 2) one that does not fit, naming the first fields that do not. */
export function validateState(doc: unknown, source: string): z.output<typeof StateSchema> {
  const parsed = StateSchema.safeParse(doc);
  if (parsed.success) return parsed.data;
  const shown = parsed.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join(".") || "(top level)"}: ${i.message}`);
  const more = parsed.error.issues.length > shown.length ? ` (and ${parsed.error.issues.length - shown.length} more)` : "";
  throw new UserError(
    `${source}: invalid state: ${shown.join("; ")}${more}. The state was changed outside platform: restore it from a backup (the state bucket's previous versions) or repair it with 'platform state'`,
  );
}

/**
 * The images deploy and rollback recorded may come only from the stack's own ECR repositories (<account>.dkr.ecr.
 * <region>.amazonaws.com/<project>-<environment>/...) or, by digest, from images.allowedRegistries: a forged record
 * cannot make up or rollback run someone else's image.
 */
export function checkRecordedImages(doc: { deployments?: Record<string, { image: string }>; releases?: Record<string, { previous?: { image: string } }> }, stack: { accountId: string; region: string; project: string; environment: string }, allowedRegistries: readonly string[], source: string): void {
  const own = `${stack.accountId}.dkr.ecr.${stack.region}.amazonaws.com/${stack.project}-${stack.environment}/`;
  const recorded: [string, string][] = [
    ...Object.entries(doc.deployments ?? {}).map(([svc, d]) => [`deployments.${svc}.image`, d.image] as [string, string]),
    ...Object.entries(doc.releases ?? {}).flatMap(([svc, r]) => (r.previous ? [[`releases.${svc}.previous.image`, r.previous.image] as [string, string]] : [])),
  ];
  for (const [field, image] of recorded) {
    if (image.startsWith(own)) continue;
    const pinned = /@sha256:[a-f0-9]{64}$/.test(image);
    if (allowedRegistries.some((prefix) => image.startsWith(prefix)) && pinned) continue;
    throw new UserError(
      `${source}: invalid state: ${field}: ${image} is neither in this environment's ECR (${own}...) nor, by digest, under images.allowedRegistries. The state was changed outside platform: restore it from a backup, or deploy an image of your own with 'platform deploy'`,
    );
  }
}
