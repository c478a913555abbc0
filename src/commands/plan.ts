import { costDeltaLine, estimatePlanned, estimateState, retiredCost } from "../cost/from-state.js";
import { foreignResource, hasChanges } from "../engine/plan.js";
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
    const { stack, plan } = await observe(cc, env);
    // Both sides from what runs: state now, and state as this plan leaves it (src/cost/from-state.ts).
    const cost = { before: estimateState(env.store.document), after: estimatePlanned(stack, plan, env.store.document, env.config.region) };
    const retired = retiredCost(env.store.document);
    if (cc.opts.json) {
      const estimatedMonthlyCost = {
        estimate: true,
        currency: "USD",
        current: cost.before.total,
        planned: cost.after.total,
        delta: Math.round((cost.after.total - cost.before.total) * 100) / 100,
        ...(retired ? { retiredDatabases: retired } : {}),
      };
      cc.json({ environment: env.config.environment, region: env.config.region, accountId: env.ctx.accountId, ...planJson(plan), estimatedMonthlyCost });
    }
    else {
      cc.say(`Plan for ${env.config.project} ${env.config.environment} (${env.config.region}, account ${env.ctx.accountId}):`);
      cc.say(renderPlan(plan, cc.c));
      cc.say(costDeltaLine(cost.before, cost.after, retired, env.config.environment));
    }
    const foreign = foreignResource(plan);
    if (foreign) throw foreign;
    if (plan.errors.length) throw new RunFailure(`${plan.errors.length} resources could not be read; the plan is incomplete`);
    return flags.detailedExitcode && hasChanges(plan) ? 2 : 0;
  } finally {
    await env.close();
  }
}
