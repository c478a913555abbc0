import {
  type Budget,
  BudgetsClient,
  CreateBudgetCommand,
  CreateNotificationCommand,
  CreateSubscriberCommand,
  DeleteBudgetCommand,
  DeleteNotificationCommand,
  DeleteSubscriberCommand,
  DescribeBudgetCommand,
  paginateDescribeNotificationsForBudget,
  DescribeSubscribersForNotificationCommand,
  ListTagsForResourceCommand,
  type Notification,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateBudgetCommand,
} from "@aws-sdk/client-budgets";
import { awsFailure, hasCode, orUndefined } from "../aws/errors.js";
import { tagList, tagRecord } from "../aws/tags.js";
import { compareFields, compareTags, knownKey, sameValue, tagDelta, type ResourceContext, type ResourceType } from "./types.js";

/**
 * A monthly AWS Budgets cost budget for one environment, with e-mail alerts at 80% of actual spend and 100% of
 * forecast spend. Budgets are account-level: the name `<project>-<env>` is the key, and spend is filtered on the
 * cost allocation tag Environment (CostFilters TagKeyValue "user:Environment$<env>").
 */
export interface BudgetSpec {
  /** ≤ 100 characters, no ":" or "\". */
  name: string;
  amountUsd: number;
  /** The Environment tag value spend is filtered on. */
  environment: string;
  /** Subscribers of both alerts; none: the budget has no alerts (a notification needs at least one subscriber). */
  emails: string[];
  tags: Record<string, string>;
}

export interface BudgetAlert {
  type: "ACTUAL" | "FORECASTED";
  /** Percent of the budget. */
  threshold: number;
  /** Sorted. */
  emails: string[];
}

export interface BudgetAttrs {
  name: string;
  arn: string;
  amountUsd: number;
  environment: string;
  /** Sorted by type. */
  alerts: BudgetAlert[];
  tags: Record<string, string>;
}

const KIND = "AWS Budgets budget";
/** Alerts every budget gets: 80% of actual spend, 100% of forecast spend. */
export const BUDGET_ALERTS: Omit<BudgetAlert, "emails">[] = [
  { type: "ACTUAL", threshold: 80 },
  { type: "FORECASTED", threshold: 100 },
];

export const TAG_FILTER_KEY = "TagKeyValue";
/** Cost Explorer's form of a user tag filter: `user:<key>$<value>`. */
export const environmentFilter = (environment: string) => `user:Environment$${environment}`;

const client = (ctx: ResourceContext) => ctx.aws.get(BudgetsClient);
const arnOf = (ctx: ResourceContext, name: string) => `arn:aws:budgets::${ctx.accountId}:budget/${name}`;

function notificationOf(alert: Pick<BudgetAlert, "type" | "threshold">): Notification {
  return { NotificationType: alert.type, ComparisonOperator: "GREATER_THAN", Threshold: alert.threshold, ThresholdType: "PERCENTAGE" };
}

function wantedAlerts(spec: BudgetSpec): BudgetAlert[] {
  if (!spec.emails.length) return [];
  const emails = [...new Set(spec.emails)].sort();
  return BUDGET_ALERTS.map((a) => ({ ...a, emails }));
}

