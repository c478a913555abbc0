import { runGraph } from "../engine/executor.js";
import type { PlannedResource } from "../engine/plan.js";
import { registry } from "../resources/index.js";
import type { Stack } from "../stack/model.js";
import { RunFailure } from "../errors.js";
import { renderTable, shortenId, visibleLength } from "../ui/table.js";
import type { Colors } from "../ui/io.js";
import { retiredDatabases, retiredLogGroupOf } from "../workloads/db-restore.js";
import { observe } from "./observe.js";
import { openEnvironment, type CommandContext, type Environment } from "./runtime.js";

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

/** Columns on a terminal (its width), else 120; never below 80. */
function terminalWidth(cc: CommandContext): number {
  const columns = cc.io.stdout.isTTY ? (cc.io.stdout as { columns?: number }).columns : undefined;
  return Math.max(80, columns ?? 120);
}

/** Columns of the narrow table: ids and statuses capped, the details wrapped into what is left. */
const ID_WIDTH = 30;
const STATUS_WIDTH = 26;

/**
 * The table within `width` columns: without the type (--wide shows it), ids shortened in the middle, statuses and
 * details wrapped. Every line fits; nothing but the ids' middles is dropped.
 */
function narrowTable(cells: { resource: string; id: string; status: string; details: string }[], width: number): string {
  const natural = (values: string[], head: string) => Math.max(head.length, ...values.map(visibleLength)) + 2;
  const resource = natural(cells.map((c) => c.resource), "RESOURCE");
  const id = Math.min(ID_WIDTH, natural(cells.map((c) => c.id), "ID"));
  const status = Math.min(STATUS_WIDTH, natural(cells.map((c) => c.status), "STATUS"));
  const details = Math.max(20, Math.min(natural(cells.map((c) => c.details), "DETAILS"), width - resource - id - status));
  return renderTable(
    ["RESOURCE", "ID", "STATUS", "DETAILS"],
    cells.map((c) => [c.resource, shortenId(c.id, id - 2), c.status, c.details]),
    { colWidths: [resource, id, status, details] },
  );
}

/** `platform status`: every resource with its physical id and whether it matches the config. Read-only. */
export async function statusCommand(cc: CommandContext, flags: { wide?: boolean } = {}): Promise<number> {
  const env = await openEnvironment(cc, { command: "status", lock: false });
  try {
    const { stack, plan } = await observe(cc, env);
    const unreadable = new Set(plan.errors.map((e) => e.logicalId));
    const rows = plan.resources.filter((r) => !(r.action === "noop" && !r.actual && r.inState && r.reason?.startsWith("removed")));
    const statuses = rows.map((r) => ({ r, status: statusOf(r, unreadable) }));
    const details = await liveDetails(cc, env, stack, rows);
    // Database instances a restore replaced: kept on purpose (up leaves them), until db restore --retire-old or down.
    const retired = retiredDatabases(env.store.document).map(([logicalId, r]) => ({ logicalId, physicalId: r.physicalId, replacedBy: r.retired!.replacedBy, retiredAt: r.retired!.at }));
    if (cc.opts.json) {
      cc.json({
        environment: env.config.environment,
        region: env.config.region,
        accountId: env.ctx.accountId,
        resources: statuses.map(({ r, status }) => ({
          logicalId: r.logicalId,
          type: r.type,
          physicalId: r.physicalId ?? null,
          status,
          changes: r.changes,
          details: details.get(r.logicalId) ?? null,
        })),
        retired,
        releases: env.store.document.releases ?? {},
      });
    } else {
      cc.say(`${env.config.project} ${env.config.environment} (${env.config.region}, account ${env.ctx.accountId}), state ${env.backend.location}`);
      const cells = statuses.map(({ r, status }) => ({
        resource: r.logicalId,
        type: r.type,
        id: r.physicalId ?? "-",
        status: LABEL[status](cc.c) + (status === "drifted" ? ` (${r.changes.map((ch) => ch.field).join(", ")})` : ""),
        details: details.get(r.logicalId) ?? "",
      }));
      if (flags.wide) {
        cc.say(renderTable(["RESOURCE", "TYPE", "ID", "STATUS", "DETAILS"], cells.map((x) => [x.resource, x.type, x.id, x.status, x.details])));
      } else {
        cc.say(narrowTable(cells, terminalWidth(cc)));
      }
      const counts = new Map<ResourceStatus, number>();
      for (const { status } of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
      cc.say([...counts].map(([s, n]) => `${n} ${s}`).join(", "));
      for (const r of retired) {
        const logGroup = retiredLogGroupOf(env.store.document, r.physicalId);
        cc.say(
          cc.c.yellow(`retired: database instance ${r.physicalId} (${r.logicalId})${logGroup ? ` with its log group ${logGroup}` : ""}, replaced by ${r.replacedBy} on ${r.retiredAt.slice(0, 10)}, is kept and still costs money; `) +
            `delete it with platform db restore --env ${env.config.environment} --retire-old`,
        );
      }
      for (const line of releaseLines(env)) cc.say(line);
    }
    if (plan.errors.length) throw new RunFailure(`${plan.errors.length} resources could not be read: ${plan.errors.map((e) => e.error.message).join("; ")}`);
    return 0;
  } finally {
    await env.close();
  }
}

/** Live details (database state and endpoint, object and image counts) for resources whose type offers them; a failed read shows as a note, never fails status. */
async function liveDetails(cc: CommandContext, env: Environment, stack: Stack, rows: PlannedResource[]): Promise<Map<string, string>> {
  const types = new Map(stack.nodes.map((n) => [n.logicalId, n.type]));
  const wanted = rows.filter((r) => r.actual && (types.get(r.logicalId) ?? registry.get(r.type))?.details);
  const details = new Map<string, string>();
  await runGraph(
    wanted.map((r) => ({ id: r.logicalId, deps: [] })),
    async (id) => {
      const r = wanted.find((w) => w.logicalId === id)!;
      const type = (types.get(id) ?? registry.get(r.type))!;
      try {
        const text = await type.details!(env.ctx, r.actual);
        if (text) details.set(id, text);
      } catch (err) {
        details.set(id, `(details unavailable: ${(err as Error).name})`);
      }
    },
    { concurrency: cc.concurrency(), signal: cc.main.signal },
  );
  return details;
}

/** What each service released: the blue-green slot serving production, a bake in progress, what rollback goes back to. */
function releaseLines(env: Environment): string[] {
  const e = env.config.environment;
  return Object.entries(env.store.document.releases ?? {}).map(([service, r]) => {
    const parts = [`release: ${service}`];
    if (service === "api" && env.config.services.api.deployment.strategy === "blue-green") parts.push(`blue-green, ${r.live ?? "blue"} serves production`);
    if (r.bakingUntil && Date.parse(r.bakingUntil) > Date.now()) parts.push(`baking until ${r.bakingUntil} (${r.previous?.slot ?? "the previous slot"} still runs)`);
    else if (r.bakingUntil) parts.push(`a bake was left unfinished: ${r.previous?.slot ?? "the previous slot"} may still run; 'platform up --env ${e}' scales it to 0`);
    if (r.previous) parts.push(`'platform rollback --env ${e} --service ${service}' goes back to ${r.previous.image}`);
    return parts.join("; ");
  });
}
