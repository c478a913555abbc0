import { ECSClient, TagResourceCommand, UntagResourceCommand, type Failure, type Tag } from "@aws-sdk/client-ecs";
import { tagDelta, type ResourceContext } from "./types.js";

/** Helpers shared by the ECS resource modules (cluster, task definition, service). */
export const ecs = (ctx: ResourceContext) => ctx.aws.get(ECSClient);

/** ECS spells tags { key, value } (lowercase), unlike EC2, IAM and ELBv2. */
export function ecsTagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

export function ecsTagRecord(list: Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list ?? []) if (t.key !== undefined) out[t.key] = t.value ?? "";
  return out;
}

/** Brings an ECS resource's tags (cluster, service, task definition: by ARN) to `want`, touching only what differs. */
export async function applyEcsTags(ctx: ResourceContext, arn: string, want: Record<string, string>, have: Record<string, string>): Promise<void> {
  const { set, remove } = tagDelta(want, have);
  if (Object.keys(set).length) await ecs(ctx).send(new TagResourceCommand({ resourceArn: arn, tags: ecsTagList(set) }));
  if (remove.length) await ecs(ctx).send(new UntagResourceCommand({ resourceArn: arn, tagKeys: remove }));
}

/**
 * Describe* calls of ECS answer "no such thing" in `failures` rather than with an error: reason "MISSING".
 * Any other failure reason is a real error.
 */
export function assertOnlyMissing(failures: Failure[] | undefined, what: string): void {
  const other = (failures ?? []).filter((f) => f.reason !== "MISSING");
  if (other.length) throw new Error(`describing ${what}: ${other.map((f) => `${f.arn ?? "?"}: ${f.reason}${f.detail ? ` (${f.detail})` : ""}`).join("; ")}`);
}
