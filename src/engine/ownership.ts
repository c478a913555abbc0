import { MANAGED_BY, TAG_ENVIRONMENT, TAG_LOGICAL_ID, TAG_MANAGED_BY, TAG_PROJECT, type StackIdentity } from "../aws/tags.js";
import { UserError } from "../errors.js";
import type { ResourceContext, ResourceType } from "../resources/types.js";

/**
 * A resource that exists under the key the stack would create it with (its name, its port on a load balancer) but whose
 * tags do not prove it is this environment's: the engine neither adopts nor replaces it. Exit 2, nothing changed.
 */
export class NotOurs extends UserError {
  override name = "NotOurs";
  constructor(
    readonly logicalId: string,
    readonly physicalId: string,
    /** The first tag that is missing or differs. */
    readonly tag: string,
    message: string,
  ) {
    super(message);
  }
}

/** The tags that make a resource this environment's `logicalId`, in the order they are checked. */
export function ownershipTags(identity: StackIdentity, logicalId: string): [string, string][] {
  return [
    [TAG_PROJECT, identity.project],
    [TAG_ENVIRONMENT, identity.environment],
    [TAG_MANAGED_BY, MANAGED_BY],
    [TAG_LOGICAL_ID, logicalId],
  ];
}

/**
 * Undefined when `actual` (found without a record in state) is provably this environment's `logicalId`, else the
 * NotOurs error naming the tag that is missing. The type's own `owns` decides when it has one; a type whose attributes
 * carry no tags is vouched for by the parent its key names (the engine found that parent ours first).
 */
export function notOurs(type: ResourceType<any, any>, ctx: ResourceContext, actual: unknown, logicalId: string): NotOurs | undefined {
  const physicalId = type.physicalId(actual);
  const tags = (actual as { tags?: Record<string, string> }).tags;
  if (type.owns ? type.owns(ctx, actual, logicalId) : !tags || ownershipTags(ctx.identity, logicalId).every(([k, v]) => tags[k] === v)) return undefined;
  const [tag, want] = ownershipTags(ctx.identity, logicalId).find(([k, v]) => tags?.[k] !== v) ?? [TAG_LOGICAL_ID, logicalId];
  const have = tags?.[tag];
  return new NotOurs(
    logicalId,
    physicalId,
    tag,
    `${logicalId}: ${type.type} ${physicalId} already exists and is not this environment's (tag ${tag} is ${have === undefined ? "missing" : `"${have}"`}, ` +
      `want "${want}"); nothing was changed. Delete it, tag it ${ownershipTags(ctx.identity, logicalId).map(([k, v]) => `${k}=${v}`).join(", ")} to adopt it, or give ${logicalId} another name in the config`,
  );
}
