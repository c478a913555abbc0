import {
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  DeleteNetworkAclCommand,
  DeleteNetworkAclEntryCommand,
  DescribeNetworkAclsCommand,
  type DescribeNetworkAclsCommandInput,
  EC2Client,
  type NetworkAcl,
  type NetworkAclEntry,
  ReplaceNetworkAclAssociationCommand,
  ReplaceNetworkAclEntryCommand,
} from "@aws-sdk/client-ec2";
import { hasCode, orUndefined } from "../aws/errors.js";
import { ec2TagFilters, tagRecord } from "../aws/tags.js";
import { applyEc2Tags, ec2TagSpecification } from "./ec2-tags.js";
import { single } from "./find.js";
import { retryWhile } from "./retry.js";
import { createWithClientToken } from "./idempotent-create.js";
import { compareFields, compareTags, type ResourceContext, type ResourceType, sameValue } from "./types.js";

export interface NetworkAclEntrySpec {
  ruleNumber: number;
  egress: boolean;
  /** "-1" all traffic, "6" TCP, "17" UDP: ports only for TCP and UDP. */
  protocol: "-1" | "6" | "17";
  ruleAction: "allow" | "deny";
  cidrBlock: string;
  fromPort?: number;
  toPort?: number;
}

export interface NetworkAclSpec {
  vpcId: string;
  /** The subnets this ACL guards; a subnet removed from the list goes back to the VPC's default ACL. */
  subnetIds: string[];
  /** Our entries; AWS's own catch-all deny (rule 32767) is not listed. */
  entries: NetworkAclEntrySpec[];
  tags: Record<string, string>;
}

export interface NetworkAclAttrs extends NetworkAclSpec {
  networkAclId: string;
}

/** The catch-all deny every ACL ends with; AWS owns it and it cannot be changed. */
const DEFAULT_RULE_NUMBER = 32767;

const hasPorts = (protocol: string) => protocol === "6" || protocol === "17";

/** One entry in a canonical shape, so spec and AWS compare equal: ports only for TCP and UDP. */
function canonicalEntry(e: NetworkAclEntrySpec): NetworkAclEntrySpec {
  const { ruleNumber, egress, protocol, ruleAction, cidrBlock } = e;
  return { ruleNumber, egress, protocol, ruleAction, cidrBlock, ...(hasPorts(protocol) ? { fromPort: e.fromPort, toPort: e.toPort } : {}) };
}

/** Sorts ingress before egress, then by rule number: the order AWS evaluates them in. */
const entryKey = (e: { egress: boolean; ruleNumber: number }) => `${e.egress ? 1 : 0}:${String(e.ruleNumber).padStart(5, "0")}`;

function canonicalEntries(entries: NetworkAclEntrySpec[]): NetworkAclEntrySpec[] {
  return entries.map(canonicalEntry).sort((a, b) => (entryKey(a) < entryKey(b) ? -1 : entryKey(a) > entryKey(b) ? 1 : 0));
}

function fromAws(e: NetworkAclEntry): NetworkAclEntrySpec {
  return canonicalEntry({
    ruleNumber: e.RuleNumber!,
    egress: e.Egress ?? false,
    protocol: e.Protocol as NetworkAclEntrySpec["protocol"],
    ruleAction: e.RuleAction as NetworkAclEntrySpec["ruleAction"],
    cidrBlock: (e.CidrBlock ?? e.Ipv6CidrBlock)!,
    fromPort: e.PortRange?.From,
    toPort: e.PortRange?.To,
  });
}

function toAttrs(acl: NetworkAcl): NetworkAclAttrs {
  return {
    networkAclId: acl.NetworkAclId!,
    vpcId: acl.VpcId!,
    subnetIds: (acl.Associations ?? []).map((a) => a.SubnetId!).sort(),
    entries: canonicalEntries((acl.Entries ?? []).filter((e) => e.RuleNumber !== DEFAULT_RULE_NUMBER).map(fromAws)),
    tags: tagRecord(acl.Tags),
  };
}

