import { report, runChecks } from "../../troubleshoot/checks.js";
import { secretsAccessChecks, type SecretsContext } from "../../troubleshoot/secrets-access.js";
import { renderCheck } from "../../ui/checklist.js";
import { openEnvironment, type CommandContext } from "../runtime.js";
import { assertKnownService, printReport } from "./shared.js";

export interface SecretsAccessFlags {
  service?: string;
}

/**
 * `platform troubleshoot secrets-access`: for each secret a service uses, whether it exists and whether the service's
 * execution role may read it (IAM policy simulation). Exit 0 when nothing failed, 1 when something did.
 */
export async function secretsAccessCommand(cc: CommandContext, flags: SecretsAccessFlags): Promise<number> {
  const env = await openEnvironment(cc, { command: "troubleshoot secrets-access", lock: false });
  try {
    const state = env.store.document;
    assertKnownService(state, env.config.environment, flags.service);
    const sc: SecretsContext = { ctx: env.ctx, state, ...(flags.service ? { service: flags.service } : {}) };
    const { checks, notes } = await secretsAccessChecks(sc);
    cc.say(`Secrets access of ${env.config.project} ${env.config.environment} (${env.config.region}, account ${env.ctx.accountId})`);
    for (const note of notes) cc.say(cc.c.dim(note));
    let index = 0;
    const outcomes = await runChecks(checks, sc, (o) => cc.say(renderCheck(o, index++, cc.c)));
    if (!outcomes.length) cc.say(`state records no secrets for ${env.config.environment}: nothing to check (run 'platform up' first)`);
    return printReport(cc, report("secrets-access", env.config.environment, outcomes));
  } finally {
    await env.close();
  }
}
