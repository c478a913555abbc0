import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { UserError } from "../../src/errors.js";
// The stack names types through the catalog (their modules load when the engine first reads one).
import { dbInstance, dbParameterGroup, dbSubnetGroup, iamRole } from "../../src/resources/catalog.js";
import { registry } from "../../src/resources/index.js";
import type { ResourceType } from "../../src/resources/types.js";
import { StackBuilder, type StackFacts } from "../../src/stack/builder.js";
import { addDatabase, dbIds, ENHANCED_MONITORING_POLICY_ARN, restoredDatabaseIdentifier } from "../../src/stack/database.js";
import { buildStack } from "../../src/stack/index.js";
import { dependenciesOf, Ref, type Stack, type StackNode } from "../../src/stack/model.js";
import { addNetwork } from "../../src/stack/network.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const facts: StackFacts = { accountId: "123456789012", region: "us-east-1", availabilityZones: ["us-east-1a", "us-east-1b"] };

function configFrom(env: string, body: Record<string, unknown>): Config {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-db-"));
  mkdirSync(path.join(dir, "config"));
  writeFileSync(path.join(dir, "config", `${env}.json`), JSON.stringify(body));
  return loadConfig({ env, cwd: dir }).config;
}

/** Stands in for the secrets layer's credentials secret, so these tests need only the network and database layers. */
const stubSecret: ResourceType<object, { arn: string }> = {
  type: "test:secret",
  find: async () => undefined,
  diff: () => [],
  create: async () => ({ arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x" }),
  destroy: async () => undefined,
  physicalId: (a) => a.arn,
};

function databaseStack(config: Config): Stack {
  const b = new StackBuilder(config, facts);
  b.add("secrets.database-credentials", stubSecret, {});
  addNetwork(b, config, facts.availabilityZones);
  addDatabase(b, config);
  return b.build();
}

const node = (stack: Stack, id: string) => stack.nodes.find((n) => n.logicalId === id) as StackNode<any> | undefined;
const refOf = (v: unknown) => (v instanceof Ref ? `${v.logicalId}.${v.attribute}` : v);

describe("database layer", () => {
  const dev = loadConfig({ env: "dev", cwd: repoRoot }).config;

  it("adds a subnet group over the private subnets and a postgres16 parameter group forcing TLS", () => {
    const stack = databaseStack(dev);
    const group = node(stack, dbIds.subnetGroup)!;
    expect(group.type).toBe(dbSubnetGroup);
    expect(group.spec.name).toBe("clinical-platform-dev-db");
    expect(group.spec.subnetIds.map(refOf)).toEqual(["network.subnet.private-a.subnetId", "network.subnet.private-b.subnetId"]);
    expect(group.spec.tags["platform:logical-id"]).toBe(dbIds.subnetGroup);

    const params = node(stack, dbIds.parameterGroup)!;
    expect(params.type).toBe(dbParameterGroup);
    expect(params.spec).toMatchObject({ name: "clinical-platform-dev-postgres16", family: "postgres16", parameters: { "rds.force_ssl": "1" } });
    expect(dependenciesOf(params)).toEqual([]);
  });

  it("adds the instance with dev's settings and refs to its groups, the db security group and the credentials secret", () => {
    const stack = databaseStack(dev);
    const db = node(stack, dbIds.instance)!;
    expect(db.type).toBe(dbInstance);
    const { dbSubnetGroupName, parameterGroupName, vpcSecurityGroupIds, credentialsSecretArn, tags, ...settings } = db.spec;
    expect(settings).toEqual({
      identifier: "clinical-platform-dev-db",
      engineVersion: "16",
      instanceClass: "db.t3.micro",
      allocatedStorage: 20,
      storageEncrypted: true,
      publiclyAccessible: false,
      multiAz: false,
      backupRetentionDays: 7,
      deletionProtection: false,
      copyTagsToSnapshot: true,
      iamDatabaseAuthentication: true,
      performanceInsights: true,
      monitoringInterval: 0,
      cloudwatchLogsExports: ["postgresql"],
      autoMinorVersionUpgrade: true,
      dbName: "clinical",
      masterUsername: "platform_admin",
    });
    expect(refOf(dbSubnetGroupName)).toBe("data.database.subnet-group.name");
    expect(refOf(parameterGroupName)).toBe("data.database.parameter-group.name");
    expect(vpcSecurityGroupIds.map(refOf)).toEqual(["network.security-group.db.groupId"]);
    expect(refOf(credentialsSecretArn)).toBe("secrets.database-credentials.arn");
    expect(tags["platform:logical-id"]).toBe(dbIds.instance);
    expect(dependenciesOf(db).sort()).toEqual(
      ["data.database.parameter-group", "data.database.subnet-group", "network.security-group.db", "secrets.database-credentials"].sort(),
    );
    expect(JSON.stringify(db.spec)).not.toMatch(/password/i);
  });

  it("starts the instance as soon as its own inputs exist: it waits for no compute, route or NAT resource", () => {
    const stack = databaseStack(configFrom("dev", { network: { natGateway: true } }));
    const db = node(stack, dbIds.instance)!;
    const direct = new Set(dependenciesOf(db));
    expect([...direct].some((id) => id.startsWith("network.route") || id.startsWith("network.nat") || id.startsWith("compute."))).toBe(false);
  });

  it("publishes the endpoint, port and identifier", () => {
    const stack = databaseStack(dev);
    expect(Object.fromEntries(["db_endpoint", "db_port", "db_identifier"].map((k) => [k, refOf(stack.outputs[k])]))).toEqual({
      db_endpoint: "data.database.instance.endpointAddress",
      db_port: "data.database.instance.port",
      db_identifier: "data.database.instance.identifier",
    });
  });

  it("adds the enhanced-monitoring role only when monitoring is on, and passes its ARN", () => {
    expect(node(databaseStack(dev), dbIds.monitoringRole)).toBeUndefined();
    const stack = databaseStack(configFrom("dev", { database: { enhancedMonitoringInterval: 60 } }));
    const role = node(stack, dbIds.monitoringRole)!;
    expect(role.type).toBe(iamRole);
    expect(role.spec).toMatchObject({
      name: "clinical-platform-dev-rds-monitoring",
      managedPolicyArns: [ENHANCED_MONITORING_POLICY_ARN],
      inlinePolicies: {},
      assumeRolePolicy: { Statement: [{ Effect: "Allow", Principal: { Service: "monitoring.rds.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } } }] },
    });
    const db = node(stack, dbIds.instance)!;
    expect(db.spec.monitoringInterval).toBe(60);
    expect(refOf(db.spec.monitoringRoleArn)).toBe("data.database.monitoring-role.arn");
  });

  it("prod: deletion protection and Multi-AZ on; db.t3.small still asks for Performance Insights (the instance module turns it off)", () => {
    const prod = loadConfig({ env: "prod", cwd: repoRoot }).config;
    const db = node(databaseStack(prod), dbIds.instance)!;
    expect(db.spec).toMatchObject({ identifier: "clinical-platform-prod-db", instanceClass: "db.t3.small", deletionProtection: true, multiAz: true, performanceInsights: true });
  });

  it("follows the configured engine version into the parameter group family", () => {
    const stack = databaseStack(configFrom("dev", { database: { engineVersion: "17.7" } }));
    expect(node(stack, dbIds.parameterGroup)!.spec).toMatchObject({ name: "clinical-platform-dev-postgres17", family: "postgres17" });
    expect(node(stack, dbIds.instance)!.spec.engineVersion).toBe("17.7");
  });

  it("passes optional settings through only when set", () => {
    const stack = databaseStack(
      configFrom("dev", { database: { maxAllocatedStorage: 100, preferredBackupWindow: "03:00-03:30", preferredMaintenanceWindow: "sun:04:00-sun:04:30", username: "clinic_admin", dbName: "warehouse" } }),
    );
    expect(node(stack, dbIds.instance)!.spec).toMatchObject({
      maxAllocatedStorage: 100,
      preferredBackupWindow: "03:00-03:30",
      preferredMaintenanceWindow: "sun:04:00-sun:04:30",
      masterUsername: "clinic_admin",
      dbName: "warehouse",
    });
    const plain = node(databaseStack(dev), dbIds.instance)!.spec;
    expect("maxAllocatedStorage" in plain || "preferredBackupWindow" in plain || "monitoringRoleArn" in plain).toBe(false);
  });

  it("keeps the instance state records when db restore made it for this stack; otherwise the configured identifier", () => {
    const identifierWith = (databaseIdentifier: string | undefined) => {
      const b = new StackBuilder(dev, { ...facts, databaseIdentifier });
      b.add("secrets.database-credentials", stubSecret, {});
      addNetwork(b, dev, facts.availabilityZones);
      addDatabase(b, dev);
      return node(b.build(), dbIds.instance)!.spec.identifier;
    };
    const restored = restoredDatabaseIdentifier(dev, new Date("2026-03-01T14:30:05Z"));
    expect(restored).toBe("clinical-platform-dev-db-r20260301143005");
    expect(identifierWith(restored)).toBe(restored);
    expect(identifierWith(undefined)).toBe("clinical-platform-dev-db");
    // Another project's or environment's instance, or a hand-made name, is not this stack's: up would replace it.
    expect(identifierWith("other-project-dev-db-r20260301143005")).toBe("clinical-platform-dev-db");
    expect(identifierWith("clinical-platform-dev-db-copy")).toBe("clinical-platform-dev-db");
  });

  it("refuses a project name RDS would reject in an identifier", () => {
    expect(() => databaseStack(configFrom("dev", { project: "clinical--x" }))).toThrow(UserError);
  });

  it("is part of the full stack, every reference resolves to a node there, and the registry knows its types", () => {
    const stack = buildStack(dev, facts);
    const ids = new Set(stack.nodes.map((n) => n.logicalId));
    for (const id of [dbIds.subnetGroup, dbIds.parameterGroup, dbIds.instance]) {
      expect(ids.has(id)).toBe(true);
      for (const dep of dependenciesOf(node(stack, id)!)) expect(ids.has(dep)).toBe(true);
    }
    for (const type of ["rds:db-subnet-group", "rds:db-parameter-group", "rds:db-instance"]) expect(registry.get(type)).toBeDefined();
  });
});

describe("config: database", () => {
  it("defaults", () => {
    expect(configFrom("qa", {}).database).toEqual({
      instanceClass: "db.t3.micro",
      engineVersion: "16",
      allocatedStorage: 20,
      backupRetentionDays: 7,
      multiAz: false,
      deletionProtection: false,
      performanceInsights: true,
      enhancedMonitoringInterval: 0,
      username: "platform_admin",
      dbName: "clinical",
    });
  });

  it.each([
    [{ engineVersion: "16.x" }, /database.engineVersion: a PostgreSQL version/],
    [{ engineVersion: "9.6" }, /database.engineVersion: a PostgreSQL version/],
    [{ allocatedStorage: 10 }, /database.allocatedStorage/],
    [{ allocatedStorage: 50, maxAllocatedStorage: 40 }, /database.maxAllocatedStorage: must be above allocatedStorage \(50\)/],
    [{ backupRetentionDays: 36 }, /database.backupRetentionDays/],
    [{ enhancedMonitoringInterval: 20 }, /database.enhancedMonitoringInterval: one of 0, 1, 5, 10, 15, 30, 60/],
    [{ username: "rdsadmin" }, /database.username: may not be a reserved name/],
    [{ username: "9lives" }, /database.username: 1-16 letters, digits or underscores/],
    [{ username: "a_very_long_username_x" }, /database.username: 1-16 letters/],
    [{ dbName: "postgres" }, /database.dbName: may not be a reserved name/],
    [{ dbName: "my-db" }, /database.dbName: 1-63 letters, digits or underscores/],
    [{ preferredBackupWindow: "3:00-3:30" }, /database.preferredBackupWindow: a daily UTC window/],
    [{ preferredBackupWindow: "03:00-03:15" }, /database.preferredBackupWindow: must be at least 30 minutes long/],
    [{ preferredMaintenanceWindow: "sun:23:50-mon:00:10" }, /database.preferredMaintenanceWindow: must be at least 30 minutes long/],
    [{ password: "hunter22" }, /database: unknown key "password"/],
  ])("rejects %j", (database, message) => {
    expect(() => configFrom("dev", { database })).toThrow(message);
  });

  it("accepts windows that wrap past midnight or the end of the week", () => {
    expect(configFrom("dev", { database: { preferredBackupWindow: "23:45-00:15", preferredMaintenanceWindow: "sun:23:45-mon:00:15" } }).database).toMatchObject({
      preferredBackupWindow: "23:45-00:15",
      preferredMaintenanceWindow: "sun:23:45-mon:00:15",
    });
  });
});
