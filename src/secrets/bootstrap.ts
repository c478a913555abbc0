import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { awsFailure } from "../aws/errors.js";
import { standardTags } from "../aws/tags.js";
import type { Config } from "../config/schema.js";
import { UserError } from "../errors.js";
import { adoptByName, createSecretWithValue, findSecretById, putSecretValue, restoreSecret, secret, type SecretAttrs, type SecretSpec } from "../resources/secret.js";
import { sameValue, type ResourceContext } from "../resources/types.js";
import { secretSpec } from "../stack/secrets.js";
import type { StateStore } from "../state/store.js";
import { DATABASE_INSTANCE_ID, type CatalogEntry } from "./catalog.js";
import { rotateDatabasePassword } from "./database-password.js";
import { RULES, secretString } from "./generate.js";
import type { BootstrapRequest } from "./request.js";

/**
 * `bootstrap-secrets` and `secrets list`: what each secret is, and for bootstrap what was done to it. Reports carry
 * names, ARNs, statuses and dates; values never leave the calls that send them to AWS.
 */
export type SecretStatus = "created" | "kept" | "rotated" | "restored" | "set" | "empty" | "present" | "missing" | "scheduled for deletion";

export interface SecretReport {
  key: string;
  name: string;
  arn?: string;
  status: SecretStatus;
  lastChanged?: string;
  note?: string;
}

interface Observed {
  entry: CatalogEntry;
  spec: SecretSpec;
  actual?: SecretAttrs;
}

async function observe(ctx: ResourceContext, store: StateStore, config: Config, catalog: CatalogEntry[]): Promise<Observed[]> {
  return Promise.all(
    catalog.map(async (entry) => {
      const spec = secretSpec(config, entry, standardTags(ctx.identity, entry.logicalId, config.tags));
      try {
        const actual = await secret.find(ctx, { logicalId: entry.logicalId, recorded: store.get(entry.logicalId)?.attributes as SecretAttrs | undefined });
        return { entry, spec, actual };
      } catch (err) {
        throw awsFailure(`reading secret ${entry.name}`, err);
      }
    }),
  );
}

/** `secrets list`: every secret of the environment and whether it exists, holds a value or is scheduled for deletion. */
export async function listSecrets(ctx: ResourceContext, store: StateStore, config: Config, catalog: CatalogEntry[]): Promise<SecretReport[]> {
  return (await observe(ctx, store, config, catalog)).map(({ entry, actual }) => ({
    key: entry.key,
    name: entry.name,
    arn: actual?.arn,
    status: !actual ? "missing" : actual.deletedDate ? "scheduled for deletion" : actual.hasValue ? "present" : "empty",
    lastChanged: actual?.lastChangedDate,
    ...(actual?.deletedDate ? { note: `deletion scheduled ${actual.deletedDate}` } : {}),
  }));
}

