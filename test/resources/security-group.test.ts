import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  EC2ServiceException,
  RevokeSecurityGroupEgressCommand,
} from "@aws-sdk/client-ec2";
import { errorCode } from "../../src/aws/errors.js";
import { securityGroup } from "../../src/resources/security-group.js";
import { testContext, testTags } from "../helpers.js";

const ec2 = mockClient(EC2Client);
const logicalId = "network.security-group.api";
const tags = testTags(logicalId);
const tagList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
const spec = { vpcId: "vpc-1", groupName: "clinical-dev-api", description: "API tasks", tags };
const ec2Error = (name: string) => new EC2ServiceException({ name, message: name, $fault: "client", $metadata: {} });
const awsGroup = (groupId: string, t = tags) => ({ GroupId: groupId, VpcId: "vpc-1", GroupName: "clinical-dev-api", Description: "API tasks", Tags: tagList(t) });

beforeEach(() => ec2.reset());

describe("ec2:security-group", () => {
  it("finds by recorded id", async () => {
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: ["sg-1"] }).resolves({ SecurityGroups: [awsGroup("sg-1")] });
    const found = await securityGroup.find(testContext(), { logicalId, recorded: { ...spec, groupId: "sg-1" } });
    expect(found).toEqual({ ...spec, groupId: "sg-1" });
  });

  it("falls back to the tags when the recorded group is gone", async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [awsGroup("sg-2")] });
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: ["sg-gone"] }).rejects(ec2Error("InvalidGroup.NotFound"));
    const found = await securityGroup.find(testContext(), { logicalId, recorded: { ...spec, groupId: "sg-gone" } });
    expect(found?.groupId).toBe("sg-2");
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)[1]!.args[0].input.Filters).toEqual([
      { Name: "tag:platform:logical-id", Values: [logicalId] },
      { Name: "tag:Project", Values: ["clinical-platform"] },
      { Name: "tag:Environment", Values: ["dev"] },
    ]);
  });

  it("returns undefined when nothing is found", async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    expect(await securityGroup.find(testContext(), { logicalId })).toBeUndefined();
  });

  it("a group adopted with AWS's allow-all egress still in place (a run died before revoking it) is updated to revoke it", async () => {
    const allowAll = { IpPermissionsEgress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] };
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ ...awsGroup("sg-1"), ...allowAll }] });
    const found = (await securityGroup.find(testContext(), { logicalId }))!;
    expect(found.defaultEgress).toBe(true);
    const changes = securityGroup.diff(spec, found);
    expect(changes).toEqual([expect.objectContaining({ field: "defaultEgress", action: "update" })]);
    ec2.reset();
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({ Return: true });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [awsGroup("sg-1")] });
    const updated = await securityGroup.update!(testContext(), spec, found, changes);
    expect(ec2).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, { GroupId: "sg-1", IpPermissions: allowAll.IpPermissionsEgress });
    expect(updated.defaultEgress).toBeUndefined();
  });

  it("creates with tags and revokes AWS's allow-all egress rule", async () => {
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: "sg-1" });
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({ Return: true });
    ec2.on(DescribeSecurityGroupsCommand, { GroupIds: ["sg-1"] }).resolves({ SecurityGroups: [awsGroup("sg-1")] });

    const created = await securityGroup.create(testContext(), spec, { logicalId });

    expect(created).toEqual({ ...spec, groupId: "sg-1" });
    expect(ec2).toHaveReceivedCommandWith(CreateSecurityGroupCommand, {
      VpcId: "vpc-1",
      GroupName: "clinical-dev-api",
      Description: "API tasks",
      TagSpecifications: [{ ResourceType: "security-group", Tags: tagList(tags) }],
    });
    expect(ec2).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, { GroupId: "sg-1", IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] });
  });

  it("retries the revoke while the new group is not yet visible, and accepts an egress rule already gone", async () => {
    ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: "sg-1" });
    ec2.on(RevokeSecurityGroupEgressCommand).rejectsOnce(ec2Error("InvalidGroup.NotFound")).rejects(ec2Error("InvalidPermission.NotFound"));
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [awsGroup("sg-1")] });
    await expect(securityGroup.create(testContext(), spec, { logicalId })).resolves.toMatchObject({ groupId: "sg-1" });
    expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupEgressCommand, 2);
  });

  it("adopts a duplicate whose tags prove it is ours", async () => {
    ec2.on(CreateSecurityGroupCommand).rejects(ec2Error("InvalidGroup.Duplicate"));
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [awsGroup("sg-old")] });
    ec2.on(RevokeSecurityGroupEgressCommand).rejects(ec2Error("InvalidPermission.NotFound"));
    const created = await securityGroup.create(testContext(), spec, { logicalId });
    expect(created.groupId).toBe("sg-old");
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)[0]!.args[0].input.Filters).toEqual([
      { Name: "vpc-id", Values: ["vpc-1"] },
      { Name: "group-name", Values: ["clinical-dev-api"] },
    ]);
  });

  it("refuses a duplicate that is not ours", async () => {
    ec2.on(CreateSecurityGroupCommand).rejects(ec2Error("InvalidGroup.Duplicate"));
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [awsGroup("sg-theirs", { Owner: "someone else" })] });
    await expect(securityGroup.create(testContext(), spec, { logicalId })).rejects.toThrow(/sg-theirs already has this name.*not tagged as network.security-group.api/);
    expect(ec2).not.toHaveReceivedCommand(RevokeSecurityGroupEgressCommand);
  });

  it("diffs name, description and VPC as replacements and tags in place", () => {
    const actual = { ...spec, groupId: "sg-1", description: "old", tags: { ...tags, Name: "x" } };
    expect(securityGroup.diff(spec, actual)).toEqual([
      { field: "description", from: "old", to: "API tasks", action: "replace" },
      { field: "tags", from: actual.tags, to: tags, action: "update" },
    ]);
  });

  it("updates tags only", async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [awsGroup("sg-1")] });
    ec2.on(CreateTagsCommand).resolves({});
    const actual = { ...spec, groupId: "sg-1", tags: { ...tags, Project: "old" } };
    await securityGroup.update!(testContext(), spec, actual, securityGroup.diff(spec, actual));
    expect(ec2).toHaveReceivedCommandWith(CreateTagsCommand, { Resources: ["sg-1"], Tags: [{ Key: "Project", Value: "clinical-platform" }] });
  });

  it("retries DependencyViolation with a note naming the network interfaces still attached, then deletes", async () => {
    ec2.on(DeleteSecurityGroupCommand).rejectsOnce(ec2Error("DependencyViolation")).rejectsOnce(ec2Error("DependencyViolation")).resolves({});
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        { NetworkInterfaceId: "eni-1", Description: "ELB app/clinical-dev/abc" },
        { NetworkInterfaceId: "eni-2", Description: "arn:aws:ecs:us-east-1:123456789012:attachment/x" },
      ],
    });
    const ctx = testContext();
    await securityGroup.destroy(ctx, { ...spec, groupId: "sg-1" });
    expect(ec2).toHaveReceivedCommandTimes(DeleteSecurityGroupCommand, 3);
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, { Filters: [{ Name: "group-id", Values: ["sg-1"] }] });
    expect(ctx.notes).toHaveLength(2);
    expect(ctx.notes[0]).toMatch(/2 network interfaces still attached to sg-1: eni-1 \(load balancer app\/clinical-dev\/abc\), eni-2 \(an ECS task \(Fargate\)\)/);
  });

  it("gives up on DependencyViolation once the time budget is spent", async () => {
    ec2.on(DeleteSecurityGroupCommand).rejects(ec2Error("DependencyViolation"));
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
    const ctx = testContext();
    const err = await securityGroup.destroy(ctx, { ...spec, groupId: "sg-1" }).catch((e: Error) => e);
    expect(err).toMatchObject({ name: "AwsFailure", code: "DependencyViolation" });
    expect(ctx.notes.at(-1)).toMatch(/sg-1 is still in use/);
    expect((err as Error).message).toMatch(/Gave up after 20 minutes: sg-1 is still in use, but by no network interface/);
  });

  it("once the budget is spent, the error names the interfaces still attached and what created them", async () => {
    ec2.on(DeleteSecurityGroupCommand).rejects(ec2Error("DependencyViolation"));
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [{ NetworkInterfaceId: "eni-9", Status: "in-use", Description: "RDSNetworkInterface", RequesterId: "amazon-rds", RequesterManaged: true }],
    });
    const err = await securityGroup.destroy(testContext(), { ...spec, groupId: "sg-1" }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: "DependencyViolation" });
    expect(errorCode((err as Error).cause)).toBe("DependencyViolation");
    expect((err as Error).message).toMatch(/Gave up after 20 minutes: 1 network interface still attached to sg-1: eni-9 \(RDS \(a database instance\), in-use\)\..*delete-network-interface/);
  });

  it("treats an already deleted group as deleted", async () => {
    ec2.on(DeleteSecurityGroupCommand).rejects(ec2Error("InvalidGroup.NotFound"));
    await expect(securityGroup.destroy(testContext(), { ...spec, groupId: "sg-1" })).resolves.toBeUndefined();
  });
});
