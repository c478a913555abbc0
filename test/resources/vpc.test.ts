import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CreateVpcCommand,
  DeleteVpcCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  EC2Client,
  EC2ServiceException,
  ModifyVpcAttributeCommand,
} from "@aws-sdk/client-ec2";
import { vpc } from "../../src/resources/vpc.js";
import { testContext, testTags } from "../helpers.js";

const ec2 = mockClient(EC2Client);
const tags = testTags("network.vpc");
const spec = { cidrBlock: "10.0.0.0/16", enableDnsSupport: true, enableDnsHostnames: true, tags };
const ec2Error = (name: string) => new EC2ServiceException({ name, message: name, $fault: "client", $metadata: {} });

function stubDescribe(vpcId: string, dns = { support: true, hostnames: true }) {
  ec2.on(DescribeVpcsCommand, { VpcIds: [vpcId] }).resolves({ Vpcs: [{ VpcId: vpcId, CidrBlock: "10.0.0.0/16", State: "available", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] });
  ec2.on(DescribeVpcAttributeCommand, { VpcId: vpcId, Attribute: "enableDnsSupport" }).resolves({ EnableDnsSupport: { Value: dns.support } });
  ec2.on(DescribeVpcAttributeCommand, { VpcId: vpcId, Attribute: "enableDnsHostnames" }).resolves({ EnableDnsHostnames: { Value: dns.hostnames } });
}

beforeEach(() => ec2.reset());

describe("ec2:vpc", () => {
  it("finds by recorded id and reads DNS attributes", async () => {
    stubDescribe("vpc-1");
    const found = await vpc.find(testContext(), { logicalId: "network.vpc", recorded: { ...spec, vpcId: "vpc-1" } });
    expect(found).toEqual({ ...spec, vpcId: "vpc-1" });
  });

  it("returns undefined when neither the recorded id nor the tags find it", async () => {
    // The catch-all stub goes first: aws-sdk-client-mock lets a later, broader stub win over an earlier, narrower one.
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [] });
    ec2.on(DescribeVpcsCommand, { VpcIds: ["vpc-gone"] }).rejects(ec2Error("InvalidVpcID.NotFound"));
    const found = await vpc.find(testContext(), { logicalId: "network.vpc", recorded: { ...spec, vpcId: "vpc-gone" } });
    expect(found).toBeUndefined();
    expect(ec2.commandCalls(DescribeVpcsCommand)).toHaveLength(2);
    expect(ec2.commandCalls(DescribeVpcsCommand)[1]!.args[0].input.Filters).toEqual([
      { Name: "tag:platform:logical-id", Values: ["network.vpc"] },
      { Name: "tag:Project", Values: ["clinical-platform"] },
      { Name: "tag:Environment", Values: ["dev"] },
    ]);
  });

  it("refuses to pick one of two VPCs with the same tags", async () => {
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: "vpc-1" }, { VpcId: "vpc-2" }] });
    await expect(vpc.find(testContext(), { logicalId: "network.vpc" })).rejects.toThrow(/found 2 VPCs/);
  });

  it("creates with tags, waits until available, and turns DNS support and hostnames on", async () => {
    ec2.on(CreateVpcCommand).resolves({ Vpc: { VpcId: "vpc-1", State: "pending" } });
    ec2.on(DescribeVpcsCommand, { VpcIds: ["vpc-1"] })
      .resolvesOnce({ Vpcs: [{ VpcId: "vpc-1", State: "pending" }] })
      .resolves({ Vpcs: [{ VpcId: "vpc-1", CidrBlock: "10.0.0.0/16", State: "available", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] });
    ec2.on(DescribeVpcAttributeCommand).resolves({ EnableDnsSupport: { Value: true }, EnableDnsHostnames: { Value: true } });
    ec2.on(ModifyVpcAttributeCommand).resolves({});

    const created = await vpc.create(testContext(), spec, { logicalId: "network.vpc" });

    expect(created.vpcId).toBe("vpc-1");
    expect(ec2).toHaveReceivedCommandWith(CreateVpcCommand, {
      CidrBlock: "10.0.0.0/16",
      TagSpecifications: [{ ResourceType: "vpc", Tags: expect.arrayContaining([{ Key: "platform:logical-id", Value: "network.vpc" }, { Key: "ManagedBy", Value: "platform" }]) }],
    });
    expect(ec2).toHaveReceivedCommandWith(ModifyVpcAttributeCommand, { VpcId: "vpc-1", EnableDnsSupport: { Value: true } });
    expect(ec2).toHaveReceivedCommandWith(ModifyVpcAttributeCommand, { VpcId: "vpc-1", EnableDnsHostnames: { Value: true } });
  });

  it("diffs DNS settings as in-place and the range as a replacement", () => {
    const changes = vpc.diff({ ...spec, cidrBlock: "10.1.0.0/16" }, { ...spec, enableDnsHostnames: false, vpcId: "vpc-1" });
    expect(changes).toEqual([
      { field: "cidrBlock", from: "10.0.0.0/16", to: "10.1.0.0/16", action: "replace" },
      { field: "enableDnsHostnames", from: false, to: true, action: "update" },
    ]);
  });

  it("updates only the attribute that drifted", async () => {
    stubDescribe("vpc-1");
    ec2.on(ModifyVpcAttributeCommand).resolves({});
    const actual = { ...spec, enableDnsHostnames: false, vpcId: "vpc-1" };
    await vpc.update!(testContext(), spec, actual, vpc.diff(spec, actual));
    expect(ec2).toHaveReceivedCommandTimes(ModifyVpcAttributeCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(ModifyVpcAttributeCommand, { VpcId: "vpc-1", EnableDnsHostnames: { Value: true } });
  });

  it("retries DependencyViolation while network interfaces drain, then deletes", async () => {
    ec2.on(DeleteVpcCommand).rejectsOnce(ec2Error("DependencyViolation")).rejectsOnce(ec2Error("DependencyViolation")).resolves({});
    await vpc.destroy(testContext(), { ...spec, vpcId: "vpc-1" });
    expect(ec2).toHaveReceivedCommandTimes(DeleteVpcCommand, 3);
  });

  it("treats an already deleted VPC as deleted", async () => {
    ec2.on(DeleteVpcCommand).rejects(ec2Error("InvalidVpcID.NotFound"));
    await expect(vpc.destroy(testContext(), { ...spec, vpcId: "vpc-1" })).resolves.toBeUndefined();
  });

  it("gives up on DependencyViolation once the time budget is spent", async () => {
    ec2.on(DeleteVpcCommand).rejects(ec2Error("DependencyViolation"));
    await expect(vpc.destroy(testContext(), { ...spec, vpcId: "vpc-1" })).rejects.toMatchObject({ name: "AwsFailure", code: "DependencyViolation" });
  });
});
