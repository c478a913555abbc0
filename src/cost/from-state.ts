import type { Plan } from "../engine/plan.js";
import type { Stack } from "../stack/model.js";
import type { ResourceRecord, StateDocument } from "../state/document.js";
import { type Assumptions, type Estimate, footprint, priceFootprint } from "./estimate.js";
import type { PriceTable } from "./prices.js";

/**
 * The estimate of what state records as deployed: instance class, storage and Multi-AZ from the recorded database,
 * NAT gateways and load balancers that exist, task sizes and desired counts from the recorded task definitions and
 * services. Pure. An empty state costs nothing.
 */
export function estimateState(state: StateDocument, table?: PriceTable, assume?: Assumptions): Estimate {
  const resources = Object.entries(state.resources).map(([logicalId, r]) => ({ logicalId, type: r.type, values: r.attributes ?? {} }));
  return priceFootprint(footprint(resources), state.region, table, assume);
}

/**
 * The estimate of what the environment runs once `up` has applied `plan`: resources the plan leaves as they are priced
 * from what state records (a service still at 0 tasks for want of an image costs no Fargate, though the config asks
 * for tasks), the others from the stack's specs, and the database instances `db restore` retired, which `up` keeps.
 * With no changes it equals estimateState: a plan that changes nothing changes no cost.
 */
export function estimatePlanned(stack: Stack, plan: Plan, state: StateDocument, region: string, table?: PriceTable, assume?: Assumptions): Estimate {
  const planned = new Map(plan.resources.map((r) => [r.logicalId, r]));
  const resources = stack.nodes.map((n) => {
    const record = state.resources[n.logicalId];
    const unchanged = planned.get(n.logicalId)?.action === "noop" && record !== undefined;
    return { logicalId: n.logicalId, type: n.type.type, values: unchanged ? (record.attributes ?? {}) : (n.spec as Record<string, unknown>) };
  });
  const retired = retiredRecords(state).map(([logicalId, r]) => ({ logicalId, type: r.type, values: r.attributes ?? {} }));
  return priceFootprint(footprint([...resources, ...retired]), region, table, assume);
}

/** Records `db restore` retired (kept until `db restore --retire-old`): not in the stack, still billed. */
function retiredRecords(state: StateDocument): [string, ResourceRecord][] {
  return Object.entries(state.resources).filter(([, r]) => r.retired !== undefined);
}

/** What the retired database instances cost a month, and their identifiers (none: undefined). */
export function retiredCost(state: StateDocument, table?: PriceTable, assume?: Assumptions): { total: number; identifiers: string[] } | undefined {
  const retired = retiredRecords(state).filter(([, r]) => r.type === "rds:db-instance");
  if (!retired.length) return undefined;
  const fp = footprint(retired.map(([logicalId, r]) => ({ logicalId, type: r.type, values: r.attributes ?? {} })));
  return { total: priceFootprint(fp, state.region, table, assume).total, identifiers: retired.map(([, r]) => r.physicalId) };
}

/**
 * "Estimated monthly cost: $41.20 → $118.07 (+$76.87)", the line plan prints below the plan; "$53.91, no change" when
 * nothing changes. `retired` names the part retired database instances make of it (up keeps them).
 */
export function costDeltaLine(before: Estimate, after: Estimate, retired?: { total: number; identifiers: string[] }, environment?: string): string {
  const delta = Math.round((after.total - before.total) * 100) / 100;
  const sign = delta > 0 ? "+" : delta < 0 ? "-" : "±";
  const change = delta === 0 ? `${usd(after.total)}, no change` : `${usd(before.total)} → ${usd(after.total)} (${sign}${usd(Math.abs(delta))})`;
  const kept = retired
    ? `; ${usd(retired.total)} of it is the retired database instance${retired.identifiers.length > 1 ? "s" : ""} ${retired.identifiers.join(", ")}, kept until 'platform db restore${environment ? ` --env ${environment}` : ""} --retire-old' deletes ${retired.identifiers.length > 1 ? "them" : "it"}`
    : "";
  return `Estimated monthly cost: ${change}${kept}; an estimate at list prices, see 'platform cost'`;
}

export function usd(n: number): string {
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
