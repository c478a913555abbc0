import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeleteSubnetCommand, DeleteVpcCommand, DescribeNetworkAclsCommand, DescribeSecurityGroupRulesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { FakeCloud } from "./cloud.js";
import { type Ec2State, ec2Model, extraEc2Handlers, newEc2State } from "./ec2.js";
import { registerSecurityFake } from "./ec2-security.js";
import { flowLog, type FlowLogSpec } from "../../src/resources/flow-log.js";
import { networkAcl, type NetworkAclSpec } from "../../src/resources/network-acl.js";
import { securityGroupRule, type SecurityGroupRuleSpec } from "../../src/resources/security-group-rule.js";
import { securityGroup, type SecurityGroupSpec } from "../../src/resources/security-group.js";
import { subnet } from "../../src/resources/subnet.js";
import { vpc } from "../../src/resources/vpc.js";
import type { ResourceType } from "../../src/resources/types.js";
import { testContext, testTags } from "../helpers.js";

let cloud: FakeCloud;
let state: Ec2State;

beforeEach(() => {
  registerSecurityFake();
  cloud = new FakeCloud();
  state = newEc2State();
  cloud.install([ec2Model(cloud, state)]);
});
afterEach(() => cloud.restore());

async function newVpc(): Promise<string> {
  const created = await vpc.create(testContext(), { cidrBlock: "10.0.0.0/16", enableDnsSupport: true, enableDnsHostnames: true, tags: testTags("network.vpc") }, { logicalId: "network.vpc" });
  return created.vpcId;
}

async function newSubnet(vpcId: string, name: string, cidrBlock: string): Promise<string> {
  const logicalId = `network.subnet.${name}`;
  const created = await subnet.create(testContext(), { vpcId, cidrBlock, availabilityZone: "us-east-1a", mapPublicIpOnLaunch: false, tags: testTags(logicalId) }, { logicalId });
  return created.subnetId;
}

/** Create, find by tags and by id, converge, destroy twice: what the engine does over a resource's life. */
async function lifecycle<S extends { tags: Record<string, string> }, A>(type: ResourceType<S, A>, logicalId: string, spec: S, changed: S) {
  const ctx = testContext();
  const created = await type.create(ctx, spec, { logicalId });
  expect(await type.find(ctx, { logicalId })).toEqual(created);
  expect(await type.find(ctx, { logicalId, recorded: created })).toEqual(created);
  expect(type.diff(spec, created)).toEqual([]);
  const changes = type.diff(changed, created);
  expect(changes.length).toBeGreaterThan(0);
  expect(changes.every((c) => c.action === "update")).toBe(true);
  const updated = await type.update!(ctx, changed, created, changes);
  expect(type.diff(changed, updated)).toEqual([]);
  expect(await type.find(ctx, { logicalId, recorded: updated })).toEqual(updated);
  await type.destroy(ctx, updated);
  expect(await type.find(ctx, { logicalId, recorded: updated })).toBeUndefined();
  await expect(type.destroy(ctx, updated)).resolves.toBeUndefined();
  return { created, updated };
}

describe("registerSecurityFake", () => {
  it("registers its handlers once", () => {
    const before = extraEc2Handlers.length;
    registerSecurityFake();
    registerSecurityFake();
    expect(extraEc2Handlers.length).toBe(before);
  });

  it("gives a VPC its default network ACL and default security group, and new subnets the default ACL", async () => {
    const vpcId = await newVpc();
    const subnetId = await newSubnet(vpcId, "a", "10.0.1.0/24");
    const ec2 = new EC2Client({ region: "us-east-1" });
    const acls = await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: "default", Values: ["true"] }] }));
    expect(acls.NetworkAcls).toHaveLength(1);
    expect(acls.NetworkAcls![0]!.Associations!.map((a) => a.SubnetId)).toEqual([subnetId]);
    const groups = [...state.securityGroups.values()].filter((g) => g.VpcId === vpcId);
    expect(groups.map((g) => g.GroupName)).toEqual(["default"]);
  });
});

