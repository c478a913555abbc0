import { sleep, waitFor } from "../run/wait-for.js";
import { CloudWatchLogsClient, GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import type { Task } from "@aws-sdk/client-ecs";
import { awsFailure, hasCode } from "../aws/errors.js";
import type { Config } from "../config/schema.js";
import { AwsFailure, RunFailure, UserError } from "../errors.js";
import { unpushedImages } from "../resources/ecs-images.js";
import { describeTask, MAX_OVERRIDES_CHARS, startOneOffTask, stopOneOffTask, TaskNotStarted } from "../resources/ecs-one-off-task.js";
import type { EcsTaskDefinitionAttrs } from "../resources/ecs-task-definition.js";
import { describeStoppedTasks, explainTask, taskIdOf } from "../resources/ecs-task-failures.js";
import type { ResourceContext } from "../resources/types.js";
import { computeIds } from "../stack/compute.js";
import type { StateDocument } from "../state/document.js";
import { requireRecorded, type TaskNetwork, taskNetwork } from "./environment.js";

/**
 * `platform run dbt -- ARGS`: the dbt runner's task definition, run once where the services run, its container's
 * command replaced; its log stream printed while it runs; its container's exit code returned. Interrupted, the task is
 * stopped. The command is `dbt ARGS`, or ARGS as given when they already start with `dbt`; no ARGS: the image's own command.
 */
export const RUNNABLE = { dbt: { workload: "dbt-runner", container: "dbt-runner", group: "dbt" } } as const;
export type RunnableTask = keyof typeof RUNNABLE;

/** ECS startedBy: how `platform run` tasks are told apart in the console and ListTasks. */
export const RUN_STARTED_BY = "platform-run";
/** Seconds between reads of the task's status and log stream (real world; scaled like every wait). */
export const POLL_SECONDS = 2;

export interface OneOffRun {
  cluster: string;
  taskDefinitionArn: string;
  container: string;
  command?: string[];
  network: TaskNetwork;
  /** awslogs group and stream prefix of the container (none: output is not shown). */
  log?: { group: string; prefix: string };
}

export interface RunOutcome {
  taskArn: string;
  /** The container's exit code; undefined when it never ran (or was interrupted before it ended). */
  exitCode?: number;
  /** ECS's reasons, with the container's, when the container never ran. */
  explanation?: string;
  interrupted: boolean;
}

export function commandFor(args: string[]): string[] | undefined {
  if (!args.length) return undefined;
  return args[0] === "dbt" ? args : ["dbt", ...args];
}

/** The task to run, from state: cluster, the dbt runner's recorded revision, network like the services. */
export function planRun(state: StateDocument, config: Config, task: string, args: string[]): OneOffRun {
  if (!(task in RUNNABLE)) throw new UserError(`unknown task "${task}": platform run knows ${Object.keys(RUNNABLE).join(", ")}`);
  const spec = RUNNABLE[task as RunnableTask];
  const env = config.environment;
  const cluster = requireRecorded<{ name: string }>(state, env, computeIds.cluster, "ECS cluster").name;
  const td = requireRecorded<EcsTaskDefinitionAttrs>(state, env, computeIds.taskDefinition(spec.workload), `${spec.workload} task definition`);
  const options = td.containerDefinitions.find((c) => c.name === spec.container)?.logConfiguration?.options;
  const command = commandFor(args);
  const run: OneOffRun = {
    cluster,
    taskDefinitionArn: td.arn,
    container: spec.container,
    ...(command ? { command } : {}),
    network: taskNetwork(state, config, spec.group),
    ...(options?.["awslogs-group"] && options["awslogs-stream-prefix"] ? { log: { group: options["awslogs-group"], prefix: options["awslogs-stream-prefix"] } } : {}),
  };
  const overrides = overridesOf(run);
  if (overrides && JSON.stringify(overrides).length > MAX_OVERRIDES_CHARS) throw new UserError(`the arguments are too long: ECS takes at most ${MAX_OVERRIDES_CHARS} characters of overrides`);
  return run;
}

const overridesOf = (run: OneOffRun) => (run.command ? { containerOverrides: [{ name: run.container, command: run.command }] } : undefined);

/** Starts the task; a RunTask that starts nothing is a RunFailure with ECS's reason. */
export async function startRun(ctx: ResourceContext, run: OneOffRun): Promise<Task> {
  const overrides = overridesOf(run);
  // ECS is never asked to run an image that is not in ECR (it would retry the pull and stop the task minutes later).
  const unpushed = await unpushedImages(ctx, run.taskDefinitionArn);
  if (unpushed.length) {
    throw new RunFailure(`not starting ${run.taskDefinitionArn.split("/").at(-1)}: ${unpushed.map((u) => u.image).join(", ")} is not in ECR; push it first (docker push ${unpushed[0]!.image})`);
  }
  try {
    return await startOneOffTask(ctx, { cluster: run.cluster, taskDefinition: run.taskDefinitionArn, ...run.network, startedBy: RUN_STARTED_BY, ...(overrides ? { overrides } : {}) });
  } catch (err) {
    if (err instanceof TaskNotStarted) throw new RunFailure(`starting ${run.taskDefinitionArn.split("/").at(-1)}: ${err.message}`);
    throw awsFailure(`starting a task of ${run.taskDefinitionArn.split("/").at(-1)} (ecs:RunTask)`, err);
  }
}

/** Follows the task until it stops (or `signal` aborts: then it is stopped), printing its log lines as they arrive. */
export async function followRun(ctx: ResourceContext, run: OneOffRun, task: Task, print: (line: string) => void, signal?: AbortSignal): Promise<RunOutcome> {
  const taskArn = task.taskArn!;
  const stream = run.log && { group: run.log.group, name: `${run.log.prefix}/${run.container}/${taskIdOf(taskArn)}` };
  let token: string | undefined;
  const drain = async () => {
    if (stream) token = await printNewLines(ctx, stream.group, stream.name, token, print);
  };
  const every = POLL_SECONDS * ctx.waits.scale;
  let current: Task | undefined;
  try {
    current = await waitFor({
      what: `task ${taskIdOf(taskArn)} to stop`,
      refresh: async () => {
        const t = await step("reading the task (ecs:DescribeTasks)", () => describeTask(ctx, run.cluster, taskArn));
        await drain();
        return t;
      },
      done: (t) => !t || t.lastStatus === "STOPPED",
      // A one-off task runs as long as it runs: no budget, only Ctrl-C ends the wait early.
      budgetSeconds: Number.POSITIVE_INFINITY,
      waits: { minDelay: every, maxDelay: every, scale: ctx.waits.scale },
      signal,
    });
  } catch (err) {
    if (!signal?.aborted) throw err;
    await stopOneOffTask(ctx, run.cluster, taskArn, "platform run: interrupted by the user");
    await drain().catch(() => undefined);
    return { taskArn, interrupted: true };
  }
  // awslogs delivers in batches: the last lines may reach CloudWatch a moment after the task stopped.
  await sleep(every * 1000, signal).catch(() => undefined);
  await drain();
  const exitCode = current?.containers?.find((c) => c.name === run.container)?.exitCode;
  if (exitCode !== undefined) return { taskArn, exitCode, interrupted: false };
  const explanation = current ? describeStoppedTasks([await explainTask(ctx, current)]) : "ECS no longer knows the task";
  return { taskArn, explanation, interrupted: false };
}

/** Prints the stream's events after `token`; returns the token to read on from. No stream yet: nothing, same token. */
async function printNewLines(ctx: ResourceContext, group: string, stream: string, token: string | undefined, print: (line: string) => void): Promise<string | undefined> {
  const logs = ctx.aws.get(CloudWatchLogsClient);
  for (;;) {
    let out;
    try {
      out = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: true, ...(token ? { nextToken: token } : {}) }));
    } catch (err) {
      if (hasCode(err, "ResourceNotFoundException")) return token; // the container has not written yet
      throw awsFailure(`reading CloudWatch Logs stream (${stream})`, err);
    }
    for (const e of out.events ?? []) print((e.message ?? "").replace(/\r?\n$/, ""));
    // At the end of the stream GetLogEvents returns the token it was given.
    const next = out.nextForwardToken;
    if (!next || next === token || !out.events?.length) return next ?? token;
    token = next;
  }
}

async function step<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AwsFailure || err instanceof UserError) throw err;
    throw awsFailure(action, err);
  }
}
