import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  type Service,
  UpdateServiceCommand,
  type UpdateServiceCommandInput,
  waitUntilServicesInactive,
  waitUntilServicesStable,
} from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand, type TargetHealthDescription } from "@aws-sdk/client-elastic-load-balancing-v2";
import { hasCode, orUndefined } from "../aws/errors.js";
import { TAG_LOGICAL_ID } from "../aws/tags.js";
import { AwsFailure } from "../errors.js";
import { elbv2 } from "./elbv2-shared.js";
import { applyEcsTags, assertOnlyMissing, ecs, ecsTagList, ecsTagRecord } from "./ecs-shared.js";
import { unpushedImages } from "./ecs-images.js";
import { describeStoppedTasks, recentlyStoppedTasks } from "./ecs-task-failures.js";
import { retryWhileIamPropagates } from "./iam-propagation.js";
import { single } from "./find.js";
import { batchedRead } from "./read-batch.js";
import { retryUntil, WaitTimeout, waitFor } from "../run/wait-for.js";
import { type Change, compareFields, compareTags, waiterOptions, type ResourceContext, type ResourceType, knownKey, readAfterCreate } from "./types.js";
import { deadlineAfter, retryWhile } from "./retry.js";

export interface LoadBalancerBinding {
  targetGroupArn: string;
  containerName: string;
  containerPort: number;
}

export interface EcsServiceSpec {
  /** The cluster's name. */
  cluster: string;
  name: string;
  /** A revision's ARN: a new one rolls the service to it. */
  taskDefinitionArn: string;
  desiredCount: number;
  /**
   * A blue-green slot that does not serve production: it runs no tasks, and the revision it names is left as it is
   * (the previous release, until deploy rolls the slot to the next one); only its count is kept at 0.
   */
  idle?: boolean;
  subnetIds: string[];
  securityGroupIds: string[];
  /** True only without a NAT gateway: tasks in public subnets then need a public IP to reach ECR, Secrets Manager and CloudWatch Logs. */
  assignPublicIp: boolean;
  loadBalancers: LoadBalancerBinding[];
  /** Seconds the load balancer's health checks are ignored after a task starts (with a load balancer only). */
  healthCheckGracePeriodSeconds?: number;
  enableExecuteCommand: boolean;
  tags: Record<string, string>;
}

export interface DeploymentSettings {
  minimumHealthyPercent: number;
  maximumPercent: number;
  circuitBreaker: { enable: boolean; rollback: boolean };
}

export interface EcsServiceAttrs {
  cluster: string;
  name: string;
  arn: string;
  launchType: string;
  taskDefinitionArn: string;
  desiredCount: number;
  /** Sorted. */
  subnetIds: string[];
  /** Sorted. */
  securityGroupIds: string[];
  assignPublicIp: boolean;
  /** Sorted by target group. */
  loadBalancers: LoadBalancerBinding[];
  healthCheckGracePeriodSeconds?: number;
  enableExecuteCommand: boolean;
  deployment: DeploymentSettings;
  tags: Record<string, string>;
  /** Scaled to 0 because its images are not pushed yet (a new environment's empty repositories): the images. */
  waitingForImages?: string[];
}

const KIND = "ECS service";
/** Rolling deployments that never drop below the desired count, and roll back by themselves when new tasks keep failing. */
export const DEPLOYMENT: DeploymentSettings = { minimumHealthyPercent: 100, maximumPercent: 200, circuitBreaker: { enable: true, rollback: true } };
const LAUNCH_TYPE = "FARGATE";
/** How long (real-world seconds) up waits for a deployment: new tasks pull, start, pass health checks, old ones drain. */
export const STEADY_STATE_BUDGET_SECONDS = 15 * 60;
/** Each waitUntilServicesStable round; between rounds the rollout state is checked, so a failed deployment is reported early. */
const WAITER_ROUND_SECONDS = 60;
const INACTIVE_BUDGET_SECONDS = 10 * 60;
/** A service of the same name still DRAINING makes CreateService fail ("Creation of service was not idempotent"). */
const DRAINING_BUDGET_SECONDS = 10 * 60;
const GONE = ["ServiceNotFoundException", "ServiceNotActiveException", "ClusterNotFoundException"];

