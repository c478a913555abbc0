import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  paginateDescribeAlarms,
  ListTagsForResourceCommand,
  type MetricAlarm,
  type MetricDataQuery,
  PutMetricAlarmCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-cloudwatch";
import { orUndefined } from "../aws/errors.js";
import { tagList, tagRecord } from "../aws/tags.js";
import { batchedRead } from "./read-batch.js";
import { compareFields, compareTags, knownKey, tagDelta, type Change, type ResourceContext, type ResourceType } from "./types.js";

/** A metric and the statistic read from it: `stat` is "Average", "Sum", "Maximum", "Minimum", "SampleCount" or a percentile ("p95"). */
export interface AlarmMetric {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  stat: string;
  period: number;
}

/** One line of a metric-math alarm: a metric (returnData false) or an expression over the others (the one returnData true). */
export interface AlarmQuery {
  id: string;
  label?: string;
  metric?: AlarmMetric;
  expression?: string;
  returnData: boolean;
}

export interface MetricAlarmSpec {
  /** ≤ 255 characters, unique in the account and region. */
  name: string;
  description: string;
  /** A single metric, or `queries` (metric math); exactly one of the two. */
  metric?: AlarmMetric;
  queries?: AlarmQuery[];
  comparisonOperator: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold" | "LessThanOrEqualToThreshold";
  threshold: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  treatMissingData: "missing" | "notBreaching" | "breaching" | "ignore";
  /** SNS topic ARNs notified on ALARM and back to OK. */
  alarmActions: string[];
  okActions: string[];
  tags: Record<string, string>;
}

export interface MetricAlarmAttrs extends MetricAlarmSpec {
  arn: string;
  /** "OK", "ALARM" or "INSUFFICIENT_DATA" when last read. */
  stateValue: string;
}

const KIND = "CloudWatch alarm";
const cw = (ctx: ResourceContext) => ctx.aws.get(CloudWatchClient);
const PERCENTILE = /^p\d{1,2}(\.\d+)?$/;
const ELB_ARN = /^arn:aws[\w-]*:elasticloadbalancing:[^:]+:\d{12}:(loadbalancer\/(.+)|targetgroup\/.+)$/;

/**
 * CloudWatch's ELB dimensions are not ARNs: LoadBalancer is "app/<name>/<id>" (the ARN after "loadbalancer/") and
 * TargetGroup "targetgroup/<name>/<id>" (the ARN after the last ":"). The stack refers to ARNs; this cuts them.
 */
export function metricDimensionValue(value: string): string {
  const m = ELB_ARN.exec(value);
  if (!m) return value;
  return m[2] ?? m[1]!;
}

function dimensionsOf(dims: Record<string, string>) {
  return Object.entries(dims).map(([Name, Value]) => ({ Name, Value: metricDimensionValue(Value) }));
}

/** What the spec means to AWS: ELB ARNs cut to their dimension form. */
function normalized(spec: MetricAlarmSpec): MetricAlarmSpec {
  const metric = (m: AlarmMetric): AlarmMetric => ({ ...m, dimensions: Object.fromEntries(Object.entries(m.dimensions).map(([k, v]) => [k, metricDimensionValue(v)])) });
  return {
    ...spec,
    ...(spec.metric ? { metric: metric(spec.metric) } : {}),
    ...(spec.queries ? { queries: spec.queries.map((q) => ({ ...q, ...(q.metric ? { metric: metric(q.metric) } : {}) })) } : {}),
  };
}

function statInput(stat: string) {
  return PERCENTILE.test(stat) ? { ExtendedStatistic: stat } : { Statistic: stat as "Average" };
}

function queryInput(q: AlarmQuery): MetricDataQuery {
  return {
    Id: q.id,
    ...(q.label ? { Label: q.label } : {}),
    ...(q.expression ? { Expression: q.expression } : {}),
    ...(q.metric
      ? { MetricStat: { Metric: { Namespace: q.metric.namespace, MetricName: q.metric.metricName, Dimensions: dimensionsOf(q.metric.dimensions) }, Period: q.metric.period, Stat: q.metric.stat } }
      : {}),
    ReturnData: q.returnData,
  };
}

