import {
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandInput,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { hasCode, orUndefined } from "../aws/errors.js";
import { ec2TagFilters, isOurs, TAG_LOGICAL_ID, tagRecord } from "../aws/tags.js";
import { applyEc2Tags, ec2TagSpecification } from "./ec2-tags.js";
import { single } from "./find.js";
import { retryWhileInterfacesDrain } from "./network-interfaces.js";
import { retryWhile } from "./retry.js";
import { compareFields, compareTags, type ResourceContext, type ResourceType } from "./types.js";

/** A security group without rules: its rules are `ec2:security-group-rule` resources, so groups can reference each other without cycles. */
export interface SecurityGroupSpec {
  vpcId: string;
  groupName: string;
  description: string;
  tags: Record<string, string>;
}

export interface SecurityGroupAttrs extends SecurityGroupSpec {
  groupId: string;
  /** Present (true) while AWS's allow-all egress rule is still there, e.g. when a run died between create and revoke. */
  defaultEgress?: boolean;
}

/** The rule AWS puts in every new group; egress is least-privilege here and comes from rule resources. */
const DEFAULT_EGRESS = [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }];

async function findGroups(ctx: ResourceContext, input: DescribeSecurityGroupsCommandInput): Promise<SecurityGroup[]> {
  const out = await orUndefined(ctx.aws.get(EC2Client).send(new DescribeSecurityGroupsCommand(input)));
  return out?.SecurityGroups ?? [];
}

function toAttrs(g: SecurityGroup): SecurityGroupAttrs {
  const defaultEgress = (g.IpPermissionsEgress ?? []).some((p) => p.IpProtocol === "-1" && p.IpRanges?.some((r) => r.CidrIp === "0.0.0.0/0"));
  return { groupId: g.GroupId!, vpcId: g.VpcId!, groupName: g.GroupName!, description: g.Description ?? "", tags: tagRecord(g.Tags), ...(defaultEgress ? { defaultEgress } : {}) };
}

export async function findSecurityGroupById(ctx: ResourceContext, groupId: string): Promise<SecurityGroupAttrs | undefined> {
  const g = single(await findGroups(ctx, { GroupIds: [groupId] }), `security groups with id ${groupId}`);
  return g && toAttrs(g);
}

async function findGroupByName(ctx: ResourceContext, vpcId: string, groupName: string): Promise<SecurityGroupAttrs | undefined> {
  const filters = [
    { Name: "vpc-id", Values: [vpcId] },
    { Name: "group-name", Values: [groupName] },
  ];
  const g = single(await findGroups(ctx, { Filters: filters }), `security groups named ${groupName} in ${vpcId}`);
  return g && toAttrs(g);
}

/** The group of that name a crashed run created, if its tags prove it is ours; anyone else's is an error, never adopted. */
async function adoptDuplicate(ctx: ResourceContext, spec: SecurityGroupSpec, logicalId: string): Promise<string> {
  const existing = await findGroupByName(ctx, spec.vpcId, spec.groupName);
  if (!existing) throw new Error(`creating EC2 security group (${spec.groupName}): AWS reports a duplicate name in ${spec.vpcId}, but no such group is visible`);
  if (!isOurs(existing.tags, ctx.identity, logicalId)) {
    throw new Error(
      `creating EC2 security group (${spec.groupName}): ${existing.groupId} already has this name in ${spec.vpcId} and is not tagged as ${logicalId} of this environment; rename or delete it`,
    );
  }
  return existing.groupId;
}

async function createGroup(ctx: ResourceContext, spec: SecurityGroupSpec, logicalId: string): Promise<string> {
  const ec2 = ctx.aws.get(EC2Client);
  const input = { VpcId: spec.vpcId, GroupName: spec.groupName, Description: spec.description, TagSpecifications: ec2TagSpecification("security-group", spec.tags) };
  try {
    // CreateSecurityGroup takes no ClientToken; a VPC can be briefly unknown right after its creation.
    const out = await retryWhile(ctx, ["InvalidVpcID.NotFound"], 60, () => ec2.send(new CreateSecurityGroupCommand(input)));
    return out.GroupId!;
  } catch (err) {
    if (hasCode(err, "InvalidGroup.Duplicate")) return adoptDuplicate(ctx, spec, logicalId);
    throw err;
  }
}

/** Removes AWS's allow-all egress rule; already gone is fine. A new group id can be briefly unknown (eventual consistency). */
async function revokeDefaultEgress(ctx: ResourceContext, groupId: string): Promise<void> {
  const ec2 = ctx.aws.get(EC2Client);
  await retryWhile(ctx, ["InvalidGroup.NotFound"], 60, async () => {
    try {
      await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: DEFAULT_EGRESS }));
    } catch (err) {
      // Not orUndefined: InvalidGroup.NotFound must reach retryWhile, only the rule being gone is fine.
      if (!hasCode(err, "InvalidPermission.NotFound")) throw err;
    }
  });
}

async function deleteGroup(ctx: ResourceContext, groupId: string): Promise<void> {
  await orUndefined(ctx.aws.get(EC2Client).send(new DeleteSecurityGroupCommand({ GroupId: groupId })));
}

export const securityGroup: ResourceType<SecurityGroupSpec, SecurityGroupAttrs> = {
  type: "ec2:security-group",

  async find(ctx, { logicalId, recorded }) {
    if (recorded?.groupId) {
      const found = await findSecurityGroupById(ctx, recorded.groupId);
      if (found) return found;
    }
    const g = single(await findGroups(ctx, { Filters: ec2TagFilters(ctx.identity, logicalId) }), `security groups tagged ${logicalId}`);
    return g && toAttrs(g);
  },

  diff(spec, actual) {
    return [
      ...compareFields(spec, actual, [
        { field: "vpcId", action: "replace" },
        { field: "groupName", action: "replace" },
        { field: "description", action: "replace" },
      ]),
      ...compareTags(spec.tags, actual.tags),
      ...(actual.defaultEgress ? [{ field: "defaultEgress", from: "allow all (AWS default)", to: "removed", action: "update" as const }] : []),
    ];
  },

  async create(ctx, spec, { logicalId }) {
    const groupId = await createGroup(ctx, spec, logicalId);
    await revokeDefaultEgress(ctx, groupId);
    return (await findSecurityGroupById(ctx, groupId)) ?? { ...spec, groupId };
  },

  async update(ctx, spec, actual, changes) {
    if (changes.some((c) => c.field === "tags")) await applyEc2Tags(ctx, actual.groupId, spec.tags, actual.tags);
    if (changes.some((c) => c.field === "defaultEgress")) await revokeDefaultEgress(ctx, actual.groupId);
    return (await findSecurityGroupById(ctx, actual.groupId))!;
  },

  async destroy(ctx, actual) {
    // Rules are separate resources, deleted before the group. DependencyViolation remains while network interfaces
    // of Fargate tasks, the load balancer or RDS drain (2–20 minutes); each retry names them.
    const logicalId = actual.tags[TAG_LOGICAL_ID] ?? actual.groupId;
    await retryWhileInterfacesDrain(ctx, logicalId, { filter: "group-id", id: actual.groupId }, () => deleteGroup(ctx, actual.groupId));
  },

  physicalId: (a) => a.groupId,
};