const sorted = (xs: string[]) => [...xs].sort();
const sortBindings = (xs: LoadBalancerBinding[]) => [...xs].sort((a, b) => (a.targetGroupArn < b.targetGroupArn ? -1 : a.targetGroupArn > b.targetGroupArn ? 1 : 0));
const clusterName = (arn: string | undefined) => arn?.split("/").at(-1) ?? "";

/** The service as DescribeServices has it, whatever its status; undefined when ECS does not know it (or the cluster). */
async function describeService(ctx: ResourceContext, cluster: string, name: string): Promise<Service | undefined> {
  const out = await orUndefined(ecs(ctx).send(new DescribeServicesCommand({ cluster, services: [name], include: ["TAGS"] })));
  assertOnlyMissing(out?.failures, `${KIND} ${name}`);
  return single(out?.services, `${KIND}s named ${name} in ${cluster}`);
}

/** DescribeServices takes up to 10 services of one cluster (API reference). */
export const SERVICES_PER_CALL = 10;

/**
 * Services read together: services of one cluster asked for within a few milliseconds of each other (the observe sweep,
 * status's details) share one DescribeServices. A service ECS reports MISSING (or whose cluster is gone) is not found;
 * any other failure fails that service's read alone.
 */
const describeServiceShared = batchedRead<{ cluster: string; name: string }, Service>({
  size: SERVICES_PER_CALL,
  group: (s) => s.cluster,
  id: (s) => `${s.cluster}/${s.name}`,
  async read(ctx, services) {
    const cluster = services[0]!.cluster;
    const out = await orUndefined(ecs(ctx).send(new DescribeServicesCommand({ cluster, services: services.map((s) => s.name), include: ["TAGS"] })));
    const found = new Map<string, Service | Error>();
    for (const s of out?.services ?? []) found.set(`${cluster}/${s.serviceName}`, s);
    for (const f of out?.failures ?? []) {
      const name = f.arn?.split("/").at(-1);
      if (name && f.reason !== "MISSING") found.set(`${cluster}/${name}`, new Error(`describing ${KIND} ${name}: ${f.arn}: ${f.reason}${f.detail ? ` (${f.detail})` : ""}`));
    }
    return found;
  },
});

function toAttrs(s: Service): EcsServiceAttrs {
  const net = s.networkConfiguration?.awsvpcConfiguration;
  const dc = s.deploymentConfiguration;
  return {
    cluster: clusterName(s.clusterArn),
    name: s.serviceName!,
    arn: s.serviceArn!,
    launchType: s.launchType ?? "",
    taskDefinitionArn: s.taskDefinition!,
    desiredCount: s.desiredCount ?? 0,
    subnetIds: sorted(net?.subnets ?? []),
    securityGroupIds: sorted(net?.securityGroups ?? []),
    assignPublicIp: net?.assignPublicIp === "ENABLED",
    loadBalancers: sortBindings((s.loadBalancers ?? []).map((l) => ({ targetGroupArn: l.targetGroupArn!, containerName: l.containerName!, containerPort: l.containerPort! }))),
    ...(s.healthCheckGracePeriodSeconds !== undefined ? { healthCheckGracePeriodSeconds: s.healthCheckGracePeriodSeconds } : {}),
    enableExecuteCommand: s.enableExecuteCommand ?? false,
    deployment: {
      minimumHealthyPercent: dc?.minimumHealthyPercent ?? 100,
      maximumPercent: dc?.maximumPercent ?? 200,
      circuitBreaker: { enable: dc?.deploymentCircuitBreaker?.enable ?? false, rollback: dc?.deploymentCircuitBreaker?.rollback ?? false },
    },
    tags: ecsTagRecord(s.tags),
  };
}

/**
 * The ACTIVE service; a DRAINING or INACTIVE one (deleted) is gone. A service at 0 tasks whose repositories are still
 * empty says so (waitingForImages), so that plan does not propose scaling it up before there is anything to run.
 */