/** PutMetricAlarm's input: it creates the alarm or replaces every setting of an existing one (tags apply on create only). */
export function putAlarmInput(spec: MetricAlarmSpec) {
  return {
    AlarmName: spec.name,
    AlarmDescription: spec.description,
    ActionsEnabled: true,
    AlarmActions: spec.alarmActions,
    OKActions: spec.okActions,
    ...(spec.metric
      ? { Namespace: spec.metric.namespace, MetricName: spec.metric.metricName, Dimensions: dimensionsOf(spec.metric.dimensions), Period: spec.metric.period, ...statInput(spec.metric.stat) }
      : { Metrics: (spec.queries ?? []).map(queryInput) }),
    ComparisonOperator: spec.comparisonOperator,
    Threshold: spec.threshold,
    EvaluationPeriods: spec.evaluationPeriods,
    DatapointsToAlarm: spec.datapointsToAlarm,
    TreatMissingData: spec.treatMissingData,
    Tags: tagList(spec.tags),
  };
}

const recordOf = (dims: { Name?: string; Value?: string }[] | undefined) => Object.fromEntries((dims ?? []).map((d) => [d.Name!, d.Value ?? ""]));

function toAttrs(a: MetricAlarm, tags: Record<string, string>): MetricAlarmAttrs {
  const queries = a.Metrics?.length
    ? a.Metrics.map((q): AlarmQuery => ({
        id: q.Id!,
        ...(q.Label ? { label: q.Label } : {}),
        ...(q.Expression ? { expression: q.Expression } : {}),
        ...(q.MetricStat
          ? {
              metric: {
                namespace: q.MetricStat.Metric!.Namespace!,
                metricName: q.MetricStat.Metric!.MetricName!,
                dimensions: recordOf(q.MetricStat.Metric!.Dimensions),
                stat: q.MetricStat.Stat!,
                period: q.MetricStat.Period!,
              },
            }
          : {}),
        returnData: q.ReturnData ?? true,
      }))
    : undefined;
  return {
    name: a.AlarmName!,
    arn: a.AlarmArn!,
    description: a.AlarmDescription ?? "",
    ...(a.MetricName
      ? { metric: { namespace: a.Namespace!, metricName: a.MetricName, dimensions: recordOf(a.Dimensions), stat: a.ExtendedStatistic ?? a.Statistic!, period: a.Period! } }
      : {}),
    ...(queries ? { queries } : {}),
    comparisonOperator: a.ComparisonOperator as MetricAlarmSpec["comparisonOperator"],
    threshold: a.Threshold!,
    evaluationPeriods: a.EvaluationPeriods!,
    datapointsToAlarm: a.DatapointsToAlarm ?? a.EvaluationPeriods!,
    treatMissingData: (a.TreatMissingData ?? "missing") as MetricAlarmSpec["treatMissingData"],
    alarmActions: a.AlarmActions ?? [],
    okActions: a.OKActions ?? [],
    stateValue: a.StateValue ?? "INSUFFICIENT_DATA",
    tags,
  };
}

async function readTags(ctx: ResourceContext, arn: string): Promise<Record<string, string>> {
  const out = await orUndefined(cw(ctx).send(new ListTagsForResourceCommand({ ResourceARN: arn })));
  return tagRecord(out?.Tags);
}

/** DescribeAlarms takes up to 100 names, and returns up to 100 alarms a page with MaxRecords 100 (API reference). */
export const ALARMS_PER_CALL = 100;

/**
 * Metric alarms by name, read together: alarms asked for within a few milliseconds of each other (the observe sweep
 * reads every alarm of the stack at once) share one DescribeAlarms. A name DescribeAlarms does not list has no alarm.
 */
const describeAlarm = batchedRead<string, MetricAlarm>({
  size: ALARMS_PER_CALL,
  async read(ctx, names) {
    const found = new Map<string, MetricAlarm>();
    for await (const out of paginateDescribeAlarms({ client: cw(ctx), pageSize: ALARMS_PER_CALL }, { AlarmNames: names, AlarmTypes: ["MetricAlarm"] })) {
      for (const alarm of out.MetricAlarms ?? []) if (alarm.AlarmName && names.includes(alarm.AlarmName)) found.set(alarm.AlarmName, alarm);
    }
    return found;
  },
});

