import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  AddTagsCommand,
  CreateLoadBalancerCommand,
  DeleteLoadBalancerCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  ModifyLoadBalancerAttributesCommand,
  RemoveTagsCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { loadBalancer, type LoadBalancerAttrs, type LoadBalancerSpec } from "../../src/resources/load-balancer.js";
import { AwsFailure, UserError } from "../../src/errors.js";
import { TEST_WAITS, testContext, testTags } from "../helpers.js";

const elb = mockClient(ElasticLoadBalancingV2Client);
const logicalId = "compute.load-balancer";
const tags = testTags(logicalId);
const ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/clinical-platform-dev-alb/50dc6c495c0c9188";
const tagList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
/** For the tests that spend a whole wait budget: a tenth of the usual. */
const SHORT_WAITS = { ...TEST_WAITS, scale: TEST_WAITS.scale / 10 };
const elbError = (name: string) => new ElasticLoadBalancingV2ServiceException({ name, message: name, $fault: "client", $metadata: {} });

const spec: LoadBalancerSpec = {
  name: "clinical-platform-dev-alb",
  scheme: "internet-facing",
  subnetIds: ["subnet-b", "subnet-a"],
  securityGroupIds: ["sg-alb"],
  idleTimeoutSeconds: 60,
  deletionProtection: false,
  dropInvalidHeaderFields: true,
  tags,
};

const attrs = (over: Partial<LoadBalancerAttrs> = {}): LoadBalancerAttrs => ({
  ...spec,
  subnetIds: ["subnet-a", "subnet-b"],
  arn: ARN,
  dnsName: "clinical-platform-dev-alb-1234567890.us-east-1.elb.amazonaws.com",
  canonicalHostedZoneId: "Z35SXDOTRQ7X7K",
  state: "active",
  vpcId: "vpc-1",
  ...over,
});

function awsLb(state = "active", over: Record<string, unknown> = {}) {
  return {
    LoadBalancerArn: ARN,
    LoadBalancerName: "clinical-platform-dev-alb",
    DNSName: "clinical-platform-dev-alb-1234567890.us-east-1.elb.amazonaws.com",
    CanonicalHostedZoneId: "Z35SXDOTRQ7X7K",
    Scheme: "internet-facing",
    VpcId: "vpc-1",
    State: { Code: state },
    Type: "application",
    AvailabilityZones: [
      { ZoneName: "us-east-1b", SubnetId: "subnet-b" },
      { ZoneName: "us-east-1a", SubnetId: "subnet-a" },
    ],
    SecurityGroups: ["sg-alb"],
    IpAddressType: "ipv4",
    ...over,
  } as never;
}

function stubReads(opts: { tags?: Record<string, string>; protection?: boolean; idle?: number; drop?: boolean } = {}) {
  elb.on(DescribeTagsCommand, { ResourceArns: [ARN] }).resolves({ TagDescriptions: [{ ResourceArn: ARN, Tags: tagList(opts.tags ?? tags) }] });
  elb.on(DescribeLoadBalancerAttributesCommand, { LoadBalancerArn: ARN }).resolves({
    Attributes: [
      { Key: "deletion_protection.enabled", Value: String(opts.protection ?? false) },
      { Key: "idle_timeout.timeout_seconds", Value: String(opts.idle ?? 60) },
      { Key: "routing.http.drop_invalid_header_fields.enabled", Value: String(opts.drop ?? true) },
      { Key: "routing.http2.enabled", Value: "true" },
    ],
  });
}

beforeEach(() => elb.reset());

describe("elbv2:load-balancer find", () => {
  it("looks nothing up without a recorded name", async () => {
    expect(await loadBalancer.find(testContext(), { logicalId })).toBeUndefined();
    expect(elb).not.toHaveReceivedAnyCommand();
  });

  it("reads the load balancer by its recorded name, with tags, attributes, DNS name and state", async () => {
    elb.on(DescribeLoadBalancersCommand, { Names: ["clinical-platform-dev-alb"] }).resolves({ LoadBalancers: [awsLb()] });
    stubReads();
    const found = await loadBalancer.find(testContext(), { logicalId, recorded: attrs() });
    expect(found).toEqual(attrs());
  });

  it("returns undefined when the load balancer is gone", async () => {
    elb.on(DescribeLoadBalancersCommand).rejects(elbError("LoadBalancerNotFoundException"));
    expect(await loadBalancer.find(testContext(), { logicalId, recorded: attrs() })).toBeUndefined();
  });

  it("does not claim a load balancer of that name that is tagged as another environment's", async () => {
    elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [awsLb()] });
    stubReads({ tags: { ...tags, Environment: "staging" } });
    expect(await loadBalancer.find(testContext(), { logicalId, recorded: attrs() })).toBeUndefined();
  });
});

