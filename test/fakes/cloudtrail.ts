import { CloudTrailClient, InsufficientS3BucketPolicyException, S3BucketDoesNotExistException, TrailAlreadyExistsException, TrailNotFoundException } from "@aws-sdk/client-cloudtrail";
import { type FakeCloud, fromTagList, type ServiceModel, type Tags, toTagList } from "./cloud.js";
import type { S3State } from "./s3.js";
import type { TagSource } from "./tagging.js";

/**
 * The CloudTrail part of the fake: trails, their logging status, event selectors and tags. Like CloudTrail, CreateTrail
 * and UpdateTrail check that the bucket exists and that its policy lets cloudtrail.amazonaws.com write.
 */
export interface FakeTrail {
  Name: string;
  TrailARN: string;
  S3BucketName: string;
  KmsKeyId?: string;
  IsMultiRegionTrail: boolean;
  IncludeGlobalServiceEvents: boolean;
  LogFileValidationEnabled: boolean;
  IsLogging: boolean;
  EventSelectors: unknown[];
  tags: Tags;
}

export interface CloudTrailState {
  trails: Map<string, FakeTrail>;
}

type ExceptionClass = new (options: { message: string; $metadata: Record<string, unknown> }) => Error;
const fail = (Exception: unknown, message: string) => new (Exception as ExceptionClass)({ message, $metadata: { httpStatusCode: 400, requestId: "fake-request-id" } });

export function cloudTrailModel(cloud: FakeCloud, s3: S3State, state: CloudTrailState = { trails: new Map() }) {
  const trailOf = (nameOrArn: string) => {
    const t = [...state.trails.values()].find((x) => x.Name === nameOrArn || x.TrailARN === nameOrArn);
    if (!t) throw fail(TrailNotFoundException, `Unknown trail: ${nameOrArn} for the user: ${cloud.accountId}`);
    return t;
  };
  const checkBucket = (name: string) => {
    const bucket = (s3 as unknown as { buckets: Map<string, { policy?: string }> }).buckets.get(name);
    if (!bucket) throw fail(S3BucketDoesNotExistException, `S3 bucket ${name} does not exist.`);
    if (!bucket.policy?.includes("cloudtrail.amazonaws.com")) throw fail(InsufficientS3BucketPolicyException, "Incorrect S3 bucket policy is detected for bucket: " + name);
  };
  const handlers: Record<string, (input: any) => unknown> = {
    CreateTrail: (input) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$/.test(input.Name ?? "")) throw new Error(`fake cloudtrail: invalid trail name ${input.Name}`);
      if (state.trails.has(input.Name)) throw fail(TrailAlreadyExistsException, `Trail ${input.Name} already exists for customer: ${cloud.accountId}`);
      checkBucket(input.S3BucketName);
      const trail: FakeTrail = {
        Name: input.Name,
        TrailARN: `arn:aws:cloudtrail:${cloud.region}:${cloud.accountId}:trail/${input.Name}`,
        S3BucketName: input.S3BucketName,
        ...(input.KmsKeyId ? { KmsKeyId: input.KmsKeyId } : {}),
        IsMultiRegionTrail: input.IsMultiRegionTrail ?? false,
        IncludeGlobalServiceEvents: input.IncludeGlobalServiceEvents ?? true,
        LogFileValidationEnabled: input.EnableLogFileValidation ?? false,
        IsLogging: false,
        EventSelectors: [{ ReadWriteType: "All", IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] }],
        tags: fromTagList(input.TagsList),
      };
      state.trails.set(trail.Name, trail);
      const { tags: _t, IsLogging: _l, EventSelectors: _e, ...shape } = trail;
      return { ...shape, LogFileValidationEnabled: trail.LogFileValidationEnabled };
    },
    GetTrail: (input) => {
      const { tags: _t, IsLogging: _l, EventSelectors: _e, ...shape } = trailOf(input.Name);
      return { Trail: { ...shape, HomeRegion: cloud.region, HasCustomEventSelectors: false } };
    },
    GetTrailStatus: (input) => ({ IsLogging: trailOf(input.Name).IsLogging }),
    StartLogging: (input) => {
      trailOf(input.Name).IsLogging = true;
      return {};
    },
    StopLogging: (input) => {
      trailOf(input.Name).IsLogging = false;
      return {};
    },
    UpdateTrail: (input) => {
      const t = trailOf(input.Name);
      if (input.S3BucketName) checkBucket(input.S3BucketName);
      if (input.S3BucketName) t.S3BucketName = input.S3BucketName;
      if (input.IsMultiRegionTrail !== undefined) t.IsMultiRegionTrail = input.IsMultiRegionTrail;
      if (input.IncludeGlobalServiceEvents !== undefined) t.IncludeGlobalServiceEvents = input.IncludeGlobalServiceEvents;
      if (input.EnableLogFileValidation !== undefined) t.LogFileValidationEnabled = input.EnableLogFileValidation;
      if (input.KmsKeyId !== undefined) {
        if (input.KmsKeyId) t.KmsKeyId = input.KmsKeyId;
        else delete t.KmsKeyId;
      }
      return {};
    },
    GetEventSelectors: (input) => {
      const t = trailOf(input.TrailName);
      return { TrailARN: t.TrailARN, EventSelectors: t.EventSelectors };
    },
    PutEventSelectors: (input) => {
      const t = trailOf(input.TrailName);
      if (!input.EventSelectors?.length || input.EventSelectors.length > 5) throw new Error("fake cloudtrail: 1-5 event selectors");
      for (const s of input.EventSelectors) for (const d of s.DataResources ?? []) {
        if (d.Type === "AWS::S3::Object" && d.Values.some((v: string) => !/^arn:aws[\w-]*:s3:::[^/]+\/.*$/.test(v))) throw new Error(`fake cloudtrail: invalid S3 data resource ${d.Values}`);
      }
      t.EventSelectors = structuredClone(input.EventSelectors);
      return { TrailARN: t.TrailARN, EventSelectors: t.EventSelectors };
    },
    ListTags: (input) => ({ ResourceTagList: (input.ResourceIdList ?? []).map((id: string) => ({ ResourceId: id, TagsList: toTagList(trailOf(id).tags) })) }),
    AddTags: (input) => {
      Object.assign(trailOf(input.ResourceId).tags, fromTagList(input.TagsList));
      return {};
    },
    RemoveTags: (input) => {
      const t = trailOf(input.ResourceId);
      for (const tag of input.TagsList ?? []) delete t.tags[tag.Key];
      return {};
    },
    DeleteTrail: (input) => {
      state.trails.delete(trailOf(input.Name).Name);
      return {};
    },
  };
  const model: ServiceModel = { service: "cloudtrail", client: CloudTrailClient, handlers };
  const taggingSources: TagSource[] = [() => [...state.trails.values()].map((t) => ({ arn: t.TrailARN, tags: { ...t.tags } }))];
  return { model, state, taggingSources };
}
