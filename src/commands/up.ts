import { applyStack } from "../engine/apply.js";
import { countActions, foreignResource, hasChanges } from "../engine/plan.js";
import { Declined, UserError } from "../errors.js";
import { registry } from "../resources/index.js";
import { forgetSupersededDeployments } from "../state/deployments.js";
import { endBakes } from "../state/releases.js";
import { interactive } from "../ui/io.js";
import { planJson, renderApplySummary, renderPlan } from "../ui/plan.js";
import { createProgress } from "../ui/progress.js";
import { nextSteps, renderNextSteps } from "../workloads/next-steps.js";
import { confirm } from "../ui/prompt.js";
import { observe } from "./observe.js";
import { engineEvents, openEnvironment, type CommandContext } from "./runtime.js";

export interface UpFlags {
  allowReplace?: boolean;
}

/** `platform up`: plan, confirm, reconcile with live progress, summarise. */
export async function upCommand(cc: CommandContext, flags: UpFlags): Promise<number> {
  const progress = createProgress(cc.io, cc.c, { live: Boolean(cc.io.stdout.isTTY) && !cc.opts.json, quiet: cc.opts.json });
  const events = engineEvents(cc, progress);
  const env = await openEnvironment(cc, { command: `up --env ${cc.opts.env ?? cc.opts.config}`, lock: true, events, deploys: true });
  try {
    const { stack, plan } = await observe(cc, env);
    cc.say(renderPlan(plan, cc.c));
    const adoptOrCleanOnly = !hasChanges(plan);
    const foreign = foreignResource(plan);
    if (foreign) throw foreign;
    if (plan.errors.length) {
      throw new UserError(`${plan.errors.length} resources could not be read, so the plan is incomplete; nothing was changed. Fix the errors above and run again`);
    }
    if (adoptOrCleanOnly && plan.resources.every((r) => r.inState && r.actual)) {
      await forgetSupersededDeployments(env.store, env.config);
      await endBakes(env.store);
      const next = await nextSteps(env.ctx, env.store.document, env.config);
      if (cc.opts.json) cc.json({ environment: env.config.environment, changed: false, ...planJson(plan), outputs: env.store.document.outputs, next });
      else cc.say(renderNextSteps(next, cc.c, env.config.environment));
      return 0;
    }
    if (!adoptOrCleanOnly && !cc.opts.yes) {
      if (!interactive(cc.io)) {
        throw new UserError("not applying: there is no terminal to confirm on; review the plan and pass --yes to apply it");
      }
      if (!(await confirm(cc.io, `Apply these changes to ${env.config.environment}?`))) throw new Declined("nothing was changed");
    }
    const counts = countActions(plan);
    const result = await applyStack(stack, plan, env.store, registry, env.ctx, {
      concurrency: cc.concurrency(),
      allowReplace: Boolean(flags.allowReplace),
      signal: cc.main.signal,
      events,
    });
    progress.stop();
    // The config now decides the images of services a deploy had rolled elsewhere (src/state/deployments.ts).
    if (result.ok) {
      await forgetSupersededDeployments(env.store, env.config);
      await endBakes(env.store);
    }
    cc.say(renderApplySummary(result, cc.c, "Apply", { verbose: cc.opts.verbose, interrupted: cc.main.signal?.aborted }));
    // What to do next (the API's URL, the repositories, the push and deploy an empty repository waits for).
    const next = result.ok && !cc.main.signal?.aborted ? await nextSteps(env.ctx, env.store.document, env.config) : undefined;
    if (next && !cc.opts.json) cc.say(renderNextSteps(next, cc.c, env.config.environment));
    if (cc.opts.json) {
      cc.json({ environment: env.config.environment, changed: counts.create + counts.update + counts.replace + counts.delete > 0, ok: result.ok, resources: result.resources, outputs: result.outputs, ...(next ? { next } : {}) });
    }
    if (cc.main.signal?.aborted) return 130;
    return result.ok ? 0 : 1;
  } finally {
    progress.stop();
    await env.close();
  }
}
