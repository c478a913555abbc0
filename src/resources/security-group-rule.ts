import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  type DescribeSecurityGroupRulesCommandInput,
  EC2Client,
  type IpPermission,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
  type SecurityGroupRuleRequest,
} from "@aws-sdk/client-ec2";
import { hasCode, orUndefined } from "../aws/errors.js";
import { ec2TagFilters, tagRecord } from "../aws/tags.js";
import { applyEc2Tags, ec2TagSpecification } from "./ec2-tags.js";
import { single } from "./find.js";
import { batchedRead } from "./read-batch.js";
import { retryWhile } from "./retry.js";
import { type Change, compareTags, type ResourceContext, type ResourceType, sameValue } from "./types.js";

/** One rule of one security group: a CIDR or another group, one protocol, one port range. */
export interface SecurityGroupRuleSpec {
  groupId: string;
  direction: "ingress" | "egress";
  /** "-1" is every protocol and every port: AWS records its ports as -1. */
  protocol: "tcp" | "udp" | "-1";
  fromPort: number;
  toPort: number;
  /** Exactly one of cidrIpv4 and referencedGroupId. */
  cidrIpv4?: string;
  referencedGroupId?: string;
  description: string;
  tags: Record<string, string>;
}

export interface SecurityGroupRuleAttrs extends SecurityGroupRuleSpec {
  securityGroupRuleId: string;
}

type RuleShape = Omit<SecurityGroupRuleSpec, "tags">;

async function findRules(ctx: ResourceContext, input: DescribeSecurityGroupRulesCommandInput): Promise<SecurityGroupRule[]> {
  const out = await orUndefined(ctx.aws.get(EC2Client).send(new DescribeSecurityGroupRulesCommand(input)));
  return out?.SecurityGroupRules ?? [];
}

function toAttrs(r: SecurityGroupRule): SecurityGroupRuleAttrs {
  return {
    securityGroupRuleId: r.SecurityGroupRuleId!,
    groupId: r.GroupId!,
    direction: r.IsEgress ? "egress" : "ingress",
    protocol: r.IpProtocol as SecurityGroupRuleSpec["protocol"],
    fromPort: r.FromPort ?? -1,
    toPort: r.ToPort ?? -1,
    ...(r.CidrIpv4 ? { cidrIpv4: r.CidrIpv4 } : {}),
    ...(r.ReferencedGroupInfo?.GroupId ? { referencedGroupId: r.ReferencedGroupInfo.GroupId } : {}),
    description: r.Description ?? "",
    tags: tagRecord(r.Tags),
  };
}

/** The rule as AWS records it: "-1" has no ports (-1/-1). */
function normalized(spec: RuleShape): RuleShape {
  const all = spec.protocol === "-1";
  return {
    groupId: spec.groupId,
    direction: spec.direction,
    protocol: spec.protocol,
    fromPort: all ? -1 : spec.fromPort,
    toPort: all ? -1 : spec.toPort,
    ...(spec.cidrIpv4 !== undefined ? { cidrIpv4: spec.cidrIpv4 } : {}),
    ...(spec.referencedGroupId !== undefined ? { referencedGroupId: spec.referencedGroupId } : {}),
    description: spec.description,
  };
}

async function describeRuleById(ctx: ResourceContext, ruleId: string): Promise<SecurityGroupRule | undefined> {
  return single(await findRules(ctx, { SecurityGroupRuleIds: [ruleId] }), `security group rules with id ${ruleId}`);
}

/** Rule ids per DescribeSecurityGroupRules call (the API documents no ceiling; 100 keeps requests small). */
export const RULES_PER_CALL = 100;

/**
 * Rules by id, read together: rules asked for within a few milliseconds of each other (the observe sweep reads every
 * rule of the stack at once) share one DescribeSecurityGroupRules. One deleted id fails the whole call
 * (InvalidSecurityGroupRuleId.NotFound), so such a batch is read again one id at a time, and only the deleted ones are not found.
 */
