import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateTagsCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  EC2ServiceException,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import { securityGroupRule, type SecurityGroupRuleSpec } from "../../src/resources/security-group-rule.js";
import { testContext, testTags } from "../helpers.js";

const ec2 = mockClient(EC2Client);
const logicalId = "network.security-group-rule.db-api-in";
const tags = testTags(logicalId);
const tagList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
const ec2Error = (name: string) => new EC2ServiceException({ name, message: name, $fault: "client", $metadata: {} });

const fromApi: SecurityGroupRuleSpec = { groupId: "sg-db", direction: "ingress", protocol: "tcp", fromPort: 5432, toPort: 5432, referencedGroupId: "sg-api", description: "PostgreSQL from the API", tags };
const httpsOut: SecurityGroupRuleSpec = { groupId: "sg-api", direction: "egress", protocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "AWS APIs", tags };

const awsRule = (id: string, over: Partial<SecurityGroupRule> = {}): SecurityGroupRule => ({
  SecurityGroupRuleId: id,
  GroupId: "sg-db",
  IsEgress: false,
  IpProtocol: "tcp",
  FromPort: 5432,
  ToPort: 5432,
  ReferencedGroupInfo: { GroupId: "sg-api", UserId: "123456789012" },
  Description: "PostgreSQL from the API",
  Tags: tagList(tags),
  ...over,
});

beforeEach(() => ec2.reset());

