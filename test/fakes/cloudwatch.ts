import { CloudWatchClient, CloudWatchServiceException, DashboardNotFoundError, InvalidParameterValueException, ResourceNotFound, ResourceNotFoundException } from "@aws-sdk/client-cloudwatch";
import { awsError, type FakeCloud, fromTagList, type ServiceModel, type Tags, toTagList } from "./cloud.js";
import type { TagSource } from "./tagging.js";

/**
 * The CloudWatch part of the fake: metric alarms (stored as PutMetricAlarm's input, with a state value tests may set)
 * and dashboards (bodies as submitted). Like CloudWatch, Tags on PutMetricAlarm apply only when the alarm is created.
 */
export interface FakeAlarm {
  input: Record<string, any>;
  arn: string;
  StateValue: "OK" | "ALARM" | "INSUFFICIENT_DATA";
  tags: Tags;
}

export interface CloudWatchState {
  alarms: Map<string, FakeAlarm>;
  dashboards: Map<string, { body: string; arn: string }>;
}

type ExceptionClass = new (options: { message: string; $metadata: Record<string, unknown> }) => Error;
const fail = (Exception: unknown, message: string) => new (Exception as ExceptionClass)({ message, $metadata: { httpStatusCode: 400, requestId: "fake-request-id" } });
const invalid = (message: string) => fail(InvalidParameterValueException, message);
const STATS = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
const OPERATORS = ["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"];

function validateAlarm(input: Record<string, any>): void {
  if (!input.AlarmName || input.AlarmName.length > 255) throw invalid("AlarmName must be 1-255 characters.");
  if (!OPERATORS.includes(input.ComparisonOperator)) throw invalid(`Invalid ComparisonOperator ${input.ComparisonOperator}.`);
  if (typeof input.Threshold !== "number" || !(input.EvaluationPeriods >= 1)) throw invalid("Threshold and EvaluationPeriods are required.");
  if (input.DatapointsToAlarm !== undefined && input.DatapointsToAlarm > input.EvaluationPeriods) throw invalid("DatapointsToAlarm must not exceed EvaluationPeriods.");
  const single = input.MetricName !== undefined;
  if (single === Boolean(input.Metrics?.length)) throw awsError(CloudWatchServiceException, "ValidationError", "Exactly one of MetricName and Metrics must be given.");
  if (single) {
    if (!input.Namespace || !input.Period) throw invalid("Namespace and Period are required with MetricName.");
    if ((input.Statistic === undefined) === (input.ExtendedStatistic === undefined)) throw invalid("Exactly one of Statistic and ExtendedStatistic must be given.");
    if (input.Statistic !== undefined && !STATS.includes(input.Statistic)) throw invalid(`Invalid Statistic ${input.Statistic}.`);
  } else {
    const returning = input.Metrics.filter((m: any) => m.ReturnData !== false);
    if (returning.length !== 1) throw awsError(CloudWatchServiceException, "ValidationError", "Exactly one element of the metrics list should return data.");
    for (const m of input.Metrics) if (Boolean(m.Expression) === Boolean(m.MetricStat)) throw invalid("Each metric query needs exactly one of Expression and MetricStat.");
  }
  for (const d of input.Dimensions ?? []) if (String(d.Value).startsWith("arn:")) throw invalid(`Dimension ${d.Name} looks like an ARN; CloudWatch expects the dimension value.`);
}

export function cloudWatchModel(cloud: FakeCloud, state: CloudWatchState = { alarms: new Map(), dashboards: new Map() }) {
  const arnOf = (name: string) => `arn:aws:cloudwatch:${cloud.region}:${cloud.accountId}:alarm:${name}`;
  const byArn = (arn: string) => [...state.alarms.values()].find((a) => a.arn === arn);
  const alarmShape = (a: FakeAlarm) => {
    const { Tags: _t, ...input } = a.input;
    return { ...input, AlarmArn: a.arn, StateValue: a.StateValue, ActionsEnabled: input.ActionsEnabled ?? true };
  };
  const handlers: Record<string, (input: any) => unknown> = {
    PutMetricAlarm: (input) => {
      validateAlarm(input);
      const existing = state.alarms.get(input.AlarmName);
      state.alarms.set(input.AlarmName, {
        input: structuredClone(input),
        arn: arnOf(input.AlarmName),
        StateValue: existing?.StateValue ?? "INSUFFICIENT_DATA",
        tags: existing ? existing.tags : fromTagList(input.Tags),
      });
      return {};
    },
    DescribeAlarms: (input) => {
      const alarms = [...state.alarms.values()]
        .filter((a) => !input.AlarmNames?.length || input.AlarmNames.includes(a.input.AlarmName))
        .filter((a) => !input.StateValue || a.StateValue === input.StateValue);
      const wantMetric = !input.AlarmTypes?.length || input.AlarmTypes.includes("MetricAlarm");
      return { MetricAlarms: wantMetric ? alarms.map(alarmShape) : [], CompositeAlarms: [] };
    },
    DeleteAlarms: (input) => {
      for (const name of input.AlarmNames ?? []) state.alarms.delete(name);
      return {};
    },
    ListTagsForResource: (input) => {
      const alarm = byArn(input.ResourceARN);
      if (!alarm) throw fail(ResourceNotFoundException, "The specified resource does not exist.");
      return { Tags: toTagList(alarm.tags) };
    },
    TagResource: (input) => {
      const alarm = byArn(input.ResourceARN);
      if (!alarm) throw fail(ResourceNotFoundException, "The specified resource does not exist.");
      Object.assign(alarm.tags, fromTagList(input.Tags));
      return {};
    },
    UntagResource: (input) => {
      const alarm = byArn(input.ResourceARN);
      if (!alarm) throw fail(ResourceNotFoundException, "The specified resource does not exist.");
      for (const k of input.TagKeys ?? []) delete alarm.tags[k];
      return {};
    },
    PutDashboard: (input) => {
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(input.DashboardName ?? "")) throw awsError(CloudWatchServiceException, "InvalidParameterInput", "Invalid dashboard name.");
      const body = JSON.parse(input.DashboardBody);
      if (!Array.isArray(body.widgets)) throw awsError(CloudWatchServiceException, "InvalidParameterInput", "The dashboard body is invalid: widgets must be a list.");
      state.dashboards.set(input.DashboardName, { body: input.DashboardBody, arn: `arn:aws:cloudwatch::${cloud.accountId}:dashboard/${input.DashboardName}` });
      return { DashboardValidationMessages: [] };
    },
    GetDashboard: (input) => {
      const d = state.dashboards.get(input.DashboardName);
      if (!d) throw fail(ResourceNotFound, "Dashboard does not exist");
      return { DashboardName: input.DashboardName, DashboardArn: d.arn, DashboardBody: d.body };
    },
    DeleteDashboards: (input) => {
      const missing = (input.DashboardNames ?? []).filter((n: string) => !state.dashboards.has(n));
      if (missing.length) throw fail(DashboardNotFoundError, `Dashboards ${missing.join(", ")} do not exist`);
      for (const n of input.DashboardNames) state.dashboards.delete(n);
      return {};
    },
  };
  const model: ServiceModel = { service: "cloudwatch", client: CloudWatchClient, handlers };
  const taggingSources: TagSource[] = [() => [...state.alarms.values()].map((a) => ({ arn: a.arn, tags: { ...a.tags } }))];
  return { model, state, taggingSources };
}
