import type { Config } from "../config/schema.js";
import { namePrefix } from "../config/naming.js";
import { budget } from "../resources/catalog.js";
import type { StackBuilder } from "./builder.js";

export const BUDGET_ID = "operations.budget";

/**
 * The environment's monthly cost budget (AWS Budgets, account-level, named `<project>-<env>`), filtered on the
 * Environment cost allocation tag, with e-mail alerts at 80% of actual and 100% of forecast spend.
 */
export function addBudget(b: StackBuilder, config: Config): void {
  if (!config.budget.enabled) return;
  b.add(BUDGET_ID, budget, {
    name: namePrefix(config),
    amountUsd: config.budget.monthlyUsd,
    environment: config.environment,
    emails: config.budget.emails,
    tags: b.tags(BUDGET_ID),
  });
  if (!config.budget.emails.length) b.note(`the $${config.budget.monthlyUsd} monthly budget has no alert e-mails (budget.emails): it is tracked but nobody is told`);
}