describe("ec2:security-group-rule", () => {
  it("finds by recorded id and maps AWS's rule shape", async () => {
    ec2.on(DescribeSecurityGroupRulesCommand, { SecurityGroupRuleIds: ["sgr-1"] }).resolves({ SecurityGroupRules: [awsRule("sgr-1")] });
    const found = await securityGroupRule.find(testContext(), { logicalId, recorded: { ...fromApi, securityGroupRuleId: "sgr-1" } });
    expect(found).toEqual({ ...fromApi, securityGroupRuleId: "sgr-1" });
  });

  it("maps an egress CIDR rule and an all-protocols rule", async () => {
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [awsRule("sgr-2", { GroupId: "sg-api", IsEgress: true, IpProtocol: "-1", FromPort: -1, ToPort: -1, ReferencedGroupInfo: undefined, CidrIpv4: "10.0.0.0/16", Description: undefined })],
    });
    const found = await securityGroupRule.find(testContext(), { logicalId });
    expect(found).toEqual({ securityGroupRuleId: "sgr-2", groupId: "sg-api", direction: "egress", protocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "10.0.0.0/16", description: "", tags });
  });

  it("finds by tags when the recorded rule is gone, and returns undefined when nothing matches", async () => {
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    ec2.on(DescribeSecurityGroupRulesCommand, { SecurityGroupRuleIds: ["sgr-gone"] }).rejects(ec2Error("InvalidSecurityGroupRuleId.NotFound"));
    const found = await securityGroupRule.find(testContext(), { logicalId, recorded: { ...fromApi, securityGroupRuleId: "sgr-gone" } });
    expect(found).toBeUndefined();
    expect(ec2.commandCalls(DescribeSecurityGroupRulesCommand)[1]!.args[0].input).toEqual({
      Filters: [
        { Name: "tag:platform:logical-id", Values: [logicalId] },
        { Name: "tag:Project", Values: ["clinical-platform"] },
        { Name: "tag:Environment", Values: ["dev"] },
      ],
    });
  });

  it("authorizes an ingress rule from another group with tags and reads the id from the response", async () => {
    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [awsRule("sgr-1")] });
    ec2.on(DescribeSecurityGroupRulesCommand, { SecurityGroupRuleIds: ["sgr-1"] }).resolves({ SecurityGroupRules: [awsRule("sgr-1")] });
    const created = await securityGroupRule.create(testContext(), fromApi, { logicalId });
    expect(created.securityGroupRuleId).toBe("sgr-1");
    expect(ec2).toHaveReceivedCommandWith(AuthorizeSecurityGroupIngressCommand, {
      GroupId: "sg-db",
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: "sg-api", Description: "PostgreSQL from the API" }] }],
      TagSpecifications: [{ ResourceType: "security-group-rule", Tags: tagList(tags) }],
    });
    expect(ec2).not.toHaveReceivedCommand(AuthorizeSecurityGroupEgressCommand);
  });

  it("authorizes an egress CIDR rule", async () => {
    const out = awsRule("sgr-9", { GroupId: "sg-api", IsEgress: true, FromPort: 443, ToPort: 443, ReferencedGroupInfo: undefined, CidrIpv4: "0.0.0.0/0", Description: "AWS APIs" });
    ec2.on(AuthorizeSecurityGroupEgressCommand).resolves({ Return: true, SecurityGroupRules: [out] });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [out] });
    const created = await securityGroupRule.create(testContext(), httpsOut, { logicalId });
    expect(created).toEqual({ ...httpsOut, securityGroupRuleId: "sgr-9" });
    expect(ec2).toHaveReceivedCommandWith(AuthorizeSecurityGroupEgressCommand, {
      GroupId: "sg-api",
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "AWS APIs" }] }],
    });
  });

  it("retries while a group created a moment ago is not yet visible", async () => {
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejectsOnce(ec2Error("InvalidGroup.NotFound")).resolves({ SecurityGroupRules: [awsRule("sgr-1")] });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [awsRule("sgr-1")] });
    await expect(securityGroupRule.create(testContext(), fromApi, { logicalId })).resolves.toMatchObject({ securityGroupRuleId: "sgr-1" });
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 2);
  });

  it("adopts a duplicate rule and tags it", async () => {
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(ec2Error("InvalidPermission.Duplicate"));
    const untagged = awsRule("sgr-old", { Tags: [] });
    const other = awsRule("sgr-other", { FromPort: 22, ToPort: 22 });
    ec2.on(DescribeSecurityGroupRulesCommand, { Filters: [{ Name: "group-id", Values: ["sg-db"] }] }).resolves({ SecurityGroupRules: [other, untagged] });
    ec2.on(DescribeSecurityGroupRulesCommand, { SecurityGroupRuleIds: ["sgr-old"] }).resolves({ SecurityGroupRules: [awsRule("sgr-old")] });
    ec2.on(CreateTagsCommand).resolves({});
    const created = await securityGroupRule.create(testContext(), fromApi, { logicalId });
    expect(created).toEqual({ ...fromApi, securityGroupRuleId: "sgr-old" });
    expect(ec2).toHaveReceivedCommandWith(CreateTagsCommand, { Resources: ["sgr-old"] });
    expect(ec2).not.toHaveReceivedCommand(ModifySecurityGroupRulesCommand);
  });

  it("rethrows a duplicate it cannot find", async () => {
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(ec2Error("InvalidPermission.Duplicate"));
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    await expect(securityGroupRule.create(testContext(), fromApi, { logicalId })).rejects.toMatchObject({ name: "InvalidPermission.Duplicate" });
  });

  it("rejects a rule with both or neither of a CIDR and a group", async () => {
    await expect(securityGroupRule.create(testContext(), { ...fromApi, cidrIpv4: "10.0.0.0/8" }, { logicalId })).rejects.toThrow(/exactly one of cidrIpv4 and referencedGroupId/);
    expect(ec2).not.toHaveReceivedAnyCommand();
  });

  it("diffs group and direction as replacements, the rest in place; -1 ports are not drift", () => {
    const actual = { ...fromApi, securityGroupRuleId: "sgr-1" };
    expect(securityGroupRule.diff({ ...fromApi, groupId: "sg-x", direction: "egress", toPort: 5433 }, actual)).toEqual([
      { field: "groupId", from: "sg-db", to: "sg-x", action: "replace" },
      { field: "direction", from: "ingress", to: "egress", action: "replace" },
      { field: "toPort", from: 5432, to: 5433, action: "update" },
    ]);
    const all = { ...httpsOut, protocol: "-1" as const, fromPort: 0, toPort: 65535 };
    expect(securityGroupRule.diff(all, { ...all, fromPort: -1, toPort: -1, securityGroupRuleId: "sgr-2" })).toEqual([]);
  });

  it("modifies the whole rule in place when its peer, ports or description change", async () => {
    ec2.on(ModifySecurityGroupRulesCommand).resolves({ Return: true });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [awsRule("sgr-1")] });
    const actual = { ...fromApi, referencedGroupId: undefined, cidrIpv4: "10.0.0.0/16", description: "old", securityGroupRuleId: "sgr-1" };
    const changes = securityGroupRule.diff(fromApi, actual);
    expect(changes.map((c) => c.field)).toEqual(["cidrIpv4", "referencedGroupId", "description"]);
    await securityGroupRule.update!(testContext(), fromApi, actual, changes);
    expect(ec2).toHaveReceivedCommandWith(ModifySecurityGroupRulesCommand, {
      GroupId: "sg-db",
      SecurityGroupRules: [
        { SecurityGroupRuleId: "sgr-1", SecurityGroupRule: { IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, ReferencedGroupId: "sg-api", Description: "PostgreSQL from the API" } },
      ],
    });
    expect(ec2).not.toHaveReceivedCommand(CreateTagsCommand);
  });

  it("changes only tags without modifying the rule", async () => {
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [awsRule("sgr-1")] });
    const actual = { ...fromApi, tags: { ...tags, Environment: "old" }, securityGroupRuleId: "sgr-1" };
    await securityGroupRule.update!(testContext(), fromApi, actual, securityGroupRule.diff(fromApi, actual));
    expect(ec2).not.toHaveReceivedCommand(ModifySecurityGroupRulesCommand);
    expect(ec2).toHaveReceivedCommandWith(CreateTagsCommand, { Resources: ["sgr-1"], Tags: [{ Key: "Environment", Value: "dev" }] });
  });

  it("revokes by rule id in the rule's direction", async () => {
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({ Return: true });
    await securityGroupRule.destroy(testContext(), { ...fromApi, securityGroupRuleId: "sgr-1" });
    await securityGroupRule.destroy(testContext(), { ...httpsOut, securityGroupRuleId: "sgr-2" });
    expect(ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { GroupId: "sg-db", SecurityGroupRuleIds: ["sgr-1"] });
    expect(ec2).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, { GroupId: "sg-api", SecurityGroupRuleIds: ["sgr-2"] });
  });

  it.each(["InvalidPermission.NotFound", "InvalidSecurityGroupRuleId.NotFound", "InvalidGroup.NotFound"])("treats %s on revoke as deleted", async (code) => {
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(ec2Error(code));
    await expect(securityGroupRule.destroy(testContext(), { ...fromApi, securityGroupRuleId: "sgr-1" })).resolves.toBeUndefined();
  });
});
