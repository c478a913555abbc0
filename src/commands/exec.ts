import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { DescribeTasksCommand, ECSClient, ExecuteCommandCommand, ListTasksCommand, type Task } from "@aws-sdk/client-ecs";
import { awsFailure } from "../aws/errors.js";
import { RunFailure, UserError } from "../errors.js";
import { ecsExecEnabled } from "../config/protection.js";
import { computeIds, enabledWorkloads, slotService, type Workload } from "../stack/compute.js";
import { liveSlot } from "../state/releases.js";
import type { StateDocument } from "../state/document.js";
import { openEnvironment, type CommandContext } from "./runtime.js";

export interface ExecFlags {
  service: string;
  task?: string;
  container?: string;
}

export const PLUGIN = "session-manager-plugin";
export const PLUGIN_MISSING =
  "the Session Manager plugin is not installed: see https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html";

/** The outside world exec touches, replaceable in tests: where the plugin is, and how it is run. */
export const execDeps = {
  /** The plugin's path on PATH, or undefined. */
  findPlugin: (): string | undefined => findOnPath(PLUGIN),
  /** Runs the plugin attached to this terminal; resolves with its exit code. */
  spawn: (command: string, args: string[]): Promise<number> =>
    new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: "inherit" });
      // Ctrl-C belongs to the remote shell: the plugin forwards it, so this process must not die of it.
      const ignore = () => {};
      process.on("SIGINT", ignore);
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        process.off("SIGINT", ignore);
        resolve(code ?? (signal ? 128 + 2 : 1));
      });
    }),
};

export function findOnPath(name: string, envPath = process.env.PATH ?? ""): string | undefined {
  const names = process.platform === "win32" ? [`${name}.exe`, name] : [name];
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    for (const n of names) {
      const candidate = path.join(dir, n);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** The ECS endpoint the plugin is given, as the AWS CLI passes its ECS client's endpoint_url. */
export function ecsEndpoint(region: string, override?: string): string {
  return override ?? `https://ecs.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}

/**
 * `platform exec --service api [--task ID] [--container NAME] -- COMMAND`: an interactive ECS Exec session in a running
 * task of the service: ExecuteCommand, then the Session Manager plugin with the session, exactly as `aws ecs
 * execute-command` runs it (awscli/customizations/ecs/executecommand.py). The session token is handed to the plugin only,
 * never printed. Exit code: the plugin's (the remote command's session), 1 when the plugin is missing.
 */
export async function execCommand(cc: CommandContext, command: string[] = [], flags: ExecFlags): Promise<number> {
  // Validate: the plugin first, before any AWS call (it is the user's machine, not their input: exit 1).
  const plugin = execDeps.findPlugin();
  if (!plugin) throw new RunFailure(PLUGIN_MISSING);
  const commandLine = command.length ? command.join(" ") : "/bin/sh";
  // ECS Exec is off by default in protected environments: say so before any AWS call rather than relay ECS's refusal.
  const { config } = cc.loadConfig();
  if (!ecsExecEnabled(config)) {
    throw new UserError(
      `${config.environment} has ECS Exec off${config.services.ecsExec === undefined ? " (the default in protected environments)" : ""}: set services.ecsExec to true in config/${config.environment}.json (audit reports it as a finding; sessions are logged) and run 'platform up --env ${config.environment}'`,
    );
  }
  const env = await openEnvironment(cc, { command: "exec", lock: false });
  try {
    const workload = flags.service as Workload;
    const known: Workload[] = enabledWorkloads(env.config).filter((w) => w !== "dbt-runner");
    if (!known.includes(workload)) throw new UserError(`--service ${flags.service}: ${env.config.environment} has no such service (its services: ${known.join(", ")})`);
    const { cluster, service } = namesOf(env.store.document, workload, env.config.environment);
    const ecs = env.clients.get(ECSClient);

    // Execute: the task, its container, the session, the plugin.
    const task = await pickTask(ecs, cluster, service, flags.task);
    const taskId = task.taskArn!.split("/").at(-1)!;
    const container = pickContainer(task, flags.container ?? workload);
    cc.io.stderr.write(`opening a session in task ${taskId}, container ${container.name}: ${commandLine}\n`);
    let out;
    try {
      out = await ecs.send(new ExecuteCommandCommand({ cluster, task: task.taskArn!, container: container.name!, interactive: true, command: commandLine }));
    } catch (err) {
      throw awsFailure(`starting an ECS Exec session in task ${taskId} of ${service} (${cluster})`, err);
    }
    const target = `ecs:${cluster}_${taskId}_${container.runtimeId}`;
    const profile = cc.opts.profile ?? process.env.AWS_PROFILE ?? "";
    return await execDeps.spawn(plugin, [
      JSON.stringify(out.session),
      env.config.region,
      "StartSession",
      profile,
      JSON.stringify({ Target: target }),
      ecsEndpoint(env.config.region, env.config.endpoint),
    ]);
  } finally {
    await env.close();
  }
}

function namesOf(state: StateDocument, workload: Workload, environment: string): { cluster: string; service: string } {
  const cluster = state.resources[computeIds.cluster]?.attributes.name as string | undefined;
  // A blue-green API runs in the slot that serves production.
  const serviceId = workload === "api" ? slotService(liveSlot(state, "api")) : computeIds.service(workload);
  const service = state.resources[serviceId]?.attributes.name as string | undefined;
  if (!cluster || !service) throw new UserError(`${environment} has no ${workload} service in its state; run platform up --env ${environment} first`);
  return { cluster, service };
}

async function pickTask(ecs: ECSClient, cluster: string, service: string, wanted?: string): Promise<Task> {
  try {
    let arns: string[] = wanted ? [wanted] : [];
    if (!wanted) {
      const listed = await ecs.send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus: "RUNNING" }));
      arns = listed.taskArns ?? [];
      if (!arns.length) throw new RunFailure(`${service} has no running task to open a session in; check it with platform status or platform troubleshoot ecs-tasks`);
    }
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }));
    const running = (out.tasks ?? []).filter((t) => t.lastStatus === "RUNNING" && t.group === `service:${service}`);
    if (wanted && !running.length) throw new UserError(`--task ${wanted}: not a running task of ${service} in ${cluster}`);
    if (!running.length) throw new RunFailure(`${service} has no running task to open a session in; check it with platform status or platform troubleshoot ecs-tasks`);
    // The newest task: the one a rolling deployment keeps.
    return running.sort((a, b) => (b.startedAt?.getTime() ?? 0) - (a.startedAt?.getTime() ?? 0))[0]!;
  } catch (err) {
    if (err instanceof UserError || err instanceof RunFailure) throw err;
    throw awsFailure(`finding a running task of ${service} (${cluster})`, err);
  }
}

function pickContainer(task: Task, wanted: string) {
  const containers = task.containers ?? [];
  const container = containers.find((c) => c.name === wanted) ?? (containers.length === 1 ? containers[0] : undefined);
  if (!container) throw new UserError(`--container ${wanted}: the task has ${containers.map((c) => c.name).join(", ")}; pass one of them`);
  if (!container.runtimeId) throw new RunFailure(`container ${container.name} of the task is not running yet; try again in a moment`);
  return container;
}