describe("ec2:security-group against the fake", () => {
  const logicalId = "network.security-group.api";
  const spec = (vpcId: string): SecurityGroupSpec => ({ vpcId, groupName: "clinical-dev-api", description: "API tasks", tags: testTags(logicalId) });

  it("creates without the default egress rule, finds, updates tags, destroys", async () => {
    const vpcId = await newVpc();
    const { created } = await lifecycle(securityGroup, logicalId, spec(vpcId), { ...spec(vpcId), tags: { ...testTags(logicalId), Name: "api" } });
    expect([...state.securityGroupRules.values()].filter((r) => r.GroupId === created.groupId)).toEqual([]);
    await expect(new EC2Client({ region: "us-east-1" }).send(new DeleteVpcCommand({ VpcId: vpcId }))).resolves.toBeDefined();
  });

  it("adopts its own group on a duplicate name and refuses someone else's", async () => {
    const vpcId = await newVpc();
    const first = await securityGroup.create(testContext(), spec(vpcId), { logicalId });
    const again = await securityGroup.create(testContext(), spec(vpcId), { logicalId });
    expect(again.groupId).toBe(first.groupId);
    expect(cloud.callsTo("CreateSecurityGroup")).toHaveLength(2);
    await expect(securityGroup.create(testContext(), { ...spec(vpcId), tags: testTags("network.security-group.other") }, { logicalId: "network.security-group.other" })).rejects.toThrow(
      /already has this name/,
    );
  });

  it("waits for network interfaces to drain, naming them, then deletes", async () => {
    const vpcId = await newVpc();
    const group = await securityGroup.create(testContext(), spec(vpcId), { logicalId });
    state.networkInterfaces.set("eni-0abc", { NetworkInterfaceId: "eni-0abc", VpcId: vpcId, Status: "in-use", Description: "ELB app/clinical-dev/1", Groups: [{ GroupId: group.groupId, GroupName: group.groupName }] });
    setTimeout(() => state.networkInterfaces.delete("eni-0abc"), 40);
    const ctx = testContext();
    await securityGroup.destroy(ctx, group);
    expect(ctx.notes.length).toBeGreaterThan(0);
    expect(ctx.notes[0]).toMatch(/1 network interface still attached to sg-\w+: eni-0abc \(load balancer app\/clinical-dev\/1, in-use\)/);
    expect(state.securityGroups.has(group.groupId)).toBe(false);
  });
});

