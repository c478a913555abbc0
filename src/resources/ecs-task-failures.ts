import { CloudWatchLogsClient, GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeTaskDefinitionCommand, DescribeTasksCommand, ListTasksCommand, type Task } from "@aws-sdk/client-ecs";
import { isNotFound } from "../aws/errors.js";
import { ecs } from "./ecs-shared.js";
import type { ResourceContext } from "./types.js";

/**
 * Why tasks stopped, in words a user can act on: ECS's stopped reason, each container's exit code and reason, and the
 * last lines the container wrote to its awslogs stream (`<prefix>/<container>/<task id>`). Used when a deployment fails
 * or never settles, and by commands that run one-off tasks. Reading logs is best effort: a container that never started
 * has no stream.
 */
export interface StoppedTask {
  taskId: string;
  stoppedReason?: string;
  stopCode?: string;
  containers: { name: string; exitCode?: number; reason?: string; logStream?: string; lastLines: string[] }[];
}

const LOG_LINES = 5;
const MAX_TASKS = 3;
const MAX_LINE = 240;

export const taskIdOf = (taskArn: string) => taskArn.split("/").at(-1)!;

/** The most recently stopped tasks of a service (or of a started-by tag), newest first. */
export async function recentlyStoppedTasks(ctx: ResourceContext, cluster: string, filter: { serviceName?: string; startedBy?: string }): Promise<StoppedTask[]> {
  const listed = await ecs(ctx).send(new ListTasksCommand({ cluster, ...filter, desiredStatus: "STOPPED", maxResults: 100 }));
  const arns = listed.taskArns ?? [];
  if (!arns.length) return [];
  const described = await ecs(ctx).send(new DescribeTasksCommand({ cluster, tasks: arns.slice(0, 100) }));
  const newest = (described.tasks ?? []).sort((a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0)).slice(0, MAX_TASKS);
  return Promise.all(newest.map((t) => explainTask(ctx, t)));
}

/** One task's stop, with the log lines of each of its containers. */
export async function explainTask(ctx: ResourceContext, task: Task): Promise<StoppedTask> {
  const taskId = taskIdOf(task.taskArn!);
  const logs = await logSettings(ctx, task.taskDefinitionArn);
  const containers = await Promise.all(
    (task.containers ?? []).map(async (c) => {
      const log = logs.get(c.name!);
      const logStream = log && `${log.prefix}/${c.name}/${taskId}`;
      const lastLines = log && logStream ? await lastLogLines(ctx, log.group, logStream) : [];
      return { name: c.name!, exitCode: c.exitCode, reason: c.reason, logStream, lastLines };
    }),
  );
  return { taskId, stoppedReason: task.stoppedReason, stopCode: task.stopCode, containers };
}

/** Container name → awslogs group and stream prefix, from the revision the task ran. */
async function logSettings(ctx: ResourceContext, taskDefinitionArn: string | undefined): Promise<Map<string, { group: string; prefix: string }>> {
  const out = new Map<string, { group: string; prefix: string }>();
  if (!taskDefinitionArn) return out;
  try {
    const td = await ecs(ctx).send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
    for (const c of td.taskDefinition?.containerDefinitions ?? []) {
      const o = c.logConfiguration?.logDriver === "awslogs" ? c.logConfiguration.options : undefined;
      if (o?.["awslogs-group"] && o["awslogs-stream-prefix"]) out.set(c.name!, { group: o["awslogs-group"], prefix: o["awslogs-stream-prefix"] });
    }
  } catch {
    // Best effort: without the revision there are no log streams to name.
  }
  return out;
}

/** The last lines of a log stream; none when the stream does not exist (the container never started). */
export async function lastLogLines(ctx: ResourceContext, group: string, stream: string, limit = LOG_LINES): Promise<string[]> {
  try {
    const out = await ctx.aws.get(CloudWatchLogsClient).send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, limit, startFromHead: false }));
    return (out.events ?? []).map((e) => clip((e.message ?? "").trimEnd()));
  } catch (err) {
    if (isNotFound(err)) return [];
    return [`(could not read ${group} ${stream}: ${(err as Error).name})`];
  }
}

const clip = (line: string) => (line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 3)}...` : line).replace(/\s*\n\s*/g, " ");

/** One line per task: "task 1a2b stopped: <reason>; api exited 1 (<reason>); last log lines of api/api/1a2b: "..." / "..."". */
export function describeStoppedTasks(tasks: StoppedTask[]): string {
  // Tasks of one failing deployment usually fail alike: each distinct failure is told once, with how many tasks had it.
  const groups = new Map<string, StoppedTask[]>();
  for (const t of tasks) {
    const key = JSON.stringify([t.stoppedReason, t.stopCode, t.containers.map((c) => [c.name, c.exitCode, c.reason, c.lastLines])]);
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return [...groups.values()]
    .map(([t, ...alike]) => {
      const parts = [`task ${t!.taskId}${alike.length ? ` (and ${alike.length} more alike)` : ""} stopped: ${t!.stoppedReason ?? t!.stopCode ?? "no reason given"}`];
      for (const c of t!.containers) {
        if (c.exitCode !== undefined || c.reason) parts.push(`${c.name} ${c.exitCode !== undefined ? `exited ${c.exitCode}` : "did not run"}${c.reason ? ` (${c.reason})` : ""}`);
        if (c.lastLines.length) parts.push(`last log lines of ${c.logStream}: ${c.lastLines.map((l) => JSON.stringify(l)).join(" / ")}`);
      }
      return parts.join("; ");
    })
    .join(" | ");
}