async function findAcls(ctx: ResourceContext, input: DescribeNetworkAclsCommandInput): Promise<NetworkAcl[]> {
  const out = await orUndefined(ctx.aws.get(EC2Client).send(new DescribeNetworkAclsCommand(input)));
  return out?.NetworkAcls ?? [];
}

export async function findNetworkAclById(ctx: ResourceContext, networkAclId: string): Promise<NetworkAclAttrs | undefined> {
  const acl = single(await findAcls(ctx, { NetworkAclIds: [networkAclId] }), `network ACLs with id ${networkAclId}`);
  return acl && toAttrs(acl);
}

async function findDefaultAclId(ctx: ResourceContext, vpcId: string): Promise<string> {
  const filters = [
    { Name: "vpc-id", Values: [vpcId] },
    { Name: "default", Values: ["true"] },
  ];
  const acl = single(await findAcls(ctx, { Filters: filters }), `default network ACLs of ${vpcId}`);
  if (!acl) throw new Error(`finding the default network ACL of ${vpcId}: none found`);
  return acl.NetworkAclId!;
}

/** Moves a subnet from whichever ACL holds it now (every subnet always has exactly one) onto `networkAclId`. */
async function moveSubnet(ctx: ResourceContext, subnetId: string, networkAclId: string): Promise<void> {
  const acl = single(await findAcls(ctx, { Filters: [{ Name: "association.subnet-id", Values: [subnetId] }] }), `network ACLs holding ${subnetId}`);
  const association = acl?.Associations?.find((a) => a.SubnetId === subnetId);
  if (!acl || !association) throw new Error(`associating ${subnetId} with network ACL ${networkAclId}: the subnet has no network ACL association`);
  if (acl.NetworkAclId === networkAclId) return;
  try {
    await ctx.aws.get(EC2Client).send(new ReplaceNetworkAclAssociationCommand({ AssociationId: association.NetworkAclAssociationId, NetworkAclId: networkAclId }));
  } catch (err) {
    // A replay of a replace whose answer was lost names the association the first attempt replaced: done when the subnet
    // is on the wanted ACL now.
    if (!hasCode(err, "InvalidAssociationID.NotFound")) throw err;
    const now = single(await findAcls(ctx, { Filters: [{ Name: "association.subnet-id", Values: [subnetId] }] }), `network ACLs holding ${subnetId}`);
    if (now?.NetworkAclId !== networkAclId) throw err;
  }
}

function entryInput(networkAclId: string, e: NetworkAclEntrySpec) {
  return {
    NetworkAclId: networkAclId,
    RuleNumber: e.ruleNumber,
    Egress: e.egress,
    Protocol: e.protocol,
    RuleAction: e.ruleAction,
    CidrBlock: e.cidrBlock,
    ...(hasPorts(e.protocol) ? { PortRange: { From: e.fromPort, To: e.toPort } } : {}),
  };
}

/** Brings the ACL's entries from `have` to `want`: replace what changed, create what is new, delete what is gone. */
async function syncEntries(ctx: ResourceContext, networkAclId: string, want: NetworkAclEntrySpec[], have: NetworkAclEntrySpec[]): Promise<void> {
  const ec2 = ctx.aws.get(EC2Client);
  const current = new Map(canonicalEntries(have).map((e) => [entryKey(e), e]));
  const wanted = canonicalEntries(want);
  // A new ACL's id can be briefly unknown to the entry calls (EC2 eventual consistency).
  const write = (send: () => Promise<unknown>) => retryWhile(ctx, ["InvalidNetworkAclID.NotFound"], 60, send);
  for (const e of wanted) {
    const old = current.get(entryKey(e));
    if (!old) await write(() => ec2.send(new CreateNetworkAclEntryCommand(entryInput(networkAclId, e))));
    else if (!sameValue(old, e)) await write(() => ec2.send(new ReplaceNetworkAclEntryCommand(entryInput(networkAclId, e))));
  }
  const keep = new Set(wanted.map(entryKey));
  for (const e of current.values()) {
    if (!keep.has(entryKey(e))) await ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: networkAclId, RuleNumber: e.ruleNumber, Egress: e.egress }));
  }
}

