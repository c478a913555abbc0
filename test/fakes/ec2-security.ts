import type { FakeCloud, Handler, Tags } from "./cloud.js";
import { toTagList } from "./cloud.js";
import { type Ec2State, ec2Error, extraEc2Handlers, matchesFilters, tagsFromSpecs, withTagList } from "./ec2.js";

/**
 * The security part of the EC2 fake: security groups and their rules, network ACLs, flow logs, and the network
 * interfaces that keep groups busy (tests put those into `state.networkInterfaces` directly). A VPC's default network
 * ACL and default security group are made lazily, the first time a handler looks at the VPC (ensureVpcDefaults), so
 * test/fakes/ec2.ts needs no change; new subnets join the default ACL the same way.
 */
export function registerSecurityFake(): void {
  if (!extraEc2Handlers.includes(securityHandlers)) extraEc2Handlers.push(securityHandlers);
}

type Rule = {
  SecurityGroupRuleId: string;
  GroupId: string;
  GroupOwnerId: string;
  IsEgress: boolean;
  IpProtocol: string;
  FromPort: number;
  ToPort: number;
  CidrIpv4?: string;
  ReferencedGroupInfo?: { GroupId: string; UserId: string };
  Description?: string;
  Tags: Tags;
};

type Entry = { RuleNumber: number; Egress: boolean; Protocol: string; RuleAction: string; CidrBlock: string; PortRange?: { From: number; To: number } };
type Acl = { NetworkAclId: string; VpcId: string; IsDefault: boolean; OwnerId: string; Entries: Entry[]; Associations: { NetworkAclAssociationId: string; NetworkAclId: string; SubnetId: string }[]; Tags: Tags };

const ANYWHERE = "0.0.0.0/0";
/** ClientTokens seen by CreateNetworkAcl and CreateFlowLogs, per state: token → the request's parameters and the result. */
const tokens = new WeakMap<Ec2State, Map<string, { params: string; result: unknown }>>();

function tokenMap(state: Ec2State) {
  let map = tokens.get(state);
  if (!map) tokens.set(state, (map = new Map()));
  return map;
}

/** Same token and parameters: the first result; same token, other parameters: IdempotentParameterMismatch. */
function idempotent<T>(state: Ec2State, token: string | undefined, params: unknown, make: () => T, replay: (first: T) => unknown): unknown {
  if (!token) return make();
  const seen = tokenMap(state).get(token);
  const json = JSON.stringify(params);
  if (seen && seen.params !== json) throw ec2Error("IdempotentParameterMismatch", `Client token ${token} was used with different parameters`);
  if (seen) return replay(seen.result as T);
  const result = make();
  tokenMap(state).set(token, { params: json, result });
  return result;
}

const denyAll = (Egress: boolean): Entry => ({ RuleNumber: 32767, Egress, Protocol: "-1", RuleAction: "deny", CidrBlock: ANYWHERE });
const allowAll = (Egress: boolean): Entry => ({ RuleNumber: 100, Egress, Protocol: "-1", RuleAction: "allow", CidrBlock: ANYWHERE });

function newAcl(cloud: FakeCloud, vpcId: string, isDefault: boolean, tags: Tags): Acl {
  const entries = isDefault ? [allowAll(false), allowAll(true), denyAll(false), denyAll(true)] : [denyAll(false), denyAll(true)];
  return { NetworkAclId: cloud.id("acl"), VpcId: vpcId, IsDefault: isDefault, OwnerId: cloud.accountId, Entries: entries, Associations: [], Tags: tags };
}

function newRule(cloud: FakeCloud, groupId: string, fields: Omit<Rule, "SecurityGroupRuleId" | "GroupId" | "GroupOwnerId" | "Tags">, tags: Tags = {}): Rule {
  return { SecurityGroupRuleId: cloud.id("sgr"), GroupId: groupId, GroupOwnerId: cloud.accountId, ...fields, Tags: tags };
}

