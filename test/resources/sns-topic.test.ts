import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  ListTagsForResourceCommand,
  NotFoundException,
  SetTopicAttributesCommand,
  SNSClient,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-sns";
import { findTopicByArn, snsTopic, topicArn } from "../../src/resources/sns-topic.js";
import { testContext, testTags } from "../helpers.js";

const sns = mockClient(SNSClient);
beforeEach(() => sns.reset());

const ID = "ops.alarm-topic";
const NAME = "clinical-platform-dev-alarms";
const ARN = `arn:aws:sns:us-east-1:123456789012:${NAME}`;
const tags = testTags(ID);
const spec = { name: NAME, kmsMasterKeyId: "alias/aws/sns", tags };
const actual = { ...spec, arn: ARN };
const tagList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
const notFound = () => new NotFoundException({ message: "Topic does not exist", $metadata: {} });

/** A topic that exists with these attributes and tags. */
function topicExists(kms: string | undefined, withTags: Record<string, string>) {
  sns.on(GetTopicAttributesCommand, { TopicArn: ARN }).resolves({ Attributes: { TopicArn: ARN, ...(kms ? { KmsMasterKeyId: kms } : {}) } });
  sns.on(ListTagsForResourceCommand, { ResourceArn: ARN }).resolves({ Tags: tagList(withTags) });
}