export async function findService(ctx: ResourceContext, cluster: string, name: string): Promise<EcsServiceAttrs | undefined> {
  const s = await describeServiceShared(ctx, { cluster, name });
  if (!s || s.status !== "ACTIVE") return undefined;
  const attrs = toAttrs(s);
  if (attrs.desiredCount > 0) return attrs;
  // Best effort: a finder must not fail (plan, status, down) because ECR could not be read.
  const unpushed = await unpushedImages(ctx, attrs.taskDefinitionArn).catch(() => []);
  const waiting = unpushed.filter((u) => u.state === "empty").map((u) => u.image);
  return waiting.length ? { ...attrs, waitingForImages: waiting } : attrs;
}

async function readBack(ctx: ResourceContext, cluster: string, name: string): Promise<EcsServiceAttrs> {
  return readAfterCreate(ctx, `${KIND} ${name}`, () => findService(ctx, cluster, name));
}

function networkConfiguration(spec: EcsServiceSpec) {
  return {
    awsvpcConfiguration: { subnets: spec.subnetIds, securityGroups: spec.securityGroupIds, assignPublicIp: spec.assignPublicIp ? ("ENABLED" as const) : ("DISABLED" as const) },
  };
}

const deploymentConfiguration = () => ({
  deploymentCircuitBreaker: { ...DEPLOYMENT.circuitBreaker },
  minimumHealthyPercent: DEPLOYMENT.minimumHealthyPercent,
  maximumPercent: DEPLOYMENT.maximumPercent,
});

function desired(spec: EcsServiceSpec) {
  return {
    ...spec,
    launchType: LAUNCH_TYPE,
    subnetIds: sorted(spec.subnetIds),
    securityGroupIds: sorted(spec.securityGroupIds),
    loadBalancers: sortBindings(spec.loadBalancers),
    deployment: DEPLOYMENT,
  };
}

function diff(spec: EcsServiceSpec, actual: EcsServiceAttrs): Change[] {
  const placement = spec.assignPublicIp
    ? "no NAT gateway: tasks run in the public subnets with public IPs to reach ECR, Secrets Manager and CloudWatch Logs"
    : "tasks run in the private subnets without public IPs";
  // Nothing to run yet (empty repositories): the count waits for the first push instead of showing as a change each run.
  const waiting = Boolean(actual.waitingForImages?.length) && spec.taskDefinitionArn === actual.taskDefinitionArn;
  return [
    ...compareFields(desired(spec), actual, [
      { field: "cluster", action: "replace" },
      { field: "name", action: "replace" },
      { field: "launchType", action: "replace" },
      ...(spec.idle ? [] : [{ field: "taskDefinitionArn" as const, note: "rolling deployment; the circuit breaker rolls back if the new tasks fail" }]),
      ...(waiting ? [] : [{ field: "desiredCount" as const }]),
      { field: "subnetIds", note: placement },
      { field: "securityGroupIds" },
      { field: "assignPublicIp", note: placement },
      { field: "loadBalancers" },
      { field: "healthCheckGracePeriodSeconds" },
      { field: "enableExecuteCommand", note: "tasks are replaced so the setting applies to them" },
      { field: "deployment" },
    ]),
    ...compareTags(spec.tags, actual.tags),
  ];
}

// ---- waiting --------------------------------------------------------------------------------------------------------

export interface SteadyStateTarget {
  cluster: string;
  service: string;
  logicalId: string;
  /** The revision the deployment rolls out; a service that settles on another was rolled back. */
  taskDefinitionArn: string;
  desiredCount: number;
  targetGroupArns: string[];
}

/** Healthy targets in every target group, at least one per desired task; undefined when healthy, else what is wrong. */
async function unhealthyTargets(ctx: ResourceContext, target: SteadyStateTarget): Promise<string | undefined> {
  if (target.desiredCount === 0) return undefined;
  for (const arn of target.targetGroupArns) {
    const out = await elbv2(ctx).send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    const targets: TargetHealthDescription[] = out.TargetHealthDescriptions ?? [];
    const healthy = targets.filter((t) => t.TargetHealth?.State === "healthy").length;
    if (healthy >= target.desiredCount && !targets.some((t) => t.TargetHealth?.State === "initial")) continue;
    const bad = targets.filter((t) => t.TargetHealth?.State !== "healthy" && t.TargetHealth?.State !== "draining");
    const why = bad.map((t) => `${t.Target?.Id}:${t.Target?.Port} ${t.TargetHealth?.State}${t.TargetHealth?.Reason ? ` (${t.TargetHealth.Reason}${t.TargetHealth.Description ? `: ${t.TargetHealth.Description}` : ""})` : ""}`);
    return `${healthy}/${target.desiredCount} targets healthy in ${arn.split(":").at(-1)}${why.length ? `: ${why.join(", ")}` : ""}`;
  }
  return undefined;
}