/** A VPC's default network ACL and default security group (with AWS's default rules), made on first need. */
export function ensureVpcDefaults(cloud: FakeCloud, state: Ec2State, vpcId: string): void {
  if (!state.vpcs.has(vpcId)) return;
  if (![...state.networkAcls.values()].some((a) => a.VpcId === vpcId && a.IsDefault)) {
    const acl = newAcl(cloud, vpcId, true, {});
    state.networkAcls.set(acl.NetworkAclId, acl);
    state.tagged.set(acl.NetworkAclId, acl);
  }
  if (![...state.securityGroups.values()].some((g) => g.VpcId === vpcId && g.GroupName === "default")) {
    const group = { GroupId: cloud.id("sg"), GroupName: "default", Description: "default VPC security group", VpcId: vpcId, OwnerId: cloud.accountId, Tags: {} };
    state.securityGroups.set(group.GroupId, group);
    state.tagged.set(group.GroupId, group);
    const self = { GroupId: group.GroupId, UserId: cloud.accountId };
    for (const rule of [
      newRule(cloud, group.GroupId, { IsEgress: false, IpProtocol: "-1", FromPort: -1, ToPort: -1, ReferencedGroupInfo: self }),
      newRule(cloud, group.GroupId, { IsEgress: true, IpProtocol: "-1", FromPort: -1, ToPort: -1, CidrIpv4: ANYWHERE }),
    ]) {
      state.securityGroupRules.set(rule.SecurityGroupRuleId, rule);
      state.tagged.set(rule.SecurityGroupRuleId, rule);
    }
  }
  const defaultAcl = [...state.networkAcls.values()].find((a) => a.VpcId === vpcId && a.IsDefault) as Acl;
  for (const subnet of state.subnets.values()) {
    if (subnet.VpcId !== vpcId || aclOfSubnet(state, subnet.SubnetId)) continue;
    defaultAcl.Associations.push({ NetworkAclAssociationId: cloud.id("aclassoc"), NetworkAclId: defaultAcl.NetworkAclId, SubnetId: subnet.SubnetId });
  }
}

/** Brings the lazy parts up to date: defaults for every VPC, associations of deleted subnets and defaults of deleted VPCs dropped. */
function settle(cloud: FakeCloud, state: Ec2State): void {
  for (const acl of state.networkAcls.values() as Iterable<Acl>) acl.Associations = acl.Associations.filter((a) => state.subnets.has(a.SubnetId));
  for (const [id, acl] of state.networkAcls) if (acl.IsDefault && !state.vpcs.has(acl.VpcId)) forget(state, state.networkAcls, id);
  for (const [id, g] of state.securityGroups) {
    if (g.GroupName !== "default" || state.vpcs.has(g.VpcId)) continue;
    for (const r of rulesOf(state, id)) forget(state, state.securityGroupRules, r.SecurityGroupRuleId);
    forget(state, state.securityGroups, id);
  }
  for (const vpcId of state.vpcs.keys()) ensureVpcDefaults(cloud, state, vpcId);
}

function forget(state: Ec2State, map: Map<string, unknown>, id: string): void {
  map.delete(id);
  state.tagged.delete(id);
}

function aclOfSubnet(state: Ec2State, subnetId: string): Acl | undefined {
  return [...state.networkAcls.values()].find((a: Acl) => a.Associations.some((s) => s.SubnetId === subnetId));
}

function rulesOf(state: Ec2State, groupId: string): Rule[] {
  return [...state.securityGroupRules.values()].filter((r: Rule) => r.GroupId === groupId);
}

function getOr<T>(map: Map<string, T>, id: string | undefined, code: string, what: string): T {
  const item = id === undefined ? undefined : map.get(id);
  if (!item) throw ec2Error(code, `The ${what} '${id}' does not exist`);
  return item;
}

function byIds<T>(map: Map<string, T>, ids: string[] | undefined, code: string, what: string): T[] {
  return ids?.length ? ids.map((id) => getOr(map, id, code, what)) : [...map.values()];
}

const tagged = <T extends { Tags: Tags }>(item: T) => withTagList(structuredClone(item));

// ---- security groups -------------------------------------------------------------------------------------------