/**
 * The metric alarm of that name with its tags; undefined when there is none (DescribeAlarms answers an empty list, not
 * an error). The DescribeAlarms is shared with the other alarms read at the same time; the tags are read per alarm.
 */
export async function findAlarmByName(ctx: ResourceContext, name: string): Promise<MetricAlarmAttrs | undefined> {
  const alarm = await describeAlarm(ctx, name);
  return alarm ? toAttrs(alarm, await readTags(ctx, alarm.AlarmArn!)) : undefined;
}

async function readBack(ctx: ResourceContext, name: string): Promise<MetricAlarmAttrs> {
  const found = await findAlarmByName(ctx, name);
  if (!found) throw new Error(`reading ${KIND} (${name}) after PutMetricAlarm: not found; run again`);
  return found;
}

function diff(spec: MetricAlarmSpec, actual: MetricAlarmAttrs): Change[] {
  const want = normalized(spec);
  return [
    ...compareFields(want, actual, [
      { field: "name", action: "replace" },
      { field: "description" },
      { field: "metric" },
      { field: "queries" },
      { field: "comparisonOperator" },
      { field: "threshold" },
      { field: "evaluationPeriods" },
      { field: "datapointsToAlarm" },
      { field: "treatMissingData" },
      { field: "alarmActions" },
      { field: "okActions" },
    ]),
    // A single-metric alarm turned into metric math (or back) leaves the other form behind in `actual`.
    ...(Boolean(want.metric) !== Boolean(actual.metric) ? [{ field: "form", from: actual.metric ? "metric" : "queries", to: want.metric ? "metric" : "queries", action: "update" as const }] : []),
    ...compareTags(spec.tags, actual.tags),
  ];
}

export const metricAlarm: ResourceType<MetricAlarmSpec, MetricAlarmAttrs> = {
  type: "cloudwatch:metric-alarm",

  // Alarm names are the key. Tags cannot be searched, so an alarm created by a crashed run is found by its name, and
  // PutMetricAlarm on it overwrites the settings (it is ours by name: <project>-<env>-...).
  async find(ctx, { recorded, wanted }) {
    const name = knownKey(recorded?.name, wanted?.name);
    return name ? findAlarmByName(ctx, name) : undefined;
  },

  diff,

  async create(ctx, spec) {
    await cw(ctx).send(new PutMetricAlarmCommand(putAlarmInput(normalized(spec))));
    const created = await readBack(ctx, spec.name);
    // An alarm that already existed keeps its old tags: PutMetricAlarm applies Tags on create only.
    if (compareTags(spec.tags, created.tags).length) return metricAlarm.update!(ctx, spec, created, compareTags(spec.tags, created.tags));
    return created;
  },

  async update(ctx, spec, actual, changes) {
    if (changes.some((c) => c.field !== "tags")) await cw(ctx).send(new PutMetricAlarmCommand(putAlarmInput(normalized(spec))));
    if (changes.some((c) => c.field === "tags")) {
      const { set, remove } = tagDelta(spec.tags, actual.tags);
      if (Object.keys(set).length) await cw(ctx).send(new TagResourceCommand({ ResourceARN: actual.arn, Tags: tagList(set) }));
      if (remove.length) await cw(ctx).send(new UntagResourceCommand({ ResourceARN: actual.arn, TagKeys: remove }));
    }
    return readBack(ctx, actual.name);
  },

  async destroy(ctx, actual) {
    // DeleteAlarms succeeds for names that do not exist.
    await orUndefined(cw(ctx).send(new DeleteAlarmsCommand({ AlarmNames: [actual.name] })));
  },

  physicalId: (a) => a.name,

  // `actual` is what the finder read moments ago in the same run, state value included: no second read.
  async details(_ctx, actual) {
    return `state ${actual.stateValue}`;
  },
};
