import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  DeleteNetworkAclCommand,
  DeleteNetworkAclEntryCommand,
  DescribeNetworkAclsCommand,
  EC2Client,
  EC2ServiceException,
  type NetworkAcl,
  ReplaceNetworkAclAssociationCommand,
  ReplaceNetworkAclEntryCommand,
} from "@aws-sdk/client-ec2";
import { networkAcl, type NetworkAclSpec } from "../../src/resources/network-acl.js";
import { testContext, testTags } from "../helpers.js";

const ec2 = mockClient(EC2Client);
const logicalId = "network.network-acl.private";
const tags = testTags(logicalId);
const tagList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
const ec2Error = (name: string) => new EC2ServiceException({ name, message: name, $fault: "client", $metadata: {} });

const spec: NetworkAclSpec = {
  vpcId: "vpc-1",
  subnetIds: ["subnet-b", "subnet-a"],
  entries: [
    { ruleNumber: 100, egress: true, protocol: "-1", ruleAction: "allow", cidrBlock: "0.0.0.0/0" },
    { ruleNumber: 110, egress: false, protocol: "6", ruleAction: "allow", cidrBlock: "0.0.0.0/0", fromPort: 1024, toPort: 65535 },
    { ruleNumber: 100, egress: false, protocol: "-1", ruleAction: "allow", cidrBlock: "10.0.0.0/16" },
  ],
  tags,
};

const catchAll = [
  { RuleNumber: 32767, Egress: false, Protocol: "-1", RuleAction: "deny" as const, CidrBlock: "0.0.0.0/0" },
  { RuleNumber: 32767, Egress: true, Protocol: "-1", RuleAction: "deny" as const, CidrBlock: "0.0.0.0/0" },
];
const specEntries = [
  { RuleNumber: 100, Egress: false, Protocol: "-1", RuleAction: "allow" as const, CidrBlock: "10.0.0.0/16" },
  { RuleNumber: 110, Egress: false, Protocol: "6", RuleAction: "allow" as const, CidrBlock: "0.0.0.0/0", PortRange: { From: 1024, To: 65535 } },
  { RuleNumber: 100, Egress: true, Protocol: "-1", RuleAction: "allow" as const, CidrBlock: "0.0.0.0/0" },
];
const awsAcl = (over: Partial<NetworkAcl> = {}): NetworkAcl => ({
  NetworkAclId: "acl-1",
  VpcId: "vpc-1",
  IsDefault: false,
  Entries: [...specEntries, ...catchAll],
  Associations: [
    { NetworkAclAssociationId: "aclassoc-a", NetworkAclId: "acl-1", SubnetId: "subnet-a" },
    { NetworkAclAssociationId: "aclassoc-b", NetworkAclId: "acl-1", SubnetId: "subnet-b" },
  ],
  Tags: tagList(tags),
  ...over,
});
const sorted = (s: NetworkAclSpec) => ({
  ...s,
  subnetIds: [...s.subnetIds].sort(),
  entries: [s.entries[2]!, s.entries[1]!, s.entries[0]!],
});

/** Which ACL holds each subnet, as DescribeNetworkAcls answers for association.subnet-id. */
function stubHolder(subnetId: string, aclId: string, associationId: string) {
  ec2.on(DescribeNetworkAclsCommand, { Filters: [{ Name: "association.subnet-id", Values: [subnetId] }] }).resolves({
    NetworkAcls: [{ NetworkAclId: aclId, VpcId: "vpc-1", Associations: [{ NetworkAclAssociationId: associationId, NetworkAclId: aclId, SubnetId: subnetId }] }],
  });
}

function stubDefaultAcl() {
  ec2.on(DescribeNetworkAclsCommand, { Filters: [{ Name: "vpc-id", Values: ["vpc-1"] }, { Name: "default", Values: ["true"] }] }).resolves({ NetworkAcls: [{ NetworkAclId: "acl-default", VpcId: "vpc-1", IsDefault: true }] });
}

beforeEach(() => ec2.reset());

