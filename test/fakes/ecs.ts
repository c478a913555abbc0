import { randomUUID } from "node:crypto";
import { ECSClient, ECSServiceException } from "@aws-sdk/client-ecs";
import { awsError, type FakeCloud, type ServiceModel, type Tags } from "./cloud.js";
import type { Ec2State } from "./ec2.js";
import type { EcrState } from "./ecr.js";
import type { Elbv2State } from "./elbv2.js";
import type { IamState } from "./iam.js";
import { type LogsState, putLogEvents } from "./logs.js";
import type { TagSource } from "./tagging.js";

/**
 * The ECS part of the fake: clusters, task definitions with revisions, Fargate services with rolling deployments and the
 * circuit breaker, and tasks. Given the other fakes' states it is as strict as ECS about what it is handed:
 * subnets and security groups must exist (EC2), target groups must exist and be served by a load balancer (ELBv2),
 * roles must exist (IAM); and tasks behave as Fargate's do: their images must be in ECR, their subnet must reach the
 * internet (a NAT gateway, or an internet gateway plus a public IP), each holds a network interface with the service's
 * security groups (drained a little after it stops, so teardown meets DependencyViolation), registers with its target
 * groups, and writes its failures to its awslogs stream.
 *
 * Delays (FakeTimings.provisioningMs): "ecsSteady" (a deployment's tasks start), "ecsServiceDrain" (DRAINING → INACTIVE
 * after DeleteService), "eniDrain" (a stopped task's network interface lingers), "ecsTask" (a RunTask task runs),
 * "iamPropagation" (a role younger than this cannot be assumed by ECS yet).
 */
export interface FakeEcsCluster {
  clusterName: string;
  clusterArn: string;
  status: "ACTIVE" | "INACTIVE";
  settings: { name: string; value: string }[];
  /** CreateCluster/UpdateCluster configuration (execute-command configuration), as given; absent when never set. */
  configuration?: any;
  tags: Tags;
}

export interface FakeTaskDefinition {
  arn: string;
  family: string;
  revision: number;
  status: "ACTIVE" | "INACTIVE" | "DELETE_IN_PROGRESS";
  /** The TaskDefinition as DescribeTaskDefinition returns it (AWS's defaults filled in). */
  body: Record<string, any>;
  tags: Tags;
}

export interface FakeDeployment {
  id: string;
  status: "PRIMARY" | "ACTIVE";
  taskDefinition: string;
  desiredCount: number;
  rolloutState: "IN_PROGRESS" | "COMPLETED" | "FAILED";
  rolloutStateReason: string;
  networkConfiguration: any;
  failedTasks: number;
  createdAt: Date;
  /** cloud.elapsed() when it started or last changed its count. */
  since: number;
}

export interface FakeService {
  serviceName: string;
  serviceArn: string;
  clusterArn: string;
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
  taskDefinition: string;
  desiredCount: number;
  launchType: string;
  networkConfiguration: any;
  loadBalancers: { targetGroupArn: string; containerName: string; containerPort: number }[];
  healthCheckGracePeriodSeconds?: number;
  deploymentConfiguration: any;
  enableExecuteCommand: boolean;
  propagateTags: string;
  enableECSManagedTags: boolean;
  tags: Tags;
  deployments: FakeDeployment[];
  events: { id: string; createdAt: Date; message: string }[];
  createdAt: Date;
  deletedAt?: number;
}

export interface FakeTask {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  group: string;
  startedBy?: string;
  serviceName?: string;
  deploymentId?: string;
  lastStatus: "RUNNING" | "STOPPED";
  desiredStatus: "RUNNING" | "STOPPED";
  createdAt: Date;
  stoppedAt?: Date;
  stoppedReason?: string;
  stopCode?: string;
  /** `image` as the task definition names it; `imageDigest` what was pulled (ECR images present at start), as ECS reports it. */
  containers: { name: string; lastStatus: string; image?: string; imageDigest?: string; exitCode?: number; reason?: string }[];
  subnetId: string;
  groups: string[];
  privateIp: string;
  eni?: string;
  /** Target groups it is registered with (ip:port). */
  targets: { targetGroupArn: string; port: number }[];
  /** RunTask only: cloud.elapsed() at start. */
  since?: number;
}

/** How a service's deployments fail (set with `failDeployments`): the tasks stop with this, and write these log lines. */
export interface DeploymentFailure {
  stoppedReason: string;
  exitCode?: number;
  containerReason?: string;
  logLines?: string[];
}

export interface EcsState {
  clusters: Map<string, FakeEcsCluster>;
  taskDefinitions: Map<string, FakeTaskDefinition>;
  /** By `<cluster name>/<service name>`: the current incarnation (ACTIVE, DRAINING or INACTIVE). */
  services: Map<string, FakeService>;
  tasks: Map<string, FakeTask>;
  /** Service name → how its new deployments fail. */
  failures: Map<string, DeploymentFailure>;
  /** Exit code of RunTask tasks (one-off commands); 0 unless a test sets it. */
  oneOffExitCode: number;
  /** Lines each RunTask task writes to its awslogs stream as it exits (none unless a test sets them). */
  oneOffLogLines: string[];
  /**
   * The tagging API's index lags deletions: with this set, GetResources still lists INACTIVE clusters and services
   * (as it does for a while after DeleteCluster and DeleteService).
   */
  indexLagsDeletes?: boolean;
}

export function newEcsState(): EcsState {
  return { clusters: new Map(), taskDefinitions: new Map(), services: new Map(), tasks: new Map(), failures: new Map(), oneOffExitCode: 0, oneOffLogLines: [] };
}

/** From now on, new deployments of `serviceName` fail as `failure` says (the circuit breaker then rolls back or fails). */
export function failDeployments(state: EcsState, serviceName: string, failure: DeploymentFailure): void {
  state.failures.set(serviceName, failure);
}

export interface EcsDeps {
  ec2?: Ec2State;
  elbv2?: Elbv2State;
  logs?: LogsState;
  ecr?: EcrState;
  iam?: IamState;
}

export interface EcsFake extends ServiceModel {
  model: ServiceModel;
  state: EcsState;
  taggingSources: TagSource[];
}

const fail = (code: string, message: string) => awsError(ECSServiceException, code, message);
const client = (message: string) => fail("ClientException", message);
const invalid = (message: string) => fail("InvalidParameterException", message);

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
/** Fargate's CPU → memory (MiB) table (task size). */
const FARGATE: Record<string, number[]> = {
  "256": [512, 1024, 2048],
  "512": [1024, 2048, 3072, 4096],
  "1024": range(2048, 8192, 1024),
  "2048": range(4096, 16384, 1024),
  "4096": range(8192, 30720, 1024),
  "8192": range(16384, 61440, 4096),
  "16384": range(32768, 122880, 8192),
};
function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/([^:@]+)(?::([^@]+)|@(sha256:[a-f0-9]{64}))?$/;
const SECRET_ARN = /^arn:aws[\w-]*:(secretsmanager:[\w-]+:\d{12}:secret:[\w/+=.@-]+(:[^:]*:[^:]*:[^:]*)?|ssm:[\w-]+:\d{12}:parameter\/.+)$/;
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/;

