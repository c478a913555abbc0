import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  AddTagsCommand,
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { targetGroup, type TargetGroupAttrs, type TargetGroupSpec } from "../../src/resources/target-group.js";
import { AwsFailure, UserError } from "../../src/errors.js";
import { TEST_WAITS, testContext, testTags } from "../helpers.js";

const elb = mockClient(ElasticLoadBalancingV2Client);
const logicalId = "compute.target-group.api";
const tags = testTags(logicalId);
const ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/clinical-platform-dev-api/73e2d6bc24d8a067";
const tagList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
const elbError = (name: string) => new ElasticLoadBalancingV2ServiceException({ name, message: name, $fault: "client", $metadata: {} });

const healthCheck = { path: "/health", intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3, matcher: "200-399" };
const spec: TargetGroupSpec = {
  name: "clinical-platform-dev-api",
  protocol: "HTTP",
  port: 8000,
  vpcId: "vpc-1",
  targetType: "ip",
  healthCheck,
  deregistrationDelaySeconds: 30,
  tags,
};
const attrs = (over: Partial<TargetGroupAttrs> = {}): TargetGroupAttrs => ({ ...spec, arn: ARN, ...over });

function awsTg(over: Record<string, unknown> = {}) {
  return {
    TargetGroupArn: ARN,
    TargetGroupName: "clinical-platform-dev-api",
    Protocol: "HTTP",
    Port: 8000,
    VpcId: "vpc-1",
    HealthCheckProtocol: "HTTP",
    HealthCheckPort: "traffic-port",
    HealthCheckEnabled: true,
    HealthCheckIntervalSeconds: 15,
    HealthCheckTimeoutSeconds: 5,
    HealthyThresholdCount: 2,
    UnhealthyThresholdCount: 3,
    HealthCheckPath: "/health",
    Matcher: { HttpCode: "200-399" },
    LoadBalancerArns: [],
    TargetType: "ip",
    ProtocolVersion: "HTTP1",
    IpAddressType: "ipv4",
    ...over,
  } as never;
}

function stubReads(opts: { tags?: Record<string, string>; delay?: number } = {}) {
  elb.on(DescribeTagsCommand, { ResourceArns: [ARN] }).resolves({ TagDescriptions: [{ ResourceArn: ARN, Tags: tagList(opts.tags ?? tags) }] });
  elb.on(DescribeTargetGroupAttributesCommand, { TargetGroupArn: ARN }).resolves({
    Attributes: [
      { Key: "deregistration_delay.timeout_seconds", Value: String(opts.delay ?? 30) },
      { Key: "stickiness.enabled", Value: "false" },
    ],
  });
}

beforeEach(() => elb.reset());

