import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import type { AwsClients } from "./clients.js";
import { TAG_ENVIRONMENT, TAG_PROJECT, type StackIdentity } from "./tags.js";

export interface TaggedResource {
  arn: string;
  logicalId?: string;
}

/** Everything the Resource Groups Tagging API still lists with this environment's Project and Environment tags. */
export async function findTaggedResources(clients: AwsClients, identity: StackIdentity): Promise<TaggedResource[]> {
  const client = clients.get(ResourceGroupsTaggingAPIClient);
  const found: TaggedResource[] = [];
  let PaginationToken: string | undefined;
  do {
    const out = await client.send(
      new GetResourcesCommand({
        TagFilters: [
          { Key: TAG_PROJECT, Values: [identity.project] },
          { Key: TAG_ENVIRONMENT, Values: [identity.environment] },
        ],
        PaginationToken,
      }),
    );
    for (const r of out.ResourceTagMappingList ?? []) {
      found.push({ arn: r.ResourceARN!, logicalId: r.Tags?.find((t) => t.Key === "platform:logical-id")?.Value });
    }
    PaginationToken = out.PaginationToken || undefined;
  } while (PaginationToken);
  return found;
}
