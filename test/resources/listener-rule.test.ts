import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  ModifyRuleCommand,
  type Rule,
  SetRulePrioritiesCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { listenerArnOfRule, listenerRule, type ListenerRuleAttrs } from "../../src/resources/listener-rule.js";
import { testContext, testTags } from "../helpers.js";

const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const elbError = (name: string) => new ElasticLoadBalancingV2ServiceException({ name, message: name, $fault: "client", $metadata: {} });
const ID = "compute.listener-rule.grafana";
const tags = testTags(ID);
const LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/clinical-platform-dev-alb/50dc6c495c0c9188/f2f7dc8efc522ab2";
const RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/clinical-platform-dev-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";
const TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/clinical-platform-dev-graf/0123456789abcdef";
const spec = { listenerArn: LISTENER, priority: 10, pathPatterns: ["/grafana*"], targetGroupArn: TG, tags };
const attrs: ListenerRuleAttrs = { arn: RULE, ...spec, sourceIpCidrs: [] };

const rule = (over: Partial<Rule> = {}): Rule => ({
  RuleArn: RULE,
  Priority: "10",
  Conditions: [{ Field: "path-pattern", Values: ["/grafana*"], PathPatternConfig: { Values: ["/grafana*"] } }],
  Actions: [{ Type: "forward", Order: 1, TargetGroupArn: TG, ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG, Weight: 1 }] } }],
  IsDefault: false,
  ...over,
});
const tagged = (t: Record<string, string> = tags) => ({ TagDescriptions: [{ ResourceArn: RULE, Tags: Object.entries(t).map(([Key, Value]) => ({ Key, Value })) }] });

beforeEach(() => elbv2.reset());

describe("elbv2:listener-rule", () => {
  it("names its listener from its own ARN", () => {
    expect(listenerArnOfRule(RULE)).toBe(LISTENER);
  });

  it("creates a path rule forwarding to its target group, tagged, and reads it back", async () => {
    elbv2.on(CreateRuleCommand).resolves({ Rules: [rule()] });
    elbv2.on(DescribeRulesCommand, { RuleArns: [RULE] }).resolves({ Rules: [rule()] });
    elbv2.on(DescribeTagsCommand).resolves(tagged());
    await expect(listenerRule.create(testContext(), spec, { logicalId: ID })).resolves.toEqual(attrs);
    expect(elbv2).toHaveReceivedCommandWith(CreateRuleCommand, {
      ListenerArn: LISTENER,
      Priority: 10,
      Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/grafana*"] } }],
      Actions: [{ Type: "forward", TargetGroupArn: TG }],
      Tags: expect.arrayContaining([{ Key: "platform:logical-id", Value: ID }]),
    });
  });

  it("changes the path or target group with ModifyRule and the priority with SetRulePriorities", async () => {
    elbv2.on(ModifyRuleCommand).resolves({});
    elbv2.on(SetRulePrioritiesCommand).resolves({});
    elbv2.on(DescribeRulesCommand).resolves({ Rules: [rule()] });
    elbv2.on(DescribeTagsCommand).resolves(tagged());
    const want = { ...spec, priority: 15, pathPatterns: ["/grafana", "/grafana/*"] };
    const changes = listenerRule.diff(want, attrs);
    expect(changes.map((c) => c.field)).toEqual(["priority", "pathPatterns"]);
    await listenerRule.update!(testContext(), want, attrs, changes);
    expect(elbv2).toHaveReceivedCommandWith(ModifyRuleCommand, { RuleArn: RULE, Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/grafana", "/grafana/*"] } }] });
    expect(elbv2).toHaveReceivedCommandWith(SetRulePrioritiesCommand, { RulePriorities: [{ RuleArn: RULE, Priority: 15 }] });
  });

  it("finds nothing once the rule is gone, and deleting a gone rule succeeds", async () => {
    elbv2.on(DescribeRulesCommand).rejects(elbError("RuleNotFoundException"));
    await expect(listenerRule.find(testContext(), { logicalId: ID, recorded: { ...attrs, listenerArn: undefined as never } })).resolves.toBeUndefined();
    elbv2.on(DeleteRuleCommand).rejects(elbError("RuleNotFoundException"));
    await expect(listenerRule.destroy(testContext(), attrs)).resolves.toBeUndefined();
    expect(elbv2).toHaveReceivedCommandWith(DeleteRuleCommand, { RuleArn: RULE });
  });

  it("limits a rule to source ranges with a source-ip condition, reads them back, and puts them back when removed", async () => {
    const OFFICE = ["203.0.113.0/24", "198.51.100.7/32"];
    const limited = rule({ Conditions: [...rule().Conditions!, { Field: "source-ip", SourceIpConfig: { Values: OFFICE } }] });
    elbv2.on(CreateRuleCommand).resolves({ Rules: [limited] });
    elbv2.on(DescribeRulesCommand, { RuleArns: [RULE] }).resolves({ Rules: [limited] });
    elbv2.on(DescribeTagsCommand).resolves(tagged());
    const want = { ...spec, sourceIpCidrs: OFFICE };
    await expect(listenerRule.create(testContext(), want, { logicalId: ID })).resolves.toEqual({ ...attrs, sourceIpCidrs: [...OFFICE].sort() });
    expect(elbv2).toHaveReceivedCommandWith(CreateRuleCommand, {
      Conditions: [
        { Field: "path-pattern", PathPatternConfig: { Values: ["/grafana*"] } },
        { Field: "source-ip", SourceIpConfig: { Values: OFFICE } },
      ],
    });
    // The condition removed by hand: the rule now matches any source; diff names it and ModifyRule restores it.
    const changes = listenerRule.diff(want, attrs);
    expect(changes.map((c) => c.field)).toEqual(["sourceIpCidrs"]);
    elbv2.on(ModifyRuleCommand).resolves({});
    await listenerRule.update!(testContext(), want, attrs, changes);
    expect(elbv2).toHaveReceivedCommandWith(ModifyRuleCommand, { RuleArn: RULE, Conditions: expect.arrayContaining([{ Field: "source-ip", SourceIpConfig: { Values: OFFICE } }]) });
  });

  it("refuses more than five patterns and ranges together before calling AWS", async () => {
    await expect(listenerRule.create(testContext(), { ...spec, pathPatterns: ["/a", "/b"], sourceIpCidrs: ["10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"] }, { logicalId: ID })).rejects.toThrow(
      /path patterns and source ranges together are at most 5/,
    );
    expect(elbv2).not.toHaveReceivedCommand(CreateRuleCommand);
  });

  it("refuses more than five patterns before calling AWS", async () => {
    await expect(listenerRule.create(testContext(), { ...spec, pathPatterns: ["/a", "/b", "/c", "/d", "/e", "/f"] }, { logicalId: ID })).rejects.toThrow(/1 to 5 path patterns/);
    expect(elbv2).not.toHaveReceivedCommand(CreateRuleCommand);
  });
});
