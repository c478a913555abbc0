import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DeleteDBInstanceCommand,
  DeleteDBSubnetGroupCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  ModifyDBParameterGroupCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from "@aws-sdk/client-rds";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { AwsClients } from "../../src/aws/clients.js";
import { UserError } from "../../src/errors.js";
import { dbInstance, type DbInstanceSpec } from "../../src/resources/db-instance.js";
import { dbParameterGroup } from "../../src/resources/db-parameter-group.js";
import { dbSubnetGroup } from "../../src/resources/db-subnet-group.js";
import { testContext, testTags } from "../helpers.js";
import { FakeCloud } from "./cloud.js";
import { ec2Model, newEc2State, type Ec2State } from "./ec2.js";
import { masterPasswordOf, rdsModel, type RdsFake } from "./rds.js";
import { secretsManagerModel } from "./secretsmanager.js";

const PASSWORD = "Xk3-pQ9_zR7.wT2~mN5!";
let cloud: FakeCloud;
let ec2: Ec2State;
let fake: RdsFake;
let secretArn: string;

function context(flags = {}) {
  // A fresh client cache per context: the fake cloud mocks the client classes.
  return testContext({ aws: new AwsClients({ region: "us-east-1", maxAttempts: 1 }), flags });
}

function subnet(id: string, az: string) {
  ec2.subnets.set(id, { SubnetId: id, VpcId: "vpc-1", CidrBlock: `10.0.${id.length}.0/24`, AvailabilityZone: az, MapPublicIpOnLaunch: false, State: "available", Tags: {} });
}

function instanceSpec(overrides: Partial<DbInstanceSpec> = {}): DbInstanceSpec {
  return {
    identifier: "clinical-platform-dev-db",
    engineVersion: "16",
    instanceClass: "db.t3.micro",
    allocatedStorage: 20,
    storageEncrypted: true,
    copyTagsToSnapshot: true,
    iamDatabaseAuthentication: true,
    publiclyAccessible: false,
    multiAz: false,
    backupRetentionDays: 7,
    deletionProtection: false,
    performanceInsights: true,
    monitoringInterval: 0,
    cloudwatchLogsExports: ["postgresql", "upgrade"],
    autoMinorVersionUpgrade: true,
    dbName: "clinical",
    masterUsername: "platform_admin",
    credentialsSecretArn: secretArn,
    dbSubnetGroupName: "clinical-platform-dev-db",
    parameterGroupName: "clinical-platform-dev-postgres16",
    vpcSecurityGroupIds: ["sg-db"],
    tags: testTags("data.database.instance"),
    ...overrides,
  };
}

async function createGroups() {
  const ctx = context();
  await dbSubnetGroup.create(ctx, { name: "clinical-platform-dev-db", description: "private", subnetIds: ["subnet-a", "subnet-b"], tags: testTags("data.database.subnet-group") }, { logicalId: "data.database.subnet-group" });
  await dbParameterGroup.create(
    ctx,
    { name: "clinical-platform-dev-postgres16", family: "postgres16", description: "TLS", parameters: { "rds.force_ssl": "1" }, tags: testTags("data.database.parameter-group") },
    { logicalId: "data.database.parameter-group" },
  );
}

beforeEach(async () => {
  cloud = new FakeCloud();
  ec2 = newEc2State();
  subnet("subnet-a", "us-east-1a");
  subnet("subnet-b", "us-east-1b");
  subnet("subnet-c", "us-east-1a");
  ec2.securityGroups.set("sg-db", { GroupId: "sg-db", VpcId: "vpc-1", Tags: {} });
  fake = rdsModel(cloud, ec2);
  const sm = secretsManagerModel(cloud);
  cloud.install([fake.model, sm.model, ec2Model(cloud, ec2)]);
  const out = await new SecretsManagerClient({ region: "us-east-1" }).send(
    new CreateSecretCommand({ Name: "clinical-platform-dev/database/credentials", SecretString: JSON.stringify({ username: "platform_admin", password: PASSWORD, engine: "postgres", port: 5432, dbname: "clinical" }) }),
  );
  secretArn = out.ARN!;
});

afterEach(() => cloud.restore());

