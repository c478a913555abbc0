import {
  CloudWatchLogsClient,
  InvalidParameterException,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  ValidationException,
} from "@aws-sdk/client-cloudwatch-logs";
import type { FakeCloud, ServiceModel, Tags } from "./cloud.js";
import type { TagSource } from "./tagging.js";

/**
 * The CloudWatch Logs part of the fake: log groups with retention, KMS key, tags and streams of events.
 * Events are seeded with `putLogEvents` (PutLogEvents itself is not modelled); GetLogEvents and FilterLogEvents read them.
 */
export interface FakeLogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

export interface FakeLogGroup {
  logGroupName: string;
  creationTime: number;
  retentionInDays?: number;
  kmsKeyId?: string;
  tags: Tags;
  streams: Map<string, FakeLogEvent[]>;
}

export interface LogsState {
  groups: Map<string, FakeLogGroup>;
}

export function newLogsState(): LogsState {
  return { groups: new Map() };
}

/** The values PutRetentionPolicy accepts (API reference, PutRetentionPolicy / LogGroup.retentionInDays). */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const NAME_PATTERN = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const DEFAULT_PAGE = 50;

type ExceptionClass = new (options: { message: string; $metadata: Record<string, unknown> }) => Error;
const fail = (Exception: ExceptionClass, message: string) => new Exception({ message, $metadata: { httpStatusCode: 400, requestId: "fake-request-id" } });
const groupNotFound = () => fail(ResourceNotFoundException as unknown as ExceptionClass, "The specified log group does not exist.");
const invalid = (message: string) => fail(InvalidParameterException as unknown as ExceptionClass, message);

/** Seeds events into a group's stream, creating the stream: tests use it in place of PutLogEvents. */
export function putLogEvents(state: LogsState, groupName: string, streamName: string, events: { timestamp: number; message: string }[]): void {
  const group = state.groups.get(groupName);
  if (!group) throw new Error(`fake logs: no log group ${groupName}`);
  const stream = group.streams.get(streamName) ?? [];
  stream.push(...events.map((e) => ({ ...e, ingestionTime: e.timestamp })));
  stream.sort((a, b) => a.timestamp - b.timestamp);
  group.streams.set(streamName, stream);
}

/** Offsets in opaque-looking tokens, so a caller cannot rely on their shape. */
const encodeToken = (offset: number) => Buffer.from(`offset:${offset}`).toString("base64");
function decodeToken(token: string | undefined): number {
  if (!token) return 0;
  const match = /^offset:(\d+)$/.exec(Buffer.from(token, "base64").toString());
  if (!match) throw invalid("The specified nextToken is invalid.");
  return Number(match[1]);
}

function pageOf<T>(items: T[], nextToken: string | undefined, limit: number | undefined, max: number): { items: T[]; nextToken?: string } {
  const size = limit ?? max;
  if (size < 1 || size > max) throw invalid(`limit must be between 1 and ${max}`);
  const start = decodeToken(nextToken);
  const end = start + size;
  return { items: items.slice(start, end), nextToken: end < items.length ? encodeToken(end) : undefined };
}

function validateKmsKey(kmsKeyId: string | undefined): void {
  // CloudWatch Logs takes the key's ARN only, not a key id or alias name.
  if (kmsKeyId !== undefined && !/^arn:aws[\w-]*:kms:[\w-]+:\d{12}:key\/[\w-]+$/.test(kmsKeyId)) {
    throw invalid(`Specified KMS key ${kmsKeyId} is not a valid KMS key ARN.`);
  }
}

/** Tag keys and values: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$, keys 1–128, values ≤ 256, at most 50 (API reference, TagResource). */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function validateTags(tags: Tags | undefined): void {
  const entries = Object.entries(tags ?? {});
  if (entries.length > 50) throw invalid("A log group can have at most 50 tags.");
  for (const [k, v] of entries) {
    if (!k || k.length > 128 || v.length > 256 || k.startsWith("aws:") || !TAG_TEXT.test(k) || !TAG_TEXT.test(v)) throw invalid(`Invalid tag ${k}.`);
  }
}

/** The model to install, its state, and what it lists to the tagging fake; the object is itself the model. */
export interface LogsFake extends ServiceModel {
  model: ServiceModel;
  state: LogsState;
  taggingSources: TagSource[];
}

