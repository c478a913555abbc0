import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeleteLoadBalancerCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { installFakeAws, type FakeAws } from "./index.js";
import { internetGateway } from "../../src/resources/internet-gateway.js";
import { listener, type ListenerSpec } from "../../src/resources/listener.js";
import { loadBalancer, type LoadBalancerSpec } from "../../src/resources/load-balancer.js";
import { securityGroup, type SecurityGroupAttrs } from "../../src/resources/security-group.js";
import { subnet } from "../../src/resources/subnet.js";
import { targetGroup, type TargetGroupSpec } from "../../src/resources/target-group.js";
import { vpc } from "../../src/resources/vpc.js";
import { AwsClients } from "../../src/aws/clients.js";
import { findTaggedResources } from "../../src/aws/sweep.js";
import { TEST_IDENTITY, TEST_WAITS, testContext, testTags } from "../helpers.js";

let aws: FakeAws;
afterEach(() => aws.restore());

const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";

/** A VPC with two public subnets in two zones, an attached internet gateway and the ALB's security group. */
async function network(opts: { gateway?: boolean } = {}) {
  const ctx = testContext();
  const { vpcId } = await vpc.create(ctx, { cidrBlock: "10.0.0.0/16", enableDnsSupport: true, enableDnsHostnames: true, tags: testTags("network.vpc") }, { logicalId: "network.vpc" });
  const subnets = [];
  for (const [i, az] of ["us-east-1a", "us-east-1b"].entries()) {
    const logicalId = `network.subnet.public-${"ab"[i]}`;
    subnets.push((await subnet.create(ctx, { vpcId, cidrBlock: `10.0.${i}.0/24`, availabilityZone: az, mapPublicIpOnLaunch: true, tags: testTags(logicalId) }, { logicalId })).subnetId);
  }
  if (opts.gateway !== false) await internetGateway.create(ctx, { vpcId, tags: testTags("network.internet-gateway") }, { logicalId: "network.internet-gateway" });
  const sg = await securityGroup.create(ctx, { vpcId, groupName: "clinical-platform-dev-alb", description: "Load balancer", tags: testTags("network.security-group.alb") }, { logicalId: "network.security-group.alb" });
  return { vpcId, subnets, sg };
}

const lbSpec = (subnets: string[], sg: string, over: Partial<LoadBalancerSpec> = {}): LoadBalancerSpec => ({
  name: "clinical-platform-dev-alb",
  scheme: "internet-facing",
  subnetIds: subnets,
  securityGroupIds: [sg],
  idleTimeoutSeconds: 60,
  deletionProtection: false,
  dropInvalidHeaderFields: true,
  tags: testTags("compute.load-balancer"),
  ...over,
});

const tgSpec = (vpcId: string): TargetGroupSpec => ({
  name: "clinical-platform-dev-api",
  protocol: "HTTP",
  port: 8000,
  vpcId,
  targetType: "ip",
  healthCheck: { path: "/health", intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3, matcher: "200-399" },
  deregistrationDelaySeconds: 30,
  tags: testTags("compute.target-group.api"),
});

