import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  type Filter,
  paginateListSecrets,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretListEntry,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from "@aws-sdk/client-secrets-manager";
import { hasCode, orUndefined } from "../aws/errors.js";
import { isOurs, TAG_LOGICAL_ID, tagList, tagRecord } from "../aws/tags.js";
import { AwsFailure, UserError } from "../errors.js";
import { secretString, type CredentialsTemplate, type GeneratorName } from "../secrets/generate.js";
import { single } from "./find.js";
import { retryUntil, waitFor } from "../run/wait-for.js";
import { compareFields, compareTags, tagDelta, type Change, type ResourceContext, type ResourceType } from "./types.js";

export interface SecretSpec {
  /** `<project>-<env>/...`: ASCII letters, digits and /_+=.@- (CreateSecret Name). */
  name: string;
  description: string;
  /** A customer-managed KMS key (ARN, key id or alias); absent: the AWS-managed key aws/secretsmanager. */
  kmsKeyId?: string;
  /** 7–30: the recovery window `down` schedules the deletion with. */
  recoveryWindowDays: number;
  /** How the value is made when the secret is created (src/secrets/generate.ts); external secrets are created empty. */
  generator: GeneratorName;
  /** Database credentials: the JSON fields besides the password. */
  template?: CredentialsTemplate;
  tags: Record<string, string>;
}

/** What state records: never the value, only whether there is one. */
export interface SecretAttrs {
  arn: string;
  name: string;
  description: string;
  kmsKeyId?: string;
  tags: Record<string, string>;
  /** Set while the secret is scheduled for deletion (an earlier `down`); `up` and bootstrap-secrets restore it. */
  deletedDate?: string;
  lastChangedDate?: string;
  /** True when a current (AWSCURRENT) version exists. */
  hasValue: boolean;
  /** Not an AWS property: the recovery window from the config, recorded so `down` can use it without the config. */
  recoveryWindowDays: number;
}

const KIND = "Secrets Manager secret";
export const DEFAULT_RECOVERY_WINDOW_DAYS = 7;
/** What UpdateSecret takes to go back to the AWS-managed key; DescribeSecret then omits KmsKeyId. */
const AWS_MANAGED_KEY = "alias/aws/secretsmanager";

const client = (ctx: ResourceContext) => ctx.aws.get(SecretsManagerClient);
const iso = (d: Date | string | undefined) => (d === undefined ? undefined : d instanceof Date ? d.toISOString() : new Date(d).toISOString());

async function describeSecret(ctx: ResourceContext, secretId: string): Promise<DescribeSecretCommandOutput | undefined> {
  return orUndefined(client(ctx).send(new DescribeSecretCommand({ SecretId: secretId })));
}

/** Every secret matching `filters`, those scheduled for deletion included. */
async function listSecrets(ctx: ResourceContext, filters: Filter[]): Promise<SecretListEntry[]> {
  const found: SecretListEntry[] = [];
  for await (const page of paginateListSecrets({ client: client(ctx) }, { Filters: filters, IncludePlannedDeletion: true })) found.push(...(page.SecretList ?? []));
  return found;
}

function toAttrs(d: DescribeSecretCommandOutput, recoveryWindowDays: number): SecretAttrs {
  return {
    arn: d.ARN!,
    name: d.Name!,
    description: d.Description ?? "",
    ...(d.KmsKeyId ? { kmsKeyId: d.KmsKeyId } : {}),
    tags: tagRecord(d.Tags),
    ...(d.DeletedDate ? { deletedDate: iso(d.DeletedDate) } : {}),
    ...(d.LastChangedDate ? { lastChangedDate: iso(d.LastChangedDate) } : {}),
    hasValue: Object.values(d.VersionIdsToStages ?? {}).some((stages) => stages.includes("AWSCURRENT")),
    recoveryWindowDays,
  };
}

/** By ARN or name; undefined when there is no such secret. Never reads the value. */
export async function findSecretById(ctx: ResourceContext, secretId: string, recoveryWindowDays = DEFAULT_RECOVERY_WINDOW_DAYS): Promise<SecretAttrs | undefined> {
  const d = await describeSecret(ctx, secretId);
  return d && toAttrs(d, recoveryWindowDays);
}

/** The one secret tagged as this environment's `logicalId` (ListSecrets filters match prefixes, so the tags are checked exactly). */
async function findSecretByTags(ctx: ResourceContext, logicalId: string, recoveryWindowDays: number): Promise<SecretAttrs | undefined> {
  const listed = await listSecrets(ctx, [
    { Key: "tag-key", Values: [TAG_LOGICAL_ID] },
    { Key: "tag-value", Values: [logicalId] },
  ]);
  const ours = single(listed.filter((s) => isOurs(tagRecord(s.Tags), ctx.identity, logicalId)), `secrets tagged ${logicalId}`);
  return ours && findSecretById(ctx, ours.ARN!, recoveryWindowDays);
}