/** What went wrong, with the stopped tasks' reasons and last log lines and ECS's latest service events. */
async function deploymentFailure(ctx: ResourceContext, target: SteadyStateTarget, code: string, headline: string, hint: string): Promise<AwsFailure> {
  const parts = [headline];
  try {
    const stopped = await recentlyStoppedTasks(ctx, target.cluster, { serviceName: target.service });
    if (stopped.length) parts.push(describeStoppedTasks(stopped));
    const events = (await describeService(ctx, target.cluster, target.service))?.events ?? [];
    if (events.length) parts.push(`latest service events: ${events.slice(0, 3).map((e) => JSON.stringify(e.message ?? "")).join(" / ")}`);
  } catch (err) {
    parts.push(`(could not read the stopped tasks: ${(err as Error).name}: ${(err as Error).message})`);
  }
  return new AwsFailure(`waiting for ${KIND} (${target.service}) to reach a steady state`, code, parts.join(" | "), hint);
}

const FAILED_HINT = "fix the cause above (image tag, secrets, the app port and health check path, the task's permissions), then run up again";

/**
 * Waits until the service runs `desiredCount` tasks of `taskDefinitionArn` in a single deployment and the load balancer
 * finds them healthy, for at most 15 minutes (real time). waitUntilServicesStable does the polling in rounds; between
 * rounds a FAILED rollout or a rollback by the circuit breaker ends the wait at once. Failures come back with the
 * stopped tasks' reasons and last log lines instead of a bare timeout.
 */
export async function waitForSteadyState(ctx: ResourceContext, target: SteadyStateTarget): Promise<void> {
  const client = ecs(ctx);
  const started = Date.now();
  const what = `${KIND} (${target.service}) to reach a steady state`;
  /** One round: the SDK waiter for up to a minute, then the rollout read; undefined when steady and healthy, else what is still wrong. */
  const round = async (): Promise<string | undefined> => {
    const remaining = STEADY_STATE_BUDGET_SECONDS - (Date.now() - started) / 1000 / ctx.waits.scale;
    let stable = false;
    try {
      await waitUntilServicesStable(waiterOptions(ctx, client, Math.max(0, Math.min(WAITER_ROUND_SECONDS, remaining))), { cluster: target.cluster, services: [target.service] });
      stable = true;
    } catch (err) {
      if ((err as Error).name === "AbortError") throw err;
      // TimeoutError: not stable yet. Any other outcome (DRAINING, INACTIVE, MISSING) is read below.
    }
    const service = await describeService(ctx, target.cluster, target.service);
    if (!service || service.status !== "ACTIVE") {
      throw new AwsFailure(`waiting for ${what}`, "ServiceNotActive", `the service is ${service?.status ?? "gone"}`, "something deleted it while platform waited; run up again");
    }
    const primary = service.deployments?.find((d) => d.status === "PRIMARY");
    if (primary?.rolloutState === "FAILED") {
      throw await deploymentFailure(ctx, target, "ServiceDeploymentFailed", `deployment failed: ${primary.rolloutStateReason ?? "tasks failed to start"}`, FAILED_HINT);
    }
    if (service.taskDefinition !== target.taskDefinitionArn) {
      throw await deploymentFailure(
        ctx,
        target,
        "ServiceDeploymentRolledBack",
        `the deployment circuit breaker rolled back to ${service.taskDefinition?.split("/").at(-1)} because the new tasks kept failing`,
        `${FAILED_HINT}; the previous revision keeps serving meanwhile`,
      );
    }
    if (!stable) return `${service.runningCount ?? 0}/${service.desiredCount ?? 0} tasks running, ${service.deployments?.length ?? 0} deployments`;
    const problem = await unhealthyTargets(ctx, target);
    return problem && `waiting for health checks: ${problem}`;
  };
  let lastProblem = "";
  try {
    await waitFor({
      what,
      refresh: round,
      done: (problem) => problem === undefined,
      budgetSeconds: STEADY_STATE_BUDGET_SECONDS,
      waits: ctx.waits,
      signal: ctx.signal,
      describe: (problem) => problem ?? "",
      onProgress: (problem) => {
        lastProblem = (problem ?? "").replace(/^waiting for health checks: /, "");
        ctx.note(target.logicalId, problem ?? "");
      },
    });
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    throw await deploymentFailure(ctx, target, "ServiceNotStable", `not steady after ${STEADY_STATE_BUDGET_SECONDS / 60} minutes${lastProblem ? `: ${lastProblem}` : ""}`, FAILED_HINT);
  }
}

