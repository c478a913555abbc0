import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DisassociateKmsKeyCommand,
  ListTagsForResourceCommand,
  type LogGroup,
  paginateDescribeLogGroups,
  PutRetentionPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { orUndefined } from "../aws/errors.js";
import { retryWhile } from "./retry.js";
import { compareFields, compareTags, knownKey, readAfterCreate, tagDelta, type Change, type ResourceContext, type ResourceType } from "./types.js";

export interface LogGroupSpec {
  name: string;
  /** One of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, ... 3653. */
  retentionDays: number;
  /** A symmetric KMS key's ARN; absent means CloudWatch Logs' own encryption. */
  kmsKeyArn?: string;
  tags: Record<string, string>;
}

export interface LogGroupAttrs extends Omit<LogGroupSpec, "retentionDays"> {
  /** Undefined when the group's events never expire. */
  retentionDays: number | undefined;
  /** The log group ARN without the trailing ":*": the form tagging calls and most resource policies take. */
  arn: string;
}

const KIND = "CloudWatch Logs log group";

const logsClient = (ctx: ResourceContext) => ctx.aws.get(CloudWatchLogsClient);

/** DescribeLogGroups returns `arn` with ":*" and, in newer responses, `logGroupArn` without it. */
function groupArn(g: LogGroup): string {
  return g.logGroupArn ?? g.arn!.replace(/:\*$/, "");
}

/** The group named exactly `name`: DescribeLogGroups only matches prefixes, so "/a" also lists "/a/b". */
async function describeByName(ctx: ResourceContext, name: string): Promise<LogGroup | undefined> {
  for await (const page of paginateDescribeLogGroups({ client: logsClient(ctx) }, { logGroupNamePrefix: name })) {
    const hit = page.logGroups?.find((g) => g.logGroupName === name);
    if (hit) return hit;
  }
  return undefined;
}

export async function findLogGroupByName(ctx: ResourceContext, name: string): Promise<LogGroupAttrs | undefined> {
  const group = await describeByName(ctx, name);
  if (!group) return undefined;
  const arn = groupArn(group);
  // ListTagsForResource rejects the ":*" form of the ARN (ValidationException "Invalid resourceArn").
  const tagged = await orUndefined(logsClient(ctx).send(new ListTagsForResourceCommand({ resourceArn: arn })));
  if (!tagged) return undefined;
  return { name, arn, retentionDays: group.retentionInDays, kmsKeyArn: group.kmsKeyId, tags: tagged.tags ?? {} };
}

/** Right after a create the group can be briefly invisible to DescribeLogGroups: read until it shows. */
async function readBack(ctx: ResourceContext, spec: LogGroupSpec): Promise<LogGroupAttrs> {
  return readAfterCreate(ctx, `${KIND} ${spec.name}`, () => findLogGroupByName(ctx, spec.name));
}

async function createGroup(ctx: ResourceContext, spec: LogGroupSpec): Promise<void> {
  // Tags on create: a group whose creation outlived a crash is found by its name and proven ours by them.
  await logsClient(ctx).send(new CreateLogGroupCommand({ logGroupName: spec.name, kmsKeyId: spec.kmsKeyArn, tags: spec.tags }));
}

async function putRetention(ctx: ResourceContext, name: string, days: number): Promise<void> {
  await logsClient(ctx).send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: days }));
}

/** AssociateKmsKey/DisassociateKmsKey take either logGroupName or resourceIdentifier, never both. */
async function setKmsKey(ctx: ResourceContext, name: string, kmsKeyArn: string | undefined): Promise<void> {
  if (kmsKeyArn) await logsClient(ctx).send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId: kmsKeyArn }));
  else await logsClient(ctx).send(new DisassociateKmsKeyCommand({ logGroupName: name }));
}

async function applyTags(ctx: ResourceContext, arn: string, want: Record<string, string>, have: Record<string, string>): Promise<void> {
  const { set, remove } = tagDelta(want, have);
  if (Object.keys(set).length) await logsClient(ctx).send(new TagResourceCommand({ resourceArn: arn, tags: set }));
  if (remove.length) await logsClient(ctx).send(new UntagResourceCommand({ resourceArn: arn, tagKeys: remove }));
}

/** Unlike compareFields, an absent key in the spec is a change too: the group should then use CloudWatch's own encryption. */
function kmsChange(spec: LogGroupSpec, actual: LogGroupAttrs): Change[] {
  if ((spec.kmsKeyArn ?? undefined) === (actual.kmsKeyArn ?? undefined)) return [];
  return [{ field: "kmsKeyArn", from: actual.kmsKeyArn, to: spec.kmsKeyArn, action: "update", note: "applies to newly ingested events, within about 5 minutes" }];
}

function diff(spec: LogGroupSpec, actual: LogGroupAttrs): Change[] {
  return [
    ...compareFields(spec, actual, [{ field: "name", action: "replace" }, { field: "retentionDays" }]),
    ...kmsChange(spec, actual),
    ...compareTags(spec.tags, actual.tags),
  ];
}

async function applyChanges(ctx: ResourceContext, spec: LogGroupSpec, actual: LogGroupAttrs, changes: Change[]): Promise<LogGroupAttrs> {
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  if (fields.has("retentionDays")) await putRetention(ctx, actual.name, spec.retentionDays);
  if (fields.has("kmsKeyArn")) await setKmsKey(ctx, actual.name, spec.kmsKeyArn);
  if (fields.has("tags")) await applyTags(ctx, actual.arn, spec.tags, actual.tags);
  return readBack(ctx, spec);
}

export const logGroup: ResourceType<LogGroupSpec, LogGroupAttrs> = {
  type: "logs:log-group",

  // The name is the key: the recorded one, else the one create would use.
  async find(ctx, { recorded, wanted }) {
    const name = knownKey(recorded?.name, wanted?.name);
    return name ? findLogGroupByName(ctx, name) : undefined;
  },

  diff,

  async create(ctx, spec) {
    await createGroup(ctx, spec);
    // CreateLogGroup takes no retention: a new group never expires until PutRetentionPolicy.
    await putRetention(ctx, spec.name, spec.retentionDays);
    return readBack(ctx, spec);
  },

  update: applyChanges,

  async destroy(ctx, actual) {
    // OperationAbortedException: another operation on the group is in flight.
    await retryWhile(ctx, ["OperationAbortedException"], 30, async () => {
      await orUndefined(logsClient(ctx).send(new DeleteLogGroupCommand({ logGroupName: actual.name })));
    });
  },

  physicalId: (a) => a.name,
};
