import {
  AddTagsCommand,
  CloudTrailClient,
  CreateTrailCommand,
  DeleteTrailCommand,
  type EventSelector,
  GetEventSelectorsCommand,
  GetTrailCommand,
  GetTrailStatusCommand,
  ListTagsCommand,
  PutEventSelectorsCommand,
  RemoveTagsCommand,
  StartLoggingCommand,
  type Trail,
  UpdateTrailCommand,
} from "@aws-sdk/client-cloudtrail";
import { orUndefined } from "../aws/errors.js";
import { tagList, tagRecord } from "../aws/tags.js";
import { partitionOf } from "./bucket.js";
import { retryWhile } from "./retry.js";
import { compareFields, compareTags, knownKey, tagDelta, type Change, type ResourceContext, type ResourceType } from "./types.js";

export interface TrailSpec {
  /** 3–128 of letters, digits, ".", "_" and "-". */
  name: string;
  /** The audit bucket; its policy must let CloudTrail write (CloudTrail checks it on create). */
  bucket: string;
  /** SSE-KMS for the log files; absent: the bucket's encryption (SSE-S3). */
  kmsKeyId?: string;
  /** Buckets whose object-level (data) events are recorded too; empty: management events only. */
  dataEventBuckets: string[];
  tags: Record<string, string>;
}

export interface TrailAttrs extends TrailSpec {
  arn: string;
  multiRegion: boolean;
  includeGlobalServiceEvents: boolean;
  logFileValidation: boolean;
  isLogging: boolean;
}

const KIND = "CloudTrail trail";
/** CloudTrail checks the bucket policy on create; a policy written a moment ago may not be visible to it yet. */
const POLICY_NOT_VISIBLE = ["InsufficientS3BucketPolicyException", "S3BucketDoesNotExistException"];
const ct = (ctx: ResourceContext) => ctx.aws.get(CloudTrailClient);

/** Management events (read and write) of every service, plus S3 object events on the given buckets. */
export function eventSelectors(region: string, buckets: string[]): EventSelector[] {
  return [
    {
      ReadWriteType: "All",
      IncludeManagementEvents: true,
      DataResources: buckets.length ? [{ Type: "AWS::S3::Object", Values: buckets.map((b) => `arn:${partitionOf(region)}:s3:::${b}/`) }] : [],
    },
  ];
}

function bucketsOf(selectors: EventSelector[] | undefined): string[] {
  return (selectors ?? [])
    .flatMap((s) => s.DataResources ?? [])
    .filter((d) => d.Type === "AWS::S3::Object")
    .flatMap((d) => d.Values ?? [])
    .map((v) => /^arn:[^:]+:s3:::([^/]+)\/?$/.exec(v)?.[1] ?? v)
    .sort();
}

async function readAttrs(ctx: ResourceContext, trail: Trail): Promise<TrailAttrs> {
  const name = trail.Name!;
  const arn = trail.TrailARN!;
  const [status, selectors, tags] = await Promise.all([
    ct(ctx).send(new GetTrailStatusCommand({ Name: arn })),
    ct(ctx).send(new GetEventSelectorsCommand({ TrailName: arn })),
    ct(ctx).send(new ListTagsCommand({ ResourceIdList: [arn] })),
  ]);
  return {
    name,
    arn,
    bucket: trail.S3BucketName!,
    ...(trail.KmsKeyId ? { kmsKeyId: trail.KmsKeyId } : {}),
    multiRegion: trail.IsMultiRegionTrail ?? false,
    includeGlobalServiceEvents: trail.IncludeGlobalServiceEvents ?? false,
    logFileValidation: trail.LogFileValidationEnabled ?? false,
    isLogging: status.IsLogging ?? false,
    dataEventBuckets: bucketsOf(selectors.EventSelectors),
    tags: tagRecord(tags.ResourceTagList?.find((r) => r.ResourceId === arn)?.TagsList ?? tags.ResourceTagList?.[0]?.TagsList),
  };
}

export async function findTrailByName(ctx: ResourceContext, name: string): Promise<TrailAttrs | undefined> {
  const out = await orUndefined(ct(ctx).send(new GetTrailCommand({ Name: name })));
  return out?.Trail ? orUndefined(readAttrs(ctx, out.Trail)) : undefined;
}

async function readBack(ctx: ResourceContext, name: string): Promise<TrailAttrs> {
  const found = await findTrailByName(ctx, name);
  if (!found) throw new Error(`reading ${KIND} (${name}): not found right after it was written; run again`);
  return found;
}