/** Until DescribeServices says INACTIVE, or no longer knows it. */
async function waitForInactive(ctx: ResourceContext, cluster: string, name: string): Promise<void> {
  try {
    await waitUntilServicesInactive(waiterOptions(ctx, ecs(ctx), INACTIVE_BUDGET_SECONDS), { cluster, services: [name] });
  } catch (err) {
    if ((err as Error).name === "TimeoutError" || (err as Error).name === "AbortError") throw err;
    // The waiter's only failure state is MISSING: the service is already forgotten, which is gone too.
  }
}

// ---- actions --------------------------------------------------------------------------------------------------------

/**
 * How many tasks the service can run now: the desired count, or 0 while its repositories are still empty (a new
 * environment: `up` made them, CI has not pushed yet). ECS is never asked to run tasks of an image that is not in ECR:
 * a tag missing from a repository that has images is an error, and so is an update of a service that runs tasks while
 * its repository is empty (its new tasks could not pull; the running ones are left alone).
 */
async function runnableCount(ctx: ResourceContext, spec: EcsServiceSpec, logicalId: string, action: string, running = 0): Promise<number> {
  if (spec.desiredCount === 0) return 0;
  const unpushed = await unpushedImages(ctx, spec.taskDefinitionArn);
  const missing = unpushed.filter((u) => u.state === "missing" || running > 0);
  if (missing.length) {
    throw new AwsFailure(
      `${action} ${KIND} (${spec.name})`,
      "ImageNotFound",
      `${missing.map((m) => m.image).join(", ")} ${missing.length > 1 ? "are" : "is"} not in ECR${running > 0 ? `; the service's ${running} running task(s) are left as they are` : ""}`,
      `push it (docker push ${missing[0]!.image}) or pass --image with a tag that exists, then run up again`,
    );
  }
  if (!unpushed.length) return spec.desiredCount;
  ctx.note(logicalId, `no image pushed to ${unpushed.map((u) => u.repository).join(", ")} yet: the service runs 0 tasks until ${unpushed.map((u) => u.image).join(", ")} is pushed and deployed (the commands follow at the end)`);
  return 0;
}

const steadyTarget = (spec: EcsServiceSpec, logicalId: string): SteadyStateTarget => ({
  cluster: spec.cluster,
  service: spec.name,
  logicalId,
  taskDefinitionArn: spec.taskDefinitionArn,
  desiredCount: spec.desiredCount,
  targetGroupArns: spec.loadBalancers.map((l) => l.targetGroupArn),
});

/**
 * CreateService, retried while a previous service of the same name is still DRAINING (ECS then answers
 * InvalidParameterException "Creation of service was not idempotent"; decided here by the old service's status, not the
 * message) and while the task's roles are still propagating.
 */
