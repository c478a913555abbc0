import { createHash } from "node:crypto";
import {
  InvalidParameterException,
  InvalidRequestException,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { type FakeCloud, fromTagList, type ServiceModel, type Tags, toTagList } from "./cloud.js";
import type { TagSource } from "./tagging.js";

/**
 * The Secrets Manager part of the fake: secrets with versions and staging labels (AWSCURRENT, AWSPREVIOUS), tags,
 * and scheduled deletion (DeletedDate; RestoreSecret undoes it). Messages and error codes follow the API reference.
 * Every value ever stored is kept in `state.storedValues`, so tests can scan outputs and state for leaks.
 */
export interface FakeSecretVersion {
  versionId: string;
  value: string;
  stages: string[];
  createdDate: Date;
}

export interface FakeSecret {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Tags;
  createdDate: Date;
  lastChangedDate: Date;
  deletedDate?: Date;
  versions: FakeSecretVersion[];
}

export interface SecretsManagerState {
  /** By ARN. */
  secrets: Map<string, FakeSecret>;
  /** Every SecretString any call stored, in order (values of force-deleted secrets included). */
  storedValues: string[];
}

export function newSecretsManagerState(): SecretsManagerState {
  return { secrets: new Map(), storedValues: [] };
}

/** The secret's current value, for tests; undefined when it has none. */
export function currentValue(secret: FakeSecret | undefined): string | undefined {
  return secret?.versions.find((v) => v.stages.includes("AWSCURRENT"))?.value;
}

export function secretByName(state: SecretsManagerState, name: string): FakeSecret | undefined {
  return [...state.secrets.values()].find((s) => s.name === name);
}

type ExceptionClass = new (options: { message: string; $metadata: Record<string, unknown> }) => Error;
const fail = (Exception: unknown, message: string) => new (Exception as ExceptionClass)({ message, $metadata: { httpStatusCode: 400, requestId: "fake-request-id" } });
const invalidParameter = (message: string) => fail(InvalidParameterException, message);
const invalidRequest = (message: string) => fail(InvalidRequestException, message);
const notFound = () => fail(ResourceNotFoundException, "Secrets Manager can't find the specified secret.");
const markedForDeletion = () => invalidRequest("You can't perform this operation on the secret because it was marked for deletion.");

const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const FILTER_KEYS = ["description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"];
const FILTER_VALUE = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;
const MAX_VALUE_BYTES = 65_536;

function validateTags(tags: Tags): void {
  const entries = Object.entries(tags);
  if (entries.length > 50) throw invalidParameter("You can attach at most 50 tags to a secret.");
  for (const [k, v] of entries) {
    if (!k || k.length > 128 || v.length > 256) throw invalidParameter(`Invalid tag ${k}.`);
    if (k.toLowerCase().startsWith("aws:")) throw invalidParameter("Tag keys may not start with aws:.");
  }
}

function validateValue(input: { SecretString?: string; SecretBinary?: unknown }): void {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined) throw invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.");
  if (input.SecretString !== undefined && Buffer.byteLength(input.SecretString) > MAX_VALUE_BYTES) throw invalidParameter("SecretString exceeds the maximum size of 65536 bytes.");
  if (input.SecretBinary !== undefined) throw new Error("fake secretsmanager: SecretBinary is not modelled");
}

export interface SecretsManagerFake extends ServiceModel {
  model: ServiceModel;
  state: SecretsManagerState;
  taggingSources: TagSource[];
}