describe("rds fake with the RDS resource modules", () => {
  it("creates, finds with no changes, modifies and deletes a database through its life cycle", async () => {
    cloud.timings = { latencyMs: 0, provisioningMs: { rdsCreate: 30, rdsModify: 20, rdsDelete: 20 } };
    await createGroups();
    const ctx = context();
    const created = await dbInstance.create(ctx, instanceSpec(), { logicalId: "data.database.instance" });
    expect(created).toMatchObject({ status: "available", engineVersion: "16.12", performanceInsights: false, storageEncrypted: true, publiclyAccessible: false, port: 5432 });
    expect(created.endpointAddress).toMatch(/\.rds\.amazonaws\.com$/);
    expect(cloud.callsTo("DescribeDBInstances").length).toBeGreaterThan(1);

    // The second run reads everything and changes nothing.
    const found = await dbInstance.find(ctx, { logicalId: "data.database.instance", recorded: created });
    expect(dbInstance.diff(instanceSpec(), found!)).toEqual([]);
    const groups = await dbParameterGroup.find(ctx, { logicalId: "data.database.parameter-group", recorded: { name: "clinical-platform-dev-postgres16" } as never });
    expect(groups!.parameters).toEqual({ "rds.force_ssl": "1" });

    // A class change waits for the window, then --apply-immediately applies it.
    const bigger = instanceSpec({ instanceClass: "db.t3.medium" });
    const pending = await dbInstance.update!(ctx, bigger, found!, dbInstance.diff(bigger, found!));
    expect(pending).toMatchObject({ instanceClass: "db.t3.micro", pendingModifiedValues: { instanceClass: "db.t3.medium" } });
    expect(dbInstance.diff(bigger, pending)).toEqual([
      expect.objectContaining({ field: "instanceClass", note: expect.stringMatching(/^already requested/) }),
      expect.objectContaining({ field: "performanceInsights", note: expect.stringMatching(/turned on once the instance runs as db.t3.medium/) }),
    ]);
    const applied = await dbInstance.update!(context({ applyImmediately: true }), bigger, pending, dbInstance.diff(bigger, pending));
    expect(applied).toMatchObject({ instanceClass: "db.t3.medium", performanceInsights: true, pendingModifiedValues: {} });

    // The subnet group cannot go while the instance uses it.
    await expect(new RDSClient({ region: "us-east-1" }).send(new DeleteDBSubnetGroupCommand({ DBSubnetGroupName: "clinical-platform-dev-db" }))).rejects.toMatchObject({
      name: "InvalidDBSubnetGroupStateFault",
    });

    await dbInstance.destroy(ctx, applied);
    expect(fake.state.instances.size).toBe(0);
    const snapshots = await new RDSClient({ region: "us-east-1" }).send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: "clinical-platform-dev-db" }));
    expect(snapshots.DBSnapshots?.map((s) => s.DBSnapshotIdentifier)).toEqual([expect.stringMatching(/^clinical-platform-dev-db-final-\d{14}$/)]);
    await dbSubnetGroup.destroy(ctx, { name: "clinical-platform-dev-db" } as never);
    expect(fake.state.subnetGroups.size).toBe(0);
  });

  it("keeps the master password only in its private map, never in state, views or the call log", async () => {
    await createGroups();
    const created = await dbInstance.create(context(), instanceSpec(), { logicalId: "data.database.instance" });
    expect(masterPasswordOf(fake.state, "clinical-platform-dev-db")).toBe(PASSWORD);
    expect(JSON.stringify(created)).not.toContain(PASSWORD);
    expect(JSON.stringify([...fake.state.instances.values()])).not.toContain(PASSWORD);
    expect(JSON.stringify(cloud.calls.filter((c) => c.service === "rds"))).not.toContain(PASSWORD);
    expect(cloud.callsTo("CreateDBInstance")[0]!.input.MasterUserPassword).toBe("(redacted)");

    // Rotation: a new password is accepted, pending until applied; one RDS refuses changes nothing.
    const rds = new RDSClient({ region: "us-east-1" });
    await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: "clinical-platform-dev-db", MasterUserPassword: "N3w-Passw0rd.x", ApplyImmediately: true }));
    expect(masterPasswordOf(fake.state, "clinical-platform-dev-db")).toBe("N3w-Passw0rd.x");
    const after = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: "clinical-platform-dev-db" }));
    expect(after.DBInstances![0]!.PendingModifiedValues?.MasterUserPassword).toBeUndefined();
    await expect(rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: "clinical-platform-dev-db", MasterUserPassword: "bad pass/word" }))).rejects.toMatchObject({ name: "InvalidParameterValue" });
    expect(masterPasswordOf(fake.state, "clinical-platform-dev-db")).toBe("N3w-Passw0rd.x");
  });

  it("refuses what RDS refuses: protected deletion, no snapshot choice, bad passwords, PI on micro, static parameters applied immediately", async () => {
    await createGroups();
    const rds = new RDSClient({ region: "us-east-1" });
    const base = { DBInstanceIdentifier: "db-1", Engine: "postgres", DBInstanceClass: "db.t3.micro", AllocatedStorage: 20, MasterUsername: "u1", DBSubnetGroupName: "clinical-platform-dev-db", DBParameterGroupName: "clinical-platform-dev-postgres16" };
    await expect(rds.send(new CreateDBInstanceCommand({ ...base, MasterUserPassword: "has@sign123" }))).rejects.toMatchObject({ name: "InvalidParameterValue" });
    await expect(rds.send(new CreateDBInstanceCommand({ ...base, MasterUserPassword: PASSWORD, EnablePerformanceInsights: true }))).rejects.toMatchObject({ name: "InvalidParameterCombination" });
    await expect(rds.send(new CreateDBInstanceCommand({ ...base, MasterUserPassword: PASSWORD, EngineVersion: "17" }))).rejects.toMatchObject({ name: "InvalidParameterCombination" });
    await rds.send(new CreateDBInstanceCommand({ ...base, MasterUserPassword: PASSWORD, DeletionProtection: true }));
    await expect(rds.send(new CreateDBInstanceCommand({ ...base, MasterUserPassword: PASSWORD }))).rejects.toMatchObject({ name: "DBInstanceAlreadyExistsFault" });
    await expect(rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "db-1", SkipFinalSnapshot: true }))).rejects.toMatchObject({ name: "InvalidParameterCombination", message: expect.stringMatching(/protected/) });
    await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: "db-1", DeletionProtection: false, ApplyImmediately: true }));
    await expect(rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "db-1" }))).rejects.toMatchObject({ name: "InvalidParameterCombination", message: expect.stringMatching(/FinalDBSnapshotIdentifier is required/) });
    await expect(rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "db-1", FinalDBSnapshotIdentifier: "db-1--final" }))).rejects.toMatchObject({ name: "InvalidParameterValue" });
    await expect(
      rds.send(new ModifyDBParameterGroupCommand({ DBParameterGroupName: "clinical-platform-dev-postgres16", Parameters: [{ ParameterName: "shared_preload_libraries", ParameterValue: "x", ApplyMethod: "immediate" }] })),
    ).rejects.toMatchObject({ name: "InvalidParameterCombination" });
    await expect(rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: "db-1", CACertificateIdentifier: "rds-ca-rsa2048-g1" }))).rejects.toThrow(/not modelled/);
  });

  it("refuses a subnet group within one zone, and one over subnets that do not exist", async () => {
    const ctx = context();
    const spec = { name: "g", description: "d", subnetIds: ["subnet-a", "subnet-c"], tags: testTags("x") };
    await expect(dbSubnetGroup.create(ctx, spec, { logicalId: "x" })).rejects.toMatchObject({ name: "DBSubnetGroupDoesNotCoverEnoughAZs" });
    await expect(dbSubnetGroup.create(ctx, { ...spec, subnetIds: ["subnet-a", "subnet-zzz"] }, { logicalId: "x" })).rejects.toMatchObject({ name: "InvalidSubnet" });
  });

  it("a protected database is refused without the flag, and turned off then deleted with it", async () => {
    await createGroups();
    const created = await dbInstance.create(context(), instanceSpec({ deletionProtection: true }), { logicalId: "data.database.instance" });
    await expect(dbInstance.destroy(context(), created)).rejects.toBeInstanceOf(UserError);
    expect(fake.state.instances.get("clinical-platform-dev-db")!.DBInstanceStatus).toBe("available");
    await dbInstance.destroy(context({ disableDeletionProtection: true, skipFinalSnapshot: true }), created);
    expect(fake.state.instances.size).toBe(0);
    expect(fake.state.snapshots.size).toBe(0);
  });

  it("restores what RDS restores, refuses what RDS refuses, and never changes the source", async () => {
    await createGroups();
    await dbInstance.create(context(), instanceSpec(), { logicalId: "data.database.instance" });
    const rds = new RDSClient({ region: "us-east-1" });
    const source = "clinical-platform-dev-db";
    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: source, DBSnapshotIdentifier: "snap" }));
    const before = structuredClone(fake.state.instances.get(source));
    const settings = { DBSubnetGroupName: "clinical-platform-dev-db", DBParameterGroupName: "clinical-platform-dev-postgres16", VpcSecurityGroupIds: ["sg-db"] };

    await expect(rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: "r1", DBSnapshotIdentifier: "nope", ...settings }))).rejects.toMatchObject({ name: "DBSnapshotNotFoundFault" });
    await expect(rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: source, DBSnapshotIdentifier: "snap", ...settings }))).rejects.toMatchObject({ name: "DBInstanceAlreadyExistsFault" });
    await expect(rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: "r1", DBSnapshotIdentifier: "snap", MaxAllocatedStorage: 100 } as never))).rejects.toThrow(/not modelled/);
    const restored = await rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: "r1", DBSnapshotIdentifier: "snap", ...settings }));
    expect(restored.DBInstance).toMatchObject({ DBInstanceStatus: "creating", StorageEncrypted: true, MasterUsername: "platform_admin", DBName: "clinical", EngineVersion: "16.12" });
    expect(masterPasswordOf(fake.state, "r1")).toBe(PASSWORD);

    // Point in time: the window is the automated backup's; the instance shows only its latest restorable time.
    const now = Date.now();
    fake.state.instances.get(source)!.restoreWindow = { earliest: new Date(now - 3600_000), latest: new Date(now - 60_000) };
    const described = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: source }))).DBInstances![0]!;
    expect(described.LatestRestorableTime).toEqual(new Date(now - 60_000));
    expect(described).not.toHaveProperty("EarliestRestorableTime");
    const backups = await rds.send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: source }));
    expect(backups.DBInstanceAutomatedBackups).toEqual([expect.objectContaining({ Status: "active", RestoreWindow: { EarliestTime: new Date(now - 3600_000), LatestTime: new Date(now - 60_000) } })]);
    const pitr = (input: Record<string, unknown>) => rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: source, TargetDBInstanceIdentifier: "r2", ...settings, ...input }));
    await expect(pitr({ RestoreTime: new Date(now - 7200_000) })).rejects.toMatchObject({ name: "InvalidRestoreFault" });
    await expect(pitr({ RestoreTime: new Date(now - 1800_000), UseLatestRestorableTime: true })).rejects.toMatchObject({ name: "InvalidParameterCombination" });
    await expect(pitr({ RestoreTime: new Date(now - 1800_000), MaxAllocatedStorage: 100 })).resolves.toMatchObject({ DBInstance: { DBInstanceIdentifier: "r2", MaxAllocatedStorage: 100 } });
    fake.state.instances.get(source)!.BackupRetentionPeriod = 0;
    await expect(pitr({ TargetDBInstanceIdentifier: "r3", UseLatestRestorableTime: true })).rejects.toMatchObject({ name: "PointInTimeRestoreNotEnabledFault" });
    fake.state.instances.get(source)!.BackupRetentionPeriod = 7;
    expect(fake.state.instances.get(source)).toEqual({ ...before, restoreWindow: { earliest: new Date(now - 3600_000), latest: new Date(now - 60_000) } });
  });

  it("lists its tagged resources to the tagging API until they are gone", async () => {
    await createGroups();
    await dbInstance.create(context(), instanceSpec(), { logicalId: "data.database.instance" });
    const listed = fake.taggingSources.flatMap((s) => s());
    expect(listed.map((r) => r.arn.split(":").slice(5, 6)[0]).sort()).toEqual(["db", "pg", "subgrp"]);
    expect(listed.every((r) => r.tags.ManagedBy === "platform")).toBe(true);
  });
});