/** Associates the subnets added to the list with this ACL and returns the removed ones to the VPC's default ACL. */
async function syncSubnets(ctx: ResourceContext, acl: Pick<NetworkAclAttrs, "networkAclId" | "vpcId">, want: string[], have: string[]): Promise<void> {
  for (const subnetId of want.filter((s) => !have.includes(s))) await moveSubnet(ctx, subnetId, acl.networkAclId);
  const removed = have.filter((s) => !want.includes(s));
  if (!removed.length) return;
  const defaultAclId = await findDefaultAclId(ctx, acl.vpcId);
  for (const subnetId of removed) await moveSubnet(ctx, subnetId, defaultAclId);
}

async function createAcl(ctx: ResourceContext, spec: NetworkAclSpec, token: string): Promise<string> {
  const ec2 = ctx.aws.get(EC2Client);
  const input = { VpcId: spec.vpcId, ClientToken: token, TagSpecifications: ec2TagSpecification("network-acl", spec.tags) };
  // A VPC can be briefly unknown right after its creation.
  const out = await retryWhile(ctx, ["InvalidVpcID.NotFound"], 60, () => ec2.send(new CreateNetworkAclCommand(input)));
  return out.NetworkAcl!.NetworkAclId!;
}

export const networkAcl: ResourceType<NetworkAclSpec, NetworkAclAttrs> = {
  type: "ec2:network-acl",
  createIdempotency: "token",

  async find(ctx, { logicalId, recorded }) {
    if (recorded?.networkAclId) {
      const found = await findNetworkAclById(ctx, recorded.networkAclId);
      if (found) return found;
    }
    const acl = single(await findAcls(ctx, { Filters: ec2TagFilters(ctx.identity, logicalId) }), `network ACLs tagged ${logicalId}`);
    return acl && toAttrs(acl);
  },

  diff(spec, actual) {
    const want = { ...spec, entries: canonicalEntries(spec.entries), subnetIds: [...spec.subnetIds].sort() };
    return [
      ...compareFields(want, actual, [{ field: "vpcId", action: "replace" }, { field: "entries" }, { field: "subnetIds" }]),
      ...compareTags(spec.tags, actual.tags),
    ];
  },

  async create(ctx, spec, { logicalId }) {
    // The ClientToken makes a retried create return the same ACL; what it already holds is then reconciled, not duplicated.
    const acl = await createWithClientToken(ctx, logicalId, spec, (token) => createAcl(ctx, spec, token), (id) => findNetworkAclById(ctx, id));
    await syncEntries(ctx, acl.networkAclId, spec.entries, acl.entries);
    await syncSubnets(ctx, acl, spec.subnetIds, acl.subnetIds);
    return (await findNetworkAclById(ctx, acl.networkAclId)) ?? { ...spec, networkAclId: acl.networkAclId };
  },

  async update(ctx, spec, actual, changes) {
    const fields = new Set(changes.map((c) => c.field));
    if (fields.has("entries")) await syncEntries(ctx, actual.networkAclId, spec.entries, actual.entries);
    if (fields.has("subnetIds")) await syncSubnets(ctx, actual, spec.subnetIds, actual.subnetIds);
    if (fields.has("tags")) await applyEc2Tags(ctx, actual.networkAclId, spec.tags, actual.tags);
    return (await findNetworkAclById(ctx, actual.networkAclId))!;
  },

  async destroy(ctx, actual) {
    // An ACL cannot be deleted while subnets use it: they go back to the VPC's default ACL first.
    const current = await findNetworkAclById(ctx, actual.networkAclId);
    if (!current) return;
    await syncSubnets(ctx, current, [], current.subnetIds);
    await retryWhile(ctx, ["DependencyViolation"], 60, async () => {
      await orUndefined(ctx.aws.get(EC2Client).send(new DeleteNetworkAclCommand({ NetworkAclId: actual.networkAclId })));
    });
  },

  physicalId: (a) => a.networkAclId,
};