function ipPermissionsOf(state: Ec2State, groupId: string, egress: boolean) {
  return rulesOf(state, groupId)
    .filter((r) => r.IsEgress === egress)
    .map((r) => ({
      IpProtocol: r.IpProtocol,
      ...(r.IpProtocol === "-1" ? {} : { FromPort: r.FromPort, ToPort: r.ToPort }),
      IpRanges: r.CidrIpv4 ? [{ CidrIp: r.CidrIpv4, ...(r.Description ? { Description: r.Description } : {}) }] : [],
      UserIdGroupPairs: r.ReferencedGroupInfo ? [{ ...r.ReferencedGroupInfo, ...(r.Description ? { Description: r.Description } : {}) }] : [],
      Ipv6Ranges: [],
      PrefixListIds: [],
    }));
}

function groupHandlers(cloud: FakeCloud, state: Ec2State): Record<string, Handler> {
  return {
    CreateSecurityGroup: (input) => {
      settle(cloud, state);
      getOr(state.vpcs, input.VpcId, "InvalidVpcID.NotFound", "vpc ID");
      if (!input.GroupName || !input.Description) throw ec2Error("MissingParameter", "GroupName and Description are required");
      if (input.GroupName === "default") throw ec2Error("InvalidParameterValue", "Cannot use reserved security group name: default");
      if ([...state.securityGroups.values()].some((g) => g.VpcId === input.VpcId && g.GroupName === input.GroupName)) {
        throw ec2Error("InvalidGroup.Duplicate", `The security group '${input.GroupName}' already exists for VPC '${input.VpcId}'`);
      }
      const group = { GroupId: cloud.id("sg"), GroupName: input.GroupName, Description: input.Description, VpcId: input.VpcId, OwnerId: cloud.accountId, Tags: tagsFromSpecs(input.TagSpecifications, "security-group") };
      state.securityGroups.set(group.GroupId, group);
      state.tagged.set(group.GroupId, group);
      // AWS gives every new group an allow-all egress rule.
      const egress = newRule(cloud, group.GroupId, { IsEgress: true, IpProtocol: "-1", FromPort: -1, ToPort: -1, CidrIpv4: ANYWHERE });
      state.securityGroupRules.set(egress.SecurityGroupRuleId, egress);
      state.tagged.set(egress.SecurityGroupRuleId, egress);
      return { GroupId: group.GroupId, Tags: toTagList(group.Tags) };
    },
    DescribeSecurityGroups: (input) => {
      settle(cloud, state);
      const fields = { "group-name": (g: any) => g.GroupName, "vpc-id": (g: any) => g.VpcId, "group-id": (g: any) => g.GroupId };
      return {
        SecurityGroups: byIds(state.securityGroups, input.GroupIds, "InvalidGroup.NotFound", "security group")
          .filter((g) => matchesFilters(g, input.Filters, fields))
          .map((g) => ({ ...tagged(g), IpPermissions: ipPermissionsOf(state, g.GroupId, false), IpPermissionsEgress: ipPermissionsOf(state, g.GroupId, true) })),
      };
    },
    DeleteSecurityGroup: (input) => {
      settle(cloud, state);
      const group = getOr(state.securityGroups, input.GroupId, "InvalidGroup.NotFound", "security group");
      if (group.GroupName === "default") throw ec2Error("CannotDelete", `the specified group: "${group.GroupId}" name: "default" cannot be deleted by a user`);
      const blockers = groupBlockers(state, group.GroupId);
      if (blockers.length) throw ec2Error("DependencyViolation", `resource ${group.GroupId} has a dependent object (${blockers.join(", ")})`);
      for (const r of rulesOf(state, group.GroupId)) forget(state, state.securityGroupRules, r.SecurityGroupRuleId);
      forget(state, state.securityGroups, group.GroupId);
      return {};
    },
  };
}

/** Network interfaces using the group, and rules of other groups that reference it. */
function groupBlockers(state: Ec2State, groupId: string): string[] {
  const enis = [...state.networkInterfaces.values()].filter((n) => n.Groups?.some((g: any) => g.GroupId === groupId)).map((n) => n.NetworkInterfaceId as string);
  const refs = [...state.securityGroupRules.values()].filter((r: Rule) => r.GroupId !== groupId && r.ReferencedGroupInfo?.GroupId === groupId).map((r: Rule) => r.SecurityGroupRuleId);
  return [...enis, ...refs];
}

