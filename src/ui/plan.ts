import type { Change } from "../resources/types.js";
import type { Plan, PlannedAction } from "../engine/plan.js";
import { countActions } from "../engine/plan.js";
import type { ApplyResult, ResourceResult } from "../engine/apply.js";
import type { Colors } from "./io.js";
import { renderTable } from "./table.js";

const SYMBOL: Record<PlannedAction, string> = { create: "+", update: "~", replace: "-/+", delete: "-", noop: " " };

export function formatValue(value: unknown): string {
  if (value === undefined) return "(none)";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 80 ? text.slice(0, 77) + "..." : text;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The fields that differ inside a nested value, each with its path: `deploymentConfiguration.maximumPercent: 200 → 150`
 * rather than the two objects cut at 80 characters, which look the same. Objects are compared key by key, arrays of
 * the same length item by item; anything else (or arrays that grew or shrank) is one leaf.
 */
export function leafChanges(field: string, from: unknown, to: unknown): { field: string; from: unknown; to: unknown }[] {
  if (same(from, to)) return [];
  if (isPlainObject(from) && isPlainObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])];
    return keys.flatMap((k) => leafChanges(`${field}.${k}`, from[k], to[k]));
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length && from.some((x, i) => isPlainObject(x) && isPlainObject(to[i]))) {
    return from.flatMap((x, i) => leafChanges(`${field}[${i}]`, x, to[i]));
  }
  return [{ field, from, to }];
}

/** Two long values cut where they differ, so the difference shows: "...abc-1 → ...abc-2". */
function formatPair(from: unknown, to: unknown): [string, string] {
  const a = from === undefined ? undefined : typeof from === "string" ? from : JSON.stringify(from);
  const b = to === undefined ? undefined : typeof to === "string" ? to : JSON.stringify(to);
  if (a === undefined || b === undefined || (a.length <= 80 && b.length <= 80)) return [formatValue(from), formatValue(to)];
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  const cut = (t: string) => {
    const from = Math.max(0, start - 20);
    const piece = t.slice(from, from + 77);
    return `${from > 0 ? "..." : ""}${piece}${from + 77 < t.length ? "..." : ""}`;
  };
  return [cut(a), cut(b)];
}

function changeLines(change: Change): string[] {
  const suffix = `${change.action === "replace" ? " (forces replacement)" : ""}${change.note ? ` [${change.note}]` : ""}`;
  const leaves = leafChanges(change.field, change.from, change.to);
  if (!leaves.length) leaves.push({ field: change.field, from: change.from, to: change.to });
  return leaves.map((l) => {
    const [from, to] = formatPair(l.from, l.to);
    return `${l.field}: ${from} → ${to}${suffix}`;
  });
}

function colorFor(c: Colors, action: PlannedAction): (s: string) => string {
  return { create: c.green, update: c.yellow, replace: c.magenta, delete: c.red, noop: c.dim }[action];
}

/** The plan as Terraform users expect it: one line per resource that changes, the changed fields below it, then a count. */
export function renderPlan(plan: Plan, c: Colors): string {
  const lines: string[] = (plan.notes ?? []).map((n) => c.cyan(`note: ${n}`));
  for (const r of plan.resources) {
    if (r.action === "noop") continue;
    const color = colorFor(c, r.action);
    lines.push(`${color(SYMBOL[r.action].padStart(3))} ${r.logicalId} ${c.dim(`(${r.type})`)} ${color(r.action)}${r.physicalId ? ` ${c.dim(r.physicalId)}` : ""}${r.reason ? ` ${c.dim(`- ${r.reason}`)}` : ""}`);
    for (const change of r.changes) for (const line of changeLines(change)) lines.push(`      ${line}`);
  }
  const adopted = plan.resources.filter((r) => r.action === "noop" && !r.inState && r.actual);
  for (const r of adopted) lines.push(`  ${c.cyan("←")} ${r.logicalId} ${c.dim(`(${r.type})`)} found by its tags: recorded in state ${c.dim(r.physicalId ?? "")}`);
  const n = countActions(plan);
  lines.push(
    n.create + n.update + n.replace + n.delete === 0
      ? `No changes: ${n.noop} resources match the config.`
      : `Plan: ${n.create} to create, ${n.update} to update, ${n.replace} to replace, ${n.delete} to delete, ${n.noop} unchanged.`,
  );
  for (const e of plan.errors) lines.push(c.red(`could not read ${e.logicalId}: ${e.error.message}`));
  return lines.join("\n");
}

export function planJson(plan: Plan) {
  return {
    summary: countActions(plan),
    resources: plan.resources.map((r) => ({
      logicalId: r.logicalId,
      type: r.type,
      action: r.action,
      physicalId: r.physicalId ?? null,
      reason: r.reason ?? null,
      changes: r.changes,
    })),
    errors: plan.errors.map((e) => ({ logicalId: e.logicalId, message: e.error.message })),
    notes: plan.notes ?? [],
  };
}

/**
 * The closing summary of up or down: counts, and every failure with its AWS error code. An interrupted run (Ctrl-C,
 * SIGTERM) says so instead of "complete", and lists what it left in flight: the resources whose wait the signal ended,
 * which AWS carries on with and the next run picks up.
 */
export function renderApplySummary(result: Pick<ApplyResult, "resources">, c: Colors, verb: "Apply" | "Destroy", options: { verbose?: boolean; interrupted?: boolean } = {}): string {
  const done = result.resources.filter((r) => r.status === "done");
  const count = (a: string) => done.filter((r) => r.action === a).length;
  const stopped = (r: ResourceResult) => Boolean(options.interrupted) && r.error?.code === "AbortError";
  const inFlight = result.resources.filter((r) => r.status === "failed" && stopped(r));
  const failed = result.resources.filter((r) => r.status === "failed" && !stopped(r));
  const skipped = result.resources.filter((r) => r.status === "skipped");
  const outcome = options.interrupted ? c.yellow(`${verb} interrupted`) : failed.length ? c.red(`${verb} failed`) : c.green(`${verb} complete`);
  const lines = [
    verb === "Apply"
      ? `${outcome}: ${count("create")} created, ${count("update")} updated, ${count("replace")} replaced, ${count("delete")} deleted, ${count("adopt")} adopted, ${count("noop")} unchanged.`
      : `${outcome}: ${count("delete")} deleted.`,
  ];
  if (inFlight.length) {
    lines.push(
      "",
      `Left in flight (AWS carries on with them; state records what was done, and the next run picks them up): ${inFlight.map((r) => r.logicalId).join(", ")}`,
    );
  }
  if (failed.length) {
    lines.push("", "Failed:");
    lines.push(renderTable(["RESOURCE", "ERROR CODE", "MESSAGE"], failed.map((r) => [r.logicalId, r.error?.code ?? "-", r.error?.message ?? ""])));
    // --verbose: the request id and HTTP status of each failed AWS call, for AWS Support and CloudTrail; never payloads.
    const requests = failed.filter((r) => r.error?.requestId);
    if (options.verbose && requests.length) {
      lines.push(renderTable(["RESOURCE", "AWS REQUEST ID", "HTTP"], requests.map((r) => [r.logicalId, r.error!.requestId!, String(r.error!.httpStatus ?? "?")])));
    }
  }
  if (skipped.length) lines.push("", `Not attempted (a dependency failed or the run was interrupted): ${skipped.map((r) => r.logicalId).join(", ")}`);
  return lines.join("\n");
}
