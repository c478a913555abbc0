import type { SecretReport } from "../secrets/bootstrap.js";
import { renderTable } from "../ui/table.js";
import { openEnvironment, type CommandContext } from "./runtime.js";

/** "2025-11-26T00:12:03Z": seconds are enough, and the Z says which zone. */
const shortDate = (iso: string | undefined) => (iso ? iso.replace(/\.\d+Z$/, "Z") : "-");

/** The table `bootstrap-secrets` and `secrets list` print: names, ARNs, statuses, dates; never a value. */
export function renderSecrets(cc: CommandContext, environment: string, reports: SecretReport[]): void {
  if (cc.opts.json) {
    cc.json({ environment, secrets: reports.map((r) => ({ name: r.key, secretName: r.name, arn: r.arn ?? null, status: r.status, lastChanged: r.lastChanged ?? null, note: r.note ?? null })) });
    return;
  }
  cc.say(renderTable(["NAME", "SECRET", "ARN", "STATUS", "LAST CHANGED"], reports.map((r) => [r.key, r.name, r.arn ?? "-", r.status, shortDate(r.lastChanged)])));
  for (const r of reports.filter((x) => x.note)) cc.say(`${r.key}: ${r.note}`);
}

/** `platform secrets list`: every secret of the environment, whether it exists and holds a value, and when it last changed. Read-only. */
export async function secretsListCommand(cc: CommandContext): Promise<number> {
  const env = await openEnvironment(cc, { command: "secrets list", lock: false, events: (e) => e.kind === "note" && cc.verbose(`${e.logicalId}: ${e.message}`) });
  try {
    const { secretCatalog } = await import("../secrets/catalog.js");
    const { listSecrets } = await import("../secrets/bootstrap.js");
    const reports = await listSecrets(env.ctx, env.store, env.config, secretCatalog(env.config));
    renderSecrets(cc, env.config.environment, reports);
    const missing = reports.filter((r) => r.status !== "present");
    if (missing.length && !cc.opts.json) cc.say(`${missing.length} of ${reports.length} secrets need attention: run 'platform bootstrap-secrets --env ${env.config.environment}'.`);
    return 0;
  } finally {
    await env.close();
  }
}