// ---- security group rules --------------------------------------------------------------------------------------

type RuleFields = Pick<Rule, "IsEgress" | "IpProtocol" | "FromPort" | "ToPort" | "CidrIpv4" | "ReferencedGroupInfo" | "Description">;

/** Checks protocol, ports and peer the way AWS does for the cases we use; "-1" records its ports as -1. */
function ruleFields(state: Ec2State, egress: boolean, p: { IpProtocol?: string; FromPort?: number; ToPort?: number }, peer: { cidr?: string; groupId?: string; description?: string }): RuleFields {
  const protocol = p.IpProtocol;
  if (!protocol || !["tcp", "udp", "-1"].includes(protocol)) throw new Error(`fake ec2: protocol ${protocol} is not modelled`);
  const all = protocol === "-1";
  if (!all && (p.FromPort === undefined || p.ToPort === undefined)) throw ec2Error("InvalidParameterValue", `Invalid value for portRange. Must specify both from and to ports with TCP/UDP.`);
  if (!all && (p.FromPort! > p.ToPort! || p.FromPort! < 0 || p.ToPort! > 65535)) throw ec2Error("InvalidParameterValue", `Invalid port range ${p.FromPort}-${p.ToPort}`);
  if ((peer.cidr === undefined) === (peer.groupId === undefined)) throw ec2Error("InvalidParameterCombination", "Specify exactly one of a CIDR and a security group");
  if (peer.groupId !== undefined) getOr(state.securityGroups, peer.groupId, "InvalidGroup.NotFound", "security group");
  return {
    IsEgress: egress,
    IpProtocol: protocol,
    FromPort: all ? -1 : p.FromPort!,
    ToPort: all ? -1 : p.ToPort!,
    ...(peer.cidr !== undefined ? { CidrIpv4: peer.cidr } : {}),
    ...(peer.groupId !== undefined ? { ReferencedGroupInfo: { GroupId: peer.groupId, UserId: "123456789012" } } : {}),
    ...(peer.description ? { Description: peer.description } : {}),
  };
}

/** One rule per IP range and per group pair, as AWS splits an IpPermission into rules. */
function rulesFromPermissions(state: Ec2State, egress: boolean, permissions: any[] | undefined): RuleFields[] {
  if (!permissions?.length) throw ec2Error("MissingParameter", "The request must contain the parameter ipPermissions");
  return permissions.flatMap((p) => [
    ...(p.IpRanges ?? []).map((r: any) => ruleFields(state, egress, p, { cidr: r.CidrIp, description: r.Description })),
    ...(p.UserIdGroupPairs ?? []).map((g: any) => ruleFields(state, egress, p, { groupId: g.GroupId, description: g.Description })),
  ]);
}

const sameRule = (a: RuleFields, b: RuleFields) =>
  a.IsEgress === b.IsEgress && a.IpProtocol === b.IpProtocol && a.FromPort === b.FromPort && a.ToPort === b.ToPort && a.CidrIpv4 === b.CidrIpv4 && a.ReferencedGroupInfo?.GroupId === b.ReferencedGroupInfo?.GroupId;

function authorize(cloud: FakeCloud, state: Ec2State, egress: boolean) {
  return (input: any) => {
    const group = getOr(state.securityGroups, input.GroupId, "InvalidGroup.NotFound", "security group");
    const wanted = rulesFromPermissions(state, egress, input.IpPermissions);
    for (const w of wanted) {
      const existing = rulesOf(state, group.GroupId).find((r) => sameRule(r, w));
      if (existing) throw ec2Error("InvalidPermission.Duplicate", `the specified rule "peer: ${w.CidrIpv4 ?? w.ReferencedGroupInfo?.GroupId}, ${w.IpProtocol}, from port: ${w.FromPort}, to port: ${w.ToPort}, ALLOW" already exists`);
    }
    const tags = tagsFromSpecs(input.TagSpecifications, "security-group-rule");
    const created = wanted.map((w) => newRule(cloud, group.GroupId, w, { ...tags }));
    for (const r of created) {
      state.securityGroupRules.set(r.SecurityGroupRuleId, r);
      state.tagged.set(r.SecurityGroupRuleId, r);
    }
    return { Return: true, SecurityGroupRules: created.map(tagged) };
  };
}

