import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { ListSubscriptionsByTopicCommand, NotFoundException, SNSClient, SubscribeCommand, UnsubscribeCommand } from "@aws-sdk/client-sns";
import { findSubscription, PENDING, snsSubscription } from "../../src/resources/sns-subscription.js";
import { testContext } from "../helpers.js";

const sns = mockClient(SNSClient);
beforeEach(() => sns.reset());

const ID = "ops.alarm-topic.subscription.0";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:clinical-platform-dev-alarms";
const SUB_ARN = `${TOPIC}:6b0e71bd-7e97-4d97-80ce-4a0994e55286`;
const EMAIL = "oncall@example.org";
const spec = { topicArn: TOPIC, protocol: "email" as const, endpoint: EMAIL };
const confirmed = { ...spec, subscriptionArn: SUB_ARN, pending: false };
const pending = { ...spec, subscriptionArn: PENDING, pending: true };
const listed = (endpoint: string, arn: string, protocol = "email") => ({ TopicArn: TOPIC, Protocol: protocol, Endpoint: endpoint, SubscriptionArn: arn, Owner: "123456789012" });
const topicGone = () => new NotFoundException({ message: "Topic does not exist", $metadata: {} });

describe("sns:subscription", () => {
  it("find: the recorded endpoint's subscription, matched by protocol and address (case-insensitively), across pages", async () => {
    sns
      .on(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC })
      .resolvesOnce({ Subscriptions: [listed("someone@example.org", `${TOPIC}:1`), listed(EMAIL, `${TOPIC}:2`, "sms")], NextToken: "page-2" })
      .resolves({ Subscriptions: [listed("OnCall@Example.org", SUB_ARN)] });
    const found = await snsSubscription.find(testContext(), { logicalId: ID, recorded: confirmed });
    expect(found).toEqual({ ...confirmed, endpoint: "OnCall@Example.org" });
    expect(sns).toHaveReceivedCommandWith(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC, NextToken: "page-2" });
    expect(snsSubscription.diff(spec, found!)).toEqual([]);
  });

  it("find: an unconfirmed subscription is pending, with no ARN of its own", async () => {
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [listed(EMAIL, PENDING)] });
    expect(await findSubscription(testContext(), TOPIC, "email", EMAIL)).toEqual(pending);
  });

  it("find: undefined when nothing is recorded, the address is not subscribed, or the topic is gone", async () => {
    expect(await snsSubscription.find(testContext(), { logicalId: ID })).toBeUndefined();
    expect(sns.calls()).toHaveLength(0);
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [listed("someone@example.org", `${TOPIC}:1`)] });
    expect(await snsSubscription.find(testContext(), { logicalId: ID, recorded: confirmed })).toBeUndefined();
    sns.reset();
    sns.on(ListSubscriptionsByTopicCommand).rejects(topicGone());
    expect(await snsSubscription.find(testContext(), { logicalId: ID, recorded: confirmed })).toBeUndefined();
  });

  it("find: two subscriptions of one address is an error, not a guess", async () => {
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [listed(EMAIL, `${TOPIC}:1`), listed(EMAIL.toUpperCase(), `${TOPIC}:2`)] });
    await expect(findSubscription(testContext(), TOPIC, "email", EMAIL)).rejects.toThrow(/email subscriptions of oncall@example\.org/);
  });

  it("create: subscribes the address, reads the subscription back and says the recipient must confirm", async () => {
    sns.on(SubscribeCommand).resolves({ SubscriptionArn: "pending confirmation" });
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [listed(EMAIL, PENDING)] });
    const ctx = testContext();
    const attrs = await snsSubscription.create(ctx, spec, { logicalId: ID });
    expect(sns).toHaveReceivedCommandTimes(SubscribeCommand, 1);
    expect(sns).toHaveReceivedCommandWith(SubscribeCommand, { TopicArn: TOPIC, Protocol: "email", Endpoint: EMAIL });
    expect(attrs).toEqual(pending);
    expect(ctx.notes).toEqual([`${EMAIL} must confirm the subscription (AWS sent an email)`]);
    expect(snsSubscription.physicalId(attrs)).toBe(`${TOPIC} email:${EMAIL} (pending confirmation)`);
  });

  it("create: an already confirmed subscription is returned as is, with no note", async () => {
    sns.on(SubscribeCommand).resolves({ SubscriptionArn: SUB_ARN });
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [listed(EMAIL, SUB_ARN)] });
    const ctx = testContext();
    const attrs = await snsSubscription.create(ctx, spec, { logicalId: ID });
    expect(attrs).toEqual(confirmed);
    expect(ctx.notes).toEqual([]);
    expect(snsSubscription.physicalId(attrs)).toBe(SUB_ARN);
  });

  it("create: a subscription not listed after Subscribe is an error that says to run again", async () => {
    sns.on(SubscribeCommand).resolves({});
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [] });
    await expect(snsSubscription.create(testContext(), spec, { logicalId: ID })).rejects.toThrow(`reading SNS subscription (${EMAIL} to ${TOPIC}) after Subscribe: not listed; run again`);
  });

  it("diff: a different topic, protocol or address replaces the subscription; letter case alone is no change", () => {
    expect(snsSubscription.diff({ ...spec, endpoint: "ONCALL@example.org" }, confirmed)).toEqual([]);
    expect(snsSubscription.diff({ ...spec, endpoint: "pager@example.org" }, confirmed)).toEqual([{ field: "endpoint", from: EMAIL, to: "pager@example.org", action: "replace" }]);
    expect(snsSubscription.diff({ ...spec, topicArn: `${TOPIC}-2` }, confirmed).map((c) => [c.field, c.action])).toEqual([["topicArn", "replace"]]);
  });

  it("destroy: unsubscribes a confirmed subscription by its current ARN", async () => {
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [listed(EMAIL, SUB_ARN)] });
    sns.on(UnsubscribeCommand).resolves({});
    await snsSubscription.destroy(testContext(), pending); // recorded while pending, confirmed since
    expect(sns).toHaveReceivedCommandWith(UnsubscribeCommand, { SubscriptionArn: SUB_ARN });
  });

  it("destroy: a pending subscription (no ARN to unsubscribe) or one already gone is left to expire or go with the topic", async () => {
    sns.on(ListSubscriptionsByTopicCommand).resolvesOnce({ Subscriptions: [listed(EMAIL, PENDING)] }).resolvesOnce({ Subscriptions: [] }).rejects(topicGone());
    for (let i = 0; i < 3; i++) await snsSubscription.destroy(testContext(), confirmed);
    expect(sns).not.toHaveReceivedCommand(UnsubscribeCommand);
  });

  it("details: says whether the recipient confirmed, from what the sweep's find just read (no second call)", async () => {
    expect(await snsSubscription.details!(testContext(), pending)).toBe("pending confirmation");
    expect(await snsSubscription.details!(testContext(), { ...pending, pending: false, subscriptionArn: SUB_ARN })).toBe("confirmed");
    expect(sns.calls()).toHaveLength(0);
  });
});
