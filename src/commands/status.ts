import type { PlannedResource } from "../engine/plan.js";
import { RunFailure } from "../errors.js";
import { renderTable } from "../ui/table.js";
import type { Colors } from "../ui/io.js";
import { observe } from "./observe.js";
import { openEnvironment, type CommandContext } from "./runtime.js";

export type ResourceStatus = "in-sync" | "drifted" | "missing" | "not-created" | "untracked" | "to-delete" | "unreadable";

export function statusOf(r: PlannedResource, unreadable: Set<string>): ResourceStatus {
  if (unreadable.has(r.logicalId)) return "unreadable";
  if (r.action === "delete") return "to-delete";
  if (!r.actual) return r.inState ? "missing" : "not-created";
  if (!r.inState) return "untracked";
  return r.changes.length ? "drifted" : "in-sync";
}

const LABEL: Record<ResourceStatus, (c: Colors) => string> = {
  "in-sync": (c) => c.green("in sync"),
  drifted: (c) => c.yellow("drifted"),
  missing: (c) => c.red("missing (deleted outside platform)"),
  "not-created": (c) => c.dim("not created"),
  untracked: (c) => c.cyan("untracked (tagged, will be adopted)"),
  "to-delete": (c) => c.red("removed from config (up deletes it)"),
  unreadable: (c) => c.red("could not be read"),
};

/** `platform status`: every resource with its physical id and whether it matches the config. Read-only. */
export async function statusCommand(cc: CommandContext): Promise<number> {
  const env = await openEnvironment(cc, { command: "status", lock: false });
  try {
    const { plan } = await observe(cc, env);
    const unreadable = new Set(plan.errors.map((e) => e.logicalId));
    const rows = plan.resources.filter((r) => !(r.action === "noop" && !r.actual && r.inState && r.reason?.startsWith("removed")));
    const statuses = rows.map((r) => ({ r, status: statusOf(r, unreadable) }));
    if (cc.opts.json) {
      cc.json({
        environment: env.config.environment,
        region: env.config.region,
        accountId: env.ctx.accountId,
        resources: statuses.map(({ r, status }) => ({ logicalId: r.logicalId, type: r.type, physicalId: r.physicalId ?? null, status, changes: r.changes })),
      });
    } else {
      cc.say(`${env.config.project} ${env.config.environment} (${env.config.region}, account ${env.ctx.accountId}), state ${env.backend.location}`);
      cc.say(
        renderTable(
          ["RESOURCE", "TYPE", "ID", "STATUS"],
          statuses.map(({ r, status }) => [
            r.logicalId,
            r.type,
            r.physicalId ?? "-",
            LABEL[status](cc.c) + (status === "drifted" ? ` (${r.changes.map((ch) => ch.field).join(", ")})` : ""),
          ]),
        ),
      );
      const counts = new Map<ResourceStatus, number>();
      for (const { status } of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
      cc.say([...counts].map(([s, n]) => `${n} ${s}`).join(", "));
    }
    if (plan.errors.length) throw new RunFailure(`${plan.errors.length} resources could not be read: ${plan.errors.map((e) => e.error.message).join("; ")}`);
    return 0;
  } finally {
    await env.close();
  }
}