export function logsModel(cloud: FakeCloud, state: LogsState = newLogsState()): LogsFake {
  const arnOf = (name: string) => `arn:aws:logs:${cloud.region}:${cloud.accountId}:log-group:${name}`;
  const arnPrefix = arnOf("");

  const byName = (name: string | undefined): FakeLogGroup => {
    const group = name === undefined ? undefined : state.groups.get(name);
    if (!group) throw groupNotFound();
    return group;
  };

  /** Tagging calls take the ARN without ":*"; AWS rejects the ":*" form (ValidationException "Invalid resourceArn"). */
  const byArn = (arn: string): FakeLogGroup => {
    if (!arn?.startsWith(arnPrefix) || arn.endsWith(":*")) throw fail(ValidationException as unknown as ExceptionClass, "Invalid resourceArn");
    return byName(arn.slice(arnPrefix.length));
  };

  /** Read calls take logGroupName or logGroupIdentifier (a name or an ARN without ":*"), never both. */
  const byIdentifier = (input: { logGroupName?: string; logGroupIdentifier?: string }): FakeLogGroup => {
    if (input.logGroupName && input.logGroupIdentifier) throw invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.");
    const id = input.logGroupIdentifier ?? input.logGroupName;
    return id?.startsWith("arn:") ? byArn(id) : byName(id);
  };

  /** AssociateKmsKey/DisassociateKmsKey: logGroupName or resourceIdentifier (a log group ARN here), exactly one. */
  const kmsTarget = (input: { logGroupName?: string; resourceIdentifier?: string }): FakeLogGroup => {
    if (Boolean(input.logGroupName) === Boolean(input.resourceIdentifier)) throw invalid("Specify exactly one of logGroupName and resourceIdentifier.");
    return input.logGroupName ? byName(input.logGroupName) : byArn(input.resourceIdentifier!);
  };

  const describe = (g: FakeLogGroup) => ({
    logGroupName: g.logGroupName,
    creationTime: g.creationTime,
    ...(g.retentionInDays !== undefined ? { retentionInDays: g.retentionInDays } : {}),
    ...(g.kmsKeyId ? { kmsKeyId: g.kmsKeyId } : {}),
    metricFilterCount: 0,
    arn: `${arnOf(g.logGroupName)}:*`,
    logGroupArn: arnOf(g.logGroupName),
    storedBytes: 0,
    logGroupClass: "STANDARD",
    deletionProtectionEnabled: false,
  });

  const handlers: Record<string, (input: any) => unknown> = {
    CreateLogGroup: (input) => {
      // Names: 1–512 of [.-_/#A-Za-z0-9], not starting with "aws/" (reserved for AWS's own groups).
      if (!NAME_PATTERN.test(input.logGroupName ?? "") || input.logGroupName.startsWith("aws/")) throw invalid(`Invalid log group name ${input.logGroupName}.`);
      if (state.groups.has(input.logGroupName)) throw fail(ResourceAlreadyExistsException as unknown as ExceptionClass, "The specified log group already exists");
      validateKmsKey(input.kmsKeyId);
      validateTags(input.tags);
      const group: FakeLogGroup = { logGroupName: input.logGroupName, creationTime: Date.now(), kmsKeyId: input.kmsKeyId, tags: { ...(input.tags ?? {}) }, streams: new Map() };
      state.groups.set(group.logGroupName, group);
      return {};
    },
    DescribeLogGroups: (input) => {
      if (input.logGroupNamePrefix && input.logGroupNamePattern) throw invalid("logGroupNamePrefix and logGroupNamePattern are mutually exclusive.");
      if (input.logGroupIdentifiers || input.accountIdentifiers || input.includeLinkedAccounts) throw new Error("fake logs: DescribeLogGroups by identifiers or linked accounts is not modelled");
      const matching = [...state.groups.values()]
        .filter((g) => g.logGroupName.startsWith(input.logGroupNamePrefix ?? "") && g.logGroupName.includes(input.logGroupNamePattern ?? ""))
        .sort((a, b) => (a.logGroupName < b.logGroupName ? -1 : 1));
      const page = pageOf(matching, input.nextToken, input.limit, DEFAULT_PAGE);
      return { logGroups: page.items.map(describe), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },
    PutRetentionPolicy: (input) => {
      if (!RETENTION_DAYS.includes(input.retentionInDays)) {
        throw invalid(`1 validation error detected: Value '${input.retentionInDays}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(", ")}]`);
      }
      byName(input.logGroupName).retentionInDays = input.retentionInDays;
      return {};
    },
    DeleteRetentionPolicy: (input) => {
      delete byName(input.logGroupName).retentionInDays;
      return {};
    },
    DeleteLogGroup: (input) => {
      byName(input.logGroupName);
      state.groups.delete(input.logGroupName);
      return {};
    },

    ListTagsForResource: (input) => ({ tags: { ...byArn(input.resourceArn).tags } }),
    TagResource: (input) => {
      const group = byArn(input.resourceArn);
      validateTags({ ...group.tags, ...input.tags });
      Object.assign(group.tags, input.tags);
      return {};
    },
    UntagResource: (input) => {
      const group = byArn(input.resourceArn);
      for (const key of input.tagKeys ?? []) delete group.tags[key];
      return {};
    },

    AssociateKmsKey: (input) => {
      validateKmsKey(input.kmsKeyId);
      kmsTarget(input).kmsKeyId = input.kmsKeyId;
      return {};
    },
    DisassociateKmsKey: (input) => {
      delete kmsTarget(input).kmsKeyId;
      return {};
    },

    GetLogEvents: (input) => getLogEvents(byIdentifier(input), input),
    FilterLogEvents: (input) => filterLogEvents(byIdentifier(input), input),
  };
  const model: ServiceModel = { service: "logs", client: CloudWatchLogsClient, handlers };
  const taggingSources: TagSource[] = [() => [...state.groups.values()].map((g) => ({ arn: arnOf(g.logGroupName), tags: { ...g.tags } }))];
  return { ...model, model, state, taggingSources };
}

/** startTime is inclusive in both reads; endTime is exclusive for GetLogEvents and inclusive for FilterLogEvents (API reference). */
const inRange = (e: FakeLogEvent, startTime: number | undefined, endTime: number | undefined, endInclusive: boolean) =>
  (startTime === undefined || e.timestamp >= startTime) && (endTime === undefined || e.timestamp < endTime || (endInclusive && e.timestamp === endTime));

/** Tokens are "f/<index>" and "b/<index>" like AWS's; at the end the forward token repeats, as AWS's does. */
function getLogEvents(group: FakeLogGroup, input: { logStreamName?: string; startTime?: number; endTime?: number; nextToken?: string; limit?: number; startFromHead?: boolean }) {
  const stream = group.streams.get(input.logStreamName ?? "");
  if (!stream) throw fail(ResourceNotFoundException as unknown as ExceptionClass, "The specified log stream does not exist.");
  const events = stream.filter((e) => inRange(e, input.startTime, input.endTime, false));
  const limit = input.limit ?? 10_000;
  const token = /^f\/(\d+)$/.exec(input.nextToken ?? "");
  if (input.nextToken && !token) throw new Error("fake logs: only forward GetLogEvents tokens are modelled");
  const start = token ? Number(token[1]) : input.startFromHead ? 0 : Math.max(0, events.length - limit);
  const end = Math.min(events.length, start + limit);
  return {
    events: events.slice(start, end).map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })),
    nextForwardToken: `f/${end}`,
    nextBackwardToken: `b/${start}`,
  };
}

