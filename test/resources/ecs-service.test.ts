import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException } from "@aws-sdk/client-cloudwatch-logs";
import { ECRClient, ListImagesCommand } from "@aws-sdk/client-ecr";
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ECSServiceException,
  ListTasksCommand,
  type Service,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { AwsFailure } from "../../src/errors.js";
import { ecsService, type EcsServiceAttrs, type EcsServiceSpec } from "../../src/resources/ecs-service.js";
import { testContext, testTags } from "../helpers.js";

const ecs = mockClient(ECSClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const ecr = mockClient(ECRClient);
const logs = mockClient(CloudWatchLogsClient);
const ecsError = (name: string, message = name) => new ECSServiceException({ name, message, $fault: "client", $metadata: {} });

const ID = "compute.service.api";
const tags = testTags(ID);
const CLUSTER = "clinical-platform-dev-cluster";
const CLUSTER_ARN = `arn:aws:ecs:us-east-1:123456789012:cluster/${CLUSTER}`;
const SERVICE_ARN = `arn:aws:ecs:us-east-1:123456789012:service/${CLUSTER}/api`;
const TD = (rev: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/clinical-platform-dev-api:${rev}`;
const TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/clinical-platform-dev-api/0123456789abcdef";
const REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev/api";

const spec: EcsServiceSpec = {
  cluster: CLUSTER,
  name: "api",
  taskDefinitionArn: TD(2),
  desiredCount: 2,
  subnetIds: ["subnet-b", "subnet-a"],
  securityGroupIds: ["sg-api"],
  assignPublicIp: true,
  loadBalancers: [{ targetGroupArn: TG, containerName: "api", containerPort: 8000 }],
  healthCheckGracePeriodSeconds: 60,
  enableExecuteCommand: true,
  tags,
};

function service(over: Partial<Service> = {}): Service {
  const td = over.taskDefinition ?? spec.taskDefinitionArn;
  return {
    serviceName: "api",
    serviceArn: SERVICE_ARN,
    clusterArn: CLUSTER_ARN,
    status: "ACTIVE",
    launchType: "FARGATE",
    taskDefinition: td,
    desiredCount: spec.desiredCount,
    runningCount: spec.desiredCount,
    networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-a", "subnet-b"], securityGroups: ["sg-api"], assignPublicIp: "ENABLED" } },
    loadBalancers: spec.loadBalancers,
    healthCheckGracePeriodSeconds: 60,
    enableExecuteCommand: true,
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, minimumHealthyPercent: 100, maximumPercent: 200 },
    deployments: [{ id: "ecs-svc/1", status: "PRIMARY", taskDefinition: td, rolloutState: "COMPLETED", desiredCount: spec.desiredCount, runningCount: spec.desiredCount }],
    events: [],
    tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    ...over,
  };
}

const actual: EcsServiceAttrs = {
  cluster: CLUSTER,
  name: "api",
  arn: SERVICE_ARN,
  launchType: "FARGATE",
  taskDefinitionArn: TD(1),
  desiredCount: 2,
  subnetIds: ["subnet-a", "subnet-b"],
  securityGroupIds: ["sg-api"],
  assignPublicIp: true,
  loadBalancers: spec.loadBalancers,
  healthCheckGracePeriodSeconds: 60,
  enableExecuteCommand: true,
  deployment: { minimumHealthyPercent: 100, maximumPercent: 200, circuitBreaker: { enable: true, rollback: true } },
  tags,
};

const healthy = (n: number) => ({ TargetHealthDescriptions: Array.from({ length: n }, (_, i) => ({ Target: { Id: `10.0.0.${i + 10}`, Port: 8000 }, TargetHealth: { State: "healthy" as const } })) });

/** The revision's image is in ECR, and the load balancer finds the tasks healthy. */
function imagesPushedAndHealthy() {
  ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { containerDefinitions: [{ name: "api", image: `${REPO}:v2` }] } });
  ecr.on(ListImagesCommand).resolves({ imageIds: [{ imageTag: "v1", imageDigest: "sha256:1" }, { imageTag: "v2", imageDigest: "sha256:2" }] });
  elbv2.on(DescribeTargetHealthCommand).resolves(healthy(2));
}

beforeEach(() => {
  ecs.reset();
  elbv2.reset();
  ecr.reset();
  logs.reset();
});

describe("ecs:service", () => {
  it("creates a Fargate service with rolling deployments, the circuit breaker with rollback, and waits until stable and healthy", async () => {
    imagesPushedAndHealthy();
    ecs.on(DescribeServicesCommand)
      .resolvesOnce({ services: [], failures: [{ arn: SERVICE_ARN, reason: "MISSING" }] })
      .resolvesOnce({ services: [service({ runningCount: 0, deployments: [{ id: "ecs-svc/1", status: "PRIMARY", taskDefinition: TD(2), rolloutState: "IN_PROGRESS" }] })] })
      .resolves({ services: [service()] });
    ecs.on(CreateServiceCommand).resolves({ service: service() });

    const created = await ecsService.create(testContext(), spec, { logicalId: ID });

    expect(created).toMatchObject({ name: "api", taskDefinitionArn: TD(2), desiredCount: 2, assignPublicIp: true, subnetIds: ["subnet-a", "subnet-b"] });
    expect(ecs).toHaveReceivedCommandWith(CreateServiceCommand, {
      cluster: CLUSTER,
      serviceName: "api",
      taskDefinition: TD(2),
      desiredCount: 2,
      launchType: "FARGATE",
      networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-b", "subnet-a"], securityGroups: ["sg-api"], assignPublicIp: "ENABLED" } },
      loadBalancers: [{ targetGroupArn: TG, containerName: "api", containerPort: 8000 }],
      healthCheckGracePeriodSeconds: 60,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, minimumHealthyPercent: 100, maximumPercent: 200 },
      propagateTags: "SERVICE",
      enableECSManagedTags: true,
      enableExecuteCommand: true,
      tags: expect.arrayContaining([{ key: "platform:logical-id", value: ID }]),
    });
    expect(elbv2).toHaveReceivedCommandWith(DescribeTargetHealthCommand, { TargetGroupArn: TG });
  });

  it("waits for the load balancer's health checks after the service is stable", async () => {
    imagesPushedAndHealthy();
    elbv2.on(DescribeTargetHealthCommand)
      .resolvesOnce({ TargetHealthDescriptions: [{ Target: { Id: "10.0.0.10", Port: 8000 }, TargetHealth: { State: "initial", Reason: "Elb.RegistrationInProgress" } }] })
      .resolves(healthy(2));
    ecs.on(DescribeServicesCommand).resolvesOnce({ services: [], failures: [{ reason: "MISSING" }] }).resolves({ services: [service()] });
    ecs.on(CreateServiceCommand).resolves({ service: service() });
    const ctx = testContext();
    await ecsService.create(ctx, spec, { logicalId: ID });
    expect(elbv2).toHaveReceivedCommandTimes(DescribeTargetHealthCommand, 2);
    expect(ctx.notes.join(" ")).toMatch(/waiting for health checks: 0\/2 targets healthy .*initial \(Elb.RegistrationInProgress\)/);
  });

  it("retries CreateService while the task role cannot be assumed yet (IAM propagation)", async () => {
    imagesPushedAndHealthy();
    ecs.on(DescribeServicesCommand).resolvesOnce({ services: [], failures: [{ reason: "MISSING" }] }).resolves({ services: [service()] });
    ecs.on(CreateServiceCommand)
      .rejectsOnce(ecsError("InvalidParameterException", "ECS was unable to assume the role 'arn:aws:iam::123456789012:role/clinical-platform-dev-api-task' that was provided for this task."))
      .resolves({ service: service() });
    await ecsService.create(testContext(), spec, { logicalId: ID });
    expect(ecs).toHaveReceivedCommandTimes(CreateServiceCommand, 2);
  });

  it("retries CreateService while the previous service of that name is still DRAINING", async () => {
    imagesPushedAndHealthy();
    ecs.on(DescribeServicesCommand)
      .resolvesOnce({ services: [service({ status: "DRAINING" })] }) // create: not ACTIVE, so not ours to adopt
      .resolvesOnce({ services: [service({ status: "DRAINING" })] }) // after the refusal: still draining
      .resolves({ services: [service()] });
    ecs.on(CreateServiceCommand).rejectsOnce(ecsError("InvalidParameterException", "Creation of service was not idempotent.")).resolves({ service: service() });
    const ctx = testContext();
    await ecsService.create(ctx, spec, { logicalId: ID });
    expect(ecs).toHaveReceivedCommandTimes(CreateServiceCommand, 2);
    expect(ctx.notes.join(" ")).toMatch(/still draining/);
  });

  it("does not retry an InvalidParameterException that is not about a draining service", async () => {
    imagesPushedAndHealthy();
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: "MISSING" }] });
    ecs.on(CreateServiceCommand).rejects(ecsError("InvalidParameterException", "The target group does not have an associated load balancer."));
    await expect(ecsService.create(testContext(), spec, { logicalId: ID })).rejects.toMatchObject({ name: "InvalidParameterException" });
    expect(ecs).toHaveReceivedCommandTimes(CreateServiceCommand, 1);
  });

  it("reports a rollback by the circuit breaker with the stopped tasks' reasons and their last log lines", async () => {
    imagesPushedAndHealthy();
    const taskArn = `arn:aws:ecs:us-east-1:123456789012:task/${CLUSTER}/0123456789abcdef0123456789abcdef`;
    ecs.on(UpdateServiceCommand).resolves({});
    // The breaker put the old revision back: stable, but on TD(1).
    ecs.on(DescribeServicesCommand).resolves({
      services: [service({ taskDefinition: TD(1), events: [{ message: "(service api) (deployment ecs-svc/2) deployment failed: tasks failed to start." }] })],
    });
    ecs.on(ListTasksCommand, { cluster: CLUSTER, serviceName: "api", desiredStatus: "STOPPED" }).resolves({ taskArns: [taskArn] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn,
          taskDefinitionArn: TD(2),
          stoppedAt: new Date(),
          stoppedReason: "Essential container in task exited",
          containers: [{ name: "api", exitCode: 1, reason: undefined }],
        },
      ],
    });
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: TD(2) }).resolves({
      taskDefinition: {
        containerDefinitions: [
          { name: "api", image: `${REPO}:v2`, logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/clinical-platform-dev", "awslogs-stream-prefix": "api" } } },
        ],
      },
    });
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: "Traceback (most recent call last):" }, { message: "KeyError: 'DB_HOST'" }] });

    const err = (await ecsService.update!(testContext(), spec, actual, ecsService.diff(spec, actual)).catch((e) => e)) as AwsFailure;

    expect(err).toBeInstanceOf(AwsFailure);
    expect(err.code).toBe("ServiceDeploymentRolledBack");
    expect(err.message).toMatch(/^waiting for ECS service \(api\) to reach a steady state: ServiceDeploymentRolledBack: the deployment circuit breaker rolled back to clinical-platform-dev-api:1/);
    expect(err.message).toContain("task 0123456789abcdef0123456789abcdef stopped: Essential container in task exited; api exited 1");
    expect(err.message).toContain(`last log lines of api/api/0123456789abcdef0123456789abcdef: "Traceback (most recent call last):" / "KeyError: 'DB_HOST'"`);
    expect(err.message).toContain("deployment failed: tasks failed to start.");
    expect(err.message).not.toContain("\n");
    expect(logs).toHaveReceivedCommandWith(GetLogEventsCommand, { logGroupName: "/ecs/clinical-platform-dev", logStreamName: "api/api/0123456789abcdef0123456789abcdef", startFromHead: false });
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { cluster: CLUSTER, service: "api", taskDefinition: TD(2) });
  });

  it("reports a FAILED rollout of a new service at once, with the stop reason even when the container never logged", async () => {
    imagesPushedAndHealthy();
    const taskArn = `arn:aws:ecs:us-east-1:123456789012:task/${CLUSTER}/ffff`;
    ecs.on(DescribeServicesCommand)
      .resolvesOnce({ services: [], failures: [{ reason: "MISSING" }] })
      .resolves({
        services: [
          service({
            runningCount: 0,
            deployments: [{ id: "ecs-svc/1", status: "PRIMARY", taskDefinition: TD(2), rolloutState: "FAILED", rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start." }],
          }),
        ],
      });
    ecs.on(CreateServiceCommand).resolves({});
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn] });
    const stopped = (arn: string) => ({ taskArn: arn, taskDefinitionArn: TD(2), stoppedReason: "CannotPullContainerError: pull image manifest has been retried 7 time(s)", containers: [{ name: "api" }] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [stopped(taskArn), stopped(`${taskArn}0`)] });
    logs.on(GetLogEventsCommand).rejects(new ResourceNotFoundException({ message: "The specified log stream does not exist.", $metadata: {} }));

    const err = (await ecsService.create(testContext(), spec, { logicalId: ID }).catch((e) => e)) as AwsFailure;

    expect(err.code).toBe("ServiceDeploymentFailed");
    // Tasks that failed alike are told once.
    expect(err.message).toMatch(/deployment failed: ECS deployment circuit breaker: tasks failed to start\. \| task ffff0? \(and 1 more alike\) stopped: CannotPullContainerError/);
    expect(err.message).toMatch(/fix the cause above/);
  });

  it("ends with a diagnosis, not a bare timeout, when the service never settles", async () => {
    imagesPushedAndHealthy();
    ecs.on(DescribeServicesCommand).resolves({ services: [service({ runningCount: 1, deployments: [{ id: "a", status: "PRIMARY", taskDefinition: TD(2), rolloutState: "IN_PROGRESS" }, { id: "b", status: "ACTIVE", taskDefinition: TD(1) }] })] });
    ecs.on(UpdateServiceCommand).resolves({});
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const err = (await ecsService.update!(testContext(), spec, actual, ecsService.diff(spec, actual)).catch((e) => e)) as AwsFailure;
    expect(err.code).toBe("ServiceNotStable");
    expect(err.message).toMatch(/not steady after 15 minutes: 1\/2 tasks running, 2 deployments/);
  });

  it("tears down in order: scale to 0, delete with force, wait until INACTIVE", async () => {
    ecs.on(UpdateServiceCommand).resolves({});
    ecs.on(DeleteServiceCommand).resolves({});
    ecs.on(DescribeServicesCommand).resolvesOnce({ services: [service({ status: "DRAINING" })] }).resolves({ services: [service({ status: "INACTIVE" })] });
    await ecsService.destroy(testContext(), actual);
    const sequence = ecs.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    expect(sequence).toEqual(["UpdateServiceCommand", "DeleteServiceCommand", "DescribeServicesCommand", "DescribeServicesCommand"]);
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { cluster: CLUSTER, service: "api", desiredCount: 0 });
    expect(ecs).toHaveReceivedCommandWith(DeleteServiceCommand, { cluster: CLUSTER, service: "api", force: true });
  });

  it("treats a service or cluster already gone as deleted", async () => {
    ecs.on(UpdateServiceCommand).rejects(ecsError("ServiceNotFoundException", "Service not found."));
    await expect(ecsService.destroy(testContext(), actual)).resolves.toBeUndefined();
    expect(ecs).not.toHaveReceivedCommand(DeleteServiceCommand);
    expect(ecs).not.toHaveReceivedCommand(DescribeServicesCommand);
  });

  it("creates with 0 tasks while the stack's repository is still empty, and says so", async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { containerDefinitions: [{ name: "api", image: `${REPO}:latest` }] } });
    ecr.on(ListImagesCommand).resolves({ imageIds: [] });
    ecs.on(DescribeServicesCommand).resolvesOnce({ services: [], failures: [{ reason: "MISSING" }] }).resolves({ services: [service({ desiredCount: 0, runningCount: 0 })] });
    ecs.on(CreateServiceCommand).resolves({});
    const ctx = testContext();
    const created = await ecsService.create(ctx, spec, { logicalId: ID });
    expect(ecs).toHaveReceivedCommandWith(CreateServiceCommand, { desiredCount: 0 });
    expect(elbv2).not.toHaveReceivedCommand(DescribeTargetHealthCommand);
    expect(ctx.notes.join(" ")).toMatch(/no image pushed to clinical-platform-dev\/api yet: the service runs 0 tasks until .*:latest is pushed and deployed/);
    // Read back at 0 while nothing is pushed: plan does not propose scaling up on every run.
    expect(created.waitingForImages).toEqual([`${REPO}:latest`]);
    expect(ecsService.diff(spec, { ...created, taskDefinitionArn: spec.taskDefinitionArn })).toEqual([]);
    expect(ecsService.diff(spec, { ...created, waitingForImages: undefined }).map((c) => c.field)).toContain("desiredCount");
  });

  it("refuses a tag that is missing from a repository that has images, before ECS tries to pull it", async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { containerDefinitions: [{ name: "api", image: `${REPO}:v3` }] } });
    ecr.on(ListImagesCommand).resolves({ imageIds: [{ imageTag: "v1", imageDigest: "sha256:1" }] });
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: "MISSING" }] });
    const err = (await ecsService.create(testContext(), spec, { logicalId: ID }).catch((e) => e)) as AwsFailure;
    expect(err.message).toMatch(/^creating ECS service \(api\): ImageNotFound: 123456789012.dkr.ecr.us-east-1.amazonaws.com\/clinical-platform-dev\/api:v3 is not in ECR \(push it \(docker push 123456789012.dkr.ecr.us-east-1.amazonaws.com\/clinical-platform-dev\/api:v3\)/);
    expect(ecs).not.toHaveReceivedCommand(CreateServiceCommand);
  });

  it("an update of a service waiting for its first image (only the network changes) keeps it at 0 tasks and waits for none", async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { containerDefinitions: [{ name: "api", image: `${REPO}:latest` }] } });
    ecr.on(ListImagesCommand).resolves({ imageIds: [] });
    ecs.on(UpdateServiceCommand).resolves({});
    ecs.on(DescribeServicesCommand).resolves({ services: [service({ desiredCount: 0, runningCount: 0, taskDefinition: TD(2), networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-c"], securityGroups: ["sg-api"], assignPublicIp: "DISABLED" } } })] });
    const waiting = { ...actual, taskDefinitionArn: TD(2), desiredCount: 0, waitingForImages: [`${REPO}:latest`] };
    const moved = { ...spec, subnetIds: ["subnet-c"], assignPublicIp: false };
    const changes = ecsService.diff(moved, waiting);
    expect(changes.map((c) => c.field)).toEqual(["subnetIds", "assignPublicIp"]);
    const ctx = testContext();
    await ecsService.update!(ctx, moved, waiting, changes);
    const update = ecs.commandCalls(UpdateServiceCommand)[0]!.args[0].input;
    expect(update).toMatchObject({ networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-c"], assignPublicIp: "DISABLED" } } });
    expect(update.desiredCount).toBeUndefined();
    expect(elbv2).not.toHaveReceivedCommand(DescribeTargetHealthCommand);
    expect(ctx.notes.join(" ")).toMatch(/no image pushed to clinical-platform-dev\/api yet/);
  });

  it("refuses an update that would start new tasks of a running service whose repository is now empty", async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { containerDefinitions: [{ name: "api", image: `${REPO}:latest` }] } });
    ecr.on(ListImagesCommand).resolves({ imageIds: [] });
    const running = { ...actual, taskDefinitionArn: TD(2) };
    const moved = { ...spec, securityGroupIds: ["sg-other"] };
    const err = (await ecsService.update!(testContext(), moved, running, ecsService.diff(moved, running)).catch((e) => e)) as AwsFailure;
    expect(err.message).toMatch(/^updating ECS service \(api\): ImageNotFound: .*api:latest is not in ECR; the service's 2 running task\(s\) are left as they are/);
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it("finds only an ACTIVE service", async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service({ status: "DRAINING" })] });
    await expect(ecsService.find(testContext(), { logicalId: ID, recorded: actual })).resolves.toBeUndefined();
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ arn: SERVICE_ARN, reason: "MISSING" }] });
    await expect(ecsService.find(testContext(), { logicalId: ID, recorded: actual })).resolves.toBeUndefined();
    ecs.on(DescribeServicesCommand).rejects(ecsError("ClusterNotFoundException", "Cluster not found."));
    await expect(ecsService.find(testContext(), { logicalId: ID, recorded: actual })).resolves.toBeUndefined();
  });

  it("notes why tasks get a public IP or not next to a change of placement", () => {
    const changes = ecsService.diff({ ...spec, assignPublicIp: false, subnetIds: ["subnet-c", "subnet-d"], taskDefinitionArn: TD(1) }, actual);
    expect(changes.map((c) => [c.field, c.note])).toEqual([
      ["subnetIds", "tasks run in the private subnets without public IPs"],
      ["assignPublicIp", "tasks run in the private subnets without public IPs"],
    ]);
    expect(ecsService.diff({ ...spec, taskDefinitionArn: TD(1) }, { ...actual, assignPublicIp: false })[0]!.note).toMatch(/no NAT gateway: tasks run in the public subnets with public IPs/);
  });

  it("turns the circuit breaker back on if it was switched off outside platform", async () => {
    imagesPushedAndHealthy();
    const drifted = { ...actual, taskDefinitionArn: TD(2), deployment: { ...actual.deployment, circuitBreaker: { enable: false, rollback: false } } };
    ecs.on(UpdateServiceCommand).resolves({});
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    await ecsService.update!(testContext(), spec, drifted, ecsService.diff(spec, drifted));
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, minimumHealthyPercent: 100, maximumPercent: 200 } });
  });
});
