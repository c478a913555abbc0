import { planStack, type Plan } from "../engine/plan.js";
import { registry } from "../resources/index.js";
import { deployedImages } from "../state/deployments.js";
import { liveSlots } from "../state/releases.js";
import { buildStack } from "../stack/index.js";
import { gatherFacts } from "../stack/facts.js";
import type { Stack } from "../stack/model.js";
import type { CommandContext, Environment } from "./runtime.js";

/** Builds the desired stack and observes AWS: the shared first half of plan, up and status. */
export async function observe(cc: CommandContext, env: Environment): Promise<{ stack: Stack; plan: Plan }> {
  // A service's image that `platform deploy` rolled out is kept while the config's tag is unchanged (src/state/deployments.ts).
  const facts = { ...(await gatherFacts(env.ctx, env.store.document)), deployedImages: deployedImages(env.config, env.store.document), liveSlots: liveSlots(env.store.document) };
  const stack = buildStack(env.config, facts);
  const plan = await planStack(stack, env.store.document, registry, env.ctx, { concurrency: cc.concurrency(), signal: cc.main.signal, events: cc.main.events });
  return { stack, plan };
}
