import { report, runChecks } from "../../troubleshoot/checks.js";
import { type EcsTasksContext, ecsTasksChecks } from "../../troubleshoot/ecs-tasks.js";
import { renderCheck } from "../../ui/checklist.js";
import { openEnvironment, type CommandContext } from "../runtime.js";
import { assertKnownService, printReport } from "./shared.js";

export interface EcsTasksFlags {
  service?: string;
}

/**
 * `platform troubleshoot ecs-tasks`: for each ECS service (or --service), its recently stopped tasks with their
 * diagnosis, the last log lines of their containers, and the service's recent events. Exit 0 when no service shows a
 * failure, 1 when one does, 2 for a service the environment does not have.
 */
export async function ecsTasksCommand(cc: CommandContext, flags: EcsTasksFlags): Promise<number> {
  const env = await openEnvironment(cc, { command: "troubleshoot ecs-tasks", lock: false });
  try {
    const state = env.store.document;
    assertKnownService(state, env.config.environment, flags.service);
    const tc: EcsTasksContext = { ctx: env.ctx, state, ...(flags.service ? { service: flags.service } : {}) };
    cc.say(`ECS tasks of ${env.config.project} ${env.config.environment} (${env.config.region}, account ${env.ctx.accountId})`);
    let index = 0;
    const outcomes = await runChecks(ecsTasksChecks(tc), tc, (o) => cc.say(renderCheck(o, index++, cc.c)));
    if (!outcomes.length) cc.say(`${env.config.environment} has no ECS services deployed yet: nothing to check (run 'platform up' first)`);
    return printReport(cc, report("ecs-tasks", env.config.environment, outcomes));
  } finally {
    await env.close();
  }
}
