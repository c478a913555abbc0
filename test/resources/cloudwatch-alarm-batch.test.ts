import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { CloudWatchClient, DescribeAlarmsCommand, type DescribeAlarmsCommandInput, ListTagsForResourceCommand, type MetricAlarm } from "@aws-sdk/client-cloudwatch";
import { ALARMS_PER_CALL, metricAlarm, type MetricAlarmAttrs } from "../../src/resources/cloudwatch-alarm.js";
import { testContext, testTags } from "../helpers.js";

const cw = mockClient(CloudWatchClient);
beforeEach(() => cw.reset());

const arnOf = (name: string) => `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`;
const alarmOf = (name: string): MetricAlarm => ({
  AlarmName: name,
  AlarmArn: arnOf(name),
  AlarmDescription: name,
  Namespace: "AWS/RDS",
  MetricName: "CPUUtilization",
  Dimensions: [{ Name: "DBInstanceIdentifier", Value: "clinical-platform-dev-db" }],
  Statistic: "Average",
  Period: 300,
  ComparisonOperator: "GreaterThanThreshold",
  Threshold: 80,
  EvaluationPeriods: 3,
  DatapointsToAlarm: 3,
  TreatMissingData: "missing",
  AlarmActions: [],
  OKActions: [],
  StateValue: "OK",
});

/** CloudWatch as DescribeAlarms behaves: the named alarms that exist, MaxRecords a page (NextToken for the rest). */
function stubAlarms(existing: string[]) {
  cw.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => {
    const matching = existing.filter((n) => input.AlarmNames?.includes(n));
    const start = Number(input.NextToken ?? 0);
    const page = matching.slice(start, start + (input.MaxRecords ?? 50));
    const next = start + page.length < matching.length ? String(start + page.length) : undefined;
    return { MetricAlarms: page.map(alarmOf), ...(next ? { NextToken: next } : {}) };
  });
  cw.on(ListTagsForResourceCommand).callsFake((input: { ResourceARN: string }) => ({
    Tags: Object.entries(testTags(input.ResourceARN.split(":").at(-1)!)).map(([Key, Value]) => ({ Key, Value })),
  }));
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `clinical-platform-dev-alarm-${i}`);
const findAll = (list: string[], ctx = testContext()) => Promise.all(list.map((name) => metricAlarm.find(ctx, { logicalId: name, recorded: { name } as MetricAlarmAttrs })));

describe("cloudwatch:metric-alarm find, several alarms at once", () => {
  it("reads every alarm with one DescribeAlarms naming them all, then each alarm's tags", async () => {
    const seven = names(7);
    stubAlarms(seven);
    const found = await findAll(seven);
    expect(found.map((a) => a?.name)).toEqual(seven);
    expect(found[3]).toMatchObject({ arn: arnOf(seven[3]!), stateValue: "OK", tags: testTags(seven[3]!) });
    expect(cw).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 1);
    expect(cw).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: seven, AlarmTypes: ["MetricAlarm"], MaxRecords: ALARMS_PER_CALL });
    expect(cw).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 7);
  });

  it("answers undefined for an alarm that does not exist, without failing the others", async () => {
    const [a, b, gone] = names(3);
    stubAlarms([a!, b!]);
    expect((await findAll([a!, gone!, b!])).map((x) => x?.name)).toEqual([a, undefined, b]);
    expect(cw).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 1);
    expect(cw).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 2);
  });

  it("names at most 100 alarms a call", async () => {
    const many = names(150);
    stubAlarms(many);
    expect((await findAll(many)).every((a) => a !== undefined)).toBe(true);
    const sizes = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames!.length);
    expect(sizes).toEqual([100, 50]);
  });

  it("follows NextToken when CloudWatch pages the answer", async () => {
    const list = names(5);
    cw.on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: list.slice(0, 3).map(alarmOf), NextToken: "more" })
      .resolves({ MetricAlarms: list.slice(3).map(alarmOf) });
    cw.on(ListTagsForResourceCommand).resolves({ Tags: [] });
    expect((await findAll(list)).map((a) => a?.name)).toEqual(list);
    expect(cw).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 2);
    expect(cw.commandCalls(DescribeAlarmsCommand)[1]!.args[0].input).toMatchObject({ AlarmNames: list, NextToken: "more" });
  });
});

describe("cloudwatch:metric-alarm details", () => {
  it("reports the state the finder read in the same run, without calling CloudWatch again", async () => {
    const [name] = names(1);
    stubAlarms([name!]);
    const [found] = await findAll([name!]);
    cw.resetHistory();
    expect(await metricAlarm.details!(testContext(), { ...found!, stateValue: "ALARM" })).toBe("state ALARM");
    expect(cw.calls()).toHaveLength(0);
  });
});