function revoke(state: Ec2State, egress: boolean) {
  return (input: any) => {
    const group = getOr(state.securityGroups, input.GroupId, "InvalidGroup.NotFound", "security group");
    const rules = input.SecurityGroupRuleIds?.length ? rulesById(state, group.GroupId, egress, input.SecurityGroupRuleIds) : rulesByPermission(state, group.GroupId, egress, input.IpPermissions);
    for (const r of rules) forget(state, state.securityGroupRules, r.SecurityGroupRuleId);
    return { Return: true, RevokedSecurityGroupRules: rules.map((r) => ({ SecurityGroupRuleId: r.SecurityGroupRuleId, GroupId: r.GroupId, IsEgress: r.IsEgress, IpProtocol: r.IpProtocol, FromPort: r.FromPort, ToPort: r.ToPort, CidrIpv4: r.CidrIpv4, ReferencedGroupId: r.ReferencedGroupInfo?.GroupId, Description: r.Description })) };
  };
}

function rulesById(state: Ec2State, groupId: string, egress: boolean, ids: string[]): Rule[] {
  return ids.map((id) => {
    const r = state.securityGroupRules.get(id) as Rule | undefined;
    if (!r || r.GroupId !== groupId || r.IsEgress !== egress) throw ec2Error("InvalidSecurityGroupRuleId.NotFound", `The security group rule ID '${id}' does not exist`);
    return r;
  });
}

/** Outside the default VPC, AWS fails the whole call when one permission matches no rule. */
function rulesByPermission(state: Ec2State, groupId: string, egress: boolean, permissions: any[]): Rule[] {
  return rulesFromPermissions(state, egress, permissions).map((w) => {
    const r = rulesOf(state, groupId).find((x) => sameRule(x, w));
    if (!r) throw ec2Error("InvalidPermission.NotFound", `The specified rule does not exist in this security group.`);
    return r;
  });
}

function ruleHandlers(cloud: FakeCloud, state: Ec2State): Record<string, Handler> {
  return {
    AuthorizeSecurityGroupIngress: authorize(cloud, state, false),
    AuthorizeSecurityGroupEgress: authorize(cloud, state, true),
    RevokeSecurityGroupIngress: revoke(state, false),
    RevokeSecurityGroupEgress: revoke(state, true),
    DescribeSecurityGroupRules: (input) => {
      settle(cloud, state);
      const fields = { "group-id": (r: any) => r.GroupId, "security-group-rule-id": (r: any) => r.SecurityGroupRuleId };
      return {
        SecurityGroupRules: byIds(state.securityGroupRules, input.SecurityGroupRuleIds, "InvalidSecurityGroupRuleId.NotFound", "security group rule ID")
          .filter((r) => matchesFilters(r, input.Filters, fields))
          .map(tagged),
      };
    },
    ModifySecurityGroupRules: (input) => {
      const group = getOr(state.securityGroups, input.GroupId, "InvalidGroup.NotFound", "security group");
      for (const u of input.SecurityGroupRules ?? []) {
        const rule = state.securityGroupRules.get(u.SecurityGroupRuleId) as Rule | undefined;
        if (!rule || rule.GroupId !== group.GroupId) throw ec2Error("InvalidSecurityGroupRuleId.NotFound", `The security group rule ID '${u.SecurityGroupRuleId}' does not exist`);
        const req = u.SecurityGroupRule ?? {};
        const next = ruleFields(state, rule.IsEgress, req, { cidr: req.CidrIpv4, groupId: req.ReferencedGroupId, description: req.Description });
        if (rulesOf(state, group.GroupId).some((r) => r !== rule && sameRule(r, next))) throw ec2Error("InvalidPermission.Duplicate", "the specified rule already exists");
        delete rule.CidrIpv4;
        delete rule.ReferencedGroupInfo;
        delete rule.Description;
        Object.assign(rule, next);
      }
      return { Return: true };
    },
  };
}

