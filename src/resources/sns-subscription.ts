import { paginateListSubscriptionsByTopic, SNSClient, SubscribeCommand, type Subscription, UnsubscribeCommand } from "@aws-sdk/client-sns";
import { isNotFound, orUndefined } from "../aws/errors.js";
import { single } from "./find.js";
import { knownKey, compareFields, type Change, type ResourceContext, type ResourceType } from "./types.js";

/**
 * An email subscription to a topic. AWS sends the address a confirmation link; until it is followed, the subscription
 * is listed with SubscriptionArn "PendingConfirmation" (and expires after 3 days). Subscriptions have no tags and no
 * name: the topic and the endpoint identify one.
 */
export interface SnsSubscriptionSpec {
  topicArn: string;
  protocol: "email";
  endpoint: string;
}

export interface SnsSubscriptionAttrs extends SnsSubscriptionSpec {
  /** "PendingConfirmation" until the recipient confirms. */
  subscriptionArn: string;
  pending: boolean;
}

const KIND = "SNS subscription";
export const PENDING = "PendingConfirmation";
const sns = (ctx: ResourceContext) => ctx.aws.get(SNSClient);

async function listSubscriptions(ctx: ResourceContext, topicArn: string): Promise<Subscription[] | undefined> {
  const out: Subscription[] = [];
  try {
    for await (const page of paginateListSubscriptionsByTopic({ client: sns(ctx) }, { TopicArn: topicArn })) out.push(...(page.Subscriptions ?? []));
  } catch (err) {
    // The topic is gone, and its subscriptions with it.
    if (isNotFound(err)) return undefined;
    throw err;
  }
  return out;
}

/** The subscription of `endpoint` to the topic; undefined when there is none or the topic is gone. */
export async function findSubscription(ctx: ResourceContext, topicArn: string, protocol: string, endpoint: string): Promise<SnsSubscriptionAttrs | undefined> {
  const subs = await listSubscriptions(ctx, topicArn);
  const match = single(
    subs?.filter((s) => s.Protocol === protocol && s.Endpoint?.toLowerCase() === endpoint.toLowerCase()),
    `${protocol} subscriptions of ${endpoint} to ${topicArn}`,
  );
  if (!match) return undefined;
  const subscriptionArn = match.SubscriptionArn ?? PENDING;
  return { topicArn, protocol: "email", endpoint: match.Endpoint!, subscriptionArn, pending: subscriptionArn === PENDING };
}

export const snsSubscription: ResourceType<SnsSubscriptionSpec, SnsSubscriptionAttrs> = {
  type: "sns:subscription",

  async find(ctx, { recorded, wanted }) {
    if (recorded) return findSubscription(ctx, recorded.topicArn, recorded.protocol, recorded.endpoint);
    const topicArn = knownKey(undefined, wanted?.topicArn);
    return topicArn && wanted ? findSubscription(ctx, topicArn, wanted.protocol, wanted.endpoint) : undefined;
  },

  diff(spec, actual): Change[] {
    return compareFields({ ...spec, endpoint: spec.endpoint.toLowerCase() }, { ...actual, endpoint: actual.endpoint.toLowerCase() }, [
      { field: "topicArn", action: "replace" },
      { field: "protocol", action: "replace" },
      { field: "endpoint", action: "replace" },
    ]);
  },

  async create(ctx, spec, { logicalId }) {
    // Subscribe is idempotent for the same topic, protocol and endpoint; a pending one is asked to confirm again.
    await sns(ctx).send(new SubscribeCommand({ TopicArn: spec.topicArn, Protocol: spec.protocol, Endpoint: spec.endpoint }));
    const found = await findSubscription(ctx, spec.topicArn, spec.protocol, spec.endpoint);
    if (!found) throw new Error(`reading ${KIND} (${spec.endpoint} to ${spec.topicArn}) after Subscribe: not listed; run again`);
    if (found.pending) ctx.note(logicalId, `${spec.endpoint} must confirm the subscription (AWS sent an email)`);
    return found;
  },

  async destroy(ctx, actual) {
    const now = await findSubscription(ctx, actual.topicArn, actual.protocol, actual.endpoint);
    // A pending subscription cannot be unsubscribed by ARN (it has none); it expires, or goes with its topic.
    if (!now || now.pending) return;
    await orUndefined(sns(ctx).send(new UnsubscribeCommand({ SubscriptionArn: now.subscriptionArn })));
  },

  physicalId: (a) => (a.pending ? `${a.topicArn} ${a.protocol}:${a.endpoint} (pending confirmation)` : a.subscriptionArn),

  // The sweep's find has just listed the subscription: no second read.
  async details(_ctx, actual) {
    return actual.pending ? "pending confirmation" : "confirmed";
  },
};
