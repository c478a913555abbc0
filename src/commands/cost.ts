import { estimateConfig, type Estimate } from "../cost/estimate.js";
import { usd } from "../cost/from-state.js";
import { renderTable } from "../ui/table.js";
import type { CommandContext } from "./runtime.js";

/**
 * `platform cost`: the estimated monthly cost of the environment from its config alone (no AWS call): one line per
 * priced item, the total, the prices' region and date, what is assumed and what is left out.
 */
export async function costCommand(cc: CommandContext): Promise<number> {
  const { config } = cc.loadConfig();
  const estimate = estimateConfig(config);
  if (cc.opts.json) {
    cc.json({ environment: config.environment, estimate: true, currency: "USD", ...estimate });
    return 0;
  }
  cc.say(`ESTIMATE, not a bill: monthly cost of ${config.project} ${config.environment} in ${config.region} at on-demand list prices`);
  cc.say(`Prices: ${estimate.basis}, taken ${estimate.pricesTaken} from ${estimate.sources.join("; ")}.`);
  if (!estimate.exact) cc.say(cc.c.yellow(`Prices for ${config.region} are approximated from us-east-1's.`));
  cc.say("");
  cc.say(render(estimate));
  for (const u of estimate.unpriced) cc.say(cc.c.yellow(`Not priced: ${u}`));
  cc.say("");
  cc.say(`Assumed: ${estimate.assumptions.join("; ")}.`);
  cc.say(`Excluded: ${estimate.excluded.join("; ")}.`);
  return 0;
}

function render(e: Estimate): string {
  const rows = e.items.map((i) => [i.item, `${formatQty(i.quantity)} ${i.unit}`, i.unitPrice === undefined ? "no price" : `$${formatPrice(i.unitPrice)}`, usd(i.monthly)]);
  rows.push(["Total (estimate)", "", "", usd(e.total)]);
  return renderTable(["ITEM", "QUANTITY", "UNIT PRICE", "MONTHLY"], rows);
}

const formatQty = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));
const formatPrice = (n: number) => String(Math.round(n * 1e6) / 1e6);