describe("sns:topic", () => {
  it("builds the topic's ARN from the context's partition, region and account", () => {
    expect(topicArn(testContext(), NAME)).toBe(ARN);
    expect(topicArn(testContext({ region: "cn-north-1" }), NAME)).toBe(`arn:aws-cn:sns:cn-north-1:123456789012:${NAME}`);
  });

  it("create: a new topic is created with its KMS key and tags, and read back", async () => {
    sns.on(GetTopicAttributesCommand).resolves({ Attributes: { TopicArn: ARN, KmsMasterKeyId: "alias/aws/sns" } });
    sns.on(ListTagsForResourceCommand).resolves({ Tags: tagList(tags) });
    sns.on(CreateTopicCommand).resolves({ TopicArn: ARN });
    const attrs = await snsTopic.create(testContext(), spec, { logicalId: ID });
    expect(sns).toHaveReceivedCommandWith(GetTopicAttributesCommand, { TopicArn: ARN });
    expect(sns).toHaveReceivedCommandTimes(CreateTopicCommand, 1);
    expect(sns).toHaveReceivedCommandWith(CreateTopicCommand, { Name: NAME, Attributes: { KmsMasterKeyId: "alias/aws/sns" }, Tags: tagList(tags) });
    expect(attrs).toEqual(actual);
    expect(snsTopic.physicalId(attrs)).toBe(ARN);
    expect(snsTopic.diff(spec, attrs)).toEqual([]);
  });

  it("create: without a KMS key the topic is created with no attributes", async () => {
    sns.on(GetTopicAttributesCommand).resolves({ Attributes: { TopicArn: ARN } });
    sns.on(ListTagsForResourceCommand).resolves({ Tags: tagList(tags) });
    sns.on(CreateTopicCommand).resolves({ TopicArn: ARN });
    const attrs = await snsTopic.create(testContext(), { ...spec, kmsMasterKeyId: "" }, { logicalId: ID });
    expect(sns.commandCalls(CreateTopicCommand)[0]!.args[0].input.Attributes).toEqual({});
    expect(attrs.kmsMasterKeyId).toBe("");
  });

  it("find: without a record, looks up the topic of the name create would use, whoever's (the engine decides)", async () => {
    topicExists("alias/aws/sns", { Owner: "someone-else" });
    expect(await snsTopic.find(testContext(), { logicalId: ID, wanted: spec })).toMatchObject({ arn: ARN, tags: { Owner: "someone-else" } });
    expect(sns).not.toHaveReceivedCommand(CreateTopicCommand);
  });

  it("find: reads the recorded ARN; without one or a wanted name there is nothing to look up", async () => {
    topicExists("alias/aws/sns", tags);
    expect(await snsTopic.find(testContext(), { logicalId: ID, recorded: actual })).toEqual(actual);
    sns.reset();
    expect(await snsTopic.find(testContext(), { logicalId: ID })).toBeUndefined();
    expect(sns.calls()).toHaveLength(0);
  });

  it("find: a deleted topic is undefined, whether GetTopicAttributes or ListTagsForResource says so", async () => {
    sns.on(GetTopicAttributesCommand).rejects(notFound());
    expect(await findTopicByArn(testContext(), ARN)).toBeUndefined();
    sns.reset();
    sns.on(GetTopicAttributesCommand).resolves({ Attributes: { TopicArn: ARN } });
    sns.on(ListTagsForResourceCommand).rejects(notFound());
    expect(await findTopicByArn(testContext(), ARN)).toBeUndefined();
  });

  it("find: other errors are not mistaken for a missing topic", async () => {
    sns.on(GetTopicAttributesCommand).rejects(Object.assign(new Error("User is not authorized"), { name: "AuthorizationErrorException", $metadata: {} }));
    await expect(findTopicByArn(testContext(), ARN)).rejects.toThrow("User is not authorized");
  });

  it("diff: a new name replaces the topic; the key and tags change in place; in sync is no change", () => {
    expect(snsTopic.diff(spec, actual)).toEqual([]);
    expect(snsTopic.diff({ ...spec, name: "clinical-platform-dev-alerts" }, actual)).toEqual([{ field: "name", from: NAME, to: "clinical-platform-dev-alerts", action: "replace" }]);
    expect(snsTopic.diff(spec, { ...actual, kmsMasterKeyId: "" })).toEqual([{ field: "kmsMasterKeyId", from: "", to: "alias/aws/sns", action: "update" }]);
    expect(snsTopic.diff({ ...spec, tags: { ...tags, Team: "data" } }, actual).map((c) => [c.field, c.action])).toEqual([["tags", "update"]]);
  });

  it("update: sets the KMS key, adds and removes tags, and reads the topic back", async () => {
    topicExists("alias/aws/sns", { ...tags, Team: "data" });
    sns.on(SetTopicAttributesCommand).resolves({});
    sns.on(TagResourceCommand).resolves({});
    sns.on(UntagResourceCommand).resolves({});
    const want = { ...spec, tags: { ...tags, Team: "data" } };
    const before = { ...actual, kmsMasterKeyId: "", tags: { ...tags, Old: "x" } };
    const after = await snsTopic.update!(testContext(), want, before, snsTopic.diff(want, before));
    expect(sns).toHaveReceivedCommandWith(SetTopicAttributesCommand, { TopicArn: ARN, AttributeName: "KmsMasterKeyId", AttributeValue: "alias/aws/sns" });
    expect(sns).toHaveReceivedCommandWith(TagResourceCommand, { ResourceArn: ARN, Tags: [{ Key: "Team", Value: "data" }] });
    expect(sns).toHaveReceivedCommandWith(UntagResourceCommand, { ResourceArn: ARN, TagKeys: ["Old"] });
    expect(after.tags).toEqual(want.tags);
  });

  it("update: a tags-only change does not touch the topic's attributes", async () => {
    topicExists("alias/aws/sns", tags);
    sns.on(UntagResourceCommand).resolves({});
    const before = { ...actual, tags: { ...tags, Old: "x" } };
    await snsTopic.update!(testContext(), spec, before, snsTopic.diff(spec, before));
    expect(sns).not.toHaveReceivedCommand(SetTopicAttributesCommand);
    expect(sns).not.toHaveReceivedCommand(TagResourceCommand);
    expect(sns).toHaveReceivedCommandWith(UntagResourceCommand, { ResourceArn: ARN, TagKeys: ["Old"] });
  });

  it("destroy: deletes the topic by ARN; a topic already gone is success", async () => {
    sns.on(DeleteTopicCommand).resolvesOnce({}).rejects(notFound());
    await snsTopic.destroy(testContext(), actual);
    await expect(snsTopic.destroy(testContext(), actual)).resolves.toBeUndefined();
    expect(sns).toHaveReceivedCommandTimes(DeleteTopicCommand, 2);
    expect(sns).toHaveReceivedCommandWith(DeleteTopicCommand, { TopicArn: ARN });
  });
});