/** A simple filter pattern: every term (a word or a "quoted phrase") must appear in the message. */
function matchesPattern(message: string, pattern: string | undefined): boolean {
  const terms = (pattern ?? "").match(/"[^"]*"|\S+/g) ?? [];
  return terms.every((t) => message.includes(t.replace(/^"|"$/g, "")));
}

function filterLogEvents(
  group: FakeLogGroup,
  input: { logStreamNames?: string[]; logStreamNamePrefix?: string; startTime?: number; endTime?: number; filterPattern?: string; nextToken?: string; limit?: number },
) {
  if (input.logStreamNames && input.logStreamNamePrefix) throw invalid("logStreamNames and logStreamNamePrefix are mutually exclusive.");
  const streams = [...group.streams].filter(([name]) => (input.logStreamNames ? input.logStreamNames.includes(name) : name.startsWith(input.logStreamNamePrefix ?? "")));
  const events = streams
    .flatMap(([logStreamName, list]) => list.map((e, i) => ({ logStreamName, ...e, eventId: `${logStreamName}-${i}` })))
    .filter((e) => inRange(e, input.startTime, input.endTime, true) && matchesPattern(e.message, input.filterPattern))
    .sort((a, b) => a.timestamp - b.timestamp);
  const page = pageOf(events, input.nextToken, input.limit, 10_000);
  return { events: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
}
