import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  AddTagsToResourceCommand,
  CreateDBInstanceCommand,
  type DBInstance,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RDSServiceException,
} from "@aws-sdk/client-rds";
import { GetSecretValueCommand, SecretsManagerClient, SecretsManagerServiceException } from "@aws-sdk/client-secrets-manager";
import { awsFailure } from "../../src/aws/errors.js";
import { tagList } from "../../src/aws/tags.js";
import { UserError } from "../../src/errors.js";
import { dbInstance, finalSnapshotId, isValidMasterPassword, type DbInstanceAttrs, type DbInstanceSpec } from "../../src/resources/db-instance.js";
import { testContext, testTags } from "../helpers.js";

const rds = mockClient(RDSClient);
const sm = mockClient(SecretsManagerClient);
const logicalId = "data.database.instance";
const tags = testTags(logicalId);
const ID = "clinical-platform-dev-db";
const ARN = `arn:aws:rds:us-east-1:123456789012:db:${ID}`;
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:clinical-platform-dev/database/credentials-AbCdEf";
const PASSWORD = "Xk3-pQ9_zR7.wT2~mN5!";
const ROLE_ARN = "arn:aws:iam::123456789012:role/clinical-platform-dev-rds-monitoring";

const spec: DbInstanceSpec = {
  identifier: ID,
  engineVersion: "16",
  instanceClass: "db.t3.medium",
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
  cloudwatchLogsExports: ["postgresql", "upgrade"],
  autoMinorVersionUpgrade: true,
  dbName: "clinical",
  masterUsername: "platform_admin",
  credentialsSecretArn: SECRET_ARN,
  dbSubnetGroupName: "clinical-platform-dev-db",
  parameterGroupName: "clinical-platform-dev-postgres16",
  vpcSecurityGroupIds: ["sg-db"],
  tags,
};

/** DescribeDBInstances' view of an instance built from `spec`, with overrides. */
function instance(overrides: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: ID,
    DBInstanceArn: ARN,
    DBInstanceClass: "db.t3.medium",
    Engine: "postgres",
    EngineVersion: "16.11",
    DBInstanceStatus: "available",
    MasterUsername: "platform_admin",
    DBName: "clinical",
    Endpoint: { Address: `${ID}.abc.us-east-1.rds.amazonaws.com`, Port: 5432 },
    DbInstancePort: 0,
    AllocatedStorage: 20,
    StorageType: "gp3",
    StorageEncrypted: true,
    PubliclyAccessible: false,
    MultiAZ: false,
    BackupRetentionPeriod: 7,
    PreferredBackupWindow: "07:12-07:42",
    PreferredMaintenanceWindow: "sat:09:08-sat:09:38",
    AutoMinorVersionUpgrade: true,
    DeletionProtection: false,
    CopyTagsToSnapshot: true,
    IAMDatabaseAuthenticationEnabled: true,
    DbiResourceId: "db-ABCDEFGHIJKLMNOPQRSTUVWXY1",
    PerformanceInsightsEnabled: true,
    MonitoringInterval: 0,
    EnabledCloudwatchLogsExports: ["upgrade", "postgresql"],
    DBSubnetGroup: { DBSubnetGroupName: "clinical-platform-dev-db" },
    DBParameterGroups: [{ DBParameterGroupName: "clinical-platform-dev-postgres16", ParameterApplyStatus: "in-sync" }],
    VpcSecurityGroups: [{ VpcSecurityGroupId: "sg-db", Status: "active" }],
    PendingModifiedValues: {},
    TagList: tagList(tags),
    ...overrides,
  };
}

const attrsOf = (overrides: Partial<DBInstance> = {}): DbInstanceAttrs => ({
  identifier: ID,
  arn: ARN,
  status: "available",
  endpointAddress: `${ID}.abc.us-east-1.rds.amazonaws.com`,
  port: 5432,
  engineVersion: "16.11",
  instanceClass: "db.t3.medium",
  allocatedStorage: 20,
  storageType: "gp3",
  storageEncrypted: true,
  publiclyAccessible: false,
  multiAz: false,
  backupRetentionDays: 7,
  preferredBackupWindow: "07:12-07:42",
  preferredMaintenanceWindow: "sat:09:08-sat:09:38",
  deletionProtection: false,
  copyTagsToSnapshot: true,
  iamDatabaseAuthentication: true,
  resourceId: "db-ABCDEFGHIJKLMNOPQRSTUVWXY1",
  performanceInsights: true,
  monitoringInterval: 0,
  cloudwatchLogsExports: ["postgresql", "upgrade"],
  autoMinorVersionUpgrade: true,
  dbName: "clinical",
  masterUsername: "platform_admin",
  dbSubnetGroupName: "clinical-platform-dev-db",
  parameterGroupName: "clinical-platform-dev-postgres16",
  parameterApplyStatus: "in-sync",
  vpcSecurityGroupIds: ["sg-db"],
  tags,
  pendingModifiedValues: {},
  ...(overrides as object),
});