// ---- network ACLs ----------------------------------------------------------------------------------------------

function aclEntry(input: any): Entry {
  if (!["-1", "6", "17"].includes(String(input.Protocol))) throw new Error(`fake ec2: network ACL protocol ${input.Protocol} is not modelled`);
  if (!(input.RuleNumber >= 1 && input.RuleNumber <= 32766)) throw ec2Error("InvalidParameterValue", `Invalid rule number ${input.RuleNumber}: must be 1 to 32766`);
  const ports = input.Protocol === "6" || input.Protocol === "17";
  if (ports && (input.PortRange?.From === undefined || input.PortRange?.To === undefined)) throw ec2Error("MissingParameter", "The request must contain the parameter portRange");
  if (!input.CidrBlock) throw ec2Error("MissingParameter", "The request must contain the parameter cidrBlock");
  if (!["allow", "deny"].includes(input.RuleAction)) throw ec2Error("InvalidParameterValue", `Invalid rule action ${input.RuleAction}`);
  return {
    RuleNumber: input.RuleNumber,
    Egress: Boolean(input.Egress),
    Protocol: String(input.Protocol),
    RuleAction: input.RuleAction,
    CidrBlock: input.CidrBlock,
    ...(ports ? { PortRange: { From: input.PortRange.From, To: input.PortRange.To } } : {}),
  };
}

function entryIndex(acl: Acl, ruleNumber: number, egress: boolean): number {
  return acl.Entries.findIndex((e) => e.RuleNumber === ruleNumber && e.Egress === Boolean(egress));
}

function aclHandlers(cloud: FakeCloud, state: Ec2State): Record<string, Handler> {
  const acl = (id: string | undefined): Acl => getOr(state.networkAcls, id, "InvalidNetworkAclID.NotFound", "network ACL ID");
  return {
    CreateNetworkAcl: (input) => {
      settle(cloud, state);
      getOr(state.vpcs, input.VpcId, "InvalidVpcID.NotFound", "vpc ID");
      const params = { VpcId: input.VpcId, TagSpecifications: input.TagSpecifications };
      const make = () => {
        const created = newAcl(cloud, input.VpcId, false, tagsFromSpecs(input.TagSpecifications, "network-acl"));
        state.networkAcls.set(created.NetworkAclId, created);
        state.tagged.set(created.NetworkAclId, created);
        return tagged(created);
      };
      // A replayed token answers with the ACL as it is now, or, once deleted, with the first answer (as EC2 replays it).
      const replay = (first: ReturnType<typeof make>) => (state.networkAcls.has(first.NetworkAclId) ? tagged(acl(first.NetworkAclId)) : first);
      const NetworkAcl = idempotent(state, input.ClientToken, params, make, replay);
      return { NetworkAcl, ...(input.ClientToken ? { ClientToken: input.ClientToken } : {}) };
    },
    DescribeNetworkAcls: (input) => {
      settle(cloud, state);
      const fields = {
        "vpc-id": (a: Acl) => a.VpcId,
        default: (a: Acl) => String(a.IsDefault),
        "association.subnet-id": (a: Acl) => a.Associations.map((s) => s.SubnetId),
        "network-acl-id": (a: Acl) => a.NetworkAclId,
      };
      return {
        NetworkAcls: byIds(state.networkAcls, input.NetworkAclIds, "InvalidNetworkAclID.NotFound", "network ACL ID")
          .filter((a) => matchesFilters(a, input.Filters, fields))
          .map(tagged),
      };
    },
    CreateNetworkAclEntry: (input) => {
      const target = acl(input.NetworkAclId);
      const entry = aclEntry(input);
      if (entryIndex(target, entry.RuleNumber, entry.Egress) >= 0) throw ec2Error("NetworkAclEntryAlreadyExists", `The network acl entry identified by ${entry.RuleNumber} already exists.`);
      target.Entries.push(entry);
      return {};
    },
    ReplaceNetworkAclEntry: (input) => {
      const target = acl(input.NetworkAclId);
      const i = entryIndex(target, input.RuleNumber, input.Egress);
      if (i < 0) throw ec2Error("InvalidNetworkAclEntry.NotFound", `The network acl entry identified by ${input.RuleNumber} could not be found.`);
      target.Entries[i] = aclEntry(input);
      return {};
    },
    DeleteNetworkAclEntry: (input) => {
      const target = acl(input.NetworkAclId);
      const i = entryIndex(target, input.RuleNumber, input.Egress);
      if (i < 0 || input.RuleNumber === 32767) throw ec2Error("InvalidNetworkAclEntry.NotFound", `The network acl entry identified by ${input.RuleNumber} could not be found.`);
      target.Entries.splice(i, 1);
      return {};
    },
    ReplaceNetworkAclAssociation: (input) => {
      settle(cloud, state);
      const from = [...state.networkAcls.values()].find((a: Acl) => a.Associations.some((s) => s.NetworkAclAssociationId === input.AssociationId)) as Acl | undefined;
      if (!from) throw ec2Error("InvalidAssociationID.NotFound", `The association ID '${input.AssociationId}' does not exist`);
      const to = acl(input.NetworkAclId);
      if (to.VpcId !== from.VpcId) throw ec2Error("InvalidParameterValue", `Network ACL ${to.NetworkAclId} is in another VPC`);
      const old = from.Associations.find((s) => s.NetworkAclAssociationId === input.AssociationId)!;
      from.Associations = from.Associations.filter((s) => s !== old);
      const moved = { NetworkAclAssociationId: cloud.id("aclassoc"), NetworkAclId: to.NetworkAclId, SubnetId: old.SubnetId };
      to.Associations.push(moved);
      return { NewAssociationId: moved.NetworkAclAssociationId };
    },
    DeleteNetworkAcl: (input) => {
      settle(cloud, state);
      const target = acl(input.NetworkAclId);
      if (target.IsDefault) throw ec2Error("InvalidParameterValue", `cannot delete default network ACL ${target.NetworkAclId}`);
      if (target.Associations.length) throw ec2Error("DependencyViolation", `The networkAcl '${target.NetworkAclId}' has dependencies and cannot be deleted.`);
      forget(state, state.networkAcls, target.NetworkAclId);
      return {};
    },
  };
}

