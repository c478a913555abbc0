/** The tags that prove a resource is ours, and the helpers that write them in each service's shape. */
export interface StackIdentity {
  project: string;
  environment: string;
}

export const TAG_PROJECT = "Project";
export const TAG_ENVIRONMENT = "Environment";
export const TAG_MANAGED_BY = "ManagedBy";
export const TAG_LOGICAL_ID = "platform:logical-id";
export const MANAGED_BY = "platform";

export function standardTags(identity: StackIdentity, logicalId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...extra,
    [TAG_PROJECT]: identity.project,
    [TAG_ENVIRONMENT]: identity.environment,
    [TAG_MANAGED_BY]: MANAGED_BY,
    [TAG_LOGICAL_ID]: logicalId,
  };
}

/** EC2, IAM, RDS, ECR, ELBv2, Secrets Manager: a list of { Key, Value }. */
export function tagList(tags: Record<string, string>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function tagRecord(list: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? "";
  return out;
}

/** True when the tags prove the resource belongs to this stack and logical id. */
export function isOurs(tags: Record<string, string>, identity: StackIdentity, logicalId?: string): boolean {
  return (
    tags[TAG_PROJECT] === identity.project &&
    tags[TAG_ENVIRONMENT] === identity.environment &&
    tags[TAG_MANAGED_BY] === MANAGED_BY &&
    (logicalId === undefined || tags[TAG_LOGICAL_ID] === logicalId)
  );
}

/** EC2 Describe* filters that select exactly one logical resource of this stack. */
export function ec2TagFilters(identity: StackIdentity, logicalId: string): { Name: string; Values: string[] }[] {
  return [
    { Name: `tag:${TAG_LOGICAL_ID}`, Values: [logicalId] },
    { Name: `tag:${TAG_PROJECT}`, Values: [identity.project] },
    { Name: `tag:${TAG_ENVIRONMENT}`, Values: [identity.environment] },
  ];
}