describe("ec2:security-group-rule against the fake", () => {
  async function twoGroups() {
    const vpcId = await newVpc();
    const make = (role: string) =>
      securityGroup.create(testContext(), { vpcId, groupName: `clinical-dev-${role}`, description: role, tags: testTags(`network.security-group.${role}`) }, { logicalId: `network.security-group.${role}` });
    return { vpcId, alb: await make("alb"), api: await make("api") };
  }

  it("creates an ingress rule from another group, modifies it in place, revokes it", async () => {
    const { api, alb } = await twoGroups();
    const logicalId = "network.security-group-rule.api-alb-in";
    const spec: SecurityGroupRuleSpec = { groupId: api.groupId, direction: "ingress", protocol: "tcp", fromPort: 8080, toPort: 8080, referencedGroupId: alb.groupId, description: "from the load balancer", tags: testTags(logicalId) };
    const { updated } = await lifecycle(securityGroupRule, logicalId, spec, { ...spec, fromPort: 8000, toPort: 8090, description: "from the ALB" });
    expect(updated).toMatchObject({ fromPort: 8000, toPort: 8090, description: "from the ALB", referencedGroupId: alb.groupId });
    expect(cloud.callsTo("ModifySecurityGroupRules")).toHaveLength(1);
  });

  it("creates an egress CIDR rule and switches it to a group in place", async () => {
    const { api, alb } = await twoGroups();
    const logicalId = "network.security-group-rule.alb-api-out";
    const spec: SecurityGroupRuleSpec = { groupId: alb.groupId, direction: "egress", protocol: "tcp", fromPort: 8080, toPort: 8080, cidrIpv4: "10.0.0.0/16", description: "to the API", tags: testTags(logicalId) };
    const { updated } = await lifecycle(securityGroupRule, logicalId, spec, { ...spec, cidrIpv4: undefined, referencedGroupId: api.groupId });
    expect(updated.cidrIpv4).toBeUndefined();
  });

  it("adopts a rule that already exists (made by hand, untagged) and tags it", async () => {
    const { api } = await twoGroups();
    const logicalId = "network.security-group-rule.api-https-out";
    const spec: SecurityGroupRuleSpec = { groupId: api.groupId, direction: "egress", protocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "AWS APIs", tags: testTags(logicalId) };
    const byHand = await securityGroupRule.create(testContext(), { ...spec, description: "manual", tags: {} }, { logicalId: "by-hand" });
    const adopted = await securityGroupRule.create(testContext(), spec, { logicalId });
    expect(adopted.securityGroupRuleId).toBe(byHand.securityGroupRuleId);
    expect(adopted).toMatchObject({ description: "AWS APIs", tags: testTags(logicalId) });
    expect(await securityGroupRule.find(testContext(), { logicalId })).toEqual(adopted);
  });

  it("keeps a referenced group from being deleted until the referencing rule is gone", async () => {
    const { api, alb } = await twoGroups();
    const logicalId = "network.security-group-rule.api-alb-in";
    const rule = await securityGroupRule.create(
      testContext(),
      { groupId: api.groupId, direction: "ingress", protocol: "tcp", fromPort: 8080, toPort: 8080, referencedGroupId: alb.groupId, description: "alb", tags: testTags(logicalId) },
      { logicalId },
    );
    await expect(securityGroup.destroy(testContext(), alb)).rejects.toMatchObject({ name: "AwsFailure", code: "DependencyViolation" });
    await securityGroupRule.destroy(testContext(), rule);
    await securityGroup.destroy(testContext(), alb);
    await securityGroup.destroy(testContext(), api);
    const ec2 = new EC2Client({ region: "us-east-1" });
    const left = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [api.groupId, alb.groupId] }] }));
    expect(left.SecurityGroupRules).toEqual([]);
  });
});

