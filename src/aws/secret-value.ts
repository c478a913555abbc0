import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { UserError } from "../errors.js";
import type { ResourceContext } from "../resources/types.js";

/**
 * Reads a Secrets Manager secret that holds a JSON object (the database credentials: username, password, ...).
 * The value is returned to the caller only: it is never logged, recorded in state or attributes, nor put in an error.
 * Errors name the secret and what is wrong with it, never any part of its text (JSON.parse's own message would quote it).
 */
export async function readSecretJson(ctx: ResourceContext, secretArn: string): Promise<Record<string, unknown>> {
  const out = await ctx.aws.get(SecretsManagerClient).send(new GetSecretValueCommand({ SecretId: secretArn }));
  if (out.SecretString === undefined) {
    throw new UserError(`secret ${secretArn} has no string value (a binary secret, or no value yet); put a JSON object in it and run again`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.SecretString);
  } catch {
    throw new UserError(`secret ${secretArn} does not hold valid JSON; it must be a JSON object such as {"username": ..., "password": ...}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UserError(`secret ${secretArn} does not hold a JSON object; it must look like {"username": ..., "password": ...}`);
  }
  return parsed as Record<string, unknown>;
}
