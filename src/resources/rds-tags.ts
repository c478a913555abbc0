import { AddTagsToResourceCommand, ListTagsForResourceCommand, RDSClient, RemoveTagsFromResourceCommand } from "@aws-sdk/client-rds";
import { tagList, tagRecord } from "../aws/tags.js";
import { tagDelta, type ResourceContext } from "./types.js";

/**
 * Tag helpers shared by the RDS resource modules (DB instance, subnet group, parameter group). RDS tags by ARN; create
 * calls take `Tags`, so nothing is ever untagged. Error codes: the SDK names a modelled RDS exception after its class
 * ("DBInstanceNotFoundFault") while the wire code differs ("DBInstanceNotFound"); both are accepted wherever we match.
 */
export const rdsClient = (ctx: ResourceContext) => ctx.aws.get(RDSClient);

export async function readRdsTags(ctx: ResourceContext, arn: string): Promise<Record<string, string>> {
  const out = await rdsClient(ctx).send(new ListTagsForResourceCommand({ ResourceName: arn }));
  return tagRecord(out.TagList);
}

/** Brings an RDS resource's tags to `want`, touching only what differs. */
export async function applyRdsTags(ctx: ResourceContext, arn: string, want: Record<string, string>, have: Record<string, string>): Promise<void> {
  const { set, remove } = tagDelta(want, have);
  if (Object.keys(set).length) await rdsClient(ctx).send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: tagList(set) }));
  if (remove.length) await rdsClient(ctx).send(new RemoveTagsFromResourceCommand({ ResourceName: arn, TagKeys: remove }));
}
