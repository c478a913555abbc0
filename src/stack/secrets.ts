import type { Config } from "../config/schema.js";
import { secret, secretFields } from "../resources/catalog.js";
import { type SecretSpec } from "../resources/secret.js";
import { DATABASE_INSTANCE_ID, secretCatalog, secretIds, type CatalogEntry } from "../secrets/catalog.js";
import type { StackBuilder } from "./builder.js";
import { ref } from "./model.js";

/** The spec of one catalog secret, as `up` and bootstrap-secrets both want it. */
export function secretSpec(config: Config, entry: CatalogEntry, tags: Record<string, string>): SecretSpec {
  return {
    name: entry.name,
    description: entry.description,
    ...(config.secrets.kmsKeyId ? { kmsKeyId: config.secrets.kmsKeyId } : {}),
    recoveryWindowDays: config.secrets.recoveryWindowDays,
    generator: entry.rule,
    ...(entry.template ? { template: entry.template } : {}),
    tags,
  };
}

/**
 * Every secret the environment has (src/secrets/catalog.ts). They depend on nothing, so they are created first, before the
 * database and the services that read them (those refer to their ARNs). Values are generated inside the resource's
 * create and never appear in the stack, the plan or state.
 */
export function addSecrets(b: StackBuilder, config: Config): void {
  for (const entry of secretCatalog(config)) b.add(entry.logicalId, secret, secretSpec(config, entry, b.tags(entry.logicalId)));
  b.output("database_credentials_secret_arn", secretIds.databaseCredentials, "arn");
  b.output("app_secret_key_secret_arn", secretIds.appSecretKey, "arn");
  b.output("jwt_signing_key_secret_arn", secretIds.jwtSigningKey, "arn");
  if (config.monitoring.grafana) b.output("grafana_admin_secret_arn", secretIds.grafanaAdmin, "arn");
}

/** Once the database is in the stack: its endpoint and port go into the credentials JSON (RDS rotation's host and port). */
export function addSecretWiring(b: StackBuilder, _config: Config): void {
  if (!b.has(DATABASE_INSTANCE_ID)) return;
  b.add(secretIds.databaseConnection, secretFields, {
    secretArn: ref(secretIds.databaseCredentials, "arn"),
    fields: { host: ref(DATABASE_INSTANCE_ID, "endpointAddress"), port: ref(DATABASE_INSTANCE_ID, "port") },
  });
}