function budgetInput(spec: BudgetSpec): Budget {
  return {
    BudgetName: spec.name,
    BudgetType: "COST",
    TimeUnit: "MONTHLY",
    BudgetLimit: { Amount: String(spec.amountUsd), Unit: "USD" },
    CostFilters: { [TAG_FILTER_KEY]: [environmentFilter(spec.environment)] },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Finders

/** The budget by name; NotFoundException (classified in aws/errors.ts) is undefined. */
export async function describeBudget(ctx: ResourceContext, name: string): Promise<Budget | undefined> {
  const out = await orUndefined(client(ctx).send(new DescribeBudgetCommand({ AccountId: ctx.accountId, BudgetName: name })));
  return out?.Budget;
}

async function readAlerts(ctx: ResourceContext, name: string): Promise<BudgetAlert[]> {
  const alerts: BudgetAlert[] = [];
  for await (const out of paginateDescribeNotificationsForBudget({ client: client(ctx) }, { AccountId: ctx.accountId, BudgetName: name })) {
    for (const n of out.Notifications ?? []) {
      const subs = await client(ctx).send(new DescribeSubscribersForNotificationCommand({ AccountId: ctx.accountId, BudgetName: name, Notification: n }));
      const emails = (subs.Subscribers ?? []).filter((s) => s.SubscriptionType === "EMAIL").map((s) => s.Address!).sort();
      alerts.push({ type: n.NotificationType as BudgetAlert["type"], threshold: n.Threshold ?? 0, emails });
    }
  }
  return alerts.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.threshold - b.threshold));
}

/** The environment a budget filters on, when it filters on exactly one Environment tag value. */
function filteredEnvironment(budget: Budget): string | undefined {
  const values = budget.CostFilters?.[TAG_FILTER_KEY] ?? [];
  const prefix = "user:Environment$";
  return values.length === 1 && values[0]!.startsWith(prefix) ? values[0]!.slice(prefix.length) : undefined;
}

async function toAttrs(ctx: ResourceContext, budget: Budget): Promise<BudgetAttrs> {
  const name = budget.BudgetName!;
  const arn = arnOf(ctx, name);
  const [alerts, tags] = await Promise.all([
    readAlerts(ctx, name),
    client(ctx).send(new ListTagsForResourceCommand({ ResourceARN: arn })).then((o) => tagRecord(o.ResourceTags)),
  ]);
  return { name, arn, amountUsd: Number(budget.BudgetLimit?.Amount ?? 0), environment: filteredEnvironment(budget) ?? "", alerts, tags };
}

export async function findBudgetByName(ctx: ResourceContext, name: string): Promise<BudgetAttrs | undefined> {
  const budget = await describeBudget(ctx, name);
  return budget ? toAttrs(ctx, budget) : undefined;
}