describe("ec2:network-acl against the fake", () => {
  const logicalId = "network.network-acl.private";
  const entries: NetworkAclSpec["entries"] = [
    { ruleNumber: 100, egress: false, protocol: "-1", ruleAction: "allow", cidrBlock: "10.0.0.0/16" },
    { ruleNumber: 110, egress: false, protocol: "6", ruleAction: "allow", cidrBlock: "0.0.0.0/0", fromPort: 1024, toPort: 65535 },
    { ruleNumber: 100, egress: true, protocol: "-1", ruleAction: "allow", cidrBlock: "0.0.0.0/0" },
  ];

  async function network() {
    const vpcId = await newVpc();
    const subnets = [await newSubnet(vpcId, "a", "10.0.1.0/24"), await newSubnet(vpcId, "b", "10.0.2.0/24"), await newSubnet(vpcId, "c", "10.0.3.0/24")];
    const defaultAcl = () => [...state.networkAcls.values()].find((a) => a.VpcId === vpcId && a.IsDefault);
    return { vpcId, subnets, defaultAcl };
  }

  it("creates with entries and subnets, changes both in place, destroys back to the default ACL", async () => {
    const { vpcId, subnets, defaultAcl } = await network();
    const spec: NetworkAclSpec = { vpcId, subnetIds: [subnets[1]!, subnets[0]!], entries, tags: testTags(logicalId) };
    const changed: NetworkAclSpec = {
      ...spec,
      subnetIds: [subnets[1]!, subnets[2]!],
      entries: [{ ...entries[0]!, cidrBlock: "10.1.0.0/16" }, entries[2]!, { ruleNumber: 120, egress: false, protocol: "17", ruleAction: "deny", cidrBlock: "0.0.0.0/0", fromPort: 53, toPort: 53 }],
    };
    const { created, updated } = await lifecycle(networkAcl, logicalId, spec, changed);
    expect(created.subnetIds).toEqual([...subnets.slice(0, 2)].sort());
    expect(updated.subnetIds).toEqual([subnets[1]!, subnets[2]!].sort());
    expect(updated.entries.map((e) => [e.egress, e.ruleNumber])).toEqual([
      [false, 100],
      [false, 120],
      [true, 100],
    ]);
    expect(cloud.callsTo("ReplaceNetworkAclEntry")).toHaveLength(1);
    expect(cloud.callsTo("DeleteNetworkAclEntry")).toHaveLength(1);
    expect(defaultAcl().Associations.map((a: any) => a.SubnetId).sort()).toEqual([...subnets].sort());
    expect([...state.networkAcls.values()].filter((a) => a.VpcId === vpcId)).toHaveLength(1);
  });

  it("returns the same ACL for a retried create, and a new one after down then up with the same spec", async () => {
    const { vpcId, subnets } = await network();
    const spec: NetworkAclSpec = { vpcId, subnetIds: [subnets[0]!], entries, tags: testTags(logicalId) };
    const first = await networkAcl.create(testContext(), spec, { logicalId });
    const retried = await networkAcl.create(testContext(), spec, { logicalId });
    expect(retried).toEqual(first);
    expect(cloud.callsTo("CreateNetworkAclEntry")).toHaveLength(3);
    await networkAcl.destroy(testContext(), first);
    const again = await networkAcl.create(testContext(), spec, { logicalId });
    expect(again.networkAclId).not.toBe(first.networkAclId);
    expect(networkAcl.diff(spec, again)).toEqual([]);
  });

  it("lets the subnets and the VPC go once the ACL is destroyed", async () => {
    const { vpcId, subnets } = await network();
    const acl = await networkAcl.create(testContext(), { vpcId, subnetIds: subnets, entries, tags: testTags(logicalId) }, { logicalId });
    const ec2 = new EC2Client({ region: "us-east-1" });
    await expect(ec2.send(new DeleteVpcCommand({ VpcId: vpcId }))).rejects.toMatchObject({ name: "DependencyViolation" });
    await networkAcl.destroy(testContext(), acl);
    for (const s of subnets) await ec2.send(new DeleteSubnetCommand({ SubnetId: s }));
    await ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));
    expect(state.vpcs.size).toBe(0);
  });
});

describe("ec2:flow-log against the fake", () => {
  const logicalId = "network.flow-log";
  const spec = (vpcId: string): FlowLogSpec => ({
    resourceId: vpcId,
    trafficType: "ALL",
    logGroupName: "/vpc/clinical-dev/flow-logs",
    deliverLogsPermissionArn: "arn:aws:iam::123456789012:role/clinical-dev-vpc-flow-logs",
    tags: testTags(logicalId),
  });

  it("creates, finds, updates tags, destroys", async () => {
    const vpcId = await newVpc();
    const { created } = await lifecycle(flowLog, logicalId, spec(vpcId), { ...spec(vpcId), tags: { ...testTags(logicalId), Name: "flow-logs" } });
    expect(created.resourceId).toBe(vpcId);
    expect(state.flowLogs.size).toBe(0);
  });

  it("creates again after down then up with the same spec", async () => {
    const vpcId = await newVpc();
    const first = await flowLog.create(testContext(), spec(vpcId), { logicalId });
    expect(await flowLog.create(testContext(), spec(vpcId), { logicalId })).toEqual(first);
    await flowLog.destroy(testContext(), first);
    const again = await flowLog.create(testContext(), spec(vpcId), { logicalId });
    expect(again.flowLogId).not.toBe(first.flowLogId);
    expect(state.flowLogs.size).toBe(1);
  });

  it("reports a VPC that does not exist as an error", async () => {
    await expect(flowLog.create(testContext(), spec("vpc-0missing"), { logicalId })).rejects.toThrow(/InvalidVpcID.NotFound/);
  });
});