describe("elbv2:target-group", () => {
  it("reads the group by its recorded name with health check, deregistration delay and tags", async () => {
    elb.on(DescribeTargetGroupsCommand, { Names: ["clinical-platform-dev-api"] }).resolves({ TargetGroups: [awsTg()] });
    stubReads();
    expect(await targetGroup.find(testContext(), { logicalId, recorded: attrs() })).toEqual(attrs());
  });

  it("returns undefined for a group that is gone or is not ours, and looks nothing up without a record", async () => {
    expect(await targetGroup.find(testContext(), { logicalId })).toBeUndefined();
    elb.on(DescribeTargetGroupsCommand).rejectsOnce(elbError("TargetGroupNotFoundException")).resolves({ TargetGroups: [awsTg()] });
    stubReads({ tags: { ...tags, "platform:logical-id": "compute.target-group.other" } });
    expect(await targetGroup.find(testContext(), { logicalId, recorded: attrs() })).toBeUndefined();
    expect(await targetGroup.find(testContext(), { logicalId, recorded: attrs() })).toBeUndefined();
  });

  it("creates an ip target group with its health check and tags, then sets the deregistration delay", async () => {
    elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [awsTg()] });
    elb.on(DescribeTargetGroupsCommand, { TargetGroupArns: [ARN] }).resolves({ TargetGroups: [awsTg()] });
    elb.on(ModifyTargetGroupAttributesCommand).resolves({});
    stubReads();

    const created = await targetGroup.create(testContext(), spec, { logicalId });

    expect(created).toEqual(attrs());
    expect(elb).toHaveReceivedCommandWith(CreateTargetGroupCommand, {
      Name: "clinical-platform-dev-api",
      Protocol: "HTTP",
      Port: 8000,
      VpcId: "vpc-1",
      TargetType: "ip",
      HealthCheckEnabled: true,
      HealthCheckProtocol: "HTTP",
      HealthCheckPath: "/health",
      HealthCheckIntervalSeconds: 15,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      Matcher: { HttpCode: "200-399" },
      Tags: tagList(tags),
    });
    expect(elb).toHaveReceivedCommandWith(ModifyTargetGroupAttributesCommand, {
      TargetGroupArn: ARN,
      Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "30" }],
    });
  });

  it("rejects a bad name or a timeout not shorter than the interval before calling AWS", async () => {
    await expect(targetGroup.create(testContext(), { ...spec, name: "x".repeat(33) }, { logicalId })).rejects.toBeInstanceOf(UserError);
    await expect(targetGroup.create(testContext(), { ...spec, healthCheck: { ...healthCheck, timeoutSeconds: 15 } }, { logicalId })).rejects.toThrow(/timeout \(15s\) must be shorter than its interval/);
    expect(elb).not.toHaveReceivedAnyCommand();
  });

  it("diffs the health check and delay in place; port, protocol, VPC, target type and name force replacement", () => {
    expect(targetGroup.diff(spec, attrs())).toEqual([]);
    const changes = targetGroup.diff({ ...spec, port: 9000, vpcId: "vpc-2", deregistrationDelaySeconds: 5, healthCheck: { ...healthCheck, path: "/ready" } }, attrs());
    expect(changes.map((c) => [c.field, c.action])).toEqual([
      ["port", "replace"],
      ["vpcId", "replace"],
      ["healthCheck", "update"],
      ["deregistrationDelaySeconds", "update"],
    ]);
  });

  it("updates the health check with ModifyTargetGroup, the delay with ModifyTargetGroupAttributes, and tags", async () => {
    elb.on(ModifyTargetGroupCommand).resolves({});
    elb.on(ModifyTargetGroupAttributesCommand).resolves({});
    elb.on(AddTagsCommand).resolves({});
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [awsTg()] });
    stubReads();
    const want = { ...spec, deregistrationDelaySeconds: 10, healthCheck: { ...healthCheck, path: "/ready", intervalSeconds: 30 }, tags: { ...tags, Team: "data" } };
    await targetGroup.update!(testContext(), want, attrs(), targetGroup.diff(want, attrs()));
    expect(elb).toHaveReceivedCommandWith(ModifyTargetGroupCommand, {
      TargetGroupArn: ARN,
      HealthCheckEnabled: true,
      HealthCheckProtocol: "HTTP",
      HealthCheckPath: "/ready",
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      Matcher: { HttpCode: "200-399" },
    });
    expect(elb).toHaveReceivedCommandWith(ModifyTargetGroupAttributesCommand, { TargetGroupArn: ARN, Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "10" }] });
    expect(elb).toHaveReceivedCommandWith(AddTagsCommand, { ResourceArns: [ARN], Tags: [{ Key: "Team", Value: "data" }] });
  });

  it("retries ResourceInUse while its listener goes, then deletes", async () => {
    elb.on(DeleteTargetGroupCommand).rejectsOnce(elbError("ResourceInUseException")).rejectsOnce(elbError("ResourceInUseException")).resolves({});
    const ctx = testContext();
    await targetGroup.destroy(ctx, attrs());
    expect(elb).toHaveReceivedCommandTimes(DeleteTargetGroupCommand, 3);
    expect(elb).toHaveReceivedCommandWith(DeleteTargetGroupCommand, { TargetGroupArn: ARN });
    expect(ctx.notes[0]).toMatch(/still in use by a listener/);
  });

  it("treats a group already gone as deleted, and names the blocker once the in-use budget is spent", async () => {
    elb.on(DeleteTargetGroupCommand).rejects(elbError("TargetGroupNotFoundException"));
    await expect(targetGroup.destroy(testContext(), attrs())).resolves.toBeUndefined();
    elb.reset();
    elb.on(DeleteTargetGroupCommand).rejects(elbError("ResourceInUseException"));
    const err = await targetGroup.destroy(testContext({ waits: { ...TEST_WAITS, scale: TEST_WAITS.scale / 10 } }), attrs()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsFailure);
    expect(err).toMatchObject({ code: "ResourceInUse", message: expect.stringMatching(/a listener or listener rule still forwards to it/) });
  });
});
