import { describe, expect, it } from "vitest";
import { ConfigSchema, type Config } from "../../src/config/schema.js";
import { findEntry, secretCatalog } from "../../src/secrets/catalog.js";
import { addSecrets, addSecretWiring } from "../../src/stack/secrets.js";
import { StackBuilder } from "../../src/stack/builder.js";
import { ref } from "../../src/stack/model.js";

const config = (input: Record<string, unknown> = {}): Config => ({ ...ConfigSchema.parse(input), environment: "dev" }) as Config;
const facts = { accountId: "123456789012", region: "us-east-1", availabilityZones: ["us-east-1a", "us-east-1b"] as [string, string] };

describe("the secrets catalog", () => {
  it("names every secret under <project>-<env>/ with its rule", () => {
    expect(secretCatalog(config()).map((e) => [e.key, e.logicalId, e.name, e.rule])).toEqual([
      ["database-credentials", "secrets.database-credentials", "clinical-platform-dev/database/credentials", "database-credentials"],
      ["app-secret-key", "secrets.app-secret-key", "clinical-platform-dev/api/secret-key", "token-64"],
      ["jwt-signing-key", "secrets.jwt-signing-key", "clinical-platform-dev/api/jwt-signing-key", "token-64"],
    ]);
  });

  it("adds Grafana's admin password only with Grafana, and the extra secrets from config", () => {
    const entries = secretCatalog(config({ monitoring: { grafana: true }, secrets: { extra: { "openai-api-key": { description: "OpenAI" }, "webhook-token": { description: "w", generate: "token-64" } } } }));
    expect(entries.slice(3).map((e) => [e.key, e.logicalId, e.name, e.rule])).toEqual([
      ["grafana-admin", "secrets.grafana-admin", "clinical-platform-dev/grafana/admin-password", "password-32"],
      ["openai-api-key", "secrets.extra.openai-api-key", "clinical-platform-dev/extra/openai-api-key", "external"],
      ["webhook-token", "secrets.extra.webhook-token", "clinical-platform-dev/extra/webhook-token", "token-64"],
    ]);
  });

  it("writes the database's username and name from config into the credentials template", () => {
    const [db] = secretCatalog(config({ database: { username: "clinic_admin", dbName: "warehouse" } }));
    expect(db!.template).toEqual({ username: "clinic_admin", engine: "postgres", port: 5432, dbname: "warehouse" });
  });

  it("finds an entry by short name, logical id or secret name", () => {
    const catalog = secretCatalog(config());
    for (const name of ["app-secret-key", "secrets.app-secret-key", "clinical-platform-dev/api/secret-key"]) expect(findEntry(catalog, name)?.key).toBe("app-secret-key");
    expect(findEntry(catalog, "nope")).toBeUndefined();
  });
});

describe("the secrets config section", () => {
  it("defaults to a 7-day recovery window, the AWS-managed key and no extras", () => {
    expect(config().secrets).toEqual({ recoveryWindowDays: 7, extra: {} });
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["a recovery window under 7 days", { recoveryWindowDays: 3 }, /recoveryWindowDays/],
    ["a recovery window over 30 days", { recoveryWindowDays: 31 }, /recoveryWindowDays/],
    ["a malformed KMS key", { kmsKeyId: "my key" }, /KMS key ARN, key id, alias ARN or alias\/name/],
    ["an extra named like a built-in secret", { extra: { "app-secret-key": { description: "x" } } }, /platform's own secrets/],
    ["an extra name ending like an ARN suffix", { extra: { "stripe-secret": { description: "x" } } }, /hyphen plus six characters/],
    ["an extra name with capitals", { extra: { OpenAI: { description: "x" } } }, /lowercase/],
    ["an unknown generator", { extra: { "api-key": { description: "x", generate: "uuid" } } }, /token-64|password-32|external/],
  ];
  it.each(bad)("rejects %s", (_name, secrets, message) => {
    const parsed = ConfigSchema.safeParse({ secrets });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error!.issues)).toMatch(message);
  });

  it("accepts key ARNs, key ids and aliases", () => {
    for (const kmsKeyId of ["alias/platform", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:123456789012:alias/platform"]) {
      expect(ConfigSchema.safeParse({ secrets: { kmsKeyId } }).success).toBe(true);
    }
  });
});

describe("the secrets layer of the stack", () => {
  it("adds one secret node per catalog entry, with the config's window, key and tags", () => {
    const cfg = config({ tags: { CostCenter: "x" }, secrets: { recoveryWindowDays: 14, kmsKeyId: "alias/platform" } });
    const b = new StackBuilder(cfg, facts);
    addSecrets(b, cfg);
    const stack = b.build();
    expect(stack.nodes.map((n) => [n.logicalId, n.type.type])).toEqual([
      ["secrets.database-credentials", "secretsmanager:secret"],
      ["secrets.app-secret-key", "secretsmanager:secret"],
      ["secrets.jwt-signing-key", "secretsmanager:secret"],
    ]);
    expect(stack.nodes[1]!.spec).toEqual({
      name: "clinical-platform-dev/api/secret-key",
      description: "Application secret key of the clinical-platform-dev API",
      kmsKeyId: "alias/platform",
      recoveryWindowDays: 14,
      generator: "token-64",
      tags: { CostCenter: "x", Project: "clinical-platform", Environment: "dev", ManagedBy: "platform", "platform:logical-id": "secrets.app-secret-key" },
    });
    expect(Object.keys(stack.outputs)).toEqual(["database_credentials_secret_arn", "app_secret_key_secret_arn", "jwt_signing_key_secret_arn"]);
  });

  it("wires the database's endpoint into the credentials only when the stack has the database", () => {
    const cfg = config();
    const b = new StackBuilder(cfg, facts);
    addSecrets(b, cfg);
    addSecretWiring(b, cfg);
    expect(b.has("secrets.database-credentials.connection")).toBe(false);
    b.add("data.database.instance", { type: "rds:db-instance" } as never, {});
    addSecretWiring(b, cfg);
    const node = b.build().nodes.find((n) => n.logicalId === "secrets.database-credentials.connection")!;
    expect(node.type.type).toBe("secretsmanager:secret-fields");
    expect(node.spec).toEqual({
      secretArn: ref("secrets.database-credentials", "arn"),
      fields: { host: ref("data.database.instance", "endpointAddress"), port: ref("data.database.instance", "port") },
    });
  });
});
