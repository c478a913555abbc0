import { RunFailure } from "../errors.js";
import { auditChecks, type AuditContext } from "../audit/checks.js";
import { report, runChecks } from "../troubleshoot/checks.js";
import { renderCheck } from "../ui/checklist.js";
import { openEnvironment, type CommandContext } from "./runtime.js";
import { printReport } from "./troubleshoot/shared.js";

/**
 * `platform audit`: the deployed environment against the platform's security controls, one PASS/FAIL/SKIP line per
 * check with the AWS Foundational Security Best Practices controls it maps to. Exit 0 when nothing failed, else 1.
 */
export async function auditCommand(cc: CommandContext): Promise<number> {
  const env = await openEnvironment(cc, { command: "audit", lock: false });
  try {
    const a: AuditContext = { ctx: env.ctx, state: env.store.document, config: env.config };
    // Nothing to look at is not a pass: an audit that checked nothing must not read as compliant.
    if (!Object.keys(a.state.resources).length) {
      throw new RunFailure(`nothing deployed: ${env.config.environment} has no resources in state, so there is nothing to audit; run 'platform up --env ${env.config.environment}' first`);
    }
    cc.say(`Security audit of ${env.config.project} ${env.config.environment} (${env.config.region}, account ${env.ctx.accountId})`);
    const checks = auditChecks();
    const controls = new Map(checks.map((c) => [c.id, c.controls]));
    const labels = new Map(checks.map((c) => [c.id, [...c.controls, ...(c.hipaa ?? []).map((h) => `HIPAA ${h}`)]]));
    let index = 0;
    const outcomes = await runChecks(checks, a, (o) => {
      const ids = labels.get(o.id) ?? [];
      cc.say(renderCheck({ ...o, title: ids.length ? `${o.title} [${ids.join(", ")}]` : o.title }, index++, cc.c));
    });
    const hipaa = new Map(checks.map((c) => [c.id, c.hipaa ?? []]));
    const withControls = outcomes.map((o) => ({ ...o, controls: controls.get(o.id) ?? [], ...(hipaa.get(o.id)?.length ? { hipaa: hipaa.get(o.id) } : {}) }));
    return printReport(cc, { ...report("audit", env.config.environment, withControls), checks: withControls });
  } finally {
    await env.close();
  }
}