const rdsError = (name: string, message = name) => new RDSServiceException({ name, message, $fault: "client", $metadata: {} });
const described = (...dbs: DBInstance[]) => ({ DBInstances: dbs });

function stubSecret(value: Record<string, unknown> | string = { username: "platform_admin", password: PASSWORD, engine: "postgres", port: 5432, dbname: "clinical" }) {
  sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: typeof value === "string" ? value : JSON.stringify(value) });
}

beforeEach(() => {
  rds.reset();
  sm.reset();
});

describe("rds:db-instance find", () => {
  it("reads the recorded instance: every setting, sorted lists, pending modifications, and no password", async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: ID }).resolves(
      described(instance({ PendingModifiedValues: { DBInstanceClass: "db.t3.large", MasterUserPassword: "****" }, MaxAllocatedStorage: 100 })),
    );
    const found = await dbInstance.find(testContext(), { logicalId, recorded: attrsOf() });
    expect(found).toEqual({ ...attrsOf(), maxAllocatedStorage: 100, pendingModifiedValues: { instanceClass: "db.t3.large" } });
    expect(JSON.stringify(found)).not.toMatch(/\*\*\*\*|MasterUserPassword|password/i);
  });

  it("is absent when the instance is gone or being deleted, and without a record asks nothing", async () => {
    rds.on(DescribeDBInstancesCommand).rejectsOnce(rdsError("DBInstanceNotFoundFault")).resolves(described(instance({ DBInstanceStatus: "deleting" })));
    expect(await dbInstance.find(testContext(), { logicalId, recorded: attrsOf() })).toBeUndefined();
    expect(await dbInstance.find(testContext(), { logicalId, recorded: attrsOf() })).toBeUndefined();
    expect(await dbInstance.find(testContext(), { logicalId })).toBeUndefined();
    expect(rds).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 2);
  });
});

