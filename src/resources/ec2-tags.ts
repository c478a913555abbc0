import { CreateTagsCommand, DeleteTagsCommand, EC2Client, type ResourceType as Ec2ResourceType } from "@aws-sdk/client-ec2";
import { tagList } from "../aws/tags.js";
import { tagDelta, type ResourceContext } from "./types.js";

/** Tags applied atomically with an EC2 create call, so nothing we create is ever untagged. */
export function ec2TagSpecification(resourceType: Ec2ResourceType | `${Ec2ResourceType}`, tags: Record<string, string>) {
  return [{ ResourceType: resourceType as Ec2ResourceType, Tags: tagList(tags) }];
}

/** Brings an EC2 resource's tags to `want`, touching only what differs. */
export async function applyEc2Tags(ctx: ResourceContext, resourceId: string, want: Record<string, string>, have: Record<string, string>): Promise<void> {
  const ec2 = ctx.aws.get(EC2Client);
  const { set, remove } = tagDelta(want, have);
  if (Object.keys(set).length) await ec2.send(new CreateTagsCommand({ Resources: [resourceId], Tags: tagList(set) }));
  if (remove.length) await ec2.send(new DeleteTagsCommand({ Resources: [resourceId], Tags: remove.map((Key) => ({ Key })) }));
}
