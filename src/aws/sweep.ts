import { paginateGetResources, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import type { AwsClients } from "./clients.js";
import { TAG_ENVIRONMENT, TAG_LOGICAL_ID, TAG_PROJECT, type StackIdentity } from "./tags.js";

/** Something still there with this environment's tags: listed by the tagging API (arn), or found by a finder (physicalId). */
export interface TaggedResource {
  arn: string;
  logicalId?: string;
}

export interface Leftover extends TaggedResource {
  /** Set for resources the tagging API did not list but a finder found (its type and id; `arn` then repeats them). */
  type?: string;
  physicalId?: string;
}

/** Everything the Resource Groups Tagging API still lists with this environment's Project and Environment tags. */
export async function findTaggedResources(clients: AwsClients, identity: StackIdentity): Promise<TaggedResource[]> {
  const client = clients.get(ResourceGroupsTaggingAPIClient);
  const found: TaggedResource[] = [];
  const TagFilters = [
    { Key: TAG_PROJECT, Values: [identity.project] },
    { Key: TAG_ENVIRONMENT, Values: [identity.environment] },
  ];
  for await (const out of paginateGetResources({ client }, { TagFilters })) {
    for (const r of out.ResourceTagMappingList ?? []) {
      found.push({ arn: r.ResourceARN!, logicalId: r.Tags?.find((t) => t.Key === TAG_LOGICAL_ID)?.Value });
    }
  }
  return found;
}

/** How a sweep checks what the tagging API says against the services themselves (the callers know the finders). */
export interface SweepChecks {
  /**
   * Whether the resource behind a listed ARN still exists. The tagging API's index lags deletions (a deleted database,
   * VPC or task definition stays listed for a while): false drops the ARN, undefined (cannot tell cheaply) keeps it.
   */
  exists?(resource: TaggedResource): Promise<boolean | undefined>;
  /**
   * What the tagging API does not list at all (resources that take no tags, IAM in some partitions, anything its index
   * has not caught up with), found by asking each service: given what was listed, returns what else still exists.
   */
  unlisted?(listed: TaggedResource[]): Promise<Leftover[]>;
}

/**
 * After `down`: what is still there with this environment's tags. The tagging API lists candidates; each is checked with
 * its service (stale entries dropped), and the per-service checks add what the tagging API cannot see.
 */
export async function sweepEnvironment(clients: AwsClients, identity: StackIdentity, checks: SweepChecks = {}): Promise<Leftover[]> {
  const listed = await findTaggedResources(clients, identity);
  const verdicts = await inBatches(listed, (r) => (checks.exists ? checks.exists(r) : Promise.resolve(undefined)));
  const live = listed.filter((_r, i) => verdicts[i] !== false);
  return [...live, ...((await checks.unlisted?.(listed)) ?? [])];
}

/** Runs `check` over `items`, a few at a time (each is one or two describe calls). */
export async function inBatches<T, R>(items: T[], check: (item: T) => Promise<R>, size = 16): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(check))));
  return out;
}
