import {
  type CapacityProviderStrategyItem,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  type Task,
  waitUntilTasksStopped,
} from "@aws-sdk/client-ecs";
import { errorCode } from "../aws/errors.js";
import { describeTask, startOneOffTask, stopOneOffTask, TaskNotStarted } from "../resources/ecs-one-off-task.js";
import { ecs, ecsTagList } from "../resources/ecs-shared.js";
import { lastLogLines, taskIdOf } from "../resources/ecs-task-failures.js";
import { type ResourceContext, waiterOptions } from "../resources/types.js";

/**
 * The ECS live probe: a one-off Fargate task in the API's subnets and security groups that opens a TCP connection to
 * the database (`nc -zv -w 5 $DB_HOST $DB_PORT`, as the seed's check does). Its exit code comes from DescribeTasks
 * and its output from CloudWatch Logs; a task still going when the time budget runs out is stopped. The task
 * definition is registered for this run only, and deregistered and deleted afterwards.
 */
export const DEFAULT_PROBE_IMAGE = "public.ecr.aws/docker/library/busybox:stable";
export const PROBE_CONTAINER = "probe";
export const PROBE_STREAM_PREFIX = "db-probe";
/** Real-world seconds a probe may take: Fargate provisioning and the image pull take most of it. */
export const DEFAULT_PROBE_BUDGET_SECONDS = 300;
/** Lines of the probe's output read back (nc prints one or two). */
const OUTPUT_LINES = 20;
/** `nc -w`: how long the connection attempt waits. */
const CONNECT_TIMEOUT_SECONDS = 5;
/** ECS `startedBy` (≤ 36 characters): marks the task as ours in the console and in ListTasks. */
export const PROBE_STARTED_BY = "platform-troubleshoot";

export interface EcsProbeInput {
  cluster: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: "ENABLED" | "DISABLED";
  /** Copied from the service so the probe runs where its tasks do; FARGATE when the service has no strategy. */
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  /** Needed to pull from a private registry and to write to CloudWatch Logs. */
  executionRoleArn?: string;
  /** CloudWatch Logs group for the probe's output; without one only the exit code is known. */
  logGroup?: string;
  region: string;
  family: string;
  image: string;
  host: string;
  port: number;
  budgetSeconds: number;
  tags: Record<string, string>;
}

export type ProbeFailureKind = "refused" | "dropped" | "dns" | "image-pull" | "task-init" | "start" | "timeout" | "no-nc" | "other";

export interface ProbeOutcome {
  ok: boolean;
  evidence: string[];
  failure?: { kind: ProbeFailureKind; cause: string; fix: string };
}