async function currentValue(ctx: ResourceContext, arn: string): Promise<string | undefined> {
  return (await ctx.aws.get(SecretsManagerClient).send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
}

/** The value to compare a supplied one with: the password inside database credentials, else the whole string. */
function comparable(entry: CatalogEntry, stored: string | undefined): string | undefined {
  if (entry.rule !== "database-credentials" || stored === undefined) return stored;
  try {
    return (JSON.parse(stored) as { password?: string }).password;
  } catch {
    return undefined;
  }
}

/**
 * Before anything is written: a supplied value may replace an existing one only with --rotate NAME. Supplying the value
 * a secret already holds is fine (kept). Secrets given without --rotate are compared in memory.
 */
async function assertNoOverwrite(ctx: ResourceContext, observed: Observed[], request: BootstrapRequest): Promise<Set<string>> {
  const unchanged = new Set<string>();
  const conflicts: string[] = [];
  for (const { entry, actual } of observed) {
    if (!request.supplied.has(entry.key) || request.rotate.has(entry.key) || !actual?.hasValue) continue;
    if (!actual.deletedDate && comparable(entry, await currentValue(ctx, actual.arn)) === request.supplied.get(entry.key)) unchanged.add(entry.key);
    else conflicts.push(entry.key);
  }
  if (conflicts.length) {
    throw new UserError(
      `${conflicts.join(", ")} already ${conflicts.length > 1 ? "hold values" : "holds a value"}; existing values are never overwritten: add ${conflicts.map((k) => `--rotate ${k}`).join(" ")} to replace ${conflicts.length > 1 ? "them" : "it"} with the value given (nothing was written)`,
    );
  }
  return unchanged;
}

/** Runs bootstrap for every secret, in catalog order; records each in state. */
export async function bootstrapSecrets(ctx: ResourceContext, store: StateStore, config: Config, catalog: CatalogEntry[], request: BootstrapRequest): Promise<SecretReport[]> {
  const observed = await observe(ctx, store, config, catalog);
  const unchanged = await assertNoOverwrite(ctx, observed, request).catch((err) => {
    throw err instanceof UserError ? err : awsFailure("reading current secret values to compare", err);
  });
  const reports: SecretReport[] = [];
  for (const o of observed) {
    try {
      const report = await bootstrapOne(ctx, store, o, request, unchanged.has(o.entry.key));
      reports.push(report);
    } catch (err) {
      throw err instanceof UserError ? err : awsFailure(`bootstrapping secret ${o.entry.name}`, err);
    }
  }
  return reports;
}

async function bootstrapOne(ctx: ResourceContext, store: StateStore, { entry, spec, actual }: Observed, request: BootstrapRequest, unchanged: boolean): Promise<SecretReport> {
  const supplied = unchanged ? undefined : request.supplied.get(entry.key);
  if (!actual) {
    const value = secretString(entry.rule, entry.template, supplied);
    const created = await createSecretWithValue(ctx, spec, value);
    if (created) return record(ctx, store, entry, spec, created, value === undefined ? "empty" : "created", value === undefined ? emptyNote(entry) : undefined);
    actual = await adoptByName(ctx, spec, entry.logicalId); // created by a run that died before recording it
  }
  // A secret scheduled for deletion (an earlier down) is restored; its value is replaced only if it must change.
  const restored = Boolean(actual.deletedDate);
  if (restored) await restoreSecret(ctx, actual.arn);
  let status: SecretStatus;
  let note: string | undefined;
  if (!actual.hasValue) {
    const value = secretString(entry.rule, entry.template, supplied);
    if (value !== undefined) await putSecretValue(ctx, actual.arn, value);
    status = value === undefined ? "empty" : "set";
    if (value === undefined) note = emptyNote(entry);
  } else if (request.rotate.has(entry.key)) {
    note = await rotate(ctx, store, entry, actual, supplied);
    status = "rotated";
  } else {
    status = "kept";
  }
  if (restored) {
    note = status === "kept" ? note : [status, note].filter(Boolean).join("; ");
    status = "restored";
  }
  return record(ctx, store, entry, spec, actual, status, note);
}

const emptyNote = (entry: CatalogEntry) => `no value yet: supply it with --set-secret ${entry.key} (asked with hidden input), or in scripts with --from-file naming a JSON file that maps ${entry.key} to its value`;

async function rotate(ctx: ResourceContext, store: StateStore, entry: CatalogEntry, actual: SecretAttrs, supplied: string | undefined): Promise<string> {
  if (entry.rule === "database-credentials") {
    const password = supplied ?? RULES["database-credentials"].generate!();
    const dbInstanceIdentifier = store.get(DATABASE_INSTANCE_ID)?.attributes.identifier as string | undefined;
    return rotateDatabasePassword(ctx, { secretArn: actual.arn, template: entry.template ?? {}, password, dbInstanceIdentifier });
  }
  await putSecretValue(ctx, actual.arn, secretString(entry.rule, entry.template, supplied)!);
  return "services pick the new value up when their tasks restart";
}

/** Reads the secret back (what AWS says, not what was asked) and records it in state when it changed. */
async function record(ctx: ResourceContext, store: StateStore, entry: CatalogEntry, spec: SecretSpec, actual: SecretAttrs, status: SecretStatus, note?: string): Promise<SecretReport> {
  const attrs = (await findSecretById(ctx, actual.arn, spec.recoveryWindowDays)) ?? actual;
  const existing = store.get(entry.logicalId);
  if (!existing || !sameValue(existing.attributes, attrs)) {
    await store.put(entry.logicalId, { type: secret.type, physicalId: secret.physicalId(attrs), attributes: attrs as unknown as Record<string, unknown>, dependsOn: existing?.dependsOn ?? [] });
  }
  return { key: entry.key, name: entry.name, arn: attrs.arn, status, lastChanged: attrs.lastChangedDate, ...(note ? { note } : {}) };
}