/** The settings every trail of ours has, whatever the spec: they are the point of an audit trail. */
function desired(spec: TrailSpec) {
  return { ...spec, multiRegion: true, includeGlobalServiceEvents: true, logFileValidation: true, isLogging: true, dataEventBuckets: [...spec.dataEventBuckets].sort() };
}

function diff(spec: TrailSpec, actual: TrailAttrs): Change[] {
  const want = desired(spec);
  return [
    ...compareFields(want, actual, [
      { field: "name", action: "replace" },
      { field: "bucket" },
      { field: "multiRegion" },
      { field: "includeGlobalServiceEvents" },
      { field: "logFileValidation" },
      { field: "isLogging" },
      { field: "dataEventBuckets" },
    ]),
    ...((want.kmsKeyId ?? "") !== (actual.kmsKeyId ?? "") ? [{ field: "kmsKeyId", from: actual.kmsKeyId, to: want.kmsKeyId, action: "update" as const }] : []),
    ...compareTags(spec.tags, actual.tags),
  ];
}

async function applyChanges(ctx: ResourceContext, spec: TrailSpec, actual: TrailAttrs, changes: Change[]): Promise<TrailAttrs> {
  const fields = new Set(changes.map((c) => c.field));
  const settings = ["bucket", "multiRegion", "includeGlobalServiceEvents", "logFileValidation", "kmsKeyId"];
  if (settings.some((f) => fields.has(f))) {
    await retryWhile(ctx, POLICY_NOT_VISIBLE, 60, () =>
      ct(ctx).send(
        new UpdateTrailCommand({
          Name: actual.arn,
          S3BucketName: spec.bucket,
          IsMultiRegionTrail: true,
          IncludeGlobalServiceEvents: true,
          EnableLogFileValidation: true,
          // "" removes SSE-KMS from the trail.
          KmsKeyId: spec.kmsKeyId ?? "",
        }),
      ),
    );
  }
  if (fields.has("dataEventBuckets")) await ct(ctx).send(new PutEventSelectorsCommand({ TrailName: actual.arn, EventSelectors: eventSelectors(ctx.region, spec.dataEventBuckets) }));
  if (fields.has("isLogging")) await ct(ctx).send(new StartLoggingCommand({ Name: actual.arn }));
  if (fields.has("tags")) {
    const { set, remove } = tagDelta(spec.tags, actual.tags);
    if (Object.keys(set).length) await ct(ctx).send(new AddTagsCommand({ ResourceId: actual.arn, TagsList: tagList(set) }));
    if (remove.length) await ct(ctx).send(new RemoveTagsCommand({ ResourceId: actual.arn, TagsList: remove.map((Key) => ({ Key })) }));
  }
  return readBack(ctx, actual.arn);
}

export const cloudTrail: ResourceType<TrailSpec, TrailAttrs> = {
  type: "cloudtrail:trail",

  // By the recorded ARN, else by the name create would use.
  async find(ctx, { recorded, wanted }) {
    const key = recorded?.arn ?? knownKey(undefined, wanted?.name);
    return key ? findTrailByName(ctx, key) : undefined;
  },

  diff,

  async create(ctx, spec) {
    // TrailAlreadyExists: the engine looks the trail up by its name and adopts it only when its tags prove it ours.
    await retryWhile(ctx, POLICY_NOT_VISIBLE, 60, () =>
      ct(ctx).send(
        new CreateTrailCommand({
          Name: spec.name,
          S3BucketName: spec.bucket,
          IsMultiRegionTrail: true,
          IncludeGlobalServiceEvents: true,
          EnableLogFileValidation: true,
          ...(spec.kmsKeyId ? { KmsKeyId: spec.kmsKeyId } : {}),
          TagsList: tagList(spec.tags),
        }),
      ),
    );
    const created = await readBack(ctx, spec.name);
    // A new trail logs nothing until StartLogging, and records management events only until selectors say more.
    return applyChanges(ctx, spec, created, diff(spec, created));
  },

  update: applyChanges,

  async destroy(ctx, actual) {
    // Deleting a trail stops its logging; the log files stay in the audit bucket.
    await orUndefined(ct(ctx).send(new DeleteTrailCommand({ Name: actual.arn })));
  },

  physicalId: (a) => a.arn,

  // The sweep's find has just read the trail's status: no second read.
  async details(_ctx, actual) {
    return actual.isLogging ? "logging" : "NOT logging";
  },
};

