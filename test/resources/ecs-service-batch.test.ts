import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { DescribeServicesCommand, type DescribeServicesCommandInput, ECSClient, ECSServiceException, type Service } from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { ecsService, type EcsServiceAttrs } from "../../src/resources/ecs-service.js";
import { testContext, testTags } from "../helpers.js";

const ecs = mockClient(ECSClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
beforeEach(() => {
  ecs.reset();
  elbv2.reset();
});

const A = "clinical-platform-dev-cluster";
const B = "clinical-platform-staging-cluster";
const arnOf = (cluster: string, name: string) => `arn:aws:ecs:us-east-1:123456789012:service/${cluster}/${name}`;
const tgOf = (name: string) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/0123456789abcdef`;

function serviceOf(cluster: string, name: string, counts: { desired: number; running: number } = { desired: 1, running: 1 }): Service {
  const td = `arn:aws:ecs:us-east-1:123456789012:task-definition/${name}:1`;
  return {
    serviceName: name,
    serviceArn: arnOf(cluster, name),
    clusterArn: `arn:aws:ecs:us-east-1:123456789012:cluster/${cluster}`,
    status: "ACTIVE",
    launchType: "FARGATE",
    taskDefinition: td,
    desiredCount: counts.desired,
    runningCount: counts.running,
    pendingCount: 0,
    networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-a"], securityGroups: ["sg-a"], assignPublicIp: "DISABLED" } },
    loadBalancers: [{ targetGroupArn: tgOf(name), containerName: name, containerPort: 8000 }],
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, minimumHealthyPercent: 100, maximumPercent: 200 },
    deployments: [{ id: `ecs-svc/${name}`, status: "PRIMARY", taskDefinition: td, rolloutState: "COMPLETED", desiredCount: counts.desired, runningCount: counts.running }],
    tags: Object.entries(testTags(name)).map(([key, value]) => ({ key, value })),
  };
}

/** ECS as DescribeServices behaves: 1-10 services of one cluster; unknown ones come back as MISSING failures. */
function stubServices(existing: Service[], otherFailures: Record<string, string> = {}) {
  ecs.on(DescribeServicesCommand).callsFake((input: DescribeServicesCommandInput) => {
    const names = input.services ?? [];
    if (!names.length || names.length > 10) throw new ECSServiceException({ name: "InvalidParameterException", message: "1-10 services", $fault: "client", $metadata: {} });
    const services: Service[] = [];
    const failures: { arn: string; reason: string }[] = [];
    for (const name of names) {
      const found = existing.find((s) => s.serviceName === name && s.clusterArn!.endsWith(`/${input.cluster}`));
      if (otherFailures[name]) failures.push({ arn: arnOf(input.cluster!, name), reason: otherFailures[name]! });
      else if (found) services.push(found);
      else failures.push({ arn: arnOf(input.cluster!, name), reason: "MISSING" });
    }
    return { services, failures };
  });
}

const find = (ctx: ReturnType<typeof testContext>, cluster: string, name: string) => ecsService.find(ctx, { logicalId: name, recorded: { cluster, name } as EcsServiceAttrs });

describe("ecs:service find, several services at once", () => {
  it("reads the services of each cluster with one DescribeServices (tags included)", async () => {
    stubServices([serviceOf(A, "api"), serviceOf(A, "worker"), serviceOf(A, "grafana"), serviceOf(B, "api")]);
    const ctx = testContext();
    const found = await Promise.all([find(ctx, A, "api"), find(ctx, B, "api"), find(ctx, A, "worker"), find(ctx, A, "grafana")]);
    expect(found.map((s) => s && `${s.cluster}/${s.name}`)).toEqual([`${A}/api`, `${B}/api`, `${A}/worker`, `${A}/grafana`]);
    expect(found[0]!.tags).toEqual(testTags("api"));
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 2);
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: A, services: ["api", "worker", "grafana"], include: ["TAGS"] });
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: B, services: ["api"], include: ["TAGS"] });
  });

  it("names at most 10 services a call", async () => {
    const names = Array.from({ length: 12 }, (_, i) => `svc-${i}`);
    stubServices(names.map((n) => serviceOf(A, n)));
    const ctx = testContext();
    expect((await Promise.all(names.map((n) => find(ctx, A, n)))).every((s) => s !== undefined)).toBe(true);
    expect(ecs.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input.services!.length)).toEqual([10, 2]);
  });

  it("a MISSING service is not found; a service failing for another reason fails alone, naming it", async () => {
    stubServices([serviceOf(A, "api")], { worker: "ACCESS_DENIED" });
    const ctx = testContext();
    const [api, gone, denied] = await Promise.allSettled([find(ctx, A, "api"), find(ctx, A, "gone"), find(ctx, A, "worker")]);
    expect(api).toMatchObject({ status: "fulfilled", value: { name: "api" } });
    expect(gone).toEqual({ status: "fulfilled", value: undefined });
    expect(denied).toMatchObject({ status: "rejected", reason: { message: expect.stringMatching(/ECS service worker: .*service\/clinical-platform-dev-cluster\/worker: ACCESS_DENIED/) } });
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 1);
  });

  it("every service of a cluster that is gone is not found", async () => {
    ecs.on(DescribeServicesCommand).rejects(new ECSServiceException({ name: "ClusterNotFoundException", message: "Cluster not found.", $fault: "client", $metadata: {} }));
    const ctx = testContext();
    expect(await Promise.all([find(ctx, A, "api"), find(ctx, A, "worker")])).toEqual([undefined, undefined]);
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 1);
  });
});

describe("ecs:service details, several services at once", () => {
  it("share one DescribeServices, and read target health only for services that have or want tasks", async () => {
    const api = serviceOf(A, "api", { desired: 2, running: 2 });
    const grafana = serviceOf(A, "grafana", { desired: 0, running: 0 });
    const worker = serviceOf(A, "worker", { desired: 1, running: 0 });
    stubServices([api, grafana, worker]);
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ TargetHealth: { State: "healthy" } }, { TargetHealth: { State: "healthy" } }] });
    const ctx = testContext();
    const found = await Promise.all([find(ctx, A, "api"), find(ctx, A, "grafana"), find(ctx, A, "worker")]);
    ecs.resetHistory();
    const details = await Promise.all(found.map((s) => ecsService.details!(ctx, s!)));
    expect(details[0]).toBe("2 desired, 2 running, 0 pending; deployment COMPLETED (api:1); targets 2/2 healthy");
    expect(details[1]).toBe("0 desired, 0 running, 0 pending; deployment COMPLETED (grafana:1)");
    expect(details[2]).toMatch(/^1 desired, 0 running, 0 pending; .*; targets 2\/2 healthy$/);
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 1);
    expect(elbv2).toHaveReceivedCommandTimes(DescribeTargetHealthCommand, 2);
    expect(elbv2).not.toHaveReceivedCommandWith(DescribeTargetHealthCommand, { TargetGroupArn: tgOf("grafana") });
  });
});
