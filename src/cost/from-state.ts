import type { StateDocument } from "../state/document.js";
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

/** "Estimated monthly cost: $41.20 → $118.07 (+$76.87)", the line plan prints below the plan. */
export function costDeltaLine(before: Estimate, after: Estimate): string {
  const delta = Math.round((after.total - before.total) * 100) / 100;
  const sign = delta > 0 ? "+" : delta < 0 ? "-" : "±";
  return `Estimated monthly cost: ${usd(before.total)} → ${usd(after.total)} (${sign}${usd(Math.abs(delta))}); an estimate at list prices, see 'platform cost'`;
}

export function usd(n: number): string {
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
