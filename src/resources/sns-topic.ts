import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  ListTagsForResourceCommand,
  SetTopicAttributesCommand,
  SNSClient,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-sns";
import { orUndefined } from "../aws/errors.js";
import { tagList, tagRecord } from "../aws/tags.js";
import { partitionOf } from "./bucket.js";
import { compareFields, compareTags, knownKey, readAfterCreate, tagDelta, type Change, type ResourceContext, type ResourceType } from "./types.js";

export interface SnsTopicSpec {
  /** 1–256 of letters, digits, "-" and "_". */
  name: string;
  /** Encryption at rest: a KMS key id, ARN or alias ("alias/aws/sns" is the AWS-managed key); "" for none. */
  kmsMasterKeyId: string;
  tags: Record<string, string>;
}

export interface SnsTopicAttrs extends SnsTopicSpec {
  arn: string;
}

const KIND = "SNS topic";
const sns = (ctx: ResourceContext) => ctx.aws.get(SNSClient);

export function topicArn(ctx: ResourceContext, name: string): string {
  return `arn:${partitionOf(ctx.region)}:sns:${ctx.region}:${ctx.accountId}:${name}`;
}

export async function findTopicByArn(ctx: ResourceContext, arn: string): Promise<SnsTopicAttrs | undefined> {
  const out = await orUndefined(sns(ctx).send(new GetTopicAttributesCommand({ TopicArn: arn })));
  if (!out?.Attributes) return undefined;
  const tags = await orUndefined(sns(ctx).send(new ListTagsForResourceCommand({ ResourceArn: arn })));
  if (!tags) return undefined;
  return { name: arn.slice(arn.lastIndexOf(":") + 1), arn, kmsMasterKeyId: out.Attributes.KmsMasterKeyId ?? "", tags: tagRecord(tags.Tags) };
}

async function readBack(ctx: ResourceContext, arn: string): Promise<SnsTopicAttrs> {
  return readAfterCreate(ctx, `${KIND} ${arn}`, () => findTopicByArn(ctx, arn));
}

export const snsTopic: ResourceType<SnsTopicSpec, SnsTopicAttrs> = {
  type: "sns:topic",

  // The name is the key (the ARN follows from it): the recorded ARN, else the one of the name create would use.
  async find(ctx, { recorded, wanted }) {
    const name = knownKey(undefined, wanted?.name);
    const arn = recorded?.arn ?? (name ? topicArn(ctx, name) : undefined);
    return arn ? findTopicByArn(ctx, arn) : undefined;
  },

  diff(spec, actual): Change[] {
    return [...compareFields(spec, actual, [{ field: "name", action: "replace" }, { field: "kmsMasterKeyId" }]), ...compareTags(spec.tags, actual.tags)];
  },

  // CreateTopic is idempotent by name and returns an existing topic's ARN: the engine refuses a result not tagged ours.
  async create(ctx, spec) {
    const out = await sns(ctx).send(
      new CreateTopicCommand({ Name: spec.name, Attributes: spec.kmsMasterKeyId ? { KmsMasterKeyId: spec.kmsMasterKeyId } : {}, Tags: tagList(spec.tags) }),
    );
    return readBack(ctx, out.TopicArn!);
  },

  async update(ctx, spec, actual, changes) {
    const fields = new Set(changes.map((c) => c.field));
    if (fields.has("kmsMasterKeyId")) {
      await sns(ctx).send(new SetTopicAttributesCommand({ TopicArn: actual.arn, AttributeName: "KmsMasterKeyId", AttributeValue: spec.kmsMasterKeyId }));
    }
    if (fields.has("tags")) {
      const { set, remove } = tagDelta(spec.tags, actual.tags);
      if (Object.keys(set).length) await sns(ctx).send(new TagResourceCommand({ ResourceArn: actual.arn, Tags: tagList(set) }));
      if (remove.length) await sns(ctx).send(new UntagResourceCommand({ ResourceArn: actual.arn, TagKeys: remove }));
    }
    return readBack(ctx, actual.arn);
  },

  async destroy(ctx, actual) {
    // DeleteTopic is idempotent and removes the topic's subscriptions, pending ones included.
    await orUndefined(sns(ctx).send(new DeleteTopicCommand({ TopicArn: actual.arn })));
  },

  physicalId: (a) => a.arn,
};