async function createService(ctx: ResourceContext, spec: EcsServiceSpec, logicalId: string): Promise<void> {
  const input = {
    cluster: spec.cluster,
    serviceName: spec.name,
    taskDefinition: spec.taskDefinitionArn,
    desiredCount: spec.desiredCount,
    launchType: LAUNCH_TYPE as "FARGATE",
    networkConfiguration: networkConfiguration(spec),
    ...(spec.loadBalancers.length ? { loadBalancers: spec.loadBalancers } : {}),
    ...(spec.healthCheckGracePeriodSeconds !== undefined && spec.loadBalancers.length ? { healthCheckGracePeriodSeconds: spec.healthCheckGracePeriodSeconds } : {}),
    deploymentConfiguration: deploymentConfiguration(),
    deploymentController: { type: "ECS" as const },
    propagateTags: "SERVICE" as const,
    enableECSManagedTags: true,
    enableExecuteCommand: spec.enableExecuteCommand,
    tags: ecsTagList(spec.tags),
  };
  await retryUntil({
    what: `a previous ${KIND} named ${spec.name} to finish draining`,
    attempt: () => retryWhileIamPropagates(ctx, () => ecs(ctx).send(new CreateServiceCommand(input))),
    pending: async (err) =>
      hasCode(err, "InvalidParameterException") && (await describeService(ctx, spec.cluster, spec.name))?.status === "DRAINING" ? "the previous service of this name is still draining" : undefined,
    budgetSeconds: DRAINING_BUDGET_SECONDS,
    waits: ctx.waits,
    signal: ctx.signal,
    minAttempts: 3,
    onRetry: () => ctx.note(logicalId, "the previous service of this name is still draining; waiting"),
  });
}

async function applyChanges(ctx: ResourceContext, spec: EcsServiceSpec, actual: EcsServiceAttrs, changes: Change[], logicalId: string): Promise<EcsServiceAttrs> {
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  const input: UpdateServiceCommandInput = { cluster: actual.cluster, service: actual.name };
  // An idle slot keeps the revision it names: the wait is for that revision at 0 tasks.
  let target = spec.idle ? { ...spec, taskDefinitionArn: actual.taskDefinitionArn } : spec;
  // Every UpdateService may start tasks (a new revision, a count, or a new deployment for network, load balancer or
  // exec settings): the count is what the images allow, 0 while nothing is pushed (find then reports waitingForImages).
  if ([...fields].some((f) => f !== "tags")) target = { ...target, desiredCount: await runnableCount(ctx, spec, logicalId, "updating", actual.desiredCount) };
  if (fields.has("taskDefinitionArn")) input.taskDefinition = spec.taskDefinitionArn;
  if (target.desiredCount !== actual.desiredCount) input.desiredCount = target.desiredCount;
  if (["subnetIds", "securityGroupIds", "assignPublicIp"].some((f) => fields.has(f))) input.networkConfiguration = networkConfiguration(spec);
  if (fields.has("loadBalancers")) input.loadBalancers = spec.loadBalancers;
  if (fields.has("healthCheckGracePeriodSeconds")) input.healthCheckGracePeriodSeconds = spec.healthCheckGracePeriodSeconds;
  if (fields.has("deployment")) input.deploymentConfiguration = deploymentConfiguration();
  if (fields.has("enableExecuteCommand")) {
    input.enableExecuteCommand = spec.enableExecuteCommand;
    // Running tasks keep the setting they started with.
    input.forceNewDeployment = true;
  }
  if (Object.keys(input).length > 2) {
    await retryWhileIamPropagates(ctx, () => ecs(ctx).send(new UpdateServiceCommand(input)));
    await waitForSteadyState(ctx, steadyTarget(target, logicalId));
  }
  if (fields.has("tags")) await applyEcsTags(ctx, actual.arn, spec.tags, actual.tags);
  return readBack(ctx, actual.cluster, actual.name);
}