describe("ec2:network-acl", () => {
  it("finds by recorded id: entries without the catch-all, sorted by direction and number; subnets sorted", async () => {
    ec2.on(DescribeNetworkAclsCommand, { NetworkAclIds: ["acl-1"] }).resolves({ NetworkAcls: [awsAcl()] });
    const found = await networkAcl.find(testContext(), { logicalId, recorded: { ...spec, networkAclId: "acl-1" } });
    expect(found).toEqual({ ...sorted(spec), networkAclId: "acl-1" });
    expect(networkAcl.diff(spec, found!)).toEqual([]);
  });

  it("finds by tags when the recorded ACL is gone, and returns undefined when nothing matches", async () => {
    ec2.on(DescribeNetworkAclsCommand).resolves({ NetworkAcls: [] });
    ec2.on(DescribeNetworkAclsCommand, { NetworkAclIds: ["acl-gone"] }).rejects(ec2Error("InvalidNetworkAclID.NotFound"));
    const found = await networkAcl.find(testContext(), { logicalId, recorded: { ...spec, networkAclId: "acl-gone" } });
    expect(found).toBeUndefined();
    expect(ec2.commandCalls(DescribeNetworkAclsCommand)[1]!.args[0].input.Filters).toEqual([
      { Name: "tag:platform:logical-id", Values: [logicalId] },
      { Name: "tag:Project", Values: ["clinical-platform"] },
      { Name: "tag:Environment", Values: ["dev"] },
    ]);
  });

  it("creates with a client token and tags, adds each entry (ports only for TCP/UDP), then moves each subnet over", async () => {
    ec2.on(CreateNetworkAclCommand).resolves({ NetworkAcl: awsAcl({ Entries: catchAll, Associations: [] }) });
    ec2.on(CreateNetworkAclEntryCommand).resolves({});
    stubHolder("subnet-a", "acl-default", "aclassoc-a0");
    stubHolder("subnet-b", "acl-default", "aclassoc-b0");
    ec2.on(ReplaceNetworkAclAssociationCommand).resolves({ NewAssociationId: "aclassoc-new" });
    ec2.on(DescribeNetworkAclsCommand, { NetworkAclIds: ["acl-1"] })
      .resolvesOnce({ NetworkAcls: [awsAcl({ Entries: catchAll, Associations: [] })] })
      .resolves({ NetworkAcls: [awsAcl()] });

    const created = await networkAcl.create(testContext(), spec, { logicalId });

    expect(created.networkAclId).toBe("acl-1");
    const create = ec2.commandCalls(CreateNetworkAclCommand)[0]!.args[0].input;
    expect(create).toEqual({ VpcId: "vpc-1", ClientToken: expect.stringMatching(/^platform-[0-9a-f]{48}$/), TagSpecifications: [{ ResourceType: "network-acl", Tags: tagList(tags) }] });
    expect(ec2).toHaveReceivedCommandTimes(CreateNetworkAclEntryCommand, 3);
    expect(ec2).toHaveReceivedCommandWith(CreateNetworkAclEntryCommand, { NetworkAclId: "acl-1", RuleNumber: 110, Egress: false, Protocol: "6", RuleAction: "allow", CidrBlock: "0.0.0.0/0", PortRange: { From: 1024, To: 65535 } });
    const allTraffic = ec2.commandCalls(CreateNetworkAclEntryCommand).map((c) => c.args[0].input).find((i) => i.RuleNumber === 100 && i.Egress);
    expect(allTraffic).toEqual({ NetworkAclId: "acl-1", RuleNumber: 100, Egress: true, Protocol: "-1", RuleAction: "allow", CidrBlock: "0.0.0.0/0" });
    expect(ec2).toHaveReceivedCommandWith(ReplaceNetworkAclAssociationCommand, { AssociationId: "aclassoc-a0", NetworkAclId: "acl-1" });
    expect(ec2).toHaveReceivedCommandWith(ReplaceNetworkAclAssociationCommand, { AssociationId: "aclassoc-b0", NetworkAclId: "acl-1" });
  });

  it("uses the same client token for the same logical resource and spec", async () => {
    ec2.on(CreateNetworkAclCommand).resolves({ NetworkAcl: awsAcl() });
    ec2.on(DescribeNetworkAclsCommand).resolves({ NetworkAcls: [awsAcl()] });
    await networkAcl.create(testContext(), spec, { logicalId });
    await networkAcl.create(testContext(), spec, { logicalId });
    const [a, b] = ec2.commandCalls(CreateNetworkAclCommand).map((c) => c.args[0].input.ClientToken);
    expect(a).toBe(b);
    // A replayed create that already holds the entries and subnets sends nothing more.
    expect(ec2).not.toHaveReceivedCommand(CreateNetworkAclEntryCommand);
    expect(ec2).not.toHaveReceivedCommand(ReplaceNetworkAclAssociationCommand);
  });

  it("steps past a client token that EC2 replays for an ACL deleted since (down, then up)", async () => {
    ec2.on(CreateNetworkAclCommand).resolvesOnce({ NetworkAcl: { NetworkAclId: "acl-deleted" } }).resolves({ NetworkAcl: awsAcl() });
    ec2.on(DescribeNetworkAclsCommand).resolves({ NetworkAcls: [awsAcl()] });
    ec2.on(DescribeNetworkAclsCommand, { NetworkAclIds: ["acl-deleted"] }).rejects(ec2Error("InvalidNetworkAclID.NotFound"));
    const created = await networkAcl.create(testContext(), spec, { logicalId });
    expect(created.networkAclId).toBe("acl-1");
    const [first, second] = ec2.commandCalls(CreateNetworkAclCommand).map((c) => c.args[0].input.ClientToken);
    expect(second).not.toBe(first);
    expect(second).toMatch(/^platform-[0-9a-f]{48}$/);
  });

  it("diffs entries and subnets in place (order-insensitive) and the VPC as a replacement", () => {
    const actual = { ...sorted(spec), networkAclId: "acl-1" };
    expect(networkAcl.diff({ ...spec, entries: [...spec.entries].reverse(), subnetIds: ["subnet-a", "subnet-b"] }, actual)).toEqual([]);
    const changed = networkAcl.diff({ ...spec, vpcId: "vpc-2", subnetIds: ["subnet-a"], entries: spec.entries.slice(1) }, actual);
    expect(changed.map((c) => [c.field, c.action])).toEqual([
      ["vpcId", "replace"],
      ["entries", "update"],
      ["subnetIds", "update"],
    ]);
  });

  it("updates entries: replaces changed rule numbers, creates new ones, deletes removed ones", async () => {
    ec2.on(ReplaceNetworkAclEntryCommand).resolves({});
    ec2.on(CreateNetworkAclEntryCommand).resolves({});
    ec2.on(DeleteNetworkAclEntryCommand).resolves({});
    ec2.on(DescribeNetworkAclsCommand).resolves({ NetworkAcls: [awsAcl()] });
    const actual = { ...sorted(spec), networkAclId: "acl-1" };
    const want: NetworkAclSpec = {
      ...spec,
      entries: [
        { ruleNumber: 100, egress: false, protocol: "-1", ruleAction: "allow", cidrBlock: "10.1.0.0/16" },
        { ruleNumber: 110, egress: false, protocol: "6", ruleAction: "allow", cidrBlock: "0.0.0.0/0", fromPort: 1024, toPort: 65535 },
        { ruleNumber: 120, egress: false, protocol: "17", ruleAction: "deny", cidrBlock: "0.0.0.0/0", fromPort: 53, toPort: 53 },
      ],
    };
    await networkAcl.update!(testContext(), want, actual, networkAcl.diff(want, actual));
    expect(ec2).toHaveReceivedCommandTimes(ReplaceNetworkAclEntryCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(ReplaceNetworkAclEntryCommand, { NetworkAclId: "acl-1", RuleNumber: 100, Egress: false, Protocol: "-1", RuleAction: "allow", CidrBlock: "10.1.0.0/16" });
    expect(ec2).toHaveReceivedCommandTimes(CreateNetworkAclEntryCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(CreateNetworkAclEntryCommand, { RuleNumber: 120, Egress: false, Protocol: "17", RuleAction: "deny", PortRange: { From: 53, To: 53 } });
    expect(ec2).toHaveReceivedCommandTimes(DeleteNetworkAclEntryCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(DeleteNetworkAclEntryCommand, { NetworkAclId: "acl-1", RuleNumber: 100, Egress: true });
    expect(ec2).not.toHaveReceivedCommand(ReplaceNetworkAclAssociationCommand);
  });

  it("updates associations: an added subnet moves over, a removed one goes back to the VPC's default ACL", async () => {
    stubHolder("subnet-c", "acl-default", "aclassoc-c0");
    stubHolder("subnet-b", "acl-1", "aclassoc-b");
    stubDefaultAcl();
    ec2.on(ReplaceNetworkAclAssociationCommand).resolves({ NewAssociationId: "aclassoc-new" });
    ec2.on(DescribeNetworkAclsCommand, { NetworkAclIds: ["acl-1"] }).resolves({ NetworkAcls: [awsAcl()] });
    const actual = { ...sorted(spec), networkAclId: "acl-1" };
    const want = { ...spec, subnetIds: ["subnet-a", "subnet-c"] };
    await networkAcl.update!(testContext(), want, actual, networkAcl.diff(want, actual));
    expect(ec2).toHaveReceivedCommandTimes(ReplaceNetworkAclAssociationCommand, 2);
    expect(ec2).toHaveReceivedCommandWith(ReplaceNetworkAclAssociationCommand, { AssociationId: "aclassoc-c0", NetworkAclId: "acl-1" });
    expect(ec2).toHaveReceivedCommandWith(ReplaceNetworkAclAssociationCommand, { AssociationId: "aclassoc-b", NetworkAclId: "acl-default" });
    expect(ec2).not.toHaveReceivedCommand(CreateNetworkAclEntryCommand);
  });

  it("destroys: moves every associated subnet back to the default ACL, then deletes", async () => {
    ec2.on(DescribeNetworkAclsCommand, { NetworkAclIds: ["acl-1"] }).resolves({ NetworkAcls: [awsAcl()] });
    stubHolder("subnet-a", "acl-1", "aclassoc-a");
    stubHolder("subnet-b", "acl-1", "aclassoc-b");
    stubDefaultAcl();
    ec2.on(ReplaceNetworkAclAssociationCommand).resolves({});
    ec2.on(DeleteNetworkAclCommand).resolves({});
    await networkAcl.destroy(testContext(), { ...sorted(spec), networkAclId: "acl-1" });
    expect(ec2).toHaveReceivedCommandWith(ReplaceNetworkAclAssociationCommand, { AssociationId: "aclassoc-a", NetworkAclId: "acl-default" });
    expect(ec2).toHaveReceivedCommandWith(ReplaceNetworkAclAssociationCommand, { AssociationId: "aclassoc-b", NetworkAclId: "acl-default" });
    expect(ec2).toHaveReceivedCommandWith(DeleteNetworkAclCommand, { NetworkAclId: "acl-1" });
  });

  it("treats an ACL already gone as deleted, whether the read or the delete finds nothing", async () => {
    ec2.on(DescribeNetworkAclsCommand).rejects(ec2Error("InvalidNetworkAclID.NotFound"));
    await expect(networkAcl.destroy(testContext(), { ...sorted(spec), networkAclId: "acl-1" })).resolves.toBeUndefined();
    expect(ec2).not.toHaveReceivedCommand(DeleteNetworkAclCommand);

    ec2.reset();
    ec2.on(DescribeNetworkAclsCommand).resolves({ NetworkAcls: [awsAcl({ Associations: [] })] });
    ec2.on(DeleteNetworkAclCommand).rejects(ec2Error("InvalidNetworkAclID.NotFound"));
    await expect(networkAcl.destroy(testContext(), { ...sorted(spec), networkAclId: "acl-1" })).resolves.toBeUndefined();
  });
});