/** Right after CreateSecret, DescribeSecret may not find it yet: read until it does. */
async function readBack(ctx: ResourceContext, arn: string, spec: SecretSpec): Promise<SecretAttrs> {
  const found = await waitFor({
    what: `${KIND} (${spec.name}) to be visible to DescribeSecret`,
    refresh: () => findSecretById(ctx, arn, spec.recoveryWindowDays),
    done: (s) => s !== undefined,
    budgetSeconds: 30,
    waits: ctx.waits,
    signal: ctx.signal,
    minReads: 3,
  });
  return found!;
}

/**
 * CreateSecret with `value` (undefined: a secret without a value yet). Undefined when the name is taken, by a live
 * secret (ResourceExistsException) or by one scheduled for deletion (InvalidRequestException; told apart from other
 * invalid requests by describing the name, not by the message).
 */
export async function createSecretWithValue(ctx: ResourceContext, spec: SecretSpec, value: string | undefined): Promise<SecretAttrs | undefined> {
  /** Set by the last attempt: its InvalidRequestException came from a force-deleted secret still holding the name. */
  let nameBeingFreed = false;
  const create = async () => {
    nameBeingFreed = false;
    try {
      const out = await client(ctx).send(
        new CreateSecretCommand({ Name: spec.name, Description: spec.description, KmsKeyId: spec.kmsKeyId, SecretString: value, Tags: tagList(spec.tags) }),
      );
      return out.ARN!;
    } catch (err) {
      if (hasCode(err, "ResourceExistsException")) return undefined;
      if (!hasCode(err, "InvalidRequestException")) throw err;
      const existing = await findSecretById(ctx, spec.name);
      if (existing?.deletedDate) return undefined;
      // ForceDeleteWithoutRecovery deletes in the background: the name stays taken for a few seconds ("use back off and retry").
      nameBeingFreed = !existing;
      throw err;
    }
  };
  let arn: string | undefined;
  try {
    arn = await retryUntil({
      what: `the name ${spec.name} to be freed by a secret being deleted`,
      attempt: create,
      pending: () => (nameBeingFreed ? "the name is still taken by a secret being deleted" : undefined),
      budgetSeconds: 60,
      waits: ctx.waits,
      signal: ctx.signal,
      minAttempts: 3,
    });
  } catch (err) {
    if (!nameBeingFreed) throw err;
    throw new AwsFailure(`creating ${KIND} (${spec.name})`, "InvalidRequestException", (err as Error).message, "the name is still taken by a secret being deleted; run again in a minute", { cause: err });
  }
  return arn === undefined ? undefined : readBack(ctx, arn, spec);
}

/** The existing secret named `spec.name`, if its tags prove it is this environment's `logicalId`; anyone else's is never adopted. */
export async function adoptByName(ctx: ResourceContext, spec: SecretSpec, logicalId: string): Promise<SecretAttrs> {
  const existing = await findSecretById(ctx, spec.name, spec.recoveryWindowDays);
  const action = `creating ${KIND} (${spec.name})`;
  if (!existing) throw new AwsFailure(action, "ResourceExistsException", "AWS reports the name is taken, but DescribeSecret does not find it", "run again in a minute");
  if (!isOurs(existing.tags, ctx.identity, logicalId)) {
    throw new AwsFailure(
      action,
      "ResourceExistsException",
      `a secret of this name already exists and is not tagged as ${logicalId} of ${ctx.identity.project}/${ctx.identity.environment}`,
      "delete or rename that secret, or change the project name; platform never adopts a secret it cannot prove is its own",
    );
  }
  return existing;
}

/** Stores a new current version. The value goes to AWS only; the caller must not keep or print it. */
export async function putSecretValue(ctx: ResourceContext, arn: string, value: string): Promise<void> {
  await client(ctx).send(new PutSecretValueCommand({ SecretId: arn, SecretString: value }));
}

export async function restoreSecret(ctx: ResourceContext, arn: string): Promise<void> {
  await client(ctx).send(new RestoreSecretCommand({ SecretId: arn }));
}

/** Matches a key as configured (ARN, key id, alias) against what DescribeSecret reports (key id or alias ARN). */
function sameKmsKey(want: string | undefined, have: string | undefined): boolean {
  const w = want === AWS_MANAGED_KEY ? undefined : want;
  if (!w || !have) return !w && !have;
  return w === have || have.endsWith(`/${w}`) || have.endsWith(`:${w}`) || w.endsWith(`/${have}`);
}

