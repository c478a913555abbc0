import { BudgetsClient, BudgetsServiceException } from "@aws-sdk/client-budgets";
import { awsError, fromTagList, type FakeCloud, type ServiceModel, type Tags } from "./cloud.js";

/**
 * AWS Budgets: cost budgets by name per account, their notifications and e-mail subscribers, tags by ARN, and a
 * CalculatedSpend tests can set (`state.spend`). Validation follows the API reference: a notification needs 1–10
 * subscribers, names are ≤ 100 characters without ":" or "\", the account id must be the caller's.
 */
export interface FakeNotification {
  NotificationType: string;
  ComparisonOperator: string;
  Threshold: number;
  ThresholdType: string;
  subscribers: { SubscriptionType: string; Address: string }[];
}

export interface FakeBudget {
  budget: Record<string, any>;
  notifications: FakeNotification[];
  tags: Tags;
}

export interface BudgetsState {
  budgets: Map<string, FakeBudget>;
  /** Budget name → spend Budgets reports (actual, forecast), in USD. */
  spend: Map<string, { actual: number; forecast?: number }>;
}

export const budgetsError = (code: string, message: string, status = 400) => awsError(BudgetsServiceException, code, message, status);

export function budgetsModel(cloud: FakeCloud): { model: ServiceModel; state: BudgetsState } {
  const state: BudgetsState = { budgets: new Map(), spend: new Map() };
  const arnOf = (name: string) => `arn:aws:budgets::${cloud.accountId}:budget/${name}`;

  const account = (input: any) => {
    if (input.AccountId !== cloud.accountId) throw budgetsError("AccessDeniedException", `Account ${input.AccountId} is not the caller's`);
  };
  const get = (input: any): FakeBudget => {
    account(input);
    const b = state.budgets.get(input.BudgetName);
    if (!b) throw budgetsError("NotFoundException", `Unable to get budget: ${input.BudgetName} - the budget doesn't exist.`);
    return b;
  };
  const checkBudget = (b: any) => {
    if (typeof b?.BudgetName !== "string" || !/^[^:\\]{1,100}$/.test(b.BudgetName)) throw budgetsError("InvalidParameterException", "Invalid BudgetName");
    if (b.BudgetType !== "COST" && b.BudgetType !== "USAGE") throw budgetsError("InvalidParameterException", "Invalid BudgetType");
    if (!["DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY"].includes(b.TimeUnit)) throw budgetsError("InvalidParameterException", "Invalid TimeUnit");
    if (typeof b.BudgetLimit?.Amount !== "string" || !(Number(b.BudgetLimit.Amount) > 0) || !b.BudgetLimit.Unit) throw budgetsError("InvalidParameterException", "Invalid BudgetLimit");
  };
  const checkNotification = (n: any) => {
    if (!["ACTUAL", "FORECASTED"].includes(n?.NotificationType) || !["GREATER_THAN", "LESS_THAN", "EQUAL_TO"].includes(n?.ComparisonOperator) || typeof n?.Threshold !== "number") {
      throw budgetsError("InvalidParameterException", "Invalid Notification");
    }
  };
  const checkSubscribers = (subs: any[]) => {
    if (!Array.isArray(subs) || subs.length < 1 || subs.length > 10) throw budgetsError("InvalidParameterException", "A notification needs 1 to 10 subscribers");
    for (const s of subs) if (s.SubscriptionType !== "EMAIL" && s.SubscriptionType !== "SNS") throw budgetsError("InvalidParameterException", "Invalid SubscriptionType");
  };
  const same = (a: any, n: any) => a.NotificationType === n.NotificationType && a.ComparisonOperator === n.ComparisonOperator && a.Threshold === n.Threshold && (a.ThresholdType ?? "PERCENTAGE") === (n.ThresholdType ?? "PERCENTAGE");
  const notification = (b: FakeBudget, n: any) => {
    const found = b.notifications.find((x) => same(x, n));
    if (!found) throw budgetsError("NotFoundException", "Unable to find notification");
    return found;
  };
  const view = (n: FakeNotification) => ({ NotificationType: n.NotificationType, ComparisonOperator: n.ComparisonOperator, Threshold: n.Threshold, ThresholdType: n.ThresholdType, NotificationState: "OK" });

  const handlers: Record<string, (input: any) => unknown> = {
    CreateBudget(input) {
      account(input);
      checkBudget(input.Budget);
      if (state.budgets.has(input.Budget.BudgetName)) throw budgetsError("DuplicateRecordException", `Error creating budget: ${input.Budget.BudgetName} - the budget already exists.`);
      const notifications = (input.NotificationsWithSubscribers ?? []).map((ns: any) => {
        checkNotification(ns.Notification);
        checkSubscribers(ns.Subscribers);
        return { ThresholdType: "PERCENTAGE", ...ns.Notification, subscribers: ns.Subscribers };
      });
      const { CalculatedSpend: _c, ...budget } = input.Budget;
      state.budgets.set(input.Budget.BudgetName, { budget, notifications, tags: fromTagList(input.ResourceTags) });
      return {};
    },
    DescribeBudget(input) {
      const b = get(input);
      const spend = state.spend.get(input.BudgetName) ?? { actual: 0 };
      return {
        Budget: {
          ...b.budget,
          BudgetLimit: { Amount: Number(b.budget.BudgetLimit.Amount).toFixed(1), Unit: b.budget.BudgetLimit.Unit },
          CalculatedSpend: {
            ActualSpend: { Amount: String(spend.actual), Unit: "USD" },
            ...(spend.forecast !== undefined ? { ForecastedSpend: { Amount: String(spend.forecast), Unit: "USD" } } : {}),
          },
        },
      };
    },
    UpdateBudget(input) {
      const b = get({ AccountId: input.AccountId, BudgetName: input.NewBudget?.BudgetName });
      checkBudget(input.NewBudget);
      const { CalculatedSpend: _c, ...budget } = input.NewBudget;
      b.budget = budget;
      return {};
    },
    DeleteBudget(input) {
      get(input);
      state.budgets.delete(input.BudgetName);
      return {};
    },
    DescribeNotificationsForBudget(input) {
      return { Notifications: get(input).notifications.map(view) };
    },
    DescribeSubscribersForNotification(input) {
      return { Subscribers: notification(get(input), input.Notification).subscribers };
    },
    CreateNotification(input) {
      const b = get(input);
      checkNotification(input.Notification);
      checkSubscribers(input.Subscribers);
      if (b.notifications.some((x) => same(x, input.Notification))) throw budgetsError("DuplicateRecordException", "Notification already exists");
      b.notifications.push({ ThresholdType: "PERCENTAGE", ...input.Notification, subscribers: input.Subscribers });
      return {};
    },
    DeleteNotification(input) {
      const b = get(input);
      const n = notification(b, input.Notification);
      b.notifications = b.notifications.filter((x) => x !== n);
      return {};
    },
    CreateSubscriber(input) {
      const n = notification(get(input), input.Notification);
      if (n.subscribers.some((s) => s.Address === input.Subscriber.Address)) throw budgetsError("DuplicateRecordException", "Subscriber already exists");
      if (n.subscribers.length >= 10) throw budgetsError("InvalidParameterException", "A notification can have at most 10 subscribers");
      n.subscribers.push(input.Subscriber);
      return {};
    },
    DeleteSubscriber(input) {
      const n = notification(get(input), input.Notification);
      if (!n.subscribers.some((s) => s.Address === input.Subscriber.Address)) throw budgetsError("NotFoundException", "Subscriber not found");
      if (n.subscribers.length === 1) throw budgetsError("InvalidParameterException", "A notification must have at least one subscriber");
      n.subscribers = n.subscribers.filter((s) => s.Address !== input.Subscriber.Address);
      return {};
    },
    ListTagsForResource(input) {
      const b = [...state.budgets.entries()].find(([name]) => arnOf(name) === input.ResourceARN)?.[1];
      if (!b) throw budgetsError("NotFoundException", `Resource ${input.ResourceARN} not found`);
      return { ResourceTags: Object.entries(b.tags).map(([Key, Value]) => ({ Key, Value })) };
    },
    TagResource(input) {
      const b = [...state.budgets.entries()].find(([name]) => arnOf(name) === input.ResourceARN)?.[1];
      if (!b) throw budgetsError("NotFoundException", `Resource ${input.ResourceARN} not found`);
      Object.assign(b.tags, fromTagList(input.ResourceTags));
      return {};
    },
    UntagResource(input) {
      const b = [...state.budgets.entries()].find(([name]) => arnOf(name) === input.ResourceARN)?.[1];
      if (!b) throw budgetsError("NotFoundException", `Resource ${input.ResourceARN} not found`);
      for (const k of input.ResourceTagKeys ?? []) delete b.tags[k];
      return {};
    },
  };
  // Not a tagging-API source: whether GetResources lists budgets was not confirmed.
  return { model: { service: "budgets", client: BudgetsClient, handlers }, state };
}
