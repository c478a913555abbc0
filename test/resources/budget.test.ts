import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { budget, type BudgetSpec } from "../../src/resources/budget.js";
import { budgetsModel, type BudgetsState } from "../fakes/budgets.js";
import { FakeCloud } from "../fakes/cloud.js";
import { testContext, testTags } from "../helpers.js";

const tags = testTags("operations.budget");
const spec: BudgetSpec = { name: "clinical-platform-dev", amountUsd: 25, environment: "dev", emails: ["ops@example.org"], tags };

let cloud: FakeCloud;
let state: BudgetsState;

beforeEach(() => {
  cloud = new FakeCloud();
  const fake = budgetsModel(cloud);
  state = fake.state;
  cloud.install([fake.model]);
});
afterEach(() => cloud.restore());

const mutating = () => cloud.mutatingCalls().map((c) => c.command);

async function created() {
  const attrs = await budget.create(testContext(), spec, { logicalId: "operations.budget" });
  cloud.calls.length = 0;
  return attrs;
}

describe("budgets:budget", () => {
  it("creates a monthly cost budget filtered on the Environment tag, with alerts at 80% actual and 100% forecast", async () => {
    const attrs = await budget.create(testContext(), spec, { logicalId: "operations.budget" });
    const create = cloud.callsTo("CreateBudget")[0]!.input;
    expect(create).toEqual({
      AccountId: "123456789012",
      Budget: {
        BudgetName: "clinical-platform-dev",
        BudgetType: "COST",
        TimeUnit: "MONTHLY",
        BudgetLimit: { Amount: "25", Unit: "USD" },
        CostFilters: { TagKeyValue: ["user:Environment$dev"] },
      },
      NotificationsWithSubscribers: [
        { Notification: { NotificationType: "ACTUAL", ComparisonOperator: "GREATER_THAN", Threshold: 80, ThresholdType: "PERCENTAGE" }, Subscribers: [{ SubscriptionType: "EMAIL", Address: "ops@example.org" }] },
        { Notification: { NotificationType: "FORECASTED", ComparisonOperator: "GREATER_THAN", Threshold: 100, ThresholdType: "PERCENTAGE" }, Subscribers: [{ SubscriptionType: "EMAIL", Address: "ops@example.org" }] },
      ],
      ResourceTags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    });
    expect(attrs).toEqual({
      name: "clinical-platform-dev",
      arn: "arn:aws:budgets::123456789012:budget/clinical-platform-dev",
      amountUsd: 25,
      environment: "dev",
      alerts: [
        { type: "ACTUAL", threshold: 80, emails: ["ops@example.org"] },
        { type: "FORECASTED", threshold: 100, emails: ["ops@example.org"] },
      ],
      tags,
    });
    expect(budget.diff(spec, attrs)).toEqual([]);
  });

  it("creates no notifications when there are no e-mails (a notification needs a subscriber)", async () => {
    const attrs = await budget.create(testContext(), { ...spec, emails: [] }, { logicalId: "operations.budget" });
    expect(cloud.callsTo("CreateBudget")[0]!.input.NotificationsWithSubscribers).toEqual([]);
    expect(attrs.alerts).toEqual([]);
  });

  it("finds by the recorded name, and undefined when the budget is gone", async () => {
    const attrs = await created();
    expect(await budget.find(testContext(), { logicalId: "operations.budget", recorded: attrs })).toEqual(attrs);
    state.budgets.clear();
    expect(await budget.find(testContext(), { logicalId: "operations.budget", recorded: attrs })).toBeUndefined();
  });

  it("changes nothing when the budget matches (no-op)", async () => {
    const attrs = await created();
    const found = (await budget.find(testContext(), { logicalId: "operations.budget", recorded: attrs }))!;
    expect(budget.diff(spec, found)).toEqual([]);
    expect(mutating()).toEqual([]);
  });

  it("updates the amount with UpdateBudget, keeping the filter", async () => {
    const attrs = await created();
    const want = { ...spec, amountUsd: 40 };
    const changes = budget.diff(want, attrs);
    expect(changes).toEqual([{ field: "amountUsd", from: 25, to: 40, action: "update" }]);
    const after = await budget.update!(testContext(), want, attrs, changes);
    expect(mutating()).toEqual(["UpdateBudget"]);
    expect(cloud.callsTo("UpdateBudget")[0]!.input.NewBudget).toMatchObject({ BudgetName: "clinical-platform-dev", BudgetLimit: { Amount: "40", Unit: "USD" }, CostFilters: { TagKeyValue: ["user:Environment$dev"] } });
    expect(after.amountUsd).toBe(40);
    expect(budget.diff(want, after)).toEqual([]);
  });

  it("adds and removes subscribers on both alerts (adding first, so no alert is left without one)", async () => {
    const attrs = await created();
    const want = { ...spec, emails: ["finance@example.org"] };
    const after = await budget.update!(testContext(), want, attrs, budget.diff(want, attrs));
    expect(mutating()).toEqual(["CreateSubscriber", "DeleteSubscriber", "CreateSubscriber", "DeleteSubscriber"]);
    expect(after.alerts.map((a) => a.emails)).toEqual([["finance@example.org"], ["finance@example.org"]]);
  });

  it("creates the alerts when e-mails are added to a budget without any, and deletes them when all are removed", async () => {
    const attrs = await budget.create(testContext(), { ...spec, emails: [] }, { logicalId: "operations.budget" });
    cloud.calls.length = 0;
    const withAlerts = await budget.update!(testContext(), spec, attrs, budget.diff(spec, attrs));
    expect(mutating()).toEqual(["CreateNotification", "CreateNotification"]);
    expect(withAlerts.alerts).toHaveLength(2);
    cloud.calls.length = 0;
    const none = { ...spec, emails: [] };
    const after = await budget.update!(testContext(), none, withAlerts, budget.diff(none, withAlerts));
    expect(mutating()).toEqual(["DeleteNotification", "DeleteNotification"]);
    expect(after.alerts).toEqual([]);
  });

  it("fixes drifted tags with TagResource and UntagResource", async () => {
    const attrs = await created();
    state.budgets.get("clinical-platform-dev")!.tags = { ...tags, Stray: "x", Project: "other" };
    const drifted = (await budget.find(testContext(), { logicalId: "operations.budget", recorded: attrs }))!;
    const after = await budget.update!(testContext(), spec, drifted, budget.diff(spec, drifted));
    expect(mutating()).toEqual(["UntagResource", "TagResource"]);
    expect(after.tags).toEqual(tags);
  });

  it("deletes, and treats a budget already gone as deleted", async () => {
    const attrs = await created();
    await budget.destroy(testContext(), attrs);
    expect(state.budgets.size).toBe(0);
    await expect(budget.destroy(testContext(), attrs)).resolves.toBeUndefined();
  });

  it("details: spend to date against the limit, with the forecast", async () => {
    const attrs = await created();
    state.spend.set("clinical-platform-dev", { actual: 12.5, forecast: 31.2 });
    expect(await budget.details!(testContext(), attrs)).toBe("spent $12.50 of $25.00 this month (forecast $31.20)");
    state.spend.set("clinical-platform-dev", { actual: 3 });
    expect(await budget.details!(testContext(), attrs)).toBe("spent $3.00 of $25.00 this month");
  });
});