export const ecsService: ResourceType<EcsServiceSpec, EcsServiceAttrs> = {
  type: "ecs:service",

  // Cluster and name are the key: the recorded ones, else the ones create would use.
  async find(ctx, { recorded, wanted }) {
    const cluster = knownKey(recorded?.cluster, wanted?.cluster);
    const name = knownKey(recorded?.name, wanted?.name);
    return cluster && name ? findService(ctx, cluster, name) : undefined;
  },

  diff,

  async create(ctx, spec, { logicalId }) {
    const now = { ...spec, desiredCount: await runnableCount(ctx, spec, logicalId, "creating") };
    await createService(ctx, now, logicalId);
    await waitForSteadyState(ctx, steadyTarget(now, logicalId));
    return readBack(ctx, spec.cluster, spec.name);
  },

  update: (ctx, spec, actual, changes) => applyChanges(ctx, spec, actual, changes, actual.tags[TAG_LOGICAL_ID] ?? actual.name),

  // Scale to zero (tasks stop draining from the load balancer), delete (force: whatever is left), wait until INACTIVE,
  // so the cluster, target groups and security groups behind it can go next.
  async destroy(ctx, actual) {
    const { cluster, name } = actual;
    try {
      await ecs(ctx).send(new UpdateServiceCommand({ cluster, service: name, desiredCount: 0 }));
      await ecs(ctx).send(new DeleteServiceCommand({ cluster, service: name, force: true }));
    } catch (err) {
      if (!hasCode(err, ...GONE)) throw err;
      // Not found (nor its cluster): nothing to wait for. Not active: deleted already, perhaps still draining.
      if (!hasCode(err, "ServiceNotActiveException")) return;
    }
    await waitForInactive(ctx, cluster, name);
  },

  physicalId: (a) => a.name,

  // For status: task counts, the rollout, and what the load balancer thinks of the tasks.
  // Counts and rollout from a DescribeServices shared with the other services' details. Target health is read unless the
  // service neither has nor wants tasks (scaled to 0, waiting for images, an idle slot): it then has no targets to report.
  async details(ctx, actual) {
    const s = await describeServiceShared(ctx, { cluster: actual.cluster, name: actual.name });
    if (!s) return undefined;
    if (s.status !== "ACTIVE") return s.status;
    const parts = [`${s.desiredCount ?? 0} desired, ${s.runningCount ?? 0} running, ${s.pendingCount ?? 0} pending`, rolloutSummary(s)];
    const hasOrWantsTasks = (s.desiredCount ?? 0) + (s.runningCount ?? 0) + (s.pendingCount ?? 0) > 0;
    if (hasOrWantsTasks) parts.push(...(await Promise.all(actual.loadBalancers.map((l) => targetSummary(ctx, l.targetGroupArn)))));
    if (actual.waitingForImages?.length) parts.push(`waiting for ${actual.waitingForImages.join(", ")} to be pushed`);
    return parts.join("; ");
  },
};

const revisionOf = (taskDefinitionArn: string | undefined) => taskDefinitionArn?.split("/").at(-1) ?? "?";

/** "deployment COMPLETED (family:3)", or while rolling: "deployment IN_PROGRESS (family:4, 1 running), replacing family:3 (2 running)". */
function rolloutSummary(s: Service): string {
  const deployments = s.deployments ?? [];
  const primary = deployments.find((d) => d.status === "PRIMARY");
  if (!primary) return "no deployment";
  const state = primary.rolloutState ?? "?";
  const others = deployments.filter((d) => d !== primary);
  const detail = state === "COMPLETED" && !others.length ? revisionOf(primary.taskDefinition) : `${revisionOf(primary.taskDefinition)}, ${primary.runningCount ?? 0} running`;
  const reason = state !== "COMPLETED" && primary.rolloutStateReason ? `: ${primary.rolloutStateReason}` : "";
  const replacing = others.length ? `, replacing ${others.map((d) => `${revisionOf(d.taskDefinition)} (${d.runningCount ?? 0} running)`).join(", ")}` : "";
  return `deployment ${state} (${detail})${reason}${replacing}`;
}

/** "targets 2/2 healthy", or "targets 1/2 healthy (1 unhealthy)" for one target group. */
async function targetSummary(ctx: ResourceContext, targetGroupArn: string): Promise<string> {
  const out = await elbv2(ctx).send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  const targets = out.TargetHealthDescriptions ?? [];
  const byState = new Map<string, number>();
  for (const t of targets) byState.set(t.TargetHealth?.State ?? "unknown", (byState.get(t.TargetHealth?.State ?? "unknown") ?? 0) + 1);
  const healthy = byState.get("healthy") ?? 0;
  byState.delete("healthy");
  const others = [...byState].map(([state, n]) => `${n} ${state}`).join(", ");
  return `targets ${healthy}/${targets.length} healthy${others ? ` (${others})` : ""}`;
}
