import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
} from "@aws-sdk/client-ecs";
import { FakeCloud } from "./cloud.js";
import { newEc2State, type Ec2State } from "./ec2.js";
import { ecsModel, type EcsState } from "./ecs.js";
import { newElbv2State, type Elbv2State } from "./elbv2.js";

/** The ECS fake holds code to ECS's rules: these are the ones platform's modules rely on it to enforce. */
let cloud: FakeCloud;
let ecs: ECSClient;
let ec2: Ec2State;
let elbv2: Elbv2State;
let state: EcsState;

const td: RegisterTaskDefinitionCommandInput = {
  family: "app",
  networkMode: "awsvpc",
  requiresCompatibilities: ["FARGATE"],
  cpu: "256",
  memory: "512",
  executionRoleArn: "arn:aws:iam::123456789012:role/exec",
  containerDefinitions: [
    {
      name: "app",
      image: "nginx:1",
      portMappings: [{ containerPort: 80 }],
      logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/x", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app" } },
    },
  ],
};

/** A VPC with one subnet whose route table sends 0.0.0.0/0 to an internet gateway (a public subnet). */
function publicSubnet(): string {
  ec2.vpcs.set("vpc-1", { VpcId: "vpc-1", CidrBlock: "10.0.0.0/16", State: "available", Tags: {}, EnableDnsSupport: true, EnableDnsHostnames: true });
  ec2.subnets.set("subnet-1", { SubnetId: "subnet-1", VpcId: "vpc-1", CidrBlock: "10.0.0.0/24", AvailabilityZone: "us-east-1a", MapPublicIpOnLaunch: true, State: "available", Tags: {} });
  ec2.internetGateways.set("igw-1", { InternetGatewayId: "igw-1", Attachments: [{ VpcId: "vpc-1", State: "available" }], Tags: {} });
  ec2.routeTables.set("rtb-1", {
    RouteTableId: "rtb-1",
    VpcId: "vpc-1",
    Routes: [{ DestinationCidrBlock: "0.0.0.0/0", GatewayId: "igw-1" }],
    Associations: [{ SubnetId: "subnet-1", RouteTableAssociationId: "rtbassoc-1" }],
    Tags: {},
  });
  ec2.securityGroups.set("sg-1", { GroupId: "sg-1", GroupName: "app", VpcId: "vpc-1", Tags: {} });
  return "subnet-1";
}

const serviceInput = (assignPublicIp: "ENABLED" | "DISABLED") => ({
  cluster: "c",
  serviceName: "app",
  taskDefinition: "app",
  desiredCount: 1,
  launchType: "FARGATE" as const,
  networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"], securityGroups: ["sg-1"], assignPublicIp } },
  deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
});

beforeEach(() => {
  cloud = new FakeCloud();
  ec2 = newEc2State();
  elbv2 = newElbv2State();
  const fake = ecsModel(cloud, { ec2, elbv2 });
  state = fake.state;
  cloud.install([fake.model]);
  ecs = new ECSClient({ region: "us-east-1", maxAttempts: 1 });
});
afterEach(() => cloud.restore());

describe("ECS fake", () => {
  it.each([
    ["a CPU/memory pair Fargate lacks", { cpu: "256", memory: "4096" }, /No Fargate configuration exists for given values: 256 CPU, 4096 memory/],
    ["awslogs without an execution role", { executionRoleArn: undefined }, /requires task definition to have execution role ARN/],
    ["a host port other than the container port on awsvpc", { containerDefinitions: [{ ...td.containerDefinitions![0]!, portMappings: [{ containerPort: 80, hostPort: 8080 }] }] }, /host ports and container ports/],
    ["an environment value that is not a string", { containerDefinitions: [{ ...td.containerDefinitions![0]!, environment: [{ name: "PORT", value: 80 as never }] }] }, /must be strings/],
  ])("refuses %s, as ECS does", async (_what, change, message) => {
    await expect(ecs.send(new RegisterTaskDefinitionCommand({ ...td, ...change }))).rejects.toThrow(message);
  });

  it("numbers revisions, fills in AWS's defaults, and cannot describe a family with none", async () => {
    await expect(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: "app" }))).rejects.toMatchObject({ name: "ClientException", message: "Unable to describe task definition." });
    await ecs.send(new RegisterTaskDefinitionCommand(td));
    const second = await ecs.send(new RegisterTaskDefinitionCommand(td));
    expect(second.taskDefinition).toMatchObject({ revision: 2, taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:2" });
    expect(second.taskDefinition!.containerDefinitions![0]).toMatchObject({ cpu: 0, mountPoints: [], volumesFrom: [], environment: [], portMappings: [{ containerPort: 80, hostPort: 80, protocol: "tcp" }] });
  });

  it("refuses a target group no load balancer serves, and a name whose previous service is still draining", async () => {
    publicSubnet();
    await ecs.send(new CreateClusterCommand({ clusterName: "c" }));
    await ecs.send(new RegisterTaskDefinitionCommand(td));
    elbv2.targetGroups.set("arn:tg", { TargetGroupArn: "arn:tg", TargetType: "ip" } as never);
    await expect(ecs.send(new CreateServiceCommand({ ...serviceInput("ENABLED"), loadBalancers: [{ targetGroupArn: "arn:tg", containerName: "app", containerPort: 80 }] }))).rejects.toThrow(
      /does not have an associated load balancer/,
    );
    cloud.timings = { latencyMs: 0, provisioningMs: { ecsServiceDrain: 60_000 } };
    await ecs.send(new CreateServiceCommand(serviceInput("ENABLED")));
    await ecs.send(new DeleteServiceCommand({ cluster: "c", service: "app", force: true }));
    await expect(ecs.send(new CreateServiceCommand(serviceInput("ENABLED")))).rejects.toMatchObject({ name: "InvalidParameterException", message: "Creation of service was not idempotent." });
    await expect(ecs.send(new DeleteClusterCommand({ cluster: "c" }))).rejects.toMatchObject({ name: "ClusterContainsServicesException" });
  });

  it("runs tasks in a public subnet only with a public IP: without one they cannot reach ECR and the deployment fails", async () => {
    publicSubnet();
    await ecs.send(new CreateClusterCommand({ clusterName: "c" }));
    await ecs.send(new RegisterTaskDefinitionCommand(td));
    await ecs.send(new CreateServiceCommand(serviceInput("DISABLED")));
    const [svc] = (await ecs.send(new DescribeServicesCommand({ cluster: "c", services: ["app"] }))).services!;
    expect(svc!.deployments![0]).toMatchObject({ rolloutState: "FAILED", rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start." });
    expect([...state.tasks.values()][0]!.stoppedReason).toMatch(/^ResourceInitializationError: unable to pull secrets or registry auth/);
    expect(ec2.networkInterfaces.size).toBe(0);

    await ecs.send(new DeleteServiceCommand({ cluster: "c", service: "app", force: true }));
    await ecs.send(new CreateServiceCommand({ ...serviceInput("ENABLED"), serviceName: "app2" }));
    const [ok] = (await ecs.send(new DescribeServicesCommand({ cluster: "c", services: ["app2"] }))).services!;
    expect(ok).toMatchObject({ runningCount: 1, deployments: [{ rolloutState: "COMPLETED" }] });
    const [eni] = [...ec2.networkInterfaces.values()];
    expect(eni).toMatchObject({ SubnetId: "subnet-1", Groups: [{ GroupId: "sg-1", GroupName: "app" }], Association: { PublicIp: expect.any(String) } });
  });
});