describe("elbv2:load-balancer create", () => {
  it("creates an application load balancer with tags, sets its attributes, and waits from provisioning to active", async () => {
    elb.on(CreateLoadBalancerCommand).resolves({ LoadBalancers: [awsLb("provisioning")] });
    elb.on(ModifyLoadBalancerAttributesCommand).resolves({});
    elb.on(DescribeLoadBalancersCommand, { LoadBalancerArns: [ARN] })
      .resolvesOnce({ LoadBalancers: [awsLb("provisioning")] })
      .resolvesOnce({ LoadBalancers: [awsLb("provisioning")] })
      .resolves({ LoadBalancers: [awsLb("active")] });
    stubReads();
    const ctx = testContext();

    const created = await loadBalancer.create(ctx, spec, { logicalId });

    expect(created).toEqual(attrs());
    expect(elb).toHaveReceivedCommandWith(CreateLoadBalancerCommand, {
      Name: "clinical-platform-dev-alb",
      Type: "application",
      Scheme: "internet-facing",
      IpAddressType: "ipv4",
      Subnets: ["subnet-b", "subnet-a"],
      SecurityGroups: ["sg-alb"],
      Tags: tagList(tags),
    });
    expect(elb).toHaveReceivedCommandWith(ModifyLoadBalancerAttributesCommand, {
      LoadBalancerArn: ARN,
      Attributes: [
        { Key: "deletion_protection.enabled", Value: "false" },
        { Key: "idle_timeout.timeout_seconds", Value: "60" },
        { Key: "routing.http.drop_invalid_header_fields.enabled", Value: "true" },
      ],
    });
    expect(elb.commandCalls(DescribeLoadBalancersCommand).length).toBeGreaterThanOrEqual(3);
    expect(ctx.notes).toEqual([expect.stringMatching(/provisioning: waiting until the load balancer is active/)]);
  });

  it("reports a load balancer that failed to provision with AWS's reason", async () => {
    elb.on(CreateLoadBalancerCommand).resolves({ LoadBalancers: [awsLb("provisioning")] });
    elb.on(ModifyLoadBalancerAttributesCommand).resolves({});
    elb.on(DescribeLoadBalancersCommand)
      .resolvesOnce({ LoadBalancers: [awsLb("provisioning")] })
      .resolves({ LoadBalancers: [awsLb("failed", { State: { Code: "failed", Reason: "insufficient capacity" } })] });
    stubReads();
    const err = await loadBalancer.create(testContext({ waits: SHORT_WAITS }), spec, { logicalId }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsFailure);
    expect(err).toMatchObject({ code: "LoadBalancerFailed", message: expect.stringMatching(/clinical-platform-dev-alb.*failed: insufficient capacity/) });
  });

  it.each([
    ["a name longer than 32 characters", "clinical-platform-development-alb"],
    ["a leading hyphen", "-clinical-alb"],
    ["the internal- prefix", "internal-clinical-alb"],
    ["an underscore", "clinical_alb"],
  ])("rejects %s before calling AWS", async (_what, name) => {
    await expect(loadBalancer.create(testContext(), { ...spec, name }, { logicalId })).rejects.toBeInstanceOf(UserError);
    expect(elb).not.toHaveReceivedAnyCommand();
  });
});