async function registerProbe(ctx: ResourceContext, input: EcsProbeInput): Promise<string> {
  const out = await ecs(ctx).send(
    new RegisterTaskDefinitionCommand({
      family: input.family,
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: "256",
      memory: "512",
      ...(input.executionRoleArn ? { executionRoleArn: input.executionRoleArn } : {}),
      containerDefinitions: [
        {
          name: PROBE_CONTAINER,
          image: input.image,
          essential: true,
          entryPoint: ["sh", "-c"],
          command: [`nc -zv -w ${CONNECT_TIMEOUT_SECONDS} "$DB_HOST" "$DB_PORT"`],
          environment: [
            { name: "DB_HOST", value: input.host },
            { name: "DB_PORT", value: String(input.port) },
          ],
          ...(input.logGroup && input.executionRoleArn
            ? { logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": input.logGroup, "awslogs-region": input.region, "awslogs-stream-prefix": PROBE_STREAM_PREFIX } } }
            : {}),
        },
      ],
      tags: ecsTagList(input.tags),
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

/** Deregisters and deletes the probe's task definition; what fails is said in the evidence, not thrown. */
async function cleanUp(ctx: ResourceContext, taskDefinitionArn: string, evidence: string[]): Promise<void> {
  try {
    await ecs(ctx).send(new DeregisterTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
    const out = await ecs(ctx).send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [taskDefinitionArn] }));
    const failure = out.failures?.[0];
    if (failure) evidence.push(`the probe's task definition ${taskDefinitionArn} is deregistered but not deleted (${failure.reason ?? "no reason given"})`);
  } catch (err) {
    evidence.push(`could not remove the probe's task definition ${taskDefinitionArn} (${errorCode(err) ?? (err as Error).message}); deregister it by hand`);
  }
}

function startTask(ctx: ResourceContext, input: EcsProbeInput, taskDefinition: string): Promise<Task> {
  const { cluster, subnets, securityGroups, assignPublicIp, capacityProviderStrategy } = input;
  return startOneOffTask(ctx, { cluster, taskDefinition, subnets, securityGroups, assignPublicIp, capacityProviderStrategy, startedBy: PROBE_STARTED_BY });
}

export { describeTask };

/** Waits for the task to stop; past the budget it is stopped. True when it had to be stopped. */
async function waitOrStop(ctx: ResourceContext, input: EcsProbeInput, taskArn: string): Promise<boolean> {
  try {
    await waitUntilTasksStopped(waiterOptions(ctx, ecs(ctx), input.budgetSeconds), { cluster: input.cluster, tasks: [taskArn] });
    return false;
  } catch (err) {
    if ((err as Error)?.name !== "TimeoutError") throw err;
    await stopOneOffTask(ctx, input.cluster, taskArn, `platform troubleshoot: the probe ran past its ${input.budgetSeconds} s budget`);
    return true;
  }
}

/** What went wrong, from how the task ended and what nc printed (busybox and netcat-openbsd wordings). */
export function classifyProbe(task: Task | undefined, lines: string[], input: EcsProbeInput, stoppedByUs: boolean): ProbeOutcome["failure"] {
  const where = `${input.host}:${input.port}`;
  const output = lines.join("\n");
  const reason = `${task?.stoppedReason ?? ""} ${task?.containers?.[0]?.reason ?? ""}`;
  if (/CannotPullContainerError/i.test(reason)) {
    return {
      kind: "image-pull",
      cause: `the probe's image ${input.image} could not be pulled, so the probe could not run`,
      fix: "the API's subnets have no route to the registry: add a NAT gateway (network.natGateway) or VPC endpoints, or pass --probe-image with an image from your ECR that has nc, or use --probe local",
    };
  }
  if (/ResourceInitializationError/i.test(reason)) {
    return {
      kind: "task-init",
      cause: "the probe task could not initialise (registry authentication, secrets or the log group could not be reached)",
      fix: "the API's subnets need a route to AWS APIs (NAT gateway or VPC endpoints for ECR, Logs and Secrets Manager); see the stopped reason above",
    };
  }
  if (stoppedByUs) {
    const status = task?.lastStatus ?? "unknown";
    const started = status === "RUNNING" || status === "DEACTIVATING" || status === "STOPPING";
    return {
      kind: "timeout",
      cause: `the probe task did not finish within ${input.budgetSeconds} s (it was ${status}) and was stopped`,
      fix: started
        ? `nc did not return: packets to ${where} are probably dropped; check the security group and network ACL findings above`
        : "Fargate did not start it in time: check the subnets have free addresses and the image can be pulled, then run again (or raise --probe-timeout)",
    };
  }
  if (/refused/i.test(output)) {
    return { kind: "refused", cause: `${where} refused the connection: the host answered but nothing listens on port ${input.port}`, fix: "the database is stopped, rebooting or listens on another port: see the database check above" };
  }
  if (/timed out|timeout/i.test(output)) {
    return { kind: "dropped", cause: `the connection to ${where} timed out: packets are dropped on the way`, fix: "a security group, network ACL or route blocks the path: see the findings above" };
  }
  if (/bad address|can't resolve|could not resolve|not known|unknown host|NXDOMAIN/i.test(output)) {
    return { kind: "dns", cause: `${input.host} does not resolve inside the VPC`, fix: "turn on the VPC's DNS support and hostnames (platform up), and check the endpoint in the credentials secret" };
  }
  const exitCode = task?.containers?.[0]?.exitCode;
  if (exitCode === 127 || /not found/i.test(output)) {
    return { kind: "no-nc", cause: `the probe image ${input.image} has no nc`, fix: `use the default image (${DEFAULT_PROBE_IMAGE}) or one with nc` };
  }
  if (exitCode === undefined) {
    return { kind: "start", cause: `the probe task stopped before its container ran (${task?.stopCode ?? "no stop code"})`, fix: "see the stopped reason above" };
  }
  return { kind: "other", cause: `the probe exited with ${exitCode}`, fix: "see its output above" };
}

function taskEvidence(task: Task | undefined, stoppedByUs: boolean): string[] {
  if (!task) return ["the task is no longer known to ECS"];
  const container = task.containers?.[0];
  return [
    `task ${taskIdOf(task.taskArn ?? "")}: ${task.lastStatus ?? "?"}${task.stopCode ? `, stop code ${task.stopCode}` : ""}${stoppedByUs ? " (stopped by the probe: over its time budget)" : ""}`,
    ...(task.stoppedReason ? [`stopped reason: ${task.stoppedReason}`] : []),
    ...(container?.exitCode !== undefined ? [`exit code ${container.exitCode}`] : []),
    ...(container?.reason ? [`container reason: ${container.reason}`] : []),
  ];
}

export async function runEcsProbe(ctx: ResourceContext, input: EcsProbeInput): Promise<ProbeOutcome> {
  const evidence = [`probe task: ${input.image} running nc -zv -w ${CONNECT_TIMEOUT_SECONDS} ${input.host} ${input.port} in ${input.subnets.join(", ")} with ${input.securityGroups.join(", ")}`];
  const taskDefinition = await registerProbe(ctx, input);
  try {
    let task: Task;
    try {
      task = await startTask(ctx, input, taskDefinition);
    } catch (err) {
      if (!(err instanceof TaskNotStarted)) throw err;
      evidence.push((err as Error).message);
      return { ok: false, evidence, failure: { kind: "start", cause: "ECS did not start the probe task", fix: "see the RunTask failure above (capacity, subnets, or the cluster)" } };
    }
    const stoppedByUs = await waitOrStop(ctx, input, task.taskArn!);
    const final = await describeTask(ctx, input.cluster, task.taskArn!);
    const lines = input.logGroup && input.executionRoleArn ? await lastLogLines(ctx, input.logGroup, `${PROBE_STREAM_PREFIX}/${PROBE_CONTAINER}/${taskIdOf(task.taskArn!)}`, OUTPUT_LINES) : [];
    evidence.push(...taskEvidence(final, stoppedByUs));
    if (input.logGroup && input.executionRoleArn) evidence.push(...(lines.length ? lines.map((l) => `output: ${l}`) : [`no output in ${input.logGroup}`]));
    else evidence.push("output not captured: the API's task definition has no awslogs log group or execution role");
    const exitCode = final?.containers?.[0]?.exitCode;
    if (!stoppedByUs && exitCode === 0) return { ok: true, evidence };
    return { ok: false, evidence, failure: classifyProbe(final, lines, input, stoppedByUs) };
  } finally {
    await cleanUp(ctx, taskDefinition, evidence);
  }
}