describe("rds:db-instance create", () => {
  it("creates with every setting and the password from the secret, waits until available, and records no password", async () => {
    stubSecret();
    rds.on(CreateDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand)
      .resolvesOnce(described(instance({ DBInstanceStatus: "creating", Endpoint: undefined })))
      .resolvesOnce(described(instance({ DBInstanceStatus: "backing-up" })))
      .resolves(described(instance()));
    const ctx = testContext();
    const created = await dbInstance.create(ctx, spec, { logicalId });

    expect(rds).toHaveReceivedCommandWith(CreateDBInstanceCommand, {
      DBInstanceIdentifier: ID,
      Engine: "postgres",
      EngineVersion: "16",
      DBInstanceClass: "db.t3.medium",
      AllocatedStorage: 20,
      StorageType: "gp3",
      StorageEncrypted: true,
      PubliclyAccessible: false,
      MultiAZ: false,
      BackupRetentionPeriod: 7,
      AutoMinorVersionUpgrade: true,
      DeletionProtection: false,
      EnablePerformanceInsights: true,
      PerformanceInsightsRetentionPeriod: 7,
      EnableCloudwatchLogsExports: ["postgresql", "upgrade"],
      DBName: "clinical",
      MasterUsername: "platform_admin",
      MasterUserPassword: PASSWORD,
      Port: 5432,
      DBSubnetGroupName: "clinical-platform-dev-db",
      DBParameterGroupName: "clinical-platform-dev-postgres16",
      VpcSecurityGroupIds: ["sg-db"],
      CopyTagsToSnapshot: true,
      EnableIAMDatabaseAuthentication: true,
      Tags: expect.arrayContaining([{ Key: "platform:logical-id", Value: logicalId }]),
    });
    const input = rds.commandCalls(CreateDBInstanceCommand)[0]!.args[0].input;
    expect(input.MonitoringInterval).toBeUndefined();
    expect(input.MaxAllocatedStorage).toBeUndefined();
    expect(created).toEqual(attrsOf());
    expect(JSON.stringify(created)).not.toContain(PASSWORD);
    expect(ctx.notes.join("\n")).not.toContain(PASSWORD);
    expect(ctx.notes[0]).toMatch(/creating PostgreSQL 16 on db.t3.medium: waiting until the database is available/);
    expect(rds).not.toHaveReceivedCommand(ModifyDBInstanceCommand);
  });

  it.each(["db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"])("creates %s without Performance Insights and says so", async (instanceClass) => {
    stubSecret();
    rds.on(CreateDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand).resolves(described(instance({ DBInstanceClass: instanceClass, PerformanceInsightsEnabled: false })));
    const ctx = testContext();
    const created = await dbInstance.create(ctx, { ...spec, instanceClass }, { logicalId });
    const input = rds.commandCalls(CreateDBInstanceCommand)[0]!.args[0].input;
    expect(input.EnablePerformanceInsights).toBe(false);
    expect(input.PerformanceInsightsRetentionPeriod).toBeUndefined();
    expect(ctx.notes[0]).toContain(`${instanceClass} has no Performance Insights, so it is off`);
    expect(created.performanceInsights).toBe(false);
    expect(rds).not.toHaveReceivedCommand(ModifyDBInstanceCommand);
  });

  it("turns enhanced monitoring on once the instance is available, with the monitoring role", async () => {
    stubSecret();
    rds.on(CreateDBInstanceCommand).resolves({});
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand)
      .resolvesOnce(described(instance({ DBInstanceStatus: "creating" })))
      .resolvesOnce(described(instance()))
      .resolvesOnce(described(instance()))
      .resolves(described(instance({ MonitoringInterval: 60, MonitoringRoleArn: ROLE_ARN })));
    const created = await dbInstance.create(testContext(), { ...spec, monitoringInterval: 60, monitoringRoleArn: ROLE_ARN }, { logicalId });
    expect(rds.commandCalls(CreateDBInstanceCommand)[0]!.args[0].input.MonitoringInterval).toBeUndefined();
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, { DBInstanceIdentifier: ID, MonitoringInterval: 60, MonitoringRoleArn: ROLE_ARN });
    expect(created).toMatchObject({ monitoringInterval: 60, monitoringRoleArn: ROLE_ARN });
  });

  it("passes the storage autoscaling ceiling and the backup and maintenance windows when configured", async () => {
    stubSecret();
    rds.on(CreateDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand).resolves(
      described(instance({ MaxAllocatedStorage: 100, MultiAZ: true, DeletionProtection: true, PreferredBackupWindow: "03:00-03:30", PreferredMaintenanceWindow: "sun:04:00-sun:04:30", BackupRetentionPeriod: 14 })),
    );
    const want = { ...spec, maxAllocatedStorage: 100, multiAz: true, deletionProtection: true, backupRetentionDays: 14, preferredBackupWindow: "03:00-03:30", preferredMaintenanceWindow: "sun:04:00-sun:04:30" };
    await dbInstance.create(testContext(), want, { logicalId });
    expect(rds).toHaveReceivedCommandWith(CreateDBInstanceCommand, {
      MaxAllocatedStorage: 100,
      MultiAZ: true,
      DeletionProtection: true,
      BackupRetentionPeriod: 14,
      PreferredBackupWindow: "03:00-03:30",
      PreferredMaintenanceWindow: "sun:04:00-sun:04:30",
    });
    expect(rds).not.toHaveReceivedCommand(ModifyDBInstanceCommand);
  });

  const badSecrets: [string, Record<string, unknown> | string, RegExp][] = [
    ["no password", { username: "platform_admin" }, /has no "password"/],
    ["a password with a slash", { username: "platform_admin", password: "abc/defgh123" }, /not one RDS accepts/],
    ["a password with a space", { username: "platform_admin", password: "abc defgh123" }, /not one RDS accepts/],
    ["a password too short", { username: "platform_admin", password: "Ab1!" }, /not one RDS accepts/],
    ["another username", { username: "admin", password: PASSWORD }, /holds username "admin" but database.username is "platform_admin"/],
    ["text that is not JSON", "s3cret-Value-NOT-json", /does not hold valid JSON/],
    ["a JSON array", '["x"]', /does not hold a JSON object/],
  ];
  it.each(badSecrets)("refuses a secret with %s before calling RDS, without quoting it", async (_what, value, message) => {
    stubSecret(value);
    const err = await dbInstance.create(testContext(), spec, { logicalId }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(SECRET_ARN);
    const raw = typeof value === "string" ? value : String(value.password ?? "");
    if (raw) expect((err as Error).message).not.toContain(raw);
    expect(rds).not.toHaveReceivedCommand(CreateDBInstanceCommand);
  });

  it("fails with AWS's code when the secret cannot be read", async () => {
    sm.on(GetSecretValueCommand).rejects(new SecretsManagerServiceException({ name: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret.", $fault: "client", $metadata: {} }));
    const err = await dbInstance.create(testContext(), spec, { logicalId }).catch((e: unknown) => e);
    expect(awsFailure("creating rds:db-instance (data.database.instance)", err).code).toBe("ResourceNotFoundException");
    expect(rds).not.toHaveReceivedCommand(CreateDBInstanceCommand);
  });

  it("waits out an instance of ours that is being deleted (an interrupted down), then creates it anew", async () => {
    stubSecret();
    rds.on(CreateDBInstanceCommand).rejectsOnce(rdsError("DBInstanceAlreadyExistsFault")).resolves({});
    rds.on(DescribeDBInstancesCommand)
      .resolvesOnce(described(instance({ DBInstanceStatus: "deleting" })))
      .resolvesOnce(described(instance({ DBInstanceStatus: "deleting" })))
      .rejectsOnce(rdsError("DBInstanceNotFoundFault"))
      .resolves(described(instance()));
    await dbInstance.create(testContext(), spec, { logicalId });
    expect(rds).toHaveReceivedCommandTimes(CreateDBInstanceCommand, 2);
  });

  it("reports the status an instance ended in when it does not become available", async () => {
    stubSecret();
    rds.on(CreateDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand).resolves(described(instance({ DBInstanceStatus: "incompatible-parameters" })));
    const err = await dbInstance.create(testContext(), spec, { logicalId }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "WaitFailed", message: expect.stringMatching(/status incompatible-parameters while waiting for it to be available/) });
  });
});

describe("rds:db-instance waits", () => {
  it("gives up after its time budget with the status it last saw, and notes progress meanwhile", async () => {
    stubSecret();
    rds.on(CreateDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand).resolves(described(instance({ DBInstanceStatus: "creating" })));
    // 40 minutes scaled to 24 ms; progress notes every scaled minute (10 ms at least).
    const ctx = testContext({ waits: { minDelay: 0.001, maxDelay: 0.002, scale: 0.00001 } });
    const err = await dbInstance.create(ctx, spec, { logicalId }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "WaitTimeout", message: expect.stringMatching(/timed out after 40 minutes waiting for RDS DB instance \S+ to be available \(last seen: creating\); run again to keep waiting/) });
    expect(awsFailure("creating rds:db-instance (data.database.instance)", err).code).toBe("WaitTimeout");
    expect(ctx.notes.length).toBeGreaterThan(1);
    expect(ctx.notes.at(-1)).toMatch(/waiting until the database is available .*\(0 min so far\)/);
  });
});

