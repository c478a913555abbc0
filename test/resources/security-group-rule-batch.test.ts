import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { DescribeSecurityGroupRulesCommand, type DescribeSecurityGroupRulesCommandInput, EC2Client, EC2ServiceException, type SecurityGroupRule } from "@aws-sdk/client-ec2";
import { RULES_PER_CALL, securityGroupRule, type SecurityGroupRuleAttrs } from "../../src/resources/security-group-rule.js";
import { testContext, testTags } from "../helpers.js";

const ec2 = mockClient(EC2Client);
beforeEach(() => ec2.reset());

const ec2Error = (name: string) => new EC2ServiceException({ name, message: name, $fault: "client", $metadata: {} });
const idOf = (i: number) => `sgr-0${String(i).padStart(16, "0")}`;
const logicalIdOf = (id: string) => `network.security-group-rule.${id}`;
const ruleOf = (id: string): SecurityGroupRule => ({
  SecurityGroupRuleId: id,
  GroupId: "sg-db",
  IsEgress: false,
  IpProtocol: "tcp",
  FromPort: 5432,
  ToPort: 5432,
  ReferencedGroupInfo: { GroupId: "sg-api", UserId: "123456789012" },
  Description: "PostgreSQL from the API",
  Tags: Object.entries(testTags(logicalIdOf(id))).map(([Key, Value]) => ({ Key, Value })),
});

/** EC2 as DescribeSecurityGroupRules behaves: by ids, every id must exist or the whole call fails; by tags, what matches. */
function stubRules(existing: string[]) {
  ec2.on(DescribeSecurityGroupRulesCommand).callsFake((input: DescribeSecurityGroupRulesCommandInput) => {
    if (!input.SecurityGroupRuleIds) return { SecurityGroupRules: [] };
    const gone = input.SecurityGroupRuleIds.find((id) => !existing.includes(id));
    if (gone) throw ec2Error("InvalidSecurityGroupRuleId.NotFound");
    return { SecurityGroupRules: input.SecurityGroupRuleIds.map(ruleOf) };
  });
}

const findAll = (ids: string[], ctx = testContext()) =>
  Promise.all(ids.map((id) => securityGroupRule.find(ctx, { logicalId: logicalIdOf(id), recorded: { securityGroupRuleId: id } as SecurityGroupRuleAttrs })));

describe("ec2:security-group-rule find, several rules at once", () => {
  it("reads every recorded rule with one DescribeSecurityGroupRules naming them all", async () => {
    const ids = Array.from({ length: 17 }, (_, i) => idOf(i));
    stubRules(ids);
    const found = await findAll(ids);
    expect(found.map((r) => r?.securityGroupRuleId)).toEqual(ids);
    expect(found[4]).toMatchObject({ groupId: "sg-db", direction: "ingress", referencedGroupId: "sg-api", tags: testTags(logicalIdOf(ids[4]!)) });
    expect(ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupRulesCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(DescribeSecurityGroupRulesCommand, { SecurityGroupRuleIds: ids });
  });

  it("when one is gone (the whole call fails), reads them one by one; the gone one is then looked up by its tags", async () => {
    const ids = [idOf(1), idOf(2), idOf(3)];
    stubRules([ids[0]!, ids[2]!]);
    const found = await findAll(ids);
    expect(found.map((r) => r?.securityGroupRuleId)).toEqual([ids[0], undefined, ids[2]]);
    const asked = ec2.commandCalls(DescribeSecurityGroupRulesCommand).map((c) => c.args[0].input.SecurityGroupRuleIds ?? c.args[0].input.Filters);
    expect(asked).toEqual([ids, [ids[0]], [ids[1]], [ids[2]], expect.arrayContaining([{ Name: `tag:platform:logical-id`, Values: [logicalIdOf(ids[1]!)] }])]);
  });

  it("names at most RULES_PER_CALL rules a call", async () => {
    const ids = Array.from({ length: RULES_PER_CALL + 5 }, (_, i) => idOf(i));
    stubRules(ids);
    await findAll(ids);
    expect(ec2.commandCalls(DescribeSecurityGroupRulesCommand).map((c) => c.args[0].input.SecurityGroupRuleIds!.length)).toEqual([RULES_PER_CALL, 5]);
  });
});