async function readBack(ctx: ResourceContext, name: string): Promise<BudgetAttrs> {
  const found = await findBudgetByName(ctx, name);
  if (!found) throw new Error(`reading ${KIND} (${name}) back: it is not visible; run again`);
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// Actions

async function createBudget(ctx: ResourceContext, spec: BudgetSpec): Promise<void> {
  try {
    await client(ctx).send(
      new CreateBudgetCommand({
        AccountId: ctx.accountId,
        Budget: budgetInput(spec),
        NotificationsWithSubscribers: wantedAlerts(spec).map((a) => ({
          Notification: notificationOf(a),
          Subscribers: a.emails.map((Address) => ({ SubscriptionType: "EMAIL" as const, Address })),
        })),
        ResourceTags: tagList(spec.tags),
      }),
    );
  } catch (err) {
    // The name is taken (a run that stopped before recording it, a lost answer): the engine looks the budget up by it.
    if (hasCode(err, "DuplicateRecordException")) throw err;
    throw awsFailure(`creating ${KIND} (${spec.name})`, err);
  }
}

/** Adds missing alerts, fixes subscribers of existing ones, deletes alerts we do not want. */
async function syncAlerts(ctx: ResourceContext, name: string, want: BudgetAlert[], have: BudgetAlert[]): Promise<void> {
  const key = (a: Pick<BudgetAlert, "type" | "threshold">) => `${a.type}:${a.threshold}`;
  const base = { AccountId: ctx.accountId, BudgetName: name };
  const haveByKey = new Map(have.map((a) => [key(a), a]));
  const wantKeys = new Set(want.map(key));
  for (const a of have.filter((h) => !wantKeys.has(key(h)))) {
    await orUndefined(client(ctx).send(new DeleteNotificationCommand({ ...base, Notification: notificationOf(a) })));
  }
  for (const a of want) {
    const existing = haveByKey.get(key(a));
    if (!existing) {
      await client(ctx).send(
        new CreateNotificationCommand({ ...base, Notification: notificationOf(a), Subscribers: a.emails.map((Address) => ({ SubscriptionType: "EMAIL", Address })) }),
      );
      continue;
    }
    // A notification must keep at least one subscriber: add before removing.
    for (const Address of a.emails.filter((e) => !existing.emails.includes(e))) {
      await client(ctx).send(new CreateSubscriberCommand({ ...base, Notification: notificationOf(a), Subscriber: { SubscriptionType: "EMAIL", Address } }));
    }
    for (const Address of existing.emails.filter((e) => !a.emails.includes(e))) {
      await orUndefined(client(ctx).send(new DeleteSubscriberCommand({ ...base, Notification: notificationOf(a), Subscriber: { SubscriptionType: "EMAIL", Address } })));
    }
  }
}

async function applyTags(ctx: ResourceContext, arn: string, want: Record<string, string>, have: Record<string, string>): Promise<void> {
  const { set, remove } = tagDelta(want, have);
  if (remove.length) await client(ctx).send(new UntagResourceCommand({ ResourceARN: arn, ResourceTagKeys: remove }));
  if (Object.keys(set).length) await client(ctx).send(new TagResourceCommand({ ResourceARN: arn, ResourceTags: tagList(set) }));
}

const money = (amount: string | undefined) => `$${Number(amount ?? 0).toFixed(2)}`;

export const budget: ResourceType<BudgetSpec, BudgetAttrs> = {
  type: "budgets:budget",

  // The name is the key; a budget of that name is ours only when it filters on our Environment tag (else create says so).
  async find(ctx, { recorded, wanted }) {
    const name = knownKey(recorded?.name, wanted?.name);
    if (!name) return undefined;
    return findBudgetByName(ctx, name);
  },

  // A budget takes tags only recently: the one of our name is ours when it filters on this environment's tag.
  owns: (ctx, actual) => actual.environment === ctx.identity.environment,

  diff(spec, actual) {
    const want = { amountUsd: spec.amountUsd, environment: spec.environment, alerts: wantedAlerts(spec) };
    return [
      ...compareFields(want, actual, [{ field: "amountUsd" }, { field: "environment" }]),
      ...(sameValue(want.alerts, actual.alerts) ? [] : [{ field: "alerts", from: actual.alerts, to: want.alerts, action: "update" as const }]),
      ...compareTags(spec.tags, actual.tags),
    ];
  },

  async create(ctx, spec) {
    await createBudget(ctx, spec);
    return readBack(ctx, spec.name);
  },

  async update(ctx, spec, actual, changes) {
    const fields = new Set(changes.map((c) => c.field));
    if (fields.has("amountUsd") || fields.has("environment")) {
      await client(ctx).send(new UpdateBudgetCommand({ AccountId: ctx.accountId, NewBudget: budgetInput(spec) }));
    }
    if (fields.has("alerts")) await syncAlerts(ctx, actual.name, wantedAlerts(spec), actual.alerts);
    if (fields.has("tags")) await applyTags(ctx, actual.arn, spec.tags, actual.tags);
    return readBack(ctx, actual.name);
  },

  async destroy(ctx, actual) {
    await orUndefined(client(ctx).send(new DeleteBudgetCommand({ AccountId: ctx.accountId, BudgetName: actual.name })));
  },

  physicalId: (a) => a.name,

  /** Spend so far this month against the limit, from the budget's CalculatedSpend (Budgets refreshes it a few times a day). */
  async details(ctx, a) {
    const b = await describeBudget(ctx, a.name);
    if (!b) return undefined;
    const spend = b.CalculatedSpend;
    const forecast = spend?.ForecastedSpend?.Amount !== undefined ? ` (forecast ${money(spend.ForecastedSpend.Amount)})` : "";
    return `spent ${money(spend?.ActualSpend?.Amount)} of ${money(b.BudgetLimit?.Amount)} this month${forecast}`;
  },
};