describe("rds:db-instance diff", () => {
  const notes = (changes: { field: string; note?: string }[]) => Object.fromEntries(changes.map((c) => [c.field, c.note]));

  it("finds nothing to do when the instance matches (a major version matches any minor; AWS's windows are kept)", () => {
    expect(dbInstance.diff(spec, attrsOf())).toEqual([]);
    expect(dbInstance.diff({ ...spec, engineVersion: "16.10" }, attrsOf())).toEqual([]);
  });

  it("says which changes wait for the maintenance window and which apply now", () => {
    const want = { ...spec, instanceClass: "db.m6g.large", allocatedStorage: 50, multiAz: true, backupRetentionDays: 14, deletionProtection: true, engineVersion: "16.12" };
    const changes = dbInstance.diff(want, attrsOf());
    expect(changes.every((c) => c.action === "update")).toBe(true);
    expect(notes(changes)).toEqual({
      engineVersion: expect.stringMatching(/^applies at the next maintenance window, or now with up --apply-immediately; the database restarts/),
      instanceClass: expect.stringMatching(/^applies at the next maintenance window, or now with up --apply-immediately/),
      allocatedStorage: expect.stringMatching(/^applies at the next maintenance window/),
      multiAz: expect.stringMatching(/^applies at the next maintenance window/),
      backupRetentionDays: "applies now",
      deletionProtection: "applies now",
    });
  });

  it("defers turning backups off, but applies a change between two retention periods now", () => {
    expect(notes(dbInstance.diff({ ...spec, backupRetentionDays: 0 }, attrsOf())).backupRetentionDays).toMatch(/next maintenance window/);
    expect(notes(dbInstance.diff({ ...spec, backupRetentionDays: 30 }, attrsOf())).backupRetentionDays).toBe("applies now");
  });

  it("marks a change RDS already holds for the window as already requested", () => {
    const changes = dbInstance.diff({ ...spec, instanceClass: "db.t3.large" }, attrsOf({ pendingModifiedValues: { instanceClass: "db.t3.large" } } as never));
    expect(changes).toEqual([expect.objectContaining({ field: "instanceClass", from: "db.t3.medium", to: "db.t3.large", note: expect.stringMatching(/^already requested/) })]);
  });

  it("turns Performance Insights off, with a note, for a class without it", () => {
    const changes = dbInstance.diff({ ...spec, instanceClass: "db.t3.micro" }, attrsOf());
    expect(notes(changes)).toEqual({
      instanceClass: expect.stringContaining("db.t3.micro has no Performance Insights"),
      performanceInsights: "applies now: db.t3.micro does not support Performance Insights, so it is turned off",
    });
    expect(changes.find((c) => c.field === "performanceInsights")).toMatchObject({ from: true, to: false });
    expect(dbInstance.diff({ ...spec, instanceClass: "db.t3.micro" }, attrsOf({ instanceClass: "db.t3.micro", performanceInsights: false } as never))).toEqual([]);
  });

  it("never shrinks storage nor downgrades a minor version, and treats removing the autoscaling ceiling as a change", () => {
    expect(dbInstance.diff(spec, attrsOf({ allocatedStorage: 64 } as never))).toEqual([]);
    expect(dbInstance.diff({ ...spec, engineVersion: "16.10" }, attrsOf({ engineVersion: "16.12" } as never))).toEqual([]);
    expect(dbInstance.diff(spec, attrsOf({ maxAllocatedStorage: 100 } as never))).toEqual([
      { field: "maxAllocatedStorage", from: 100, to: undefined, action: "update", note: "applies now: storage autoscaling turned off" },
    ]);
  });

  it("shows a major version change, which up then refuses", () => {
    expect(dbInstance.diff({ ...spec, engineVersion: "17" }, attrsOf())).toEqual([expect.objectContaining({ field: "engineVersion", action: "update", note: expect.stringMatching(/major version upgrade: platform does not do it/) })]);
  });

  it("replaces for settings RDS cannot change, and waits for an instance still being created", () => {
    const changes = dbInstance.diff({ ...spec, dbName: "other", masterUsername: "someone", dbSubnetGroupName: "other-group" }, attrsOf({ status: "creating" } as never));
    expect(changes.map((c) => [c.field, c.action])).toEqual([
      ["dbName", "replace"],
      ["masterUsername", "replace"],
      ["dbSubnetGroupName", "replace"],
      ["status", "update"],
    ]);
  });
});

