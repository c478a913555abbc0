import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { CloudWatchClient, DescribeAlarmsCommand, ListTagsForResourceCommand, PutMetricAlarmCommand } from "@aws-sdk/client-cloudwatch";
import {
  CloudTrailClient,
  CreateTrailCommand,
  GetEventSelectorsCommand,
  GetTrailCommand,
  GetTrailStatusCommand,
  InsufficientS3BucketPolicyException,
  ListTagsCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
} from "@aws-sdk/client-cloudtrail";
import {
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  EntityAlreadyExistsException,
  GetOpenIDConnectProviderCommand,
  IAMClient,
  TagOpenIDConnectProviderCommand,
  UntagOpenIDConnectProviderCommand,
} from "@aws-sdk/client-iam";
import { metricAlarm, metricDimensionValue } from "../../src/resources/cloudwatch-alarm.js";
import { cloudTrail } from "../../src/resources/cloudtrail-trail.js";
import { oidcProvider } from "../../src/resources/oidc-provider.js";
import { testContext, testTags } from "../helpers.js";

const cw = mockClient(CloudWatchClient);
const ct = mockClient(CloudTrailClient);
const iam = mockClient(IAMClient);
beforeEach(() => {
  cw.reset();
  ct.reset();
  iam.reset();
});

const LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/clinical-platform-dev-alb/50dc6c495c0c9188";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:clinical-platform-dev-alarms";

