import { taskIdOf } from "../resources/ecs-task-failures.js";
import { followRun, planRun, startRun } from "../workloads/run-task.js";
import { openEnvironment, type CommandContext } from "./runtime.js";

/** dbt's subcommand (run, test, build, ...) when the first argument is one: a word, not an option or a value. */
export function subcommandOf(command: string[] | undefined): string | undefined {
  const word = command?.[1];
  return word && /^[a-z][a-z-]{0,30}$/.test(word) ? word : undefined;
}

/**
 * `platform run dbt -- ARGS`: runs the dbt runner once as a Fargate task where the services run, prints its output as
 * it comes, and exits with the container's exit code; 1 with ECS's reason when the container never ran; 130 on Ctrl-C,
 * after stopping the task. The task's output is the command's output (stdout; stderr with --json).
 */
export async function runCommand(cc: CommandContext, task: string, args: string[] = []): Promise<number> {
  const env = await openEnvironment(cc, { command: `run ${task}`, lock: false });
  try {
    const run = planRun(env.store.document, env.config, task, args);
    const started = await startRun(env.ctx, run);
    const id = taskIdOf(started.taskArn!);
    const where = `${run.network.assignPublicIp === "ENABLED" ? "public" : "private"} subnets ${run.network.subnets.join(", ")}`;
    // Only the subcommand is echoed, and only when it is a plain word: argument values (--vars, --target, a profile)
    // may carry what does not belong in CI logs.
    const subcommand = subcommandOf(run.command);
    const shown = run.command ? `: dbt ${subcommand ?? "(arguments not shown)"}${run.command.length > 2 && subcommand ? " (further arguments not shown)" : ""}` : "";
    cc.io.stderr.write(`started task ${id} of ${run.taskDefinitionArn.split("/").at(-1)} in ${where}${shown} (Ctrl-C stops it)\n`);
    if (!run.log) cc.io.stderr.write("its output is not shown: the task definition has no awslogs log configuration\n");
    const outcome = await followRun(env.ctx, run, started, (line) => cc.say(line), cc.main.signal);
    if (cc.opts.json) cc.json({ environment: env.config.environment, task: outcome.taskArn, taskDefinition: run.taskDefinitionArn, subcommand: subcommand ?? null, exitCode: outcome.exitCode ?? null, ...(outcome.explanation ? { stoppedReason: outcome.explanation } : {}), interrupted: outcome.interrupted });
    if (outcome.interrupted) {
      cc.io.stderr.write(`interrupted: stopped task ${id}\n`);
      return 130;
    }
    if (outcome.exitCode === undefined) {
      cc.io.stderr.write(`error: task ${id} stopped before ${run.container} ran: ${outcome.explanation}\n`);
      return 1;
    }
    cc.io.stderr.write(`task ${id}: ${run.container} exited ${outcome.exitCode}\n`);
    return outcome.exitCode;
  } finally {
    await env.close();
  }
}
