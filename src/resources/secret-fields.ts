import { PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { hasCode, isNotFound } from "../aws/errors.js";
import { readSecretJson } from "../aws/secret-value.js";
import { knownKey, sameValue, type Change, type ResourceContext, type ResourceType } from "./types.js";

/**
 * Non-secret fields kept inside a JSON secret, such as the database's host and port in its credentials (filled in once
 * the database exists). The secret itself is another resource ("secretsmanager:secret"); this one only merges fields.
 * Only the fields below may be managed, so a password can never become an attribute, a plan line or a state entry.
 */
export const NON_SECRET_FIELDS = ["host", "port", "dbname", "engine", "username", "dbInstanceIdentifier"] as const;

export interface SecretFieldsSpec {
  secretArn: string;
  fields: Record<string, string | number>;
}

export type SecretFieldsAttrs = SecretFieldsSpec;

function assertNonSecret(fields: Record<string, unknown>): void {
  const bad = Object.keys(fields).filter((k) => !(NON_SECRET_FIELDS as readonly string[]).includes(k));
  if (bad.length) throw new Error(`internal: secret-fields may only manage ${NON_SECRET_FIELDS.join(", ")}, not ${bad.join(", ")}`);
}

function pick(doc: Record<string, unknown>, keys: string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const k of keys) {
    const v = doc[k];
    if ((NON_SECRET_FIELDS as readonly string[]).includes(k) && (typeof v === "string" || typeof v === "number")) out[k] = v;
  }
  return out;
}

/**
 * The listed fields as the secret holds them; undefined when the secret is gone, or scheduled for deletion
 * (GetSecretValue then fails with InvalidRequestException), or has no value yet.
 */
export async function readSecretFields(ctx: ResourceContext, secretArn: string, keys: string[]): Promise<SecretFieldsAttrs | undefined> {
  try {
    return { secretArn, fields: pick(await readSecretJson(ctx, secretArn), keys) };
  } catch (err) {
    if (isNotFound(err) || hasCode(err, "InvalidRequestException")) return undefined;
    throw err;
  }
}

/** Merges the fields into the secret's JSON (PutSecretValue only when something differs) and reads them back. */
async function write(ctx: ResourceContext, spec: SecretFieldsSpec): Promise<SecretFieldsAttrs> {
  assertNonSecret(spec.fields);
  const current = await readSecretJson(ctx, spec.secretArn);
  const merged = { ...current, ...spec.fields };
  if (!sameValue(merged, current)) {
    await ctx.aws.get(SecretsManagerClient).send(new PutSecretValueCommand({ SecretId: spec.secretArn, SecretString: JSON.stringify(merged) }));
  }
  return { secretArn: spec.secretArn, fields: pick(merged, Object.keys(spec.fields)) };
}

export const secretFields: ResourceType<SecretFieldsSpec, SecretFieldsAttrs> = {
  type: "secretsmanager:secret-fields",

  // Which fields to read is known only from what an earlier run recorded; without a record, create merges them (idempotent).
  async find(ctx, { recorded, wanted }) {
    const secretArn = knownKey(recorded?.secretArn, wanted?.secretArn);
    if (!secretArn) return undefined;
    return readSecretFields(ctx, secretArn, Object.keys(recorded?.fields ?? wanted?.fields ?? {}));
  },

  diff(spec, actual) {
    const changes: Change[] = [];
    if (spec.secretArn !== actual.secretArn) changes.push({ field: "secretArn", from: actual.secretArn, to: spec.secretArn, action: "update" });
    for (const [key, want] of Object.entries(spec.fields)) {
      const have = actual.fields[key];
      if (want !== undefined && !sameValue(want, have)) changes.push({ field: `fields.${key}`, from: have, to: want, action: "update" });
    }
    return changes;
  },

  create: (ctx, spec) => write(ctx, spec),
  update: (ctx, spec) => write(ctx, spec),

  // The fields live inside the secret, which is deleted (or kept) as a whole by its own resource.
  async destroy() {},

  physicalId: (a) => `${a.secretArn}#${Object.keys(a.fields).sort().join(",")}`,
};