describe("cloudwatch:metric-alarm", () => {
  const tags = testTags("ops.alarm.api-p95-latency");
  const spec = {
    name: "clinical-platform-dev-api-p95-latency",
    description: "p95",
    metric: { namespace: "AWS/ApplicationELB", metricName: "TargetResponseTime", dimensions: { LoadBalancer: LB }, stat: "p95", period: 300 },
    comparisonOperator: "GreaterThanThreshold" as const,
    threshold: 1.5,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: "notBreaching" as const,
    alarmActions: [TOPIC],
    okActions: [TOPIC],
    tags,
  };
  const described = {
    AlarmName: spec.name,
    AlarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${spec.name}`,
    AlarmDescription: "p95",
    Namespace: "AWS/ApplicationELB",
    MetricName: "TargetResponseTime",
    Dimensions: [{ Name: "LoadBalancer", Value: "app/clinical-platform-dev-alb/50dc6c495c0c9188" }],
    ExtendedStatistic: "p95",
    Period: 300,
    ComparisonOperator: "GreaterThanThreshold" as const,
    Threshold: 1.5,
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    TreatMissingData: "notBreaching",
    AlarmActions: [TOPIC],
    OKActions: [TOPIC],
    StateValue: "OK" as const,
  };

  it("cuts ELB ARNs to CloudWatch dimension values", () => {
    expect(metricDimensionValue(LB)).toBe("app/clinical-platform-dev-alb/50dc6c495c0c9188");
    expect(metricDimensionValue("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-api/6d0ecf831eec9f09")).toBe("targetgroup/tg-api/6d0ecf831eec9f09");
    expect(metricDimensionValue("clinical-platform-dev-db")).toBe("clinical-platform-dev-db");
  });

  it("create puts the alarm with a percentile as ExtendedStatistic, the dimension form and tags, then reads it back with its state", async () => {
    cw.on(PutMetricAlarmCommand).resolves({});
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [described] });
    cw.on(ListTagsForResourceCommand).resolves({ Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) });
    const attrs = await metricAlarm.create(testContext(), spec, { logicalId: "ops.alarm.api-p95-latency" });
    expect(cw).toHaveReceivedCommandWith(PutMetricAlarmCommand, {
      AlarmName: spec.name,
      ExtendedStatistic: "p95",
      Dimensions: [{ Name: "LoadBalancer", Value: "app/clinical-platform-dev-alb/50dc6c495c0c9188" }],
      AlarmActions: [TOPIC],
      OKActions: [TOPIC],
      Threshold: 1.5,
    });
    expect(cw.commandCalls(PutMetricAlarmCommand)[0]!.args[0].input.Statistic).toBeUndefined();
    expect(attrs.stateValue).toBe("OK");
    expect(metricAlarm.diff(spec, attrs)).toEqual([]);
    expect(await metricAlarm.details!(testContext(), attrs)).toBe("state OK");
  });

  it("a changed threshold is an in-place update", async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [described] });
    cw.on(ListTagsForResourceCommand).resolves({ Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) });
    const attrs = (await metricAlarm.find(testContext(), { logicalId: "x", recorded: { name: spec.name } as never }))!;
    expect(metricAlarm.diff({ ...spec, threshold: 2 }, attrs)).toEqual([{ field: "threshold", from: 1.5, to: 2, action: "update" }]);
  });

  it("find: no alarm of that name is undefined", async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    expect(await metricAlarm.find(testContext(), { logicalId: "x", recorded: { name: spec.name } as never })).toBeUndefined();
  });
});

describe("cloudtrail:trail", () => {
  const tags = testTags("ops.audit.trail");
  const spec = { name: "clinical-platform-dev-audit", bucket: "audit-bucket", dataEventBuckets: ["raw-bucket"], tags };
  const arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/clinical-platform-dev-audit";
  const trail = { Name: spec.name, TrailARN: arn, S3BucketName: "audit-bucket", IsMultiRegionTrail: true, IncludeGlobalServiceEvents: true, LogFileValidationEnabled: true };

  it("creates a multi-region validated trail (retrying while the bucket policy is not visible), starts logging and records data events", async () => {
    const denied = new InsufficientS3BucketPolicyException({ message: "Incorrect S3 bucket policy", $metadata: {} });
    ct.on(CreateTrailCommand).rejectsOnce(denied).resolves({});
    ct.on(GetTrailCommand).resolves({ Trail: trail });
    ct.on(GetTrailStatusCommand).resolvesOnce({ IsLogging: false }).resolves({ IsLogging: true });
    ct.on(GetEventSelectorsCommand)
      .resolvesOnce({ EventSelectors: [{ ReadWriteType: "All", IncludeManagementEvents: true, DataResources: [] }] })
      .resolves({ EventSelectors: [{ ReadWriteType: "All", IncludeManagementEvents: true, DataResources: [{ Type: "AWS::S3::Object", Values: ["arn:aws:s3:::raw-bucket/"] }] }] });
    ct.on(ListTagsCommand).resolves({ ResourceTagList: [{ ResourceId: arn, TagsList: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] });
    ct.on(PutEventSelectorsCommand).resolves({});
    ct.on(StartLoggingCommand).resolves({});
    const attrs = await cloudTrail.create(testContext(), spec, { logicalId: "ops.audit.trail" });
    expect(ct.commandCalls(CreateTrailCommand)).toHaveLength(2);
    expect(ct).toHaveReceivedCommandWith(CreateTrailCommand, { Name: spec.name, S3BucketName: "audit-bucket", IsMultiRegionTrail: true, IncludeGlobalServiceEvents: true, EnableLogFileValidation: true });
    expect(ct).toHaveReceivedCommandWith(StartLoggingCommand, { Name: arn });
    expect(ct).toHaveReceivedCommandWith(PutEventSelectorsCommand, {
      TrailName: arn,
      EventSelectors: [{ ReadWriteType: "All", IncludeManagementEvents: true, DataResources: [{ Type: "AWS::S3::Object", Values: ["arn:aws:s3:::raw-bucket/"] }] }],
    });
    expect(attrs).toMatchObject({ isLogging: true, logFileValidation: true, dataEventBuckets: ["raw-bucket"] });
    expect(cloudTrail.diff(spec, attrs)).toEqual([]);
  });

  it("a trail that stopped logging or lost validation is drift to fix in place", () => {
    const actual = { ...spec, arn, multiRegion: true, includeGlobalServiceEvents: true, logFileValidation: false, isLogging: false };
    expect(cloudTrail.diff(spec, actual).map((c) => [c.field, c.action])).toEqual([
      ["logFileValidation", "update"],
      ["isLogging", "update"],
    ]);
  });
});

describe("iam:oidc-provider", () => {
  const url = "https://token.actions.githubusercontent.com";
  const arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
  const spec = { url, clientIds: ["sts.amazonaws.com"] };
  const ours = "platform:used-by:clinical-platform-dev";

  it("creates the provider without thumbprints, tagged with this environment's use", async () => {
    iam.on(CreateOpenIDConnectProviderCommand).resolves({ OpenIDConnectProviderArn: arn });
    iam.on(GetOpenIDConnectProviderCommand).resolves({ Url: "token.actions.githubusercontent.com", ClientIDList: ["sts.amazonaws.com"], Tags: [{ Key: "ManagedBy", Value: "platform" }, { Key: ours, Value: "true" }] });
    const attrs = await oidcProvider.create(testContext(), spec, { logicalId: "ops.github.oidc-provider" });
    expect(iam).toHaveReceivedCommandWith(CreateOpenIDConnectProviderCommand, { Url: url, ClientIDList: ["sts.amazonaws.com"], Tags: [{ Key: "ManagedBy", Value: "platform" }, { Key: ours, Value: "true" }] });
    expect(iam.commandCalls(CreateOpenIDConnectProviderCommand)[0]!.args[0].input.ThumbprintList).toBeUndefined();
    expect(attrs.usedByThisEnvironment).toBe(true);
    expect(oidcProvider.diff(spec, attrs)).toEqual([]);
  });

  it("adopts the account's existing provider on EntityAlreadyExists and marks its use", async () => {
    iam.on(CreateOpenIDConnectProviderCommand).rejects(new EntityAlreadyExistsException({ message: "exists", $metadata: {} }));
    iam.on(GetOpenIDConnectProviderCommand)
      .resolvesOnce({ Url: "token.actions.githubusercontent.com", ClientIDList: ["sts.amazonaws.com"], Tags: [{ Key: "platform:used-by:clinical-platform-prod", Value: "true" }] })
      .resolves({ Url: "token.actions.githubusercontent.com", ClientIDList: ["sts.amazonaws.com"], Tags: [{ Key: "platform:used-by:clinical-platform-prod", Value: "true" }, { Key: ours, Value: "true" }] });
    iam.on(TagOpenIDConnectProviderCommand).resolves({});
    const attrs = await oidcProvider.create(testContext(), spec, { logicalId: "ops.github.oidc-provider" });
    expect(iam).toHaveReceivedCommandWith(TagOpenIDConnectProviderCommand, { OpenIDConnectProviderArn: arn, Tags: [{ Key: ours, Value: "true" }] });
    expect(attrs.usedByThisEnvironment).toBe(true);
  });

  const actual = { arn, url: "token.actions.githubusercontent.com", clientIds: ["sts.amazonaws.com"], providerTags: {}, usedByThisEnvironment: true };

  it("destroy removes only this environment's tag while another environment still uses it", async () => {
    iam.on(GetOpenIDConnectProviderCommand)
      .resolvesOnce({ Url: "x", Tags: [{ Key: "ManagedBy", Value: "platform" }, { Key: ours, Value: "true" }, { Key: "platform:used-by:clinical-platform-prod", Value: "true" }] })
      .resolves({ Url: "x", Tags: [{ Key: "ManagedBy", Value: "platform" }, { Key: "platform:used-by:clinical-platform-prod", Value: "true" }] });
    iam.on(UntagOpenIDConnectProviderCommand).resolves({});
    await oidcProvider.destroy(testContext(), actual);
    expect(iam).toHaveReceivedCommandWith(UntagOpenIDConnectProviderCommand, { OpenIDConnectProviderArn: arn, TagKeys: [ours] });
    expect(iam).not.toHaveReceivedCommand(DeleteOpenIDConnectProviderCommand);
  });

  it("destroy deletes it when the last user leaves, but never a provider platform did not create", async () => {
    iam.on(GetOpenIDConnectProviderCommand).resolvesOnce({ Url: "x", Tags: [{ Key: "ManagedBy", Value: "platform" }, { Key: ours, Value: "true" }] }).resolves({ Url: "x", Tags: [{ Key: "ManagedBy", Value: "platform" }] });
    iam.on(UntagOpenIDConnectProviderCommand).resolves({});
    iam.on(DeleteOpenIDConnectProviderCommand).resolves({});
    await oidcProvider.destroy(testContext(), actual);
    expect(iam).toHaveReceivedCommandWith(DeleteOpenIDConnectProviderCommand, { OpenIDConnectProviderArn: arn });

    iam.reset();
    iam.on(GetOpenIDConnectProviderCommand).resolves({ Url: "x", Tags: [] });
    await oidcProvider.destroy(testContext(), actual);
    expect(iam).not.toHaveReceivedCommand(DeleteOpenIDConnectProviderCommand);
  });
});
