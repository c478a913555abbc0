import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CreateFlowLogsCommand,
  CreateTagsCommand,
  DeleteFlowLogsCommand,
  DescribeFlowLogsCommand,
  EC2Client,
  EC2ServiceException,
  type FlowLog,
} from "@aws-sdk/client-ec2";
import { errorCode } from "../../src/aws/errors.js";
import { flowLog, type FlowLogSpec } from "../../src/resources/flow-log.js";
import { testContext, testTags } from "../helpers.js";

const ec2 = mockClient(EC2Client);
const logicalId = "network.flow-log";
const tags = testTags(logicalId);
const tagList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
const ec2Error = (name: string, message = name) => new EC2ServiceException({ name, message, $fault: "client", $metadata: {} });
const roleArn = "arn:aws:iam::123456789012:role/clinical-dev-vpc-flow-logs";

const spec: FlowLogSpec = { resourceId: "vpc-1", trafficType: "REJECT", logGroupName: "/vpc/clinical-dev/flow-logs", deliverLogsPermissionArn: roleArn, tags };
const awsFlowLog = (id: string, over: Partial<FlowLog> = {}): FlowLog => ({
  FlowLogId: id,
  ResourceId: "vpc-1",
  TrafficType: "REJECT",
  LogDestinationType: "cloud-watch-logs",
  LogGroupName: "/vpc/clinical-dev/flow-logs",
  DeliverLogsPermissionArn: roleArn,
  FlowLogStatus: "ACTIVE",
  Tags: tagList(tags),
  ...over,
});
const notAssumable = { ResourceId: "vpc-1", Error: { Code: "InvalidParameter", Message: "Unable to assume given IAM role, arn:aws:iam::123456789012:role/x." } };

beforeEach(() => ec2.reset());