const describeRuleShared = batchedRead<string, SecurityGroupRule>({
  size: RULES_PER_CALL,
  async read(ctx, ruleIds) {
    const out = await orUndefined(ctx.aws.get(EC2Client).send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: ruleIds })));
    let rules: (SecurityGroupRule | undefined)[];
    if (out) rules = out.SecurityGroupRules ?? [];
    else if (ruleIds.length === 1) rules = [];
    else rules = await Promise.all(ruleIds.map((id) => describeRuleById(ctx, id)));
    return new Map(rules.flatMap((r) => (r?.SecurityGroupRuleId ? [[r.SecurityGroupRuleId, r] as const] : [])));
  },
});

/** The rule with that id; undefined when it is gone. The DescribeSecurityGroupRules is shared with the rules read at the same time. */
export async function findSecurityGroupRuleById(ctx: ResourceContext, ruleId: string): Promise<SecurityGroupRuleAttrs | undefined> {
  const r = await describeRuleShared(ctx, ruleId);
  return r && toAttrs(r);
}

/** The rule of `spec`'s group with the same direction, protocol, ports and peer (descriptions and tags aside). */
async function findMatchingRule(ctx: ResourceContext, spec: SecurityGroupRuleSpec): Promise<SecurityGroupRuleAttrs | undefined> {
  const want = normalized(spec);
  const key = (r: RuleShape) => [r.direction, r.protocol, r.fromPort, r.toPort, r.cidrIpv4, r.referencedGroupId];
  const rules = (await findRules(ctx, { Filters: [{ Name: "group-id", Values: [spec.groupId] }] })).map(toAttrs);
  return single(rules.filter((r) => sameValue(key(r), key(want))), `rules in ${spec.groupId} matching ${spec.direction} ${spec.protocol} ${spec.fromPort}-${spec.toPort}`);
}

function ipPermission(spec: SecurityGroupRuleSpec): IpPermission {
  const s = normalized(spec);
  return {
    IpProtocol: s.protocol,
    ...(s.protocol === "-1" ? {} : { FromPort: s.fromPort, ToPort: s.toPort }),
    ...(s.cidrIpv4 !== undefined ? { IpRanges: [{ CidrIp: s.cidrIpv4, Description: s.description }] } : {}),
    ...(s.referencedGroupId !== undefined ? { UserIdGroupPairs: [{ GroupId: s.referencedGroupId, Description: s.description }] } : {}),
  };
}

function ruleRequest(spec: SecurityGroupRuleSpec): SecurityGroupRuleRequest {
  const s = normalized(spec);
  return {
    IpProtocol: s.protocol,
    ...(s.protocol === "-1" ? {} : { FromPort: s.fromPort, ToPort: s.toPort }),
    ...(s.cidrIpv4 !== undefined ? { CidrIpv4: s.cidrIpv4 } : {}),
    ...(s.referencedGroupId !== undefined ? { ReferencedGroupId: s.referencedGroupId } : {}),
    Description: s.description,
  };
}

function checkPeer(spec: SecurityGroupRuleSpec): void {
  if ((spec.cidrIpv4 === undefined) === (spec.referencedGroupId === undefined)) {
    throw new Error(`security group rule for ${spec.groupId}: give exactly one of cidrIpv4 and referencedGroupId`);
  }
}

async function authorize(ctx: ResourceContext, spec: SecurityGroupRuleSpec): Promise<SecurityGroupRule | undefined> {
  const ec2 = ctx.aws.get(EC2Client);
  const input = { GroupId: spec.groupId, IpPermissions: [ipPermission(spec)], TagSpecifications: ec2TagSpecification("security-group-rule", spec.tags) };
  // A group created a moment ago can be briefly unknown (eventual consistency).
  const out = await retryWhile(ctx, ["InvalidGroup.NotFound"], 60, () =>
    spec.direction === "egress" ? ec2.send(new AuthorizeSecurityGroupEgressCommand(input)) : ec2.send(new AuthorizeSecurityGroupIngressCommand(input)),
  );
  return out.SecurityGroupRules?.[0];
}