// ---- flow logs and network interfaces --------------------------------------------------------------------------

function createFlowLogs(cloud: FakeCloud, state: Ec2State) {
  return (input: any) => {
    if (input.ResourceType !== "VPC") throw new Error(`fake ec2: flow logs for ${input.ResourceType} are not modelled`);
    if (input.LogDestinationType !== undefined && input.LogDestinationType !== "cloud-watch-logs") throw new Error(`fake ec2: flow log destination ${input.LogDestinationType} is not modelled`);
    if (!input.LogGroupName || !input.DeliverLogsPermissionArn) throw ec2Error("InvalidParameter", "LogGroupName and DeliverLogsPermissionArn are required for CloudWatch Logs");
    const make = () => {
      const FlowLogIds: string[] = [];
      const Unsuccessful: unknown[] = [];
      for (const resourceId of input.ResourceIds ?? []) {
        const error = flowLogError(state, input, resourceId);
        if (error) Unsuccessful.push({ ResourceId: resourceId, Error: error });
        else FlowLogIds.push(addFlowLog(cloud, state, input, resourceId));
      }
      return { FlowLogIds, Unsuccessful };
    };
    const { ClientToken: _token, ...params } = input;
    const out = idempotent(state, input.ClientToken, params, make, (first) => first) as { FlowLogIds: string[]; Unsuccessful: unknown[] };
    return { ...out, ...(input.ClientToken ? { ClientToken: input.ClientToken } : {}) };
  };
}

function flowLogError(state: Ec2State, input: any, resourceId: string): { Code: string; Message: string } | undefined {
  if (!state.vpcs.has(resourceId)) return { Code: "InvalidVpcID.NotFound", Message: `The vpc ID '${resourceId}' does not exist` };
  const same = [...state.flowLogs.values()].some((f) => f.ResourceId === resourceId && f.LogGroupName === input.LogGroupName && f.TrafficType === input.TrafficType);
  if (same) return { Code: "FlowLogAlreadyExists", Message: "There is an existing Flow Log with the same configuration and log destination." };
  return undefined;
}

