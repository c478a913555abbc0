import {
  type CapacityProviderStrategyItem,
  DescribeTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
  type TaskOverride,
} from "@aws-sdk/client-ecs";
import { hasCode, orUndefined } from "../aws/errors.js";
import { ecs } from "./ecs-shared.js";
import type { ResourceContext } from "./types.js";

/**
 * One-off Fargate tasks (not part of a service): started with RunTask, watched with DescribeTasks, stopped with
 * StopTask. Shared by `platform run` and the troubleshoot probe.
 */
export interface OneOffTaskInput {
  cluster: string;
  /** A family, family:revision or ARN. */
  taskDefinition: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: "ENABLED" | "DISABLED";
  /** Copied from a service so the task runs where its tasks do; FARGATE when absent. */
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  /** ECS startedBy (≤ 128 letters, digits, - / _): marks the task as ours in the console and in ListTasks. */
  startedBy: string;
  overrides?: TaskOverride;
}

/** RunTask answered without a task (capacity, an unknown subnet, ...): the reason ECS gave. */
export class TaskNotStarted extends Error {
  override name = "TaskNotStarted";
}

/** ECS's limit on a task's overrides, counted as their JSON, formatting included (RunTask API reference). */
export const MAX_OVERRIDES_CHARS = 8192;

export async function startOneOffTask(ctx: ResourceContext, input: OneOffTaskInput): Promise<Task> {
  const out = await ecs(ctx).send(
    new RunTaskCommand({
      cluster: input.cluster,
      taskDefinition: input.taskDefinition,
      count: 1,
      ...(input.capacityProviderStrategy?.length ? { capacityProviderStrategy: input.capacityProviderStrategy } : { launchType: "FARGATE" }),
      networkConfiguration: { awsvpcConfiguration: { subnets: input.subnets, securityGroups: input.securityGroups, assignPublicIp: input.assignPublicIp } },
      ...(input.overrides ? { overrides: input.overrides } : {}),
      startedBy: input.startedBy,
    }),
  );
  const task = out.tasks?.[0];
  if (!task?.taskArn) {
    const f = out.failures?.[0];
    throw new TaskNotStarted(`RunTask started no task: ${f?.reason ?? "no reason given"}${f?.detail ? ` (${f.detail})` : ""}`);
  }
  return task;
}

/** The task as DescribeTasks has it; undefined when ECS no longer knows it (or its cluster). */
export async function describeTask(ctx: ResourceContext, cluster: string, taskArn: string): Promise<Task | undefined> {
  const out = await orUndefined(ecs(ctx).send(new DescribeTasksCommand({ cluster, tasks: [taskArn] })));
  return out?.tasks?.[0];
}

/** StopTask; a task ECS no longer knows is stopped already. */
export async function stopOneOffTask(ctx: ResourceContext, cluster: string, taskArn: string, reason: string): Promise<void> {
  try {
    await ecs(ctx).send(new StopTaskCommand({ cluster, task: taskArn, reason }));
  } catch (err) {
    // ECS answers a task it has forgotten with InvalidParameterException ("The referenced task was not found").
    if (!hasCode(err, "InvalidParameterException", "ClusterNotFoundException")) throw err;
  }
}