export function secretsManagerModel(cloud: FakeCloud, state: SecretsManagerState = newSecretsManagerState()): SecretsManagerFake {
  let counter = 0;
  /** Secrets Manager appends a hyphen and six random characters to the name in the ARN. */
  const arnFor = (name: string) => {
    counter += 1;
    const suffix = createHash("sha256").update(`${name}#${counter}`).digest("base64").replace(/[^A-Za-z0-9]/g, "x").slice(0, 6);
    return `arn:aws:secretsmanager:${cloud.region}:${cloud.accountId}:secret:${name}-${suffix}`;
  };

  /** SecretId is a full ARN or a name (partial ARNs are not modelled). */
  const lookup = (secretId: string | undefined): FakeSecret | undefined => (secretId ? (state.secrets.get(secretId) ?? secretByName(state, secretId)) : undefined);
  const get = (secretId: string | undefined): FakeSecret => {
    const s = lookup(secretId);
    if (!s) throw notFound();
    return s;
  };
  const live = (secretId: string | undefined): FakeSecret => {
    const s = get(secretId);
    if (s.deletedDate) throw markedForDeletion();
    return s;
  };

  /** A new version becomes AWSCURRENT; the previous current one becomes AWSPREVIOUS. */
  const addVersion = (s: FakeSecret, value: string, versionId = `v-${cloud.id("ver")}`): string => {
    for (const v of s.versions) v.stages = v.stages.filter((stage) => stage !== "AWSPREVIOUS");
    for (const v of s.versions) if (v.stages.includes("AWSCURRENT")) v.stages = v.stages.filter((stage) => stage !== "AWSCURRENT").concat("AWSPREVIOUS");
    s.versions.push({ versionId, value, stages: ["AWSCURRENT"], createdDate: new Date() });
    s.lastChangedDate = new Date();
    state.storedValues.push(value);
    return versionId;
  };

  const versionsToStages = (s: FakeSecret) => Object.fromEntries(s.versions.filter((v) => v.stages.length).map((v) => [v.versionId, [...v.stages]]));

  const describe = (s: FakeSecret) => ({
    ARN: s.arn,
    Name: s.name,
    ...(s.description !== undefined ? { Description: s.description } : {}),
    ...(s.kmsKeyId ? { KmsKeyId: s.kmsKeyId } : {}),
    LastChangedDate: s.lastChangedDate,
    ...(s.deletedDate ? { DeletedDate: s.deletedDate } : {}),
    Tags: toTagList(s.tags),
    VersionIdsToStages: versionsToStages(s),
    CreatedDate: s.createdDate,
    PrimaryRegion: cloud.region,
  });

  const matches = (s: FakeSecret, filter: { Key?: string; Values?: string[] }): boolean => {
    const values = filter.Values ?? [];
    const candidates: string[] =
      filter.Key === "name" ? [s.name] : filter.Key === "description" ? [s.description ?? ""] : filter.Key === "tag-key" ? Object.keys(s.tags) : filter.Key === "tag-value" ? Object.values(s.tags) : [];
    if (!["name", "description", "tag-key", "tag-value"].includes(filter.Key ?? "")) throw new Error(`fake secretsmanager: filter ${filter.Key} is not modelled`);
    const fold = (x: string) => (filter.Key === "description" ? x.toLowerCase() : x);
    return values.some((v) => {
      const negate = v.startsWith("!");
      const prefix = fold(negate ? v.slice(1) : v);
      const hit = candidates.some((c) => fold(c).startsWith(prefix));
      return negate ? !hit : hit;
    });
  };

  const handlers: Record<string, (input: any) => unknown> = {
    CreateSecret: (input) => {
      if (!NAME_PATTERN.test(input.Name ?? "")) throw invalidParameter("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!");
      if ((input.Description ?? "").length > 2048) throw invalidParameter("Description must be at most 2048 characters.");
      validateValue(input);
      const tags = fromTagList(input.Tags);
      validateTags(tags);
      const existing = secretByName(state, input.Name);
      if (existing?.deletedDate) throw invalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.");
      if (existing) throw fail(ResourceExistsException, `The operation failed because the secret ${input.Name} already exists.`);
      const now = new Date();
      const s: FakeSecret = { arn: arnFor(input.Name), name: input.Name, description: input.Description, kmsKeyId: input.KmsKeyId, tags, createdDate: now, lastChangedDate: now, versions: [] };
      state.secrets.set(s.arn, s);
      const versionId = input.SecretString !== undefined ? addVersion(s, input.SecretString, input.ClientRequestToken) : undefined;
      return { ARN: s.arn, Name: s.name, ...(versionId ? { VersionId: versionId } : {}) };
    },

    DescribeSecret: (input) => describe(get(input.SecretId)),

    GetSecretValue: (input) => {
      const s = live(input.SecretId);
      const stage = input.VersionStage ?? (input.VersionId ? undefined : "AWSCURRENT");
      const version = s.versions.find((v) => (input.VersionId ? v.versionId === input.VersionId : v.stages.includes(stage!)));
      if (!version) throw fail(ResourceNotFoundException, `Secrets Manager can't find the specified secret value for staging label: ${stage ?? input.VersionId}`);
      return { ARN: s.arn, Name: s.name, VersionId: version.versionId, SecretString: version.value, VersionStages: [...version.stages], CreatedDate: version.createdDate };
    },

    PutSecretValue: (input) => {
      const s = live(input.SecretId);
      validateValue(input);
      if (input.SecretString === undefined) throw invalidParameter("You must provide either SecretString or SecretBinary.");
      if (input.VersionStages) throw new Error("fake secretsmanager: PutSecretValue VersionStages is not modelled");
      const versionId = addVersion(s, input.SecretString, input.ClientRequestToken);
      return { ARN: s.arn, Name: s.name, VersionId: versionId, VersionStages: ["AWSCURRENT"] };
    },

    UpdateSecret: (input) => {
      const s = live(input.SecretId);
      validateValue(input);
      if (input.Description !== undefined) s.description = input.Description;
      if (input.KmsKeyId !== undefined) s.kmsKeyId = input.KmsKeyId === "alias/aws/secretsmanager" ? undefined : input.KmsKeyId;
      const versionId = input.SecretString !== undefined ? addVersion(s, input.SecretString, input.ClientRequestToken) : undefined;
      s.lastChangedDate = new Date();
      return { ARN: s.arn, Name: s.name, ...(versionId ? { VersionId: versionId } : {}) };
    },

    RestoreSecret: (input) => {
      const s = get(input.SecretId);
      delete s.deletedDate;
      s.lastChangedDate = new Date();
      return { ARN: s.arn, Name: s.name };
    },

    DeleteSecret: (input) => {
      if (input.ForceDeleteWithoutRecovery && input.RecoveryWindowInDays !== undefined) {
        throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
      }
      if (input.RecoveryWindowInDays !== undefined && (!Number.isInteger(input.RecoveryWindowInDays) || input.RecoveryWindowInDays < 7 || input.RecoveryWindowInDays > 30)) {
        throw invalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
      }
      const s = lookup(input.SecretId);
      if (input.ForceDeleteWithoutRecovery) {
        // "If you forcibly delete an already deleted or nonexistent secret, the operation does not return ResourceNotFoundException."
        if (s) state.secrets.delete(s.arn);
        return { ARN: s?.arn ?? input.SecretId, Name: s?.name, DeletionDate: new Date() };
      }
      if (!s) throw notFound();
      if (s.deletedDate) throw invalidRequest("You can't perform this operation on the secret because it was already scheduled for deletion.");
      s.deletedDate = new Date();
      const days = input.RecoveryWindowInDays ?? 30;
      return { ARN: s.arn, Name: s.name, DeletionDate: new Date(s.deletedDate.getTime() + days * 86_400_000) };
    },

    ListSecrets: (input) => {
      for (const f of input.Filters ?? []) {
        if (!FILTER_KEYS.includes(f.Key)) throw invalidParameter(`Invalid filter key ${f.Key}.`);
        if (!f.Values?.length || f.Values.length > 10 || f.Values.some((v: string) => v.length > 512 || !FILTER_VALUE.test(v))) throw invalidParameter("Invalid filter values.");
      }
      const size = input.MaxResults ?? 100;
      if (size < 1 || size > 100) throw invalidParameter("MaxResults must be between 1 and 100.");
      const all = [...state.secrets.values()]
        .filter((s) => input.IncludePlannedDeletion || !s.deletedDate)
        .filter((s) => (input.Filters ?? []).every((f: { Key?: string; Values?: string[] }) => matches(s, f)))
        .sort((a, b) => a.createdDate.getTime() - b.createdDate.getTime() || (a.arn < b.arn ? -1 : 1));
      const start = input.NextToken ? Number(Buffer.from(input.NextToken, "base64").toString().replace(/^offset:/, "")) : 0;
      if (!Number.isInteger(start)) throw fail(InvalidParameterException, "Invalid NextToken.");
      const page = all.slice(start, start + size);
      return {
        SecretList: page.map((s) => {
          const { VersionIdsToStages, ...rest } = describe(s);
          return { ...rest, SecretVersionsToStages: VersionIdsToStages };
        }),
        ...(start + size < all.length ? { NextToken: Buffer.from(`offset:${start + size}`).toString("base64") } : {}),
      };
    },

    TagResource: (input) => {
      const s = live(input.SecretId);
      const tags = { ...s.tags, ...fromTagList(input.Tags) };
      validateTags(tags);
      s.tags = tags;
      return {};
    },
    UntagResource: (input) => {
      const s = live(input.SecretId);
      for (const key of input.TagKeys ?? []) delete s.tags[key];
      return {};
    },
  };

  const model: ServiceModel = { service: "secretsmanager", client: SecretsManagerClient, handlers };
  // Secrets scheduled for deletion still exist, and the Resource Groups Tagging API still lists them.
  const taggingSources: TagSource[] = [() => [...state.secrets.values()].map((s) => ({ arn: s.arn, tags: { ...s.tags } }))];
  return { ...model, model, state, taggingSources };
}
