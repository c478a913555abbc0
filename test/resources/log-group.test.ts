import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  DisassociateKmsKeyCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { logGroup, type LogGroupAttrs } from "../../src/resources/log-group.js";
import { testContext, testTags } from "../helpers.js";

const logs = mockClient(CloudWatchLogsClient);
const NAME = "/vpc/clinical-platform-dev/flow-logs";
const ARN = `arn:aws:logs:us-east-1:123456789012:log-group:${NAME}`;
const KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const tags = testTags("network.flow-logs.log-group");
const spec = { name: NAME, retentionDays: 30, tags };
const actual: LogGroupAttrs = { ...spec, kmsKeyArn: undefined, arn: ARN };
const meta = { $metadata: {} };

function stubGroup(group: { retentionInDays?: number; kmsKeyId?: string } = { retentionInDays: 30 }, groupTags: Record<string, string> = tags) {
  logs.on(DescribeLogGroupsCommand, { logGroupNamePrefix: NAME }).resolves({ logGroups: [{ logGroupName: NAME, arn: `${ARN}:*`, logGroupArn: ARN, ...group }] });
  logs.on(ListTagsForResourceCommand, { resourceArn: ARN }).resolves({ tags: groupTags });
}

beforeEach(() => logs.reset());

describe("logs:log-group", () => {
  it("finds the group by exact name among prefix matches, paging, and lists its tags by the ARN without ':*'", async () => {
    logs
      .on(DescribeLogGroupsCommand)
      .resolvesOnce({ logGroups: [{ logGroupName: `${NAME}-old`, arn: `${ARN}-old:*` }], nextToken: "t1" })
      .resolves({ logGroups: [{ logGroupName: NAME, arn: `${ARN}:*`, retentionInDays: 30, kmsKeyId: KMS }] });
    logs.on(ListTagsForResourceCommand, { resourceArn: ARN }).resolves({ tags });

    const found = await logGroup.find(testContext(), { logicalId: "network.flow-logs.log-group", recorded: actual });

    expect(found).toEqual({ ...spec, kmsKeyArn: KMS, arn: ARN });
    // The SDK paginator reuses one input object, so only the last request can be inspected as sent.
    expect(logs).toHaveReceivedCommandTimes(DescribeLogGroupsCommand, 2);
    expect(logs.commandCalls(DescribeLogGroupsCommand)[1]!.args[0].input).toMatchObject({ logGroupNamePrefix: NAME, nextToken: "t1" });
  });

  it("returns undefined when no group has exactly that name", async () => {
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: `${NAME}/child`, arn: `${ARN}/child:*` }] });
    expect(await logGroup.find(testContext(), { logicalId: "x", recorded: actual })).toBeUndefined();
    expect(logs).not.toHaveReceivedCommand(ListTagsForResourceCommand);
  });

  it("does not look anything up without a recorded name", async () => {
    expect(await logGroup.find(testContext(), { logicalId: "x" })).toBeUndefined();
    expect(logs).not.toHaveReceivedAnyCommand();
  });

  it("creates with the KMS key and tags, then sets the retention", async () => {
    logs.on(CreateLogGroupCommand).resolves({});
    logs.on(PutRetentionPolicyCommand).resolves({});
    stubGroup({ retentionInDays: 30, kmsKeyId: KMS });

    const created = await logGroup.create(testContext(), { ...spec, kmsKeyArn: KMS }, { logicalId: "network.flow-logs.log-group" });

    expect(logs.commandCalls(CreateLogGroupCommand)[0]!.args[0].input).toEqual({ logGroupName: NAME, kmsKeyId: KMS, tags });
    expect(logs).toHaveReceivedCommandWith(PutRetentionPolicyCommand, { logGroupName: NAME, retentionInDays: 30 });
    expect(created).toEqual({ ...spec, kmsKeyArn: KMS, arn: ARN });
  });

  it("diffs retention, KMS key (also its removal) and tags as in-place, the name as a replacement", () => {
    const have = { ...actual, kmsKeyArn: KMS, retentionDays: 7, tags: { ...tags, Extra: "x" } };
    expect(logGroup.diff({ ...spec, name: "/other" }, have).map((c) => [c.field, c.action])).toEqual([
      ["name", "replace"],
      ["retentionDays", "update"],
      ["kmsKeyArn", "update"],
      ["tags", "update"],
    ]);
    expect(logGroup.diff(spec, actual)).toEqual([]);
  });

  it("updates retention with PutRetentionPolicy", async () => {
    stubGroup();
    logs.on(PutRetentionPolicyCommand).resolves({});
    const have = { ...actual, retentionDays: 7 };
    await logGroup.update!(testContext(), spec, have, logGroup.diff(spec, have));
    expect(logs).toHaveReceivedCommandWith(PutRetentionPolicyCommand, { logGroupName: NAME, retentionInDays: 30 });
    expect(logs).not.toHaveReceivedCommand(AssociateKmsKeyCommand);
  });

  it("associates a KMS key by log group name", async () => {
    stubGroup();
    logs.on(AssociateKmsKeyCommand).resolves({});
    const want = { ...spec, kmsKeyArn: KMS };
    await logGroup.update!(testContext(), want, actual, logGroup.diff(want, actual));
    expect(logs.commandCalls(AssociateKmsKeyCommand)[0]!.args[0].input).toEqual({ logGroupName: NAME, kmsKeyId: KMS });
  });

  it("disassociates the KMS key when the spec has none", async () => {
    stubGroup();
    logs.on(DisassociateKmsKeyCommand).resolves({});
    const have = { ...actual, kmsKeyArn: KMS };
    await logGroup.update!(testContext(), spec, have, logGroup.diff(spec, have));
    expect(logs.commandCalls(DisassociateKmsKeyCommand)[0]!.args[0].input).toEqual({ logGroupName: NAME });
  });

  it("tags and untags by the ARN without ':*', leaving aws: tags alone", async () => {
    stubGroup();
    logs.on(TagResourceCommand).resolves({});
    logs.on(UntagResourceCommand).resolves({});
    const have = { ...actual, tags: { ...tags, Owner: "old", Stale: "x", "aws:cloudformation:stack-name": "s" } };
    const want = { ...spec, tags: { ...tags, Owner: "new" } };
    await logGroup.update!(testContext(), want, have, logGroup.diff(want, have));
    expect(logs).toHaveReceivedCommandWith(TagResourceCommand, { resourceArn: ARN, tags: { Owner: "new" } });
    expect(logs).toHaveReceivedCommandWith(UntagResourceCommand, { resourceArn: ARN, tagKeys: ["Stale"] });
  });

  it("deletes the group", async () => {
    logs.on(DeleteLogGroupCommand).resolves({});
    await logGroup.destroy(testContext(), actual);
    expect(logs).toHaveReceivedCommandWith(DeleteLogGroupCommand, { logGroupName: NAME });
  });

  it("treats an already deleted group as deleted", async () => {
    logs.on(DeleteLogGroupCommand).rejects(new ResourceNotFoundException({ message: "The specified log group does not exist.", ...meta }));
    await expect(logGroup.destroy(testContext(), actual)).resolves.toBeUndefined();
  });
});
