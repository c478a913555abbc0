import type { Config } from "../config/schema.js";
import { namePrefix } from "../config/naming.js";
import type { CredentialsTemplate, GeneratorName } from "./generate.js";

/**
 * Which secrets an environment has, from its config: each with the short name users type (`--rotate app-secret-key`),
 * its logical id in the stack, its Secrets Manager name under `<project>-<env>/`, a description and its value rule.
 */
export const BUILT_IN_SECRETS = ["database-credentials", "app-secret-key", "jwt-signing-key", "grafana-admin"] as const;

export const secretIds = {
  databaseCredentials: "secrets.database-credentials",
  appSecretKey: "secrets.app-secret-key",
  jwtSigningKey: "secrets.jwt-signing-key",
  grafanaAdmin: "secrets.grafana-admin",
  extra: (name: string) => `secrets.extra.${name}`,
  /** The connection fields (host, port) written into the credentials once the database exists. */
  databaseConnection: "secrets.database-credentials.connection",
} as const;

/** Written into the credentials JSON with config.database.username and dbName (the instance checks the username matches). */
export const DATABASE_ENGINE = "postgres";
export const DATABASE_PORT = 5432;

/** The database instance the credentials belong to (written by the data layer); rotation changes its master password. */
export const DATABASE_INSTANCE_ID = "data.database.instance";

export interface CatalogEntry {
  /** What users type: "database-credentials", "app-secret-key", ..., or an extra secret's name. */
  key: string;
  logicalId: string;
  /** The Secrets Manager name: `clinical-platform-dev/database/credentials`. */
  name: string;
  description: string;
  rule: GeneratorName;
  /** Database credentials only: the JSON fields other than the password. */
  template?: CredentialsTemplate;
}

export function secretCatalog(config: Config): CatalogEntry[] {
  const prefix = namePrefix(config);
  const entries: CatalogEntry[] = [
    {
      key: "database-credentials",
      logicalId: secretIds.databaseCredentials,
      name: `${prefix}/database/credentials`,
      description: `Master credentials of the ${prefix} PostgreSQL database (username, password, engine, host, port, dbname)`,
      rule: "database-credentials",
      template: { username: config.database.username, engine: DATABASE_ENGINE, port: DATABASE_PORT, dbname: config.database.dbName },
    },
    {
      key: "app-secret-key",
      logicalId: secretIds.appSecretKey,
      name: `${prefix}/api/secret-key`,
      description: `Application secret key of the ${prefix} API`,
      rule: "token-64",
    },
    {
      key: "jwt-signing-key",
      logicalId: secretIds.jwtSigningKey,
      name: `${prefix}/api/jwt-signing-key`,
      description: `Key the ${prefix} API signs JWTs with`,
      rule: "token-64",
    },
  ];
  if (config.monitoring.grafana) {
    entries.push({
      key: "grafana-admin",
      logicalId: secretIds.grafanaAdmin,
      name: `${prefix}/grafana/admin-password`,
      description: `Admin password of ${prefix} Grafana`,
      rule: "password-32",
    });
  }
  for (const [name, extra] of Object.entries(config.secrets.extra)) {
    entries.push({ key: name, logicalId: secretIds.extra(name), name: `${prefix}/extra/${name}`, description: extra.description, rule: extra.generate });
  }
  return entries;
}

/** The entry a user means by `name`: its short name, its logical id or its Secrets Manager name. */
export function findEntry(catalog: CatalogEntry[], name: string): CatalogEntry | undefined {
  return catalog.find((e) => e.key === name || e.logicalId === name || e.name === name);
}
