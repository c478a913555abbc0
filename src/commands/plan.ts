import { hasChanges } from "../engine/plan.js";
import { RunFailure } from "../errors.js";
import { planJson, renderPlan } from "../ui/plan.js";
import { observe } from "./observe.js";
import { openEnvironment, type CommandContext } from "./runtime.js";

export interface PlanFlags {
  detailedExitcode?: boolean;
}

/** `platform plan`: what `up` would do, without changing anything or taking the lock. */
export async function planCommand(cc: CommandContext, flags: PlanFlags): Promise<number> {
  const env = await openEnvironment(cc, { command: "plan", lock: false });
  try {
    const { plan } = await observe(cc, env);
    if (cc.opts.json) cc.json({ environment: env.config.environment, region: env.config.region, accountId: env.ctx.accountId, ...planJson(plan) });
    else {
      cc.say(`Plan for ${env.config.project} ${env.config.environment} (${env.config.region}, account ${env.ctx.accountId}):`);
      cc.say(renderPlan(plan, cc.c));
    }
    if (plan.errors.length) throw new RunFailure(`${plan.errors.length} resources could not be read; the plan is incomplete`);
    return flags.detailedExitcode && hasChanges(plan) ? 2 : 0;
  } finally {
    await env.close();
  }
}