describe("rds:db-instance update", () => {
  it("leaves deferred changes for the maintenance window without --apply-immediately", async () => {
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand).resolves(described(instance({ PendingModifiedValues: { DBInstanceClass: "db.t3.large" } })));
    const want = { ...spec, instanceClass: "db.t3.large", deletionProtection: true };
    const updated = await dbInstance.update!(testContext(), want, attrsOf(), dbInstance.diff(want, attrsOf()));
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, { DBInstanceIdentifier: ID, ApplyImmediately: false, DBInstanceClass: "db.t3.large", DeletionProtection: true });
    expect(rds).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 1);
    expect(updated.pendingModifiedValues).toEqual({ instanceClass: "db.t3.large" });
  });

  it("with --apply-immediately applies now and waits until the change is no longer pending", async () => {
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand)
      .resolvesOnce(described(instance({ PendingModifiedValues: { DBInstanceClass: "db.t3.large" } })))
      .resolvesOnce(described(instance({ DBInstanceStatus: "modifying", PendingModifiedValues: { DBInstanceClass: "db.t3.large" } })))
      .resolves(described(instance({ DBInstanceClass: "db.t3.large" })));
    const want = { ...spec, instanceClass: "db.t3.large", allocatedStorage: 40 };
    const ctx = testContext({ flags: { applyImmediately: true } });
    const updated = await dbInstance.update!(ctx, want, attrsOf(), dbInstance.diff(want, attrsOf()));
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, { DBInstanceIdentifier: ID, ApplyImmediately: true, DBInstanceClass: "db.t3.large", AllocatedStorage: 40 });
    expect(rds.commandCalls(DescribeDBInstancesCommand).length).toBeGreaterThanOrEqual(3);
    expect(updated.instanceClass).toBe("db.t3.large");
    expect(ctx.notes.join("\n")).toMatch(/applying instanceClass, allocatedStorage now/);
  });

  it("does not ask again for a change RDS already holds, unless applying it now", async () => {
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand).resolves(described(instance({ PendingModifiedValues: { DBInstanceClass: "db.t3.large" } })));
    const actual = attrsOf({ pendingModifiedValues: { instanceClass: "db.t3.large" } } as never);
    const want = { ...spec, instanceClass: "db.t3.large" };
    await dbInstance.update!(testContext(), want, actual, dbInstance.diff(want, actual));
    expect(rds).not.toHaveReceivedCommand(ModifyDBInstanceCommand);

    rds.on(DescribeDBInstancesCommand).resolves(described(instance({ DBInstanceClass: "db.t3.large" })));
    await dbInstance.update!(testContext({ flags: { applyImmediately: true } }), want, actual, dbInstance.diff(want, actual));
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, { ApplyImmediately: true, DBInstanceClass: "db.t3.large" });
  });

  it("sends the in-place settings that apply now: logs, security groups, parameter group, autoscaling off, monitoring, tags", async () => {
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds.on(AddTagsToResourceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand).resolves(described(instance()));
    const actual = attrsOf({ cloudwatchLogsExports: ["postgresql"], vpcSecurityGroupIds: ["sg-old"], parameterGroupName: "old", maxAllocatedStorage: 100, tags: { ...tags, Owner: "x" } } as never);
    const want = { ...spec, monitoringInterval: 30, monitoringRoleArn: ROLE_ARN, tags: { ...tags, Owner: "y" } };
    await dbInstance.update!(testContext(), want, actual, dbInstance.diff(want, actual));
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, {
      DBInstanceIdentifier: ID,
      ApplyImmediately: false,
      CloudwatchLogsExportConfiguration: { EnableLogTypes: ["upgrade"], DisableLogTypes: [] },
      VpcSecurityGroupIds: ["sg-db"],
      DBParameterGroupName: "clinical-platform-dev-postgres16",
      MaxAllocatedStorage: 20,
      MonitoringInterval: 30,
      MonitoringRoleArn: ROLE_ARN,
    });
    expect(rds).toHaveReceivedCommandWith(AddTagsToResourceCommand, { ResourceName: ARN, Tags: [{ Key: "Owner", Value: "y" }] });
  });

  it("refuses a major version upgrade without touching the instance", async () => {
    const want = { ...spec, engineVersion: "17" };
    const err = await dbInstance.update!(testContext(), want, attrsOf(), dbInstance.diff(want, attrsOf())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/major version upgrade to 17 is not done by platform/);
    expect(rds).not.toHaveReceivedCommand(ModifyDBInstanceCommand);
  });

  it("waits for an instance left creating by an interrupted run", async () => {
    rds.on(DescribeDBInstancesCommand).resolvesOnce(described(instance({ DBInstanceStatus: "creating" }))).resolves(described(instance()));
    const actual = attrsOf({ status: "creating" } as never);
    const updated = await dbInstance.update!(testContext(), spec, actual, dbInstance.diff(spec, actual));
    expect(updated.status).toBe("available");
    expect(rds).not.toHaveReceivedCommand(ModifyDBInstanceCommand);
  });
});