/** A rule that already exists (a crashed run, or someone by hand) is adopted and brought to the spec. */
async function adopt(ctx: ResourceContext, spec: SecurityGroupRuleSpec, err: unknown): Promise<SecurityGroupRuleAttrs> {
  const existing = await findMatchingRule(ctx, spec);
  if (!existing) throw err;
  const changes = securityGroupRule.diff(spec, existing);
  return changes.length ? securityGroupRule.update!(ctx, spec, existing, changes) : existing;
}

function fieldChanges(spec: SecurityGroupRuleSpec, actual: SecurityGroupRuleAttrs): Change[] {
  const want = normalized(spec) as Record<string, unknown>;
  const have = normalized(actual) as Record<string, unknown>;
  const fields: [string, Change["action"]][] = [
    ["groupId", "replace"],
    ["direction", "replace"],
    ["protocol", "update"],
    ["fromPort", "update"],
    ["toPort", "update"],
    ["cidrIpv4", "update"],
    ["referencedGroupId", "update"],
    ["description", "update"],
  ];
  return fields.filter(([f]) => !sameValue(want[f], have[f])).map(([field, action]) => ({ field, from: have[field], to: want[field], action }));
}

export const securityGroupRule: ResourceType<SecurityGroupRuleSpec, SecurityGroupRuleAttrs> = {
  type: "ec2:security-group-rule",

  async find(ctx, { logicalId, recorded }) {
    if (recorded?.securityGroupRuleId) {
      const found = await findSecurityGroupRuleById(ctx, recorded.securityGroupRuleId);
      if (found) return found;
    }
    const r = single(await findRules(ctx, { Filters: ec2TagFilters(ctx.identity, logicalId) }), `security group rules tagged ${logicalId}`);
    return r && toAttrs(r);
  },

  diff(spec, actual) {
    return [...fieldChanges(spec, actual), ...compareTags(spec.tags, actual.tags)];
  },

  async create(ctx, spec) {
    checkPeer(spec);
    let created: SecurityGroupRule | undefined;
    try {
      created = await authorize(ctx, spec);
    } catch (err) {
      if (hasCode(err, "InvalidPermission.Duplicate")) return adopt(ctx, spec, err);
      throw err;
    }
    if (!created?.SecurityGroupRuleId) throw new Error(`authorizing ${spec.direction} rule on ${spec.groupId}: AWS returned no rule id`);
    return (await findSecurityGroupRuleById(ctx, created.SecurityGroupRuleId)) ?? toAttrs(created);
  },

  async update(ctx, spec, actual, changes) {
    checkPeer(spec);
    const fields = new Set(changes.map((c) => c.field));
    if (changes.some((c) => c.field !== "tags")) {
      // ModifySecurityGroupRules replaces the whole rule, so it gets every property, not only the changed ones.
      await ctx.aws.get(EC2Client).send(
        new ModifySecurityGroupRulesCommand({
          GroupId: actual.groupId,
          SecurityGroupRules: [{ SecurityGroupRuleId: actual.securityGroupRuleId, SecurityGroupRule: ruleRequest(spec) }],
        }),
      );
    }
    if (fields.has("tags")) await applyEc2Tags(ctx, actual.securityGroupRuleId, spec.tags, actual.tags);
    return (await findSecurityGroupRuleById(ctx, actual.securityGroupRuleId))!;
  },

  async destroy(ctx, actual) {
    const ec2 = ctx.aws.get(EC2Client);
    const input = { GroupId: actual.groupId, SecurityGroupRuleIds: [actual.securityGroupRuleId] };
    // Gone already (the rule, or its whole group) is success: InvalidSecurityGroupRuleId.NotFound, InvalidPermission.NotFound, InvalidGroup.NotFound.
    await orUndefined(actual.direction === "egress" ? ec2.send(new RevokeSecurityGroupEgressCommand(input)) : ec2.send(new RevokeSecurityGroupIngressCommand(input)));
  },

  physicalId: (a) => a.securityGroupRuleId,
};
