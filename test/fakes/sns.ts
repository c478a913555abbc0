import { InvalidParameterException, NotFoundException, SNSClient } from "@aws-sdk/client-sns";
import { type FakeCloud, fromTagList, type ServiceModel, type Tags, toTagList } from "./cloud.js";
import type { TagSource } from "./tagging.js";

/**
 * The SNS part of the fake: topics with attributes and tags, and email subscriptions that stay "PendingConfirmation"
 * until a test confirms them (`confirm`). CreateTopic is idempotent by name (with the same attributes); deleting a
 * topic deletes its subscriptions.
 */
export interface FakeSubscription {
  arn: string;
  Protocol: string;
  Endpoint: string;
  confirmed: boolean;
}

export interface FakeTopic {
  arn: string;
  attributes: Record<string, string>;
  tags: Tags;
  subscriptions: FakeSubscription[];
}

export interface SnsState {
  topics: Map<string, FakeTopic>;
}

type ExceptionClass = new (options: { message: string; $metadata: Record<string, unknown> }) => Error;
const fail = (Exception: unknown, message: string) => new (Exception as ExceptionClass)({ message, $metadata: { httpStatusCode: 400, requestId: "fake-request-id" } });
const notFound = () => fail(NotFoundException, "Topic does not exist");

/** The recipient followed the link in the confirmation email. */
export function confirmSubscription(state: SnsState, endpoint: string): void {
  for (const t of state.topics.values()) for (const s of t.subscriptions) if (s.Endpoint === endpoint) s.confirmed = true;
}

export function snsModel(cloud: FakeCloud, state: SnsState = { topics: new Map() }) {
  const topic = (arn: string) => {
    const t = state.topics.get(arn);
    if (!t) throw notFound();
    return t;
  };
  const handlers: Record<string, (input: any) => unknown> = {
    CreateTopic: (input) => {
      if (!/^[A-Za-z0-9_-]{1,256}$/.test(input.Name ?? "")) throw fail(InvalidParameterException, "Invalid parameter: Topic Name");
      const arn = `arn:aws:sns:${cloud.region}:${cloud.accountId}:${input.Name}`;
      const existing = state.topics.get(arn);
      if (existing) {
        if (input.Tags?.length && JSON.stringify(fromTagList(input.Tags)) !== JSON.stringify(existing.tags)) {
          throw fail(InvalidParameterException, "Invalid parameter: Tags Reason: Topic already exists with different tags");
        }
        return { TopicArn: arn };
      }
      state.topics.set(arn, { arn, attributes: { ...(input.Attributes ?? {}) }, tags: fromTagList(input.Tags), subscriptions: [] });
      return { TopicArn: arn };
    },
    GetTopicAttributes: (input) => {
      const t = topic(input.TopicArn);
      return { Attributes: { TopicArn: t.arn, Owner: cloud.accountId, ...t.attributes, SubscriptionsConfirmed: String(t.subscriptions.filter((s) => s.confirmed).length) } };
    },
    SetTopicAttributes: (input) => {
      const t = topic(input.TopicArn);
      if (input.AttributeValue === "" || input.AttributeValue === undefined) delete t.attributes[input.AttributeName];
      else t.attributes[input.AttributeName] = input.AttributeValue;
      return {};
    },
    DeleteTopic: (input) => {
      state.topics.delete(input.TopicArn);
      return {};
    },
    ListTagsForResource: (input) => ({ Tags: toTagList(topic(input.ResourceArn).tags) }),
    TagResource: (input) => {
      Object.assign(topic(input.ResourceArn).tags, fromTagList(input.Tags));
      return {};
    },
    UntagResource: (input) => {
      const t = topic(input.ResourceArn);
      for (const k of input.TagKeys ?? []) delete t.tags[k];
      return {};
    },
    Subscribe: (input) => {
      const t = topic(input.TopicArn);
      if (input.Protocol !== "email" || !/^[^@\s]+@[^@\s]+$/.test(input.Endpoint ?? "")) throw fail(InvalidParameterException, "Invalid parameter: Email address");
      let sub = t.subscriptions.find((s) => s.Protocol === input.Protocol && s.Endpoint === input.Endpoint);
      if (!sub) {
        sub = { arn: `${t.arn}:${cloud.id("sub").slice(4)}`, Protocol: input.Protocol, Endpoint: input.Endpoint, confirmed: false };
        t.subscriptions.push(sub);
      }
      return { SubscriptionArn: sub.confirmed || input.ReturnSubscriptionArn ? sub.arn : "pending confirmation" };
    },
    ListSubscriptionsByTopic: (input) => ({
      Subscriptions: topic(input.TopicArn).subscriptions.map((s) => ({ SubscriptionArn: s.confirmed ? s.arn : "PendingConfirmation", Owner: cloud.accountId, Protocol: s.Protocol, Endpoint: s.Endpoint, TopicArn: input.TopicArn })),
    }),
    Unsubscribe: (input) => {
      for (const t of state.topics.values()) t.subscriptions = t.subscriptions.filter((s) => s.arn !== input.SubscriptionArn);
      return {};
    },
  };
  const model: ServiceModel = { service: "sns", client: SNSClient, handlers };
  const taggingSources: TagSource[] = [() => [...state.topics.values()].map((t) => ({ arn: t.arn, tags: { ...t.tags } }))];
  return { model, state, taggingSources };
}