describe("ec2:flow-log", () => {
  it("finds by recorded id", async () => {
    ec2.on(DescribeFlowLogsCommand, { FlowLogIds: ["fl-1"] }).resolves({ FlowLogs: [awsFlowLog("fl-1")] });
    const found = await flowLog.find(testContext(), { logicalId, recorded: { ...spec, flowLogId: "fl-1" } });
    expect(found).toEqual({ ...spec, flowLogId: "fl-1" });
  });

  it("finds by tags (DescribeFlowLogs' `Filter`) when the recorded one is gone, else undefined", async () => {
    ec2.on(DescribeFlowLogsCommand).resolves({ FlowLogs: [] });
    ec2.on(DescribeFlowLogsCommand, { Filter: [{ Name: "tag:platform:logical-id", Values: [logicalId] }, { Name: "tag:Project", Values: ["clinical-platform"] }, { Name: "tag:Environment", Values: ["dev"] }] }).resolves({
      FlowLogs: [awsFlowLog("fl-2")],
    });
    const found = await flowLog.find(testContext(), { logicalId, recorded: { ...spec, flowLogId: "fl-gone" } });
    expect(found?.flowLogId).toBe("fl-2");

    ec2.reset();
    ec2.on(DescribeFlowLogsCommand).resolves({ FlowLogs: [] });
    expect(await flowLog.find(testContext(), { logicalId })).toBeUndefined();
  });

  it("creates for the VPC into CloudWatch Logs with a client token and tags", async () => {
    ec2.on(CreateFlowLogsCommand).resolves({ FlowLogIds: ["fl-1"], Unsuccessful: [] });
    ec2.on(DescribeFlowLogsCommand, { FlowLogIds: ["fl-1"] }).resolves({ FlowLogs: [awsFlowLog("fl-1")] });
    const created = await flowLog.create(testContext(), spec, { logicalId });
    expect(created).toEqual({ ...spec, flowLogId: "fl-1" });
    expect(ec2.commandCalls(CreateFlowLogsCommand)[0]!.args[0].input).toEqual({
      ResourceIds: ["vpc-1"],
      ResourceType: "VPC",
      TrafficType: "REJECT",
      LogDestinationType: "cloud-watch-logs",
      LogGroupName: "/vpc/clinical-dev/flow-logs",
      DeliverLogsPermissionArn: roleArn,
      ClientToken: expect.stringMatching(/^platform-[0-9a-f]{48}$/),
      TagSpecifications: [{ ResourceType: "vpc-flow-log", Tags: tagList(tags) }],
    });
  });

  it("steps past a client token that EC2 replays for a flow log deleted since (down, then up)", async () => {
    ec2.on(CreateFlowLogsCommand).resolvesOnce({ FlowLogIds: ["fl-deleted"] }).resolves({ FlowLogIds: ["fl-2"] });
    ec2.on(DescribeFlowLogsCommand, { FlowLogIds: ["fl-deleted"] }).resolves({ FlowLogs: [] });
    ec2.on(DescribeFlowLogsCommand, { FlowLogIds: ["fl-2"] }).resolves({ FlowLogs: [awsFlowLog("fl-2")] });
    const created = await flowLog.create(testContext(), spec, { logicalId });
    expect(created.flowLogId).toBe("fl-2");
    const tokens = ec2.commandCalls(CreateFlowLogsCommand).map((c) => c.args[0].input.ClientToken);
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).not.toBe(tokens[0]);
  });

  it("turns an Unsuccessful item into an error carrying its code", async () => {
    ec2.on(CreateFlowLogsCommand).resolves({ FlowLogIds: [], Unsuccessful: [{ ResourceId: "vpc-1", Error: { Code: "FlowLogAlreadyExists", Message: "exists" } }] });
    const err = await flowLog.create(testContext(), spec, { logicalId }).catch((e: unknown) => e);
    expect(errorCode(err)).toBe("FlowLogAlreadyExists");
    expect((err as Error).message).toMatch(/vpc-1: FlowLogAlreadyExists: exists/);
    expect(ec2).toHaveReceivedCommandTimes(CreateFlowLogsCommand, 1);
  });

  it("retries while the new IAM role cannot be assumed yet (Unsuccessful or thrown), with the same client token", async () => {
    ec2.on(CreateFlowLogsCommand)
      .resolvesOnce({ Unsuccessful: [notAssumable] })
      .rejectsOnce(ec2Error("InvalidParameter", "Unable to assume given IAM role"))
      .resolves({ FlowLogIds: ["fl-1"] });
    ec2.on(DescribeFlowLogsCommand).resolves({ FlowLogs: [awsFlowLog("fl-1")] });
    await expect(flowLog.create(testContext(), spec, { logicalId })).resolves.toMatchObject({ flowLogId: "fl-1" });
    const tokens = new Set(ec2.commandCalls(CreateFlowLogsCommand).map((c) => c.args[0].input.ClientToken));
    expect(ec2).toHaveReceivedCommandTimes(CreateFlowLogsCommand, 3);
    expect(tokens.size).toBe(1);
  });

  it("gives up on an unassumable role after the IAM propagation budget", async () => {
    ec2.on(CreateFlowLogsCommand).resolves({ Unsuccessful: [notAssumable] });
    const err = await flowLog.create(testContext(), spec, { logicalId }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Unable to assume given IAM role.*propagating/);
    expect(ec2.commandCalls(CreateFlowLogsCommand).length).toBeGreaterThan(1);
  });

  it("does not retry other InvalidParameter errors", async () => {
    ec2.on(CreateFlowLogsCommand).rejects(ec2Error("InvalidParameter", "Log group name is invalid"));
    await expect(flowLog.create(testContext(), spec, { logicalId })).rejects.toMatchObject({ name: "InvalidParameter" });
    expect(ec2).toHaveReceivedCommandTimes(CreateFlowLogsCommand, 1);
  });

  it("diffs everything but tags as a replacement", () => {
    const actual = { ...spec, trafficType: "ALL" as const, tags: { ...tags, Project: "x" }, flowLogId: "fl-1" };
    expect(flowLog.diff(spec, actual).map((c) => [c.field, c.action])).toEqual([
      ["trafficType", "replace"],
      ["tags", "update"],
    ]);
  });

  it("updates tags in place", async () => {
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(DescribeFlowLogsCommand).resolves({ FlowLogs: [awsFlowLog("fl-1")] });
    const actual = { ...spec, tags: { ...tags, Project: "x" }, flowLogId: "fl-1" };
    await flowLog.update!(testContext(), spec, actual, flowLog.diff(spec, actual));
    expect(ec2).toHaveReceivedCommandWith(CreateTagsCommand, { Resources: ["fl-1"], Tags: [{ Key: "Project", Value: "clinical-platform" }] });
  });

  it("deletes, and treats a flow log already gone (Unsuccessful or thrown) as deleted", async () => {
    ec2.on(DeleteFlowLogsCommand).resolvesOnce({ Unsuccessful: [] }).resolvesOnce({ Unsuccessful: [{ ResourceId: "fl-1", Error: { Code: "InvalidFlowLogId.NotFound", Message: "not found" } }] }).rejects(ec2Error("InvalidFlowLogId.NotFound"));
    for (let i = 0; i < 3; i++) await expect(flowLog.destroy(testContext(), { ...spec, flowLogId: "fl-1" })).resolves.toBeUndefined();
    expect(ec2).toHaveReceivedCommandWith(DeleteFlowLogsCommand, { FlowLogIds: ["fl-1"] });
  });

  it("fails a delete that AWS reports as unsuccessful for another reason", async () => {
    ec2.on(DeleteFlowLogsCommand).resolves({ Unsuccessful: [{ ResourceId: "fl-1", Error: { Code: "UnauthorizedOperation", Message: "no" } }] });
    await expect(flowLog.destroy(testContext(), { ...spec, flowLogId: "fl-1" })).rejects.toThrow(/UnauthorizedOperation/);
  });
});