function addFlowLog(cloud: FakeCloud, state: Ec2State, input: any, resourceId: string): string {
  const flowLog = {
    FlowLogId: cloud.id("fl"),
    ResourceId: resourceId,
    TrafficType: input.TrafficType ?? "ALL",
    LogDestinationType: "cloud-watch-logs",
    LogGroupName: input.LogGroupName,
    LogDestination: `arn:aws:logs:${cloud.region}:${cloud.accountId}:log-group:${input.LogGroupName}`,
    DeliverLogsPermissionArn: input.DeliverLogsPermissionArn,
    DeliverLogsStatus: "SUCCESS",
    FlowLogStatus: "ACTIVE",
    MaxAggregationInterval: 600,
    Tags: tagsFromSpecs(input.TagSpecifications, "vpc-flow-log"),
  };
  state.flowLogs.set(flowLog.FlowLogId, flowLog);
  state.tagged.set(flowLog.FlowLogId, flowLog);
  return flowLog.FlowLogId;
}

function flowLogHandlers(cloud: FakeCloud, state: Ec2State): Record<string, Handler> {
  return {
    CreateFlowLogs: createFlowLogs(cloud, state),
    DescribeFlowLogs: (input) => {
      if (input.Filters) throw new Error("fake ec2: DescribeFlowLogs takes `Filter`, not `Filters`");
      const fields = {
        "resource-id": (f: any) => f.ResourceId,
        "flow-log-id": (f: any) => f.FlowLogId,
        "log-group-name": (f: any) => f.LogGroupName,
        "traffic-type": (f: any) => f.TrafficType,
        "log-destination-type": (f: any) => f.LogDestinationType,
        "deliver-log-status": (f: any) => f.DeliverLogsStatus,
      };
      // Unknown ids are left out of the answer rather than failing the call.
      const items = input.FlowLogIds?.length ? input.FlowLogIds.map((id: string) => state.flowLogs.get(id)).filter(Boolean) : [...state.flowLogs.values()];
      return { FlowLogs: items.filter((f: any) => matchesFilters(f, input.Filter, fields)).map(tagged) };
    },
    DeleteFlowLogs: (input) => {
      const Unsuccessful = [];
      for (const id of input.FlowLogIds ?? []) {
        if (state.flowLogs.has(id)) forget(state, state.flowLogs, id);
        else Unsuccessful.push({ ResourceId: id, Error: { Code: "InvalidFlowLogId.NotFound", Message: `These flow log ids in the input list are not found: [TotalCount: 1] ${id}` } });
      }
      return { Unsuccessful };
    },
    DescribeNetworkInterfaces: (input) => {
      const fields = {
        "group-id": (n: any) => (n.Groups ?? []).map((g: any) => g.GroupId),
        "subnet-id": (n: any) => n.SubnetId,
        "vpc-id": (n: any) => n.VpcId,
      };
      const withTags = [...state.networkInterfaces.values()].map((n) => ({ ...n, Tags: n.Tags ?? {} }));
      const items = input.NetworkInterfaceIds?.length ? input.NetworkInterfaceIds.map((id: string) => getOr(new Map(withTags.map((n) => [n.NetworkInterfaceId, n])), id, "InvalidNetworkInterfaceID.NotFound", "network interface")) : withTags;
      return {
        NetworkInterfaces: items
          .filter((n: any) => matchesFilters(n, input.Filters, fields))
          .map(({ Tags, ...n }: any) => ({ ...structuredClone(n), TagSet: toTagList(Tags) })),
      };
    },
  };
}

function securityHandlers(cloud: FakeCloud, state: Ec2State): Record<string, Handler> {
  return { ...groupHandlers(cloud, state), ...ruleHandlers(cloud, state), ...aclHandlers(cloud, state), ...flowLogHandlers(cloud, state) };
}