describe("rds:db-instance destroy", () => {
  const snapshotPattern = new RegExp(`^${ID}-final-\\d{14}$`);

  it("deletes with a final snapshot named <identifier>-final-<yyyymmddhhmmss> and waits until it is gone", async () => {
    rds.on(DeleteDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand).resolvesOnce(described(instance({ DBInstanceStatus: "deleting" }))).rejects(rdsError("DBInstanceNotFoundFault"));
    const ctx = testContext();
    await dbInstance.destroy(ctx, attrsOf());
    const input = rds.commandCalls(DeleteDBInstanceCommand)[0]!.args[0].input;
    expect(input.DBInstanceIdentifier).toBe(ID);
    expect(input.FinalDBSnapshotIdentifier).toMatch(snapshotPattern);
    expect(input.SkipFinalSnapshot).toBeUndefined();
    expect(rds).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 2);
    expect(ctx.notes.join("\n")).toContain(`final snapshot ${input.FinalDBSnapshotIdentifier}`);
  });

  it("builds snapshot names RDS accepts: UTC timestamp, letters, digits and single hyphens", () => {
    const name = finalSnapshotId(ID, new Date("2026-03-04T05:06:07.890Z"));
    expect(name).toBe(`${ID}-final-20260304050607`);
    expect(name).toMatch(/^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$/);
    expect(name.length).toBeLessThanOrEqual(255);
  });

  it("skips the final snapshot with --skip-final-snapshot", async () => {
    rds.on(DeleteDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand).rejects(rdsError("DBInstanceNotFoundFault"));
    await dbInstance.destroy(testContext({ flags: { skipFinalSnapshot: true } }), attrsOf());
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, { DBInstanceIdentifier: ID, SkipFinalSnapshot: true });
    expect(rds.commandCalls(DeleteDBInstanceCommand)[0]!.args[0].input.FinalDBSnapshotIdentifier).toBeUndefined();
  });

  it("refuses a protected database without --disable-deletion-protection, changing nothing", async () => {
    const err = await dbInstance.destroy(testContext(), attrsOf({ deletionProtection: true } as never)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/data.database.instance \(clinical-platform-dev-db\) has deletion protection on; nothing was deleted. Pass --disable-deletion-protection/);
    expect(rds).not.toHaveReceivedCommand(ModifyDBInstanceCommand);
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });

  it("with --disable-deletion-protection turns protection off, waits for it, then deletes", async () => {
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds.on(DeleteDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand)
      .resolvesOnce(described(instance({ DeletionProtection: true })))
      .resolvesOnce(described(instance({ DeletionProtection: false })))
      .rejects(rdsError("DBInstanceNotFoundFault"));
    const ctx = testContext({ flags: { disableDeletionProtection: true } });
    await dbInstance.destroy(ctx, attrsOf({ deletionProtection: true } as never));
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, { DBInstanceIdentifier: ID, DeletionProtection: false, ApplyImmediately: true });
    expect(rds).toHaveReceivedCommandTimes(DeleteDBInstanceCommand, 1);
    const order = rds.calls().map((c) => (c.args[0] as object).constructor.name);
    expect(order.indexOf("ModifyDBInstanceCommand")).toBeLessThan(order.indexOf("DeleteDBInstanceCommand"));
    expect(ctx.notes[0]).toMatch(/turning deletion protection off/);
  });

  it("retries while the instance is busy (a backup right after creation), and treats a missing instance as deleted", async () => {
    rds.on(DeleteDBInstanceCommand).rejectsOnce(rdsError("InvalidDBInstanceStateFault")).rejects(rdsError("DBInstanceNotFoundFault"));
    await expect(dbInstance.destroy(testContext(), attrsOf())).resolves.toBeUndefined();
    expect(rds).toHaveReceivedCommandTimes(DeleteDBInstanceCommand, 2);
    expect(rds).not.toHaveReceivedCommand(DescribeDBInstancesCommand);
  });
});

describe("master password rules", () => {
  it.each([
    ["Xk3-pQ9_zR7.wT2~", true],
    ["12345678", true],
    ["1234567", false],
    ["a".repeat(129), false],
    ["has space1", false],
    ["has/slash1", false],
    ["has@at1234", false],
    ['has"quote1', false],
    ["tab\there12", false],
    ["ünïcödé123", false],
  ])("%s → %s", (password, ok) => {
    expect(isValidMasterPassword(password)).toBe(ok);
  });
});
