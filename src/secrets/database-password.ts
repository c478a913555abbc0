import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { awsFailure, isNotFound, orUndefined } from "../aws/errors.js";
import { RunFailure } from "../errors.js";
import { WaitTimeout, waitFor } from "../run/wait-for.js";
import { putSecretValue } from "../resources/secret.js";
import type { ResourceContext } from "../resources/types.js";
import { DATABASE_INSTANCE_ID } from "./catalog.js";
import { credentialsJson, type CredentialsTemplate } from "./generate.js";

/**
 * Rotating the database password, in this order:
 *   1. PutSecretValue: the credentials JSON with the new password becomes AWSCURRENT (the old one stays as AWSPREVIOUS);
 *   2. ModifyDBInstance { MasterUserPassword, ApplyImmediately: true }, then wait until the instance is available with
 *      no pending password change.
 * The secret goes first so the new password is stored somewhere durable before the database accepts it: were the
 * database changed first and the secret write then failed, the only copy of the password would be lost. If RDS refuses
 * the change, the previous value is put back, so the secret and the database agree again; they disagree only while
 * this call runs. Values stay in memory and are never printed.
 */
export interface DatabaseRotation {
  secretArn: string;
  template: CredentialsTemplate;
  password: string;
  /** The RDS instance identifier from state; undefined when the database does not exist yet. */
  dbInstanceIdentifier: string | undefined;
}

/** The budget RDS gets to apply a new master password (it usually takes one to three minutes). */
const APPLY_BUDGET_SECONDS = 15 * 60;

async function currentString(ctx: ResourceContext, arn: string): Promise<string | undefined> {
  const out = await orUndefined(ctx.aws.get(SecretsManagerClient).send(new GetSecretValueCommand({ SecretId: arn })));
  return out?.SecretString;
}

function jsonObject(text: string | undefined): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text ?? "");
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Returns a note for the report ("database ... master password updated"). */
export async function rotateDatabasePassword(ctx: ResourceContext, r: DatabaseRotation): Promise<string> {
  const previous = await currentString(ctx, r.secretArn);
  const doc = jsonObject(previous) ?? { ...r.template };
  await putSecretValue(ctx, r.secretArn, credentialsJson(doc, r.password));
  if (!r.dbInstanceIdentifier) return "no database yet: it is created with this password";
  const id = r.dbInstanceIdentifier;
  try {
    await ctx.aws.get(RDSClient).send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, MasterUserPassword: r.password, ApplyImmediately: true }));
  } catch (err) {
    if (isNotFound(err)) return `database ${id} not found: a new one is created with this password`;
    const refused = `rotating the database password: RDS DB instance ${id} refused the new master password`;
    if (previous === undefined) throw awsFailure(`${refused} (the secret had no earlier value to put back; run the rotation again)`, err);
    try {
      await putSecretValue(ctx, r.secretArn, previous);
    } catch (revertErr) {
      throw awsFailure(`${refused}, and putting the secret's previous value back failed too, so the secret holds a password the database does not (run the rotation again)`, revertErr);
    }
    throw awsFailure(`${refused} (the secret was put back to its previous value: both still hold the old password)`, err);
  }
  await waitForMasterPassword(ctx, id);
  return `database ${id} master password updated`;
}

/** Until the instance is available and no longer lists MasterUserPassword among its pending modifications. */
export async function waitForMasterPassword(ctx: ResourceContext, id: string): Promise<void> {
  const rds = ctx.aws.get(RDSClient);
  let status = "unknown";
  try {
    await waitFor({
      what: `RDS DB instance (${id}) to apply the new master password`,
      refresh: async () => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0],
      done: (db) => db?.DBInstanceStatus === "available" && !db.PendingModifiedValues?.MasterUserPassword,
      budgetSeconds: APPLY_BUDGET_SECONDS,
      waits: ctx.waits,
      signal: ctx.signal,
      onProgress: (db) => {
        status = db?.DBInstanceStatus ?? "unknown";
        ctx.note(DATABASE_INSTANCE_ID, `applying the new master password (${db?.DBInstanceStatus ?? "?"})`);
      },
    });
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    throw new RunFailure(
      `waiting for RDS DB instance (${id}) to apply the new master password: still ${status}; the secret holds the new password, which the database accepts once it is available again`,
    );
  }
}