describe("elbv2:load-balancer diff and update", () => {
  it("compares subnets and groups as sets, settings in place, and name and scheme as replacements", () => {
    expect(loadBalancer.diff(spec, attrs())).toEqual([]);
    expect(loadBalancer.diff({ ...spec, name: "clinical-platform-dev-lb", scheme: "internal", idleTimeoutSeconds: 120 }, attrs())).toEqual([
      { field: "name", from: "clinical-platform-dev-alb", to: "clinical-platform-dev-lb", action: "replace" },
      { field: "scheme", from: "internet-facing", to: "internal", action: "replace" },
      { field: "idleTimeoutSeconds", from: 60, to: 120, action: "update" },
    ]);
  });

  it("changes subnets, groups, only the attributes that differ, and tags", async () => {
    elb.on(SetSubnetsCommand).resolves({});
    elb.on(SetSecurityGroupsCommand).resolves({});
    elb.on(ModifyLoadBalancerAttributesCommand).resolves({});
    elb.on(AddTagsCommand).resolves({});
    elb.on(RemoveTagsCommand).resolves({});
    elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [awsLb()] });
    stubReads();
    const actual = attrs({ subnetIds: ["subnet-a", "subnet-c"], securityGroupIds: ["sg-old"], deletionProtection: true, tags: { ...tags, Owner: "x", CostCenter: "old" } });
    const want = { ...spec, tags: { ...tags, CostCenter: "data" } };

    await loadBalancer.update!(testContext(), want, actual, loadBalancer.diff(want, actual));

    expect(elb).toHaveReceivedCommandWith(SetSubnetsCommand, { LoadBalancerArn: ARN, Subnets: ["subnet-b", "subnet-a"] });
    expect(elb).toHaveReceivedCommandWith(SetSecurityGroupsCommand, { LoadBalancerArn: ARN, SecurityGroups: ["sg-alb"] });
    expect(elb).toHaveReceivedCommandTimes(ModifyLoadBalancerAttributesCommand, 1);
    expect(elb).toHaveReceivedCommandWith(ModifyLoadBalancerAttributesCommand, { LoadBalancerArn: ARN, Attributes: [{ Key: "deletion_protection.enabled", Value: "false" }] });
    expect(elb).toHaveReceivedCommandWith(AddTagsCommand, { ResourceArns: [ARN], Tags: [{ Key: "CostCenter", Value: "data" }] });
    expect(elb).toHaveReceivedCommandWith(RemoveTagsCommand, { ResourceArns: [ARN], TagKeys: ["Owner"] });
  });
});

describe("elbv2:load-balancer destroy", () => {
  it("refuses a protected load balancer without --disable-deletion-protection and changes nothing", async () => {
    const err = await loadBalancer.destroy(testContext(), attrs({ deletionProtection: true })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/clinical-platform-dev-alb: deletion protection is on.*--disable-deletion-protection/);
    expect(elb).not.toHaveReceivedAnyCommand();
  });

  it("with the flag, turns deletion protection off, deletes, and waits until it is gone", async () => {
    elb.on(ModifyLoadBalancerAttributesCommand).resolves({});
    elb.on(DeleteLoadBalancerCommand).resolves({});
    elb.on(DescribeLoadBalancersCommand)
      .resolvesOnce({ LoadBalancers: [awsLb("active")] })
      .rejects(elbError("LoadBalancerNotFoundException"));
    const ctx = testContext({ flags: { disableDeletionProtection: true } });

    await loadBalancer.destroy(ctx, attrs({ deletionProtection: true }));

    expect(elb).toHaveReceivedCommandWith(ModifyLoadBalancerAttributesCommand, { LoadBalancerArn: ARN, Attributes: [{ Key: "deletion_protection.enabled", Value: "false" }] });
    expect(elb).toHaveReceivedCommandWith(DeleteLoadBalancerCommand, { LoadBalancerArn: ARN });
    const order = elb.calls().map((c) => c.args[0].constructor.name);
    expect(order.indexOf("ModifyLoadBalancerAttributesCommand")).toBeLessThan(order.indexOf("DeleteLoadBalancerCommand"));
    expect(elb.commandCalls(DescribeLoadBalancersCommand)).toHaveLength(2);
  });

  it("deletes an unprotected load balancer without touching its attributes, and an absent one is success", async () => {
    elb.on(DeleteLoadBalancerCommand).rejects(elbError("LoadBalancerNotFoundException"));
    elb.on(DescribeLoadBalancersCommand).rejects(elbError("LoadBalancerNotFoundException"));
    await expect(loadBalancer.destroy(testContext(), attrs())).resolves.toBeUndefined();
    expect(elb).not.toHaveReceivedCommand(ModifyLoadBalancerAttributesCommand);
  });

  it("reports a load balancer still listed once the delete budget is spent", async () => {
    elb.on(DeleteLoadBalancerCommand).resolves({});
    elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [awsLb("active")] });
    const err = await loadBalancer.destroy(testContext({ waits: SHORT_WAITS }), attrs()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsFailure);
    expect((err as Error).message).toMatch(/waiting for ELBv2 load balancer \(clinical-platform-dev-alb\) delete/);
  });
});