function diff(spec: SecretSpec, actual: SecretAttrs): Change[] {
  const changes: Change[] = [];
  if (actual.deletedDate) changes.push({ field: "deletedDate", from: actual.deletedDate, to: undefined, action: "update", note: "scheduled for deletion: restored" });
  changes.push(...compareFields(spec, actual, [{ field: "name", action: "replace" }, { field: "description" }, { field: "recoveryWindowDays" }]));
  if (!sameKmsKey(spec.kmsKeyId, actual.kmsKeyId)) changes.push({ field: "kmsKeyId", from: actual.kmsKeyId, to: spec.kmsKeyId, action: "update", note: "current versions are re-encrypted" });
  // A generated secret without a value gets one; an existing value is never overwritten here (bootstrap-secrets --rotate does that).
  if (!actual.hasValue && spec.generator !== "external") changes.push({ field: "hasValue", from: false, to: true, action: "update", note: "a generated value is stored" });
  changes.push(...compareTags(spec.tags, actual.tags));
  return changes;
}

async function applyTags(ctx: ResourceContext, arn: string, want: Record<string, string>, have: Record<string, string>): Promise<void> {
  const { set, remove } = tagDelta(want, have);
  if (Object.keys(set).length) await client(ctx).send(new TagResourceCommand({ SecretId: arn, Tags: tagList(set) }));
  if (remove.length) await client(ctx).send(new UntagResourceCommand({ SecretId: arn, TagKeys: remove }));
}

async function update(ctx: ResourceContext, spec: SecretSpec, actual: SecretAttrs, changes: Change[]): Promise<SecretAttrs> {
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  // A secret scheduled for deletion accepts nothing but RestoreSecret (and DescribeSecret) until it is restored.
  if (fields.has("deletedDate")) await restoreSecret(ctx, actual.arn);
  if (fields.has("hasValue")) {
    const value = secretString(spec.generator, spec.template);
    if (value !== undefined) await putSecretValue(ctx, actual.arn, value);
  }
  if (fields.has("description") || fields.has("kmsKeyId")) {
    await client(ctx).send(
      new UpdateSecretCommand({
        SecretId: actual.arn,
        ...(fields.has("description") ? { Description: spec.description } : {}),
        ...(fields.has("kmsKeyId") ? { KmsKeyId: spec.kmsKeyId ?? AWS_MANAGED_KEY } : {}),
      }),
    );
  }
  if (fields.has("tags")) await applyTags(ctx, actual.arn, spec.tags, actual.tags);
  return readBack(ctx, actual.arn, spec);
}

export const secret: ResourceType<SecretSpec, SecretAttrs> = {
  type: "secretsmanager:secret",

  async find(ctx, { logicalId, recorded }) {
    const window = recorded?.recoveryWindowDays ?? DEFAULT_RECOVERY_WINDOW_DAYS;
    if (recorded?.arn) {
      const found = await findSecretById(ctx, recorded.arn, window);
      if (found) return found;
    }
    return findSecretByTags(ctx, logicalId, window);
  },

  diff,

  // The value is generated here and sent in CreateSecret; it is never returned, recorded or printed.
  async create(ctx, spec, { logicalId }) {
    const created = await createSecretWithValue(ctx, spec, secretString(spec.generator, spec.template));
    if (created) return created;
    const existing = await adoptByName(ctx, spec, logicalId);
    return update(ctx, spec, existing, diff(spec, existing));
  },

  update,

  async destroy(ctx, actual) {
    const force = Boolean(ctx.flags.forceDeleteSecrets);
    if (force && ctx.flags.protectedEnvironment && !ctx.flags.forceProd) {
      throw new UserError(`${actual.name}: ${ctx.identity.environment} is a protected environment; --force-delete-secrets is honoured there only together with --force-prod`);
    }
    if (actual.deletedDate && !force) return; // already scheduled by an earlier run
    const window = Math.min(30, Math.max(7, actual.recoveryWindowDays ?? DEFAULT_RECOVERY_WINDOW_DAYS));
    // ForceDeleteWithoutRecovery on a secret that is already gone succeeds; a recovery-window delete of one fails with not found.
    await orUndefined(
      client(ctx).send(new DeleteSecretCommand(force ? { SecretId: actual.arn, ForceDeleteWithoutRecovery: true } : { SecretId: actual.arn, RecoveryWindowInDays: window })),
    );
  },

  physicalId: (a) => a.name,
};
