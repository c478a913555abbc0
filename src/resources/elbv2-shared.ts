import { AddTagsCommand, DescribeTagsCommand, ElasticLoadBalancingV2Client, RemoveTagsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { orUndefined } from "../aws/errors.js";
import { tagList, tagRecord } from "../aws/tags.js";
import { UserError } from "../errors.js";
import { tagDelta, type ResourceContext } from "./types.js";
import { batchedRead } from "./read-batch.js";

/** Helpers shared by the ELBv2 resource modules (load balancer, target group, listener). */
export const elbv2 = (ctx: ResourceContext) => ctx.aws.get(ElasticLoadBalancingV2Client);

/**
 * The SDK names ELBv2 exceptions "<Code>Exception"; the wire code (awsQuery) lacks the suffix. Both spellings are listed
 * wherever a code is matched, as src/aws/errors.ts does for not-found codes.
 */
export const codes = (...names: string[]) => names.flatMap((n) => [n, `${n}Exception`]);

/** An ELBv2 resource's tags; undefined when the resource is gone (DescribeTags answers with its not-found code). */
export async function readElbv2Tags(ctx: ResourceContext, arn: string): Promise<Record<string, string> | undefined> {
  const out = await orUndefined(elbv2(ctx).send(new DescribeTagsCommand({ ResourceArns: [arn] })));
  if (!out) return undefined;
  return tagRecord(out.TagDescriptions?.find((d) => d.ResourceArn === arn)?.Tags);
}

/** DescribeTags takes up to 20 ARNs (API reference). */
const TAGS_BATCH = 20;

/**
 * Like readElbv2Tags, but reads made within a few milliseconds of each other share one DescribeTags call (up to 20 ARNs),
 * so the observe sweep spends one call on the tags of every load balancer, target group, listener and rule.
 * A batch that fails because one of its resources is gone is read again one ARN at a time.
 */
export const readElbv2TagsBatched = batchedRead<string, Record<string, string>>({
  size: TAGS_BATCH,
  async read(ctx, arns) {
    const found = new Map<string, Record<string, string> | Error>();
    const out = arns.length === 1 ? undefined : await orUndefined(elbv2(ctx).send(new DescribeTagsCommand({ ResourceArns: arns })));
    if (out) {
      for (const arn of arns) found.set(arn, tagRecord(out.TagDescriptions?.find((d) => d.ResourceArn === arn)?.Tags));
      return found;
    }
    await Promise.all(
      arns.map(async (arn) => {
        try {
          const tags = await readElbv2Tags(ctx, arn);
          if (tags !== undefined) found.set(arn, tags);
        } catch (err) {
          found.set(arn, err instanceof Error ? err : new Error(String(err)));
        }
      }),
    );
    return found;
  },
});

/** Brings an ELBv2 resource's tags to `want`, touching only what differs. */
export async function applyElbv2Tags(ctx: ResourceContext, arn: string, want: Record<string, string>, have: Record<string, string>): Promise<void> {
  const { set, remove } = tagDelta(want, have);
  if (Object.keys(set).length) await elbv2(ctx).send(new AddTagsCommand({ ResourceArns: [arn], Tags: tagList(set) }));
  if (remove.length) await elbv2(ctx).send(new RemoveTagsCommand({ ResourceArns: [arn], TagKeys: remove }));
}

/**
 * Load balancer and target group names: 1–32 letters, digits and hyphens, no hyphen first or last
 * (CreateLoadBalancer / CreateTargetGroup API reference); load balancer names also may not start with "internal-".
 */
export const ELBV2_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

export function elbv2NameProblem(name: string, kind: "load balancer" | "target group"): string | undefined {
  if (!ELBV2_NAME.test(name)) return `${kind} name "${name}" must be 1-32 letters, digits or hyphens, not starting or ending with a hyphen`;
  if (kind === "load balancer" && name.toLowerCase().startsWith("internal-")) return `load balancer name "${name}" must not start with "internal-"`;
  return undefined;
}

export function assertElbv2Name(name: string, kind: "load balancer" | "target group"): void {
  const problem = elbv2NameProblem(name, kind);
  if (problem) throw new UserError(`${problem}; shorten or rename project or environment in the config`);
}

/** ELBv2 attributes are string pairs; these turn them into a record and back. */
export function attributeRecord(list: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).filter((a) => a.Key !== undefined).map((a) => [a.Key!, a.Value ?? ""]));
}

export function attributeList(record: Record<string, string | number | boolean>): { Key: string; Value: string }[] {
  return Object.entries(record).map(([Key, Value]) => ({ Key, Value: String(Value) }));
}