describe("ELBv2 fake with the resource modules", () => {
  beforeEach(() => {
    aws = installFakeAws({ latencyMs: 0, provisioningMs: { loadBalancer: 30, loadBalancerDelete: 20, eniDrain: 40 } });
  });

  it("provisions, converges, redirects HTTP to HTTPS, and tears down with the network interfaces draining from the group", async () => {
    const { vpcId, subnets, sg } = await network();
    const ctx = testContext();

    const lb = await loadBalancer.create(ctx, lbSpec(subnets, sg.groupId), { logicalId: "compute.load-balancer" });
    expect(lb).toMatchObject({ state: "active", vpcId, deletionProtection: false, dropInvalidHeaderFields: true, subnetIds: [...subnets].sort() });
    expect(lb.dnsName).toMatch(/^clinical-platform-dev-alb-\d+\.us-east-1\.elb\.amazonaws\.com$/);
    expect(ctx.notes.some((n) => n.includes("provisioning"))).toBe(true);
    const enis = [...aws.ec2.networkInterfaces.values()];
    expect(enis).toHaveLength(2);
    expect(enis.map((e) => e.Groups)).toEqual([[{ GroupId: sg.groupId, GroupName: "clinical-platform-dev-alb" }], [{ GroupId: sg.groupId, GroupName: "clinical-platform-dev-alb" }]]);

    const tg = await targetGroup.create(ctx, tgSpec(vpcId), { logicalId: "compute.target-group.api" });
    expect(tg.deregistrationDelaySeconds).toBe(30);
    const httpsSpec: ListenerSpec = { loadBalancerArn: lb.arn, port: 443, protocol: "HTTPS", certificateArn: CERT, defaultAction: { type: "forward", targetGroupArn: tg.arn }, tags: testTags("compute.listener.https") };
    const httpSpec: ListenerSpec = { loadBalancerArn: lb.arn, port: 80, protocol: "HTTP", defaultAction: { type: "redirect", port: "443", protocol: "HTTPS", statusCode: "HTTP_301" }, tags: testTags("compute.listener.http") };
    const https = await listener.create(ctx, httpsSpec, { logicalId: "compute.listener.https" });
    const http = await listener.create(ctx, httpSpec, { logicalId: "compute.listener.http" });
    expect(https.url).toBe(`https://${lb.dnsName}`);
    expect(http.url).toBe(`http://${lb.dnsName}`);
    const health = await ctx.aws.get(ElasticLoadBalancingV2Client).send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.arn }));
    expect(health.TargetHealthDescriptions).toEqual([]);

    // A second run reads everything back and finds nothing to change.
    aws.cloud.calls.length = 0;
    const again = {
      lb: await loadBalancer.find(ctx, { logicalId: "compute.load-balancer", recorded: lb }),
      tg: await targetGroup.find(ctx, { logicalId: "compute.target-group.api", recorded: tg }),
      https: await listener.find(ctx, { logicalId: "compute.listener.https", recorded: https }),
      http: await listener.find(ctx, { logicalId: "compute.listener.http", recorded: http }),
    };
    expect(loadBalancer.diff(lbSpec(subnets, sg.groupId), again.lb!)).toEqual([]);
    expect(targetGroup.diff(tgSpec(vpcId), again.tg!)).toEqual([]);
    expect(listener.diff(httpsSpec, again.https!)).toEqual([]);
    expect(listener.diff(httpSpec, again.http!)).toEqual([]);
    expect(again.lb).toEqual(lb);
    expect(aws.cloud.mutatingCalls()).toEqual([]);

    // A crashed run that created the listener but never recorded it gets the same one back.
    const replay = await listener.create(ctx, httpSpec, { logicalId: "compute.listener.http" });
    expect(replay.arn).toBe(http.arn);
    expect(aws.elbv2.listeners.size).toBe(2);

    // Teardown in the engine's order: listeners, load balancer, target group, then the group its interfaces used.
    await listener.destroy(ctx, https);
    await listener.destroy(ctx, http);
    await loadBalancer.destroy(ctx, lb);
    expect(aws.elbv2.loadBalancers.size).toBe(0);
    expect(aws.ec2.networkInterfaces.size).toBe(2); // still draining
    await targetGroup.destroy(ctx, tg);
    const sgCtx = testContext();
    await securityGroup.destroy(sgCtx, sg as SecurityGroupAttrs);
    expect(aws.ec2.networkInterfaces.size).toBe(0);
    expect(aws.ec2.securityGroups.has(sg.groupId)).toBe(false);
    expect(sgCtx.notes.some((n) => /network interface/.test(n))).toBe(true);

    const left = await findTaggedResources(new AwsClients({ region: "us-east-1", maxAttempts: 1 }), TEST_IDENTITY);
    expect(left.filter((r) => r.arn.includes("elasticloadbalancing"))).toEqual([]);
  });

  it("keeps a protected load balancer, and a target group a listener forwards to", async () => {
    const { vpcId, subnets, sg } = await network();
    const lb = await loadBalancer.create(testContext(), lbSpec(subnets, sg.groupId, { deletionProtection: true }), { logicalId: "compute.load-balancer" });
    const tg = await targetGroup.create(testContext(), tgSpec(vpcId), { logicalId: "compute.target-group.api" });
    await listener.create(testContext(), { loadBalancerArn: lb.arn, port: 80, protocol: "HTTP", defaultAction: { type: "forward", targetGroupArn: tg.arn }, tags: testTags("compute.listener.http") }, { logicalId: "compute.listener.http" });

    await expect(loadBalancer.destroy(testContext(), lb)).rejects.toThrow(/--disable-deletion-protection/);
    await expect(
      testContext().aws.get(ElasticLoadBalancingV2Client).send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.arn })),
    ).rejects.toMatchObject({ name: "OperationNotPermittedException" });
    await expect(targetGroup.destroy(testContext({ waits: { ...TEST_WAITS, scale: TEST_WAITS.scale / 10 } }), tg)).rejects.toMatchObject({ code: "ResourceInUse" });
    expect(aws.elbv2.targetGroups.size).toBe(1);

    await loadBalancer.destroy(testContext({ flags: { disableDeletionProtection: true } }), lb);
    expect(aws.elbv2.loadBalancers.size).toBe(0);
    expect(aws.elbv2.listeners.size).toBe(0);
    await targetGroup.destroy(testContext(), tg);
    expect(aws.elbv2.targetGroups.size).toBe(0);
  });

  it("refuses an internet-facing load balancer in a VPC without an internet gateway, and one in a single zone", async () => {
    const { subnets, sg } = await network({ gateway: false });
    await expect(loadBalancer.create(testContext(), lbSpec(subnets, sg.groupId), { logicalId: "compute.load-balancer" })).rejects.toMatchObject({ name: "InvalidSubnetException" });
    await expect(loadBalancer.create(testContext(), lbSpec([subnets[0]!], sg.groupId), { logicalId: "compute.load-balancer" })).rejects.toMatchObject({
      name: "InvalidConfigurationRequestException",
    });
    expect(aws.elbv2.loadBalancers.size).toBe(0);
    expect(aws.ec2.networkInterfaces.size).toBe(0);
  });
});