function validateTags(list: { key?: string; value?: string }[] | undefined): Tags {
  const tags: Tags = {};
  if ((list?.length ?? 0) > 50) throw invalid("The maximum number of tags for a resource is 50");
  for (const t of list ?? []) {
    if (!t.key || t.key.length > 128 || (t.value ?? "").length > 256 || t.key.toLowerCase().startsWith("aws:")) throw invalid(`Invalid tag ${t.key}`);
    tags[t.key] = t.value ?? "";
  }
  return tags;
}
const tagList = (tags: Tags) => Object.entries(tags).map(([key, value]) => ({ key, value }));

export function ecsModel(cloud: FakeCloud, deps: EcsDeps = {}, state: EcsState = newEcsState()): EcsFake {
  const arn = (resource: string) => `arn:aws:ecs:${cloud.region}:${cloud.accountId}:${resource}`;
  const draining: { eni: string; at: number }[] = [];
  let ipCounter = 10;

  // ---- lookups ----------------------------------------------------------------------------------------------------

  const clusterNameOf = (c: string | undefined) => (c ?? "default").startsWith("arn:") ? c!.split("/").at(-1)! : (c ?? "default");
  const clusterOf = (c: string | undefined): FakeEcsCluster => {
    const cluster = state.clusters.get(clusterNameOf(c));
    if (!cluster || cluster.status !== "ACTIVE") throw fail("ClusterNotFoundException", "Cluster not found.");
    return cluster;
  };
  const serviceKey = (cluster: FakeEcsCluster, s: string) => `${cluster.clusterName}/${s.startsWith("arn:") ? s.split("/").at(-1) : s}`;
  const activeService = (cluster: FakeEcsCluster, s: string): FakeService => {
    const svc = state.services.get(serviceKey(cluster, s));
    if (!svc) throw fail("ServiceNotFoundException", "Service not found.");
    if (svc.status !== "ACTIVE") throw fail("ServiceNotActiveException", "Service was not ACTIVE.");
    return svc;
  };
  /** "family", "family:3" or an ARN; `family` alone is its latest ACTIVE revision. */
  const taskDefinitionOf = (ref: string | undefined, activeOnly = false): FakeTaskDefinition | undefined => {
    if (!ref) return undefined;
    const id = ref.startsWith("arn:") ? ref.split("/").at(-1)! : ref;
    const [family, rev] = id.split(":");
    const revisions = [...state.taskDefinitions.values()].filter((t) => t.family === family && t.status !== "DELETE_IN_PROGRESS");
    const td = rev ? revisions.find((t) => t.revision === Number(rev)) : revisions.filter((t) => t.status === "ACTIVE").sort((a, b) => b.revision - a.revision)[0];
    return td && (!activeOnly || td.status === "ACTIVE") ? td : undefined;
  };

  // ---- networking ---------------------------------------------------------------------------------------------------

  const subnetOf = (id: string) => {
    const s = deps.ec2?.subnets.get(id);
    if (deps.ec2 && !s) throw invalid(`Error retrieving subnet information for [${id}]: The subnet ID '${id}' does not exist (Service: AmazonEC2; Status Code: 400; Error Code: InvalidSubnetID.NotFound)`);
    return s;
  };

  const checkNetwork = (net: any) => {
    const c = net?.awsvpcConfiguration;
    if (!c?.subnets?.length) throw invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
    if (c.subnets.length > 16 || (c.securityGroups?.length ?? 0) > 5) throw invalid("At most 16 subnets and 5 security groups");
    if (c.assignPublicIp !== undefined && c.assignPublicIp !== "ENABLED" && c.assignPublicIp !== "DISABLED") throw invalid(`Invalid assignPublicIp ${c.assignPublicIp}`);
    const vpcs = new Set(c.subnets.map((id: string) => subnetOf(id)?.VpcId));
    if (vpcs.size > 1) throw invalid("Subnets must all be in the same VPC");
    for (const g of c.securityGroups ?? []) {
      const group = deps.ec2?.securityGroups.get(g);
      if (deps.ec2 && (!group || !vpcs.has(group.VpcId))) throw invalid(`Error retrieving security group information for [${g}]: The security group '${g}' does not exist`);
    }
  };

  /** A task reaches ECR, Secrets Manager and CloudWatch Logs through a NAT gateway, or an internet gateway with a public IP. */
  const reachesInternet = (subnetId: string, publicIp: boolean): boolean => {
    const ec2 = deps.ec2;
    if (!ec2) return true;
    const subnet = ec2.subnets.get(subnetId);
    if (!subnet) return false;
    const tables = [...ec2.routeTables.values()].filter((t: any) => t.VpcId === subnet.VpcId);
    const table = tables.find((t: any) => t.Associations?.some((a: any) => a.SubnetId === subnetId)) ?? tables.find((t: any) => t.Associations?.some((a: any) => a.Main));
    const route = table?.Routes?.find((r: any) => r.DestinationCidrBlock === "0.0.0.0/0");
    if (!route) return false;
    if (route.NatGatewayId) return ec2.natGateways.get(route.NatGatewayId)?.State === "available";
    if (route.GatewayId?.startsWith("igw-")) return publicIp && [...ec2.internetGateways.values()].some((g: any) => g.InternetGatewayId === route.GatewayId && g.Attachments?.length);
    return false;
  };

  const addressIn = (subnetId: string) => {
    const cidr = deps.ec2?.subnets.get(subnetId)?.CidrBlock ?? "10.0.0.0/24";
    const [a, b, c] = cidr.split("/")[0]!.split(".");
    ipCounter += 1;
    return `${a}.${b}.${Number(c) + Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 4}`;
  };

  const attachEni = (task: FakeTask, publicIp: boolean) => {
    const ec2 = deps.ec2;
    if (!ec2) return;
    const subnet = ec2.subnets.get(task.subnetId)!;
    const eni = cloud.id("eni");
    ec2.networkInterfaces.set(eni, {
      NetworkInterfaceId: eni,
      SubnetId: task.subnetId,
      VpcId: subnet.VpcId,
      AvailabilityZone: subnet.AvailabilityZone,
      Description: `arn:aws:ecs:${cloud.region}:${cloud.accountId}:attachment/${randomUUID()}`,
      InterfaceType: "interface",
      RequesterId: "578734482556",
      RequesterManaged: true,
      Status: "in-use",
      PrivateIpAddress: task.privateIp,
      Groups: task.groups.map((GroupId) => ({ GroupId, GroupName: ec2.securityGroups.get(GroupId)?.GroupName ?? GroupId })),
      ...(publicIp ? { Association: { PublicIp: `54.0.${ipCounter % 250}.${(ipCounter * 7) % 250}`, IpOwnerId: "amazon" } } : {}),
      Tags: {},
    });
    task.eni = eni;
  };

  const dropEnis = () => {
    for (const d of [...draining]) {
      if (cloud.elapsed() >= d.at) {
        deps.ec2?.networkInterfaces.delete(d.eni);
        draining.splice(draining.indexOf(d), 1);
      }
    }
  };

  // ---- tasks --------------------------------------------------------------------------------------------------------

  const registerTargets = (task: FakeTask, svc: FakeService) => {
    for (const lb of svc.loadBalancers) {
      task.targets.push({ targetGroupArn: lb.targetGroupArn, port: lb.containerPort });
      const health = deps.elbv2?.targetHealth;
      if (!health) continue;
      const list = health.get(lb.targetGroupArn) ?? [];
      list.push({ Target: { Id: task.privateIp, Port: lb.containerPort, AvailabilityZone: deps.ec2?.subnets.get(task.subnetId)?.AvailabilityZone }, HealthCheckPort: String(lb.containerPort), TargetHealth: { State: "healthy" } });
      health.set(lb.targetGroupArn, list);
    }
  };

  const deregisterTargets = (task: FakeTask) => {
    for (const t of task.targets) {
      const list = deps.elbv2?.targetHealth?.get(t.targetGroupArn);
      if (list) deps.elbv2!.targetHealth!.set(t.targetGroupArn, list.filter((d: any) => !(d.Target.Id === task.privateIp && d.Target.Port === t.port)));
    }
    task.targets = [];
  };

  const stopTask = (task: FakeTask, reason: string, stopCode = "ServiceSchedulerInitiated", exitCode?: number, containerReason?: string) => {
    if (task.lastStatus === "STOPPED") return;
    task.lastStatus = "STOPPED";
    task.desiredStatus = "STOPPED";
    task.stoppedAt = new Date();
    task.stoppedReason = reason;
    task.stopCode = stopCode;
    for (const c of task.containers) Object.assign(c, { lastStatus: "STOPPED", ...(exitCode !== undefined ? { exitCode } : {}), ...(containerReason ? { reason: containerReason } : {}) });
    deregisterTargets(task);
    if (task.eni) {
      const after = cloud.timings.provisioningMs.eniDrain ?? 0;
      if (after <= 0) deps.ec2?.networkInterfaces.delete(task.eni);
      else {
        const entry = { eni: task.eni, at: cloud.elapsed() + after };
        draining.push(entry);
        // ECS is not necessarily called again: the interfaces drain on their own, as AWS's do. The timer drops this
        // interface itself: a timer may fire a millisecond before the clock dropEnis compares against says it is due.
        setTimeout(() => {
          deps.ec2?.networkInterfaces.delete(entry.eni);
          if (draining.includes(entry)) draining.splice(draining.indexOf(entry), 1);
        }, after).unref();
      }
    }
  };

  const newTask = (cluster: string, td: FakeTaskDefinition, net: any, i: number, extra: Partial<FakeTask>): FakeTask => {
    const subnets: string[] = net.awsvpcConfiguration.subnets;
    const subnetId = subnets[i % subnets.length]!;
    const task: FakeTask = {
      taskArn: arn(`task/${cluster}/${randomUUID().replace(/-/g, "")}`),
      clusterArn: arn(`cluster/${cluster}`),
      taskDefinitionArn: td.arn,
      group: `family:${td.family}`,
      lastStatus: "RUNNING",
      desiredStatus: "RUNNING",
      createdAt: new Date(),
      containers: td.body.containerDefinitions.map((c: any) => ({ name: c.name, lastStatus: "RUNNING", image: c.image, ...pulledDigest(c.image) })),
      subnetId,
      groups: [...(net.awsvpcConfiguration.securityGroups ?? [])],
      privateIp: addressIn(subnetId),
      targets: [],
      ...extra,
    };
    state.tasks.set(task.taskArn, task);
    return task;
  };

  /** The digest a task pulls for an ECR image: what the tag names at that moment (a tag pushed anew later does not change it). */
  const pulledDigest = (image: string): { imageDigest?: string } => {
    const m = ECR_IMAGE.exec(image);
    const found = m && deps.ecr?.repositories.get(m[2]!)?.images.find((i) => (m[4] ? i.imageDigest === m[4] : i.imageTags.includes(m[3] ?? "latest")));
    return found ? { imageDigest: found.imageDigest } : {};
  };

  /** Why a task of this revision cannot start here (image, network), as ECS words it; undefined when it can. */
  const startFailure = (td: FakeTaskDefinition, net: any): DeploymentFailure | undefined => {
    const publicIp = net.awsvpcConfiguration.assignPublicIp === "ENABLED";
    const subnet = net.awsvpcConfiguration.subnets[0];
    if (!reachesInternet(subnet, publicIp)) {
      return {
        stoppedReason: `ResourceInitializationError: unable to pull secrets or registry auth: The task cannot pull registry auth from Amazon ECR: There is a connection issue between the task and Amazon ECR. Check your task network configuration. RequestError: send request failed caused by: Post "https://api.ecr.${cloud.region}.amazonaws.com/": dial tcp 10.0.0.1:443: i/o timeout`,
      };
    }
    for (const c of td.body.containerDefinitions) {
      const m = ECR_IMAGE.exec(c.image);
      if (!m || !deps.ecr) continue;
      const repo = deps.ecr.repositories.get(m[2]!);
      const found = repo?.images.some((i) => (m[4] ? i.imageDigest === m[4] : i.imageTags.includes(m[3] ?? "latest")));
      if (!found) {
        return {
          stoppedReason: `CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref ${c.image}: ${c.image}: not found`,
          containerReason: "CannotPullContainerError: failed to resolve ref",
        };
      }
    }
    return undefined;
  };

  const logFailure = (task: FakeTask, td: FakeTaskDefinition, lines: string[] | undefined) => {
    if (!deps.logs || !lines?.length) return;
    const c = td.body.containerDefinitions.find((x: any) => x.essential !== false) ?? td.body.containerDefinitions[0];
    const o = c.logConfiguration?.options ?? {};
    if (!deps.logs.groups.has(o["awslogs-group"])) return;
    const taskId = task.taskArn.split("/").at(-1);
    const now = Date.now();
    putLogEvents(deps.logs, o["awslogs-group"], `${o["awslogs-stream-prefix"]}/${c.name}/${taskId}`, lines.map((message, i) => ({ timestamp: now + i, message })));
  };

  const event = (svc: FakeService, message: string) => svc.events.unshift({ id: randomUUID(), createdAt: new Date(), message: `(service ${svc.serviceName}) ${message}` });
  const serviceTasks = (svc: FakeService) => [...state.tasks.values()].filter((t) => t.serviceName === svc.serviceName && t.clusterArn === svc.clusterArn && t.lastStatus === "RUNNING");

  /** A deployment whose time has come either fails (circuit breaker: roll back, or FAILED) or replaces the old tasks. */
  const progress = (svc: FakeService) => {
    const primary = svc.deployments.find((d) => d.status === "PRIMARY")!;
    if (primary.rolloutState === "FAILED" || !cloud.ready("ecsSteady", primary.since)) return;
    const td = taskDefinitionOf(primary.taskDefinition)!;
    const cluster = svc.clusterArn.split("/").at(-1)!;
    const running = serviceTasks(svc);
    const failure = primary.desiredCount > 0 ? (state.failures.get(svc.serviceName) ?? startFailure(td, primary.networkConfiguration)) : undefined;
    if (failure && primary.rolloutState === "IN_PROGRESS") {
      for (let i = 0; i < 3; i++) {
        const task = newTask(cluster, td, primary.networkConfiguration, i, { group: `service:${svc.serviceName}`, serviceName: svc.serviceName, deploymentId: primary.id, startedBy: primary.id });
        attachEni(task, primary.networkConfiguration.awsvpcConfiguration.assignPublicIp === "ENABLED");
        logFailure(task, td, failure.logLines);
        stopTask(task, failure.stoppedReason, "TaskFailedToStart", failure.exitCode, failure.containerReason);
      }
      primary.failedTasks += 3;
      const previous = svc.deployments.find((d) => d !== primary && d.rolloutState === "COMPLETED");
      event(svc, `(deployment ${primary.id}) deployment failed: tasks failed to start.`);
      if (previous && svc.deploymentConfiguration?.deploymentCircuitBreaker?.rollback) {
        const rollback: FakeDeployment = { ...previous, id: `ecs-svc/${randomUUID().replace(/-/g, "").slice(0, 19)}`, status: "PRIMARY", rolloutState: "COMPLETED", rolloutStateReason: "ECS deployment completed (rollback).", createdAt: new Date(), since: cloud.elapsed() };
        event(svc, `rolling back to deployment ${rollback.id}.`);
        svc.taskDefinition = previous.taskDefinition;
        svc.deployments = [rollback];
        for (const t of running) t.deploymentId = rollback.id;
      } else {
        primary.rolloutState = "FAILED";
        primary.rolloutStateReason = "ECS deployment circuit breaker: tasks failed to start.";
      }
      return;
    }
    // Old tasks go, new ones come, until the primary deployment runs exactly its desired count.
    for (const t of running) if (t.taskDefinitionArn !== primary.taskDefinition || t.deploymentId !== primary.id) stopTask(t, `Scaling activity initiated by (deployment ${primary.id})`);
    const current = serviceTasks(svc);
    for (const t of current.slice(primary.desiredCount)) stopTask(t, "Service scaled in");
    for (let i = current.length; i < primary.desiredCount; i++) {
      const task = newTask(cluster, td, primary.networkConfiguration, i, { group: `service:${svc.serviceName}`, serviceName: svc.serviceName, deploymentId: primary.id, startedBy: primary.id });
      attachEni(task, primary.networkConfiguration.awsvpcConfiguration.assignPublicIp === "ENABLED");
      registerTargets(task, svc);
    }
    if (primary.rolloutState === "IN_PROGRESS") {
      primary.rolloutState = "COMPLETED";
      primary.rolloutStateReason = "ECS deployment completed.";
    }
    svc.deployments = [primary];
    if (svc.events[0]?.message !== `(service ${svc.serviceName}) has reached a steady state.`) event(svc, "has reached a steady state.");
  };

  const settle = () => {
    for (const svc of state.services.values()) {
      if (svc.status === "ACTIVE") progress(svc);
      else if (svc.status === "DRAINING" && cloud.ready("ecsServiceDrain", svc.deletedAt!)) svc.status = "INACTIVE";
    }
    for (const t of state.tasks.values()) {
      if (t.since !== undefined && t.lastStatus === "RUNNING" && cloud.ready("ecsTask", t.since)) {
        const td = taskDefinitionOf(t.taskDefinitionArn);
        if (td) logFailure(t, td, state.oneOffLogLines);
        stopTask(t, "Essential container in task exited", "EssentialContainerExited", state.oneOffExitCode);
      }
    }
    dropEnis();
  };

  // ---- shapes -------------------------------------------------------------------------------------------------------

  /** ECS's checks of an execute-command configuration: OVERRIDE needs a log destination; encryption needs the log group to be KMS-encrypted. */
  const validClusterConfiguration = (configuration: any) => {
    const exec = configuration.executeCommandConfiguration;
    if (!exec) return structuredClone(configuration);
    if (!["NONE", "DEFAULT", "OVERRIDE"].includes(exec.logging ?? "DEFAULT")) throw invalid(`Invalid logging value ${exec.logging}`);
    const cw = exec.logConfiguration?.cloudWatchLogGroupName;
    if (exec.logging === "OVERRIDE" && !cw && !exec.logConfiguration?.s3BucketName) throw invalid("A log configuration is required when logging is OVERRIDE.");
    if (exec.logging !== "OVERRIDE" && exec.logConfiguration) throw invalid("logConfiguration is only allowed when logging is OVERRIDE.");
    return structuredClone(configuration);
  };

  const describeCluster = (c: FakeEcsCluster, include: string[] = []) => ({
    clusterArn: c.clusterArn,
    clusterName: c.clusterName,
    status: c.status,
    registeredContainerInstancesCount: 0,
    runningTasksCount: [...state.tasks.values()].filter((t) => t.clusterArn === c.clusterArn && t.lastStatus === "RUNNING").length,
    pendingTasksCount: 0,
    activeServicesCount: [...state.services.values()].filter((s) => s.clusterArn === c.clusterArn && s.status === "ACTIVE").length,
    capacityProviders: [],
    defaultCapacityProviderStrategy: [],
    ...(include.includes("SETTINGS") ? { settings: c.settings.map((s) => ({ ...s })) } : {}),
    ...(include.includes("CONFIGURATIONS") && c.configuration ? { configuration: structuredClone(c.configuration) } : {}),
    ...(include.includes("TAGS") ? { tags: tagList(c.tags) } : {}),
  });

  const describeDeployment = (svc: FakeService, d: FakeDeployment) => {
    const running = serviceTasks(svc).filter((t) => t.deploymentId === d.id).length;
    return {
      id: d.id,
      status: d.status,
      taskDefinition: d.taskDefinition,
      desiredCount: d.desiredCount,
      pendingCount: d.rolloutState === "IN_PROGRESS" ? Math.max(0, d.desiredCount - running) : 0,
      runningCount: running,
      failedTasks: d.failedTasks,
      createdAt: d.createdAt,
      updatedAt: new Date(),
      launchType: "FARGATE",
      platformVersion: "1.4.0",
      platformFamily: "Linux",
      networkConfiguration: structuredClone(d.networkConfiguration),
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason,
    };
  };

  const describeService = (svc: FakeService, include: string[] = []) => ({
    serviceArn: svc.serviceArn,
    serviceName: svc.serviceName,
    clusterArn: svc.clusterArn,
    loadBalancers: structuredClone(svc.loadBalancers),
    serviceRegistries: [],
    status: svc.status,
    desiredCount: svc.desiredCount,
    runningCount: svc.status === "ACTIVE" ? serviceTasks(svc).length : 0,
    pendingCount: 0,
    launchType: svc.launchType,
    platformVersion: "LATEST",
    platformFamily: "Linux",
    taskDefinition: svc.taskDefinition,
    deploymentConfiguration: structuredClone(svc.deploymentConfiguration),
    deployments: svc.status === "ACTIVE" ? svc.deployments.map((d) => describeDeployment(svc, d)) : [],
    roleArn: `arn:aws:iam::${cloud.accountId}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`,
    events: svc.events.slice(0, 100).map((e) => ({ ...e })),
    createdAt: svc.createdAt,
    placementConstraints: [],
    placementStrategy: [],
    networkConfiguration: structuredClone(svc.networkConfiguration),
    ...(svc.healthCheckGracePeriodSeconds !== undefined ? { healthCheckGracePeriodSeconds: svc.healthCheckGracePeriodSeconds } : {}),
    schedulingStrategy: "REPLICA",
    deploymentController: { type: "ECS" },
    createdBy: `arn:aws:iam::${cloud.accountId}:role/platform`,
    enableECSManagedTags: svc.enableECSManagedTags,
    propagateTags: svc.propagateTags,
    enableExecuteCommand: svc.enableExecuteCommand,
    availabilityZoneRebalancing: "ENABLED",
    ...(include.includes("TAGS") ? { tags: tagList(svc.tags) } : {}),
  });

  const describeTask = (t: FakeTask) => ({
    taskArn: t.taskArn,
    clusterArn: t.clusterArn,
    taskDefinitionArn: t.taskDefinitionArn,
    group: t.group,
    ...(t.startedBy ? { startedBy: t.startedBy } : {}),
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    launchType: "FARGATE",
    platformVersion: "1.4.0",
    cpu: taskDefinitionOf(t.taskDefinitionArn)?.body.cpu,
    memory: taskDefinitionOf(t.taskDefinitionArn)?.body.memory,
    createdAt: t.createdAt,
    ...(t.stoppedAt ? { stoppedAt: t.stoppedAt, stoppedReason: t.stoppedReason, stopCode: t.stopCode } : {}),
    containers: t.containers.map((c) => ({ containerArn: arn(`container/${randomUUID()}`), taskArn: t.taskArn, ...(t.lastStatus === "RUNNING" ? { runtimeId: `${t.taskArn.split("/").at(-1)}-${c.name}` } : {}), ...c })),
    attachments: [
      {
        id: randomUUID(),
        type: "ElasticNetworkInterface",
        status: t.lastStatus === "RUNNING" ? "ATTACHED" : "DELETED",
        details: [
          { name: "subnetId", value: t.subnetId },
          ...(t.eni ? [{ name: "networkInterfaceId", value: t.eni }] : []),
          { name: "privateIPv4Address", value: t.privateIp },
        ],
      },
    ],
  });

  // ---- task definitions ---------------------------------------------------------------------------------------------

  const checkRole = (roleArn: string | undefined, what: string) => {
    if (roleArn === undefined) return;
    const m = ROLE_ARN.exec(roleArn);
    if (!m) throw client(`${what} '${roleArn}' is not a valid role ARN`);
    const role = deps.iam?.roles.get(m[1]!.toLowerCase());
    if (deps.iam && !role) throw client(`Role is not valid: ${roleArn}`);
    const propagation = cloud.timings.provisioningMs.iamPropagation ?? 0;
    if (role && Date.now() - role.CreateDate.getTime() < propagation) {
      throw invalid(`ECS was unable to assume the role '${roleArn}' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.`);
    }
  };

  const registerTaskDefinition = (input: any) => {
    if (!input.family || !NAME.test(input.family)) throw client("Family contains invalid characters.");
    const containers: any[] = input.containerDefinitions ?? [];
    if (!containers.length) throw client("Container list cannot be empty.");
    const names = containers.map((c) => c.name);
    if (new Set(names).size !== names.length || names.some((n) => !n || !NAME.test(n))) throw client("Container names must be unique and valid.");
    const fargate = (input.requiresCompatibilities ?? []).includes("FARGATE");
    if (fargate) {
      if (input.networkMode !== "awsvpc") throw client("Fargate only supports network mode 'awsvpc'.");
      if (typeof input.cpu !== "string" || typeof input.memory !== "string" || !FARGATE[input.cpu]?.includes(Number(input.memory))) {
        throw client(`No Fargate configuration exists for given values: ${input.cpu} CPU, ${input.memory} memory. See the Amazon ECS documentation for the valid values.`);
      }
    }
    checkRole(input.taskRoleArn, "taskRoleArn");
    checkRole(input.executionRoleArn, "executionRoleArn");
    for (const c of containers) {
      if (!c.image) throw client(`Container.image should not be null or empty.`);
      for (const p of c.portMappings ?? []) {
        if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) throw client("Invalid container port");
        if (input.networkMode === "awsvpc" && p.hostPort !== undefined && p.hostPort !== p.containerPort) throw client("When networkMode=awsvpc, the host ports and container ports in port mappings must match.");
      }
      for (const e of c.environment ?? []) if (typeof e.name !== "string" || typeof e.value !== "string") throw client("Environment variable names and values must be strings.");
      for (const s of c.secrets ?? []) if (!s.name || !SECRET_ARN.test(s.valueFrom ?? "")) throw client(`The Systems Manager parameter name or Secrets Manager ARN specified for secret ${s.name} is invalid.`);
      const log = c.logConfiguration;
      if (fargate && (log?.logDriver === "awslogs" || c.secrets?.length) && !input.executionRoleArn) {
        throw client("Fargate requires task definition to have execution role ARN to support log driver awslogs.");
      }
      if (log?.logDriver === "awslogs" && (!log.options?.["awslogs-group"] || !log.options?.["awslogs-region"] || (fargate && !log.options?.["awslogs-stream-prefix"]))) {
        throw client("awslogs requires awslogs-group and awslogs-region (and awslogs-stream-prefix on Fargate).");
      }
    }
    const tags = validateTags(input.tags);
    const revision = 1 + Math.max(0, ...[...state.taskDefinitions.values()].filter((t) => t.family === input.family).map((t) => t.revision));
    const tdArn = arn(`task-definition/${input.family}:${revision}`);
    const body = {
      taskDefinitionArn: tdArn,
      containerDefinitions: containers.map((c) => ({
        ...structuredClone(c),
        cpu: c.cpu ?? 0,
        essential: c.essential ?? true,
        portMappings: (c.portMappings ?? []).map((p: any) => ({ ...p, hostPort: p.hostPort ?? p.containerPort, protocol: p.protocol ?? "tcp" })),
        environment: c.environment ?? [],
        mountPoints: [],
        volumesFrom: [],
        systemControls: [],
      })),
      family: input.family,
      ...(input.taskRoleArn ? { taskRoleArn: input.taskRoleArn } : {}),
      ...(input.executionRoleArn ? { executionRoleArn: input.executionRoleArn } : {}),
      networkMode: input.networkMode ?? "bridge",
      revision,
      volumes: [],
      status: "ACTIVE",
      requiresAttributes: [{ name: "com.amazonaws.ecs.capability.logging-driver.awslogs" }, { name: "ecs.capability.task-eni" }],
      placementConstraints: [],
      compatibilities: ["EC2", "FARGATE"],
      requiresCompatibilities: [...(input.requiresCompatibilities ?? [])],
      ...(input.cpu ? { cpu: input.cpu } : {}),
      ...(input.memory ? { memory: input.memory } : {}),
      registeredAt: new Date(),
      registeredBy: `arn:aws:iam::${cloud.accountId}:user/platform`,
    };
    state.taskDefinitions.set(tdArn, { arn: tdArn, family: input.family, revision, status: "ACTIVE", body, tags });
    return { taskDefinition: structuredClone(body), tags: tagList(tags) };
  };

  const describeTd = (td: FakeTaskDefinition) => ({ ...structuredClone(td.body), status: td.status, ...(td.status !== "ACTIVE" ? { deregisteredAt: new Date() } : {}) });

  // ---- services -----------------------------------------------------------------------------------------------------

  const checkLoadBalancers = (lbs: any[] | undefined, td: FakeTaskDefinition) => {
    for (const lb of lbs ?? []) {
      const container = td.body.containerDefinitions.find((c: any) => c.name === lb.containerName);
      if (!container) throw invalid(`The container ${lb.containerName} does not exist in the task definition.`);
      if (!container.portMappings.some((p: any) => p.containerPort === lb.containerPort)) throw invalid(`The container ${lb.containerName} did not have a container port ${lb.containerPort} defined.`);
      const elbv2 = deps.elbv2;
      if (!elbv2) continue;
      const tg = elbv2.targetGroups.get(lb.targetGroupArn);
      if (!tg) throw invalid(`Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions. (target group ${lb.targetGroupArn} not found)`);
      if (tg.TargetType !== "ip") throw invalid(`The provided target group ${lb.targetGroupArn} has target type ${tg.TargetType}, which is incompatible with the awsvpc network mode specified in the task definition.`);
      const served =
        [...elbv2.listeners.values()].some((l) => l.DefaultActions.some((a: any) => a.TargetGroupArn === lb.targetGroupArn)) ||
        [...(elbv2.rules?.values() ?? [])].some((r: any) => r.Actions.some((a: any) => a.TargetGroupArn === lb.targetGroupArn));
      if (!served) throw invalid(`The target group with targetGroupArn ${lb.targetGroupArn} does not have an associated load balancer.`);
    }
  };

  const newDeployment = (svc: Pick<FakeService, "taskDefinition" | "desiredCount" | "networkConfiguration">): FakeDeployment => ({
    id: `ecs-svc/${randomUUID().replace(/-/g, "").slice(0, 19)}`,
    status: "PRIMARY",
    taskDefinition: svc.taskDefinition,
    desiredCount: svc.desiredCount,
    rolloutState: "IN_PROGRESS",
    rolloutStateReason: "ECS deployment ecs-svc in progress.",
    networkConfiguration: structuredClone(svc.networkConfiguration),
    failedTasks: 0,
    createdAt: new Date(),
    since: cloud.elapsed(),
  });

  const createService = (input: any) => {
    const cluster = clusterOf(input.cluster);
    if (!input.serviceName || !NAME.test(input.serviceName)) throw invalid("Service name is invalid.");
    const td = taskDefinitionOf(input.taskDefinition);
    if (!td) throw client("TaskDefinition not found.");
    if (td.status !== "ACTIVE") throw client("TaskDefinition is inactive.");
    if (input.launchType === "FARGATE" && !td.body.requiresCompatibilities.includes("FARGATE")) throw invalid("Task definition does not support launch_type FARGATE.");
    if (td.body.networkMode === "awsvpc") checkNetwork(input.networkConfiguration);
    checkLoadBalancers(input.loadBalancers, td);
    if (input.healthCheckGracePeriodSeconds !== undefined && !input.loadBalancers?.length) throw invalid("Health check grace period is only valid for services configured to use load balancers");
    if (!Number.isInteger(input.desiredCount ?? 0) || (input.desiredCount ?? 0) < 0) throw invalid("desiredCount must be 0 or more");
    const key = serviceKey(cluster, input.serviceName);
    const existing = state.services.get(key);
    if (existing?.status === "DRAINING") throw invalid("Creation of service was not idempotent.");
    if (existing?.status === "ACTIVE") {
      const same = existing.taskDefinition === td.arn && existing.desiredCount === (input.desiredCount ?? 0) && sortedJson(existing.networkConfiguration) === sortedJson(input.networkConfiguration);
      if (!same) throw invalid("Creation of service was not idempotent.");
      return { service: describeService(existing) };
    }
    checkRole(td.body.taskRoleArn, "taskRoleArn");
    const svc: FakeService = {
      serviceName: input.serviceName,
      serviceArn: arn(`service/${cluster.clusterName}/${input.serviceName}`),
      clusterArn: cluster.clusterArn,
      status: "ACTIVE",
      taskDefinition: td.arn,
      desiredCount: input.desiredCount ?? 0,
      launchType: input.launchType ?? "EC2",
      networkConfiguration: structuredClone({ awsvpcConfiguration: { assignPublicIp: "DISABLED", securityGroups: [], ...input.networkConfiguration.awsvpcConfiguration } }),
      loadBalancers: structuredClone(input.loadBalancers ?? []),
      ...(input.healthCheckGracePeriodSeconds !== undefined ? { healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds } : input.loadBalancers?.length ? { healthCheckGracePeriodSeconds: 0 } : {}),
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: false, rollback: false },
        maximumPercent: 200,
        minimumHealthyPercent: 100,
        strategy: "ROLLING",
        ...structuredClone(input.deploymentConfiguration ?? {}),
      },
      enableExecuteCommand: input.enableExecuteCommand ?? false,
      propagateTags: input.propagateTags ?? "NONE",
      enableECSManagedTags: input.enableECSManagedTags ?? false,
      tags: validateTags(input.tags),
      deployments: [],
      events: [],
      createdAt: new Date(),
    };
    svc.deployments = [newDeployment(svc)];
    state.services.set(key, svc);
    return { service: describeService(svc) };
  };

  const updateService = (input: any) => {
    const cluster = clusterOf(input.cluster);
    const svc = activeService(cluster, input.service);
    const td = input.taskDefinition !== undefined ? taskDefinitionOf(input.taskDefinition) : taskDefinitionOf(svc.taskDefinition);
    if (!td) throw client("TaskDefinition not found.");
    if (input.taskDefinition !== undefined && td.status !== "ACTIVE") throw client("TaskDefinition is inactive.");
    if (input.networkConfiguration) checkNetwork(input.networkConfiguration);
    if (input.loadBalancers) checkLoadBalancers(input.loadBalancers, td);
    if (input.taskDefinition !== undefined) checkRole(td.body.taskRoleArn, "taskRoleArn");
    const redeploy =
      (input.taskDefinition !== undefined && td.arn !== svc.taskDefinition) ||
      Boolean(input.forceNewDeployment) ||
      (input.networkConfiguration && JSON.stringify(input.networkConfiguration) !== JSON.stringify(svc.networkConfiguration)) ||
      (input.loadBalancers && JSON.stringify(input.loadBalancers) !== JSON.stringify(svc.loadBalancers));
    svc.taskDefinition = td.arn;
    if (input.desiredCount !== undefined) svc.desiredCount = input.desiredCount;
    if (input.networkConfiguration) svc.networkConfiguration = structuredClone({ awsvpcConfiguration: { assignPublicIp: "DISABLED", securityGroups: [], ...input.networkConfiguration.awsvpcConfiguration } });
    if (input.loadBalancers) svc.loadBalancers = structuredClone(input.loadBalancers);
    if (input.healthCheckGracePeriodSeconds !== undefined) svc.healthCheckGracePeriodSeconds = input.healthCheckGracePeriodSeconds;
    if (input.enableExecuteCommand !== undefined) svc.enableExecuteCommand = input.enableExecuteCommand;
    if (input.deploymentConfiguration) svc.deploymentConfiguration = { ...svc.deploymentConfiguration, ...structuredClone(input.deploymentConfiguration) };
    const primary = svc.deployments.find((d) => d.status === "PRIMARY")!;
    if (redeploy) {
      for (const d of svc.deployments) d.status = "ACTIVE";
      // A FAILED deployment has nothing to roll back to later; only COMPLETED ones stay as the previous revision.
      svc.deployments = [newDeployment(svc), ...svc.deployments.filter((d) => d.rolloutState === "COMPLETED")];
    } else if (input.desiredCount !== undefined && input.desiredCount !== primary.desiredCount) {
      primary.desiredCount = input.desiredCount;
      primary.since = cloud.elapsed();
    }
    return { service: describeService(svc) };
  };

  const deleteService = (input: any) => {
    const cluster = clusterOf(input.cluster);
    const svc = activeService(cluster, input.service);
    if (svc.desiredCount > 0 && !input.force) throw invalid("The service cannot be stopped while it is scaled above 0.");
    svc.status = "DRAINING";
    svc.deletedAt = cloud.elapsed();
    svc.desiredCount = 0;
    for (const t of serviceTasks(svc)) stopTask(t, "Service deleted");
    const out = { service: describeService(svc) };
    settle();
    return out;
  };

  // ---- tagging ------------------------------------------------------------------------------------------------------

  const taggable = (resourceArn: string): { tags: Tags } => {
    const resource = resourceArn?.split(":").slice(5).join(":") ?? "";
    if (resource.startsWith("cluster/")) {
      const c = state.clusters.get(resource.slice("cluster/".length));
      if (c && c.clusterArn === resourceArn && c.status === "ACTIVE") return c;
    } else if (resource.startsWith("service/")) {
      const svc = [...state.services.values()].find((s) => s.serviceArn === resourceArn && s.status !== "INACTIVE");
      if (svc) return svc;
    } else if (resource.startsWith("task-definition/")) {
      const td = state.taskDefinitions.get(resourceArn);
      if (td && td.status !== "DELETE_IN_PROGRESS") return td;
    } else {
      throw invalid(`Invalid resource ARN ${resourceArn}`);
    }
    throw fail("ResourceNotFoundException", "The specified resource could not be found.");
  };

  // ---- handlers -----------------------------------------------------------------------------------------------------

  const handlers: Record<string, (input: any) => unknown> = {
    CreateCluster: (input) => {
      settle();
      const name = input.clusterName ?? "default";
      if (!NAME.test(name)) throw invalid("Cluster name is invalid.");
      for (const s of input.settings ?? []) {
        if (s.name !== "containerInsights" || !["enabled", "disabled", "enhanced"].includes(s.value)) throw invalid(`Invalid cluster setting ${s.name}=${s.value}`);
      }
      const existing = state.clusters.get(name);
      if (existing?.status === "ACTIVE") return { cluster: describeCluster(existing, ["SETTINGS", "TAGS"]) };
      const cluster: FakeEcsCluster = {
        clusterName: name,
        clusterArn: arn(`cluster/${name}`),
        status: "ACTIVE",
        settings: [{ name: "containerInsights", value: "disabled" }, ...(input.settings ?? [])].filter((s, i, all) => all.findLastIndex((x) => x.name === s.name) === i),
        ...(input.configuration ? { configuration: validClusterConfiguration(input.configuration) } : {}),
        tags: validateTags(input.tags),
      };
      state.clusters.set(name, cluster);
      return { cluster: describeCluster(cluster, ["SETTINGS", "TAGS"]) };
    },
    DescribeClusters: (input) => {
      settle();
      const names: string[] = input.clusters?.length ? input.clusters : ["default"];
      const clusters: any[] = [];
      const failures: any[] = [];
      for (const n of names) {
        const c = state.clusters.get(clusterNameOf(n));
        if (c) clusters.push(describeCluster(c, input.include));
        else failures.push({ arn: n.startsWith("arn:") ? n : arn(`cluster/${n}`), reason: "MISSING" });
      }
      return { clusters, failures };
    },
    UpdateClusterSettings: (input) => {
      const cluster = clusterOf(input.cluster);
      for (const s of input.settings ?? []) {
        if (s.name !== "containerInsights" || !["enabled", "disabled", "enhanced"].includes(s.value)) throw invalid(`Invalid cluster setting ${s.name}=${s.value}`);
        cluster.settings = [...cluster.settings.filter((x) => x.name !== s.name), { name: s.name, value: s.value }];
      }
      return { cluster: describeCluster(cluster, ["SETTINGS"]) };
    },
    UpdateCluster: (input) => {
      const cluster = clusterOf(input.cluster);
      if (input.configuration) cluster.configuration = validClusterConfiguration(input.configuration);
      return { cluster: describeCluster(cluster, ["CONFIGURATIONS", "SETTINGS"]) };
    },
    DeleteCluster: (input) => {
      settle();
      const cluster = clusterOf(input.cluster);
      if ([...state.services.values()].some((s) => s.clusterArn === cluster.clusterArn && s.status !== "INACTIVE")) {
        throw fail("ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active.");
      }
      if ([...state.tasks.values()].some((t) => t.clusterArn === cluster.clusterArn && t.lastStatus === "RUNNING")) {
        throw fail("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.");
      }
      cluster.status = "INACTIVE";
      return { cluster: describeCluster(cluster) };
    },

    RegisterTaskDefinition: (input) => registerTaskDefinition(input),
    DescribeTaskDefinition: (input) => {
      const td = taskDefinitionOf(input.taskDefinition);
      if (!td) throw client("Unable to describe task definition.");
      return { taskDefinition: describeTd(td), ...(input.include?.includes("TAGS") ? { tags: tagList(td.tags) } : {}) };
    },
    ListTaskDefinitions: (input) => {
      const status = input.status ?? "ACTIVE";
      const all = [...state.taskDefinitions.values()]
        .filter((t) => t.status === status && (!input.familyPrefix || t.family === input.familyPrefix))
        .sort((a, b) => (a.family === b.family ? a.revision - b.revision : a.family < b.family ? -1 : 1));
      if (input.sort === "DESC") all.reverse();
      const start = input.nextToken ? Number(Buffer.from(input.nextToken, "base64").toString()) : 0;
      const size = input.maxResults ?? 100;
      if (size < 1 || size > 100) throw invalid("maxResults must be between 1 and 100");
      const end = start + size;
      return { taskDefinitionArns: all.slice(start, end).map((t) => t.arn), ...(end < all.length ? { nextToken: Buffer.from(String(end)).toString("base64") } : {}) };
    },
    DeregisterTaskDefinition: (input) => {
      const td = input.taskDefinition?.includes(":") ? taskDefinitionOf(input.taskDefinition) : undefined;
      if (!td) throw client("The specified task definition does not exist.");
      if (td.status === "ACTIVE") td.status = "INACTIVE";
      return { taskDefinition: describeTd(td) };
    },
    DeleteTaskDefinitions: (input) => {
      const arns: string[] = input.taskDefinitions ?? [];
      if (!arns.length || arns.length > 10) throw invalid("taskDefinitions must hold 1 to 10 task definitions");
      const deleted: any[] = [];
      const failures: any[] = [];
      for (const a of arns) {
        const td = taskDefinitionOf(a);
        if (!td) failures.push({ arn: a, reason: "The specified task definition does not exist." });
        else if (td.status === "ACTIVE") failures.push({ arn: a, reason: "The specified task definition is still in ACTIVE status. Please deregister the target and try again." });
        else {
          td.status = "DELETE_IN_PROGRESS";
          deleted.push(describeTd(td));
          state.taskDefinitions.delete(td.arn);
        }
      }
      return { taskDefinitions: deleted, failures };
    },

    CreateService: (input) => {
      settle();
      return createService(input);
    },
    DescribeServices: (input) => {
      settle();
      const cluster = clusterOf(input.cluster);
      const names: string[] = input.services ?? [];
      if (!names.length || names.length > 10) throw invalid("services must hold 1 to 10 services");
      const services: any[] = [];
      const failures: any[] = [];
      for (const n of names) {
        const svc = state.services.get(serviceKey(cluster, n));
        if (svc) services.push(describeService(svc, input.include));
        else failures.push({ arn: n.startsWith("arn:") ? n : arn(`service/${cluster.clusterName}/${n}`), reason: "MISSING" });
      }
      return { services, failures };
    },
    UpdateService: (input) => {
      settle();
      return updateService(input);
    },
    DeleteService: (input) => {
      settle();
      return deleteService(input);
    },

    ListTasks: (input) => {
      settle();
      const cluster = clusterOf(input.cluster);
      const desired = input.desiredStatus ?? "RUNNING";
      const arns = [...state.tasks.values()]
        .filter(
          (t) =>
            t.clusterArn === cluster.clusterArn &&
            t.desiredStatus === desired &&
            (!input.serviceName || t.serviceName === input.serviceName) &&
            (!input.family || t.group === `family:${input.family}` || taskDefinitionOf(t.taskDefinitionArn)?.family === input.family) &&
            (!input.startedBy || t.startedBy === input.startedBy),
        )
        .map((t) => t.taskArn);
      const size = input.maxResults ?? 100;
      if (size < 1 || size > 100) throw invalid("maxResults must be between 1 and 100");
      return { taskArns: arns.slice(0, size) };
    },
    DescribeTasks: (input) => {
      settle();
      const cluster = clusterOf(input.cluster);
      const ids: string[] = input.tasks ?? [];
      if (!ids.length || ids.length > 100) throw invalid("tasks must hold 1 to 100 tasks");
      const tasks: any[] = [];
      const failures: any[] = [];
      for (const id of ids) {
        const t = [...state.tasks.values()].find((x) => x.clusterArn === cluster.clusterArn && (x.taskArn === id || x.taskArn.endsWith(`/${id}`)));
        if (t) tasks.push(describeTask(t));
        else failures.push({ arn: id, reason: "MISSING" });
      }
      return { tasks, failures };
    },
    // ECS Exec: the task must run, belong to a service with execute-command enabled, and have the container.
    ExecuteCommand: (input) => {
      settle();
      const cluster = clusterOf(input.cluster);
      const t = [...state.tasks.values()].find((x) => x.clusterArn === cluster.clusterArn && (x.taskArn === input.task || x.taskArn.endsWith(`/${input.task}`)));
      if (!t || t.lastStatus !== "RUNNING") throw invalid("The specified task is not running.");
      if (input.interactive !== true) throw invalid("Interactive is the only mode supported currently.");
      if (typeof input.command !== "string" || !input.command) throw invalid("command is required");
      const svc = [...state.services.values()].find((x) => x.clusterArn === cluster.clusterArn && x.serviceName === t.serviceName);
      if (!svc?.enableExecuteCommand) throw invalid("The execute command failed because execute command was not enabled when the task was run or the execute command agent isn't running. Wait and try again or run a new task with execute command enabled and try again.");
      const container = input.container ? t.containers.find((c) => c.name === input.container) : t.containers.length === 1 ? t.containers[0] : undefined;
      if (!container) throw invalid(input.container ? `The container ${input.container} does not exist in the task.` : "The task has more than one container: specify one.");
      const sessionId = `ecs-execute-command-${randomUUID().slice(0, 17)}`;
      return {
        clusterArn: cluster.clusterArn,
        taskArn: t.taskArn,
        containerName: container.name,
        containerArn: arn(`container/${randomUUID()}`),
        interactive: true,
        session: { sessionId, streamUrl: `wss://ssmmessages.${cloud.region}.amazonaws.com/v1/data-channel/${sessionId}?role=publish_subscribe`, tokenValue: `fake-token-${sessionId}` },
      };
    },
    RunTask: (input) => {
      settle();
      const cluster = clusterOf(input.cluster);
      const td = taskDefinitionOf(input.taskDefinition, true);
      if (!td) throw client("TaskDefinition not found.");
      if (td.body.networkMode === "awsvpc") checkNetwork(input.networkConfiguration);
      checkRole(td.body.taskRoleArn, "taskRoleArn");
      const count = input.count ?? 1;
      if (count < 1 || count > 10) throw invalid("count must be between 1 and 10");
      if (input.startedBy !== undefined && !/^[\w/-]{1,128}$/.test(input.startedBy)) throw invalid("startedBy: up to 128 letters, numbers, hyphens, forward slashes and underscores");
      if (input.overrides) {
        if (JSON.stringify(input.overrides).length > 8192) throw invalid("Container Overrides length must be at most 8192");
        for (const o of input.overrides.containerOverrides ?? []) {
          if (!td.body.containerDefinitions.some((c: any) => c.name === o.name)) throw invalid(`Override for container named ${o.name} is not a container in the TaskDefinition.`);
          if (o.command !== undefined && (!Array.isArray(o.command) || o.command.some((a: unknown) => typeof a !== "string"))) throw invalid("command must be a list of strings");
        }
      }
      const net = { awsvpcConfiguration: { assignPublicIp: "DISABLED", securityGroups: [], ...input.networkConfiguration.awsvpcConfiguration } };
      const failure = startFailure(td, net);
      const tasks: FakeTask[] = [];
      for (let i = 0; i < count; i++) {
        const task = newTask(cluster.clusterName, td, net, i, { startedBy: input.startedBy, since: cloud.elapsed(), ...(input.group ? { group: input.group } : {}) });
        attachEni(task, net.awsvpcConfiguration.assignPublicIp === "ENABLED");
        if (failure) stopTask(task, failure.stoppedReason, "TaskFailedToStart", undefined, failure.containerReason);
        tasks.push(task);
      }
      return { tasks: tasks.map(describeTask), failures: [] };
    },
    StopTask: (input) => {
      const cluster = clusterOf(input.cluster);
      const t = [...state.tasks.values()].find((x) => x.clusterArn === cluster.clusterArn && (x.taskArn === input.task || x.taskArn.endsWith(`/${input.task}`)));
      if (!t) throw invalid("The referenced task was not found.");
      stopTask(t, input.reason ?? "Task stopped by user", "UserInitiated");
      return { task: describeTask(t) };
    },

    TagResource: (input) => {
      const item = taggable(input.resourceArn);
      item.tags = { ...item.tags, ...validateTags(input.tags) };
      if (Object.keys(item.tags).length > 50) throw invalid("The maximum number of tags for a resource is 50");
      return {};
    },
    UntagResource: (input) => {
      const item = taggable(input.resourceArn);
      for (const k of input.tagKeys ?? []) delete item.tags[k];
      return {};
    },
    ListTagsForResource: (input) => ({ tags: tagList(taggable(input.resourceArn).tags) }),
  };

  const model: ServiceModel = { service: "ecs", client: ECSClient, handlers };
  const taggingSources: TagSource[] = [
    () => [...state.clusters.values()].filter((c) => c.status === "ACTIVE" || state.indexLagsDeletes).map((c) => ({ arn: c.clusterArn, tags: { ...c.tags } })),
    () => [...state.services.values()].filter((s) => s.status !== "INACTIVE" || state.indexLagsDeletes).map((s) => ({ arn: s.serviceArn, tags: { ...s.tags } })),
    () => [...state.taskDefinitions.values()].map((t) => ({ arn: t.arn, tags: { ...t.tags } })),
  ];
  return { ...model, model, state, taggingSources };
}

/** JSON with object keys sorted: ECS compares a replayed request's settings by value, not by the order of their keys. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v));
}
