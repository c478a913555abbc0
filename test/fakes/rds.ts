import { RDSClient, RDSServiceException } from "@aws-sdk/client-rds";
import { awsError, type FakeCloud, fromTagList, type ServiceModel, type Tags, toTagList } from "./cloud.js";
import type { Ec2State } from "./ec2.js";
import type { TagSource } from "./tagging.js";

/**
 * The RDS part of the fake: DB subnet groups, DB parameter groups (with a small catalog of PostgreSQL parameters and
 * their apply types), PostgreSQL DB instances with their life cycle (creating → available → modifying → deleting → gone,
 * timed by cloud.ready("rdsCreate" | "rdsModify" | "rdsDelete", since)), final snapshots, and tags by ARN.
 *
 * Errors are AWS's: modelled exceptions carry the SDK's class name ("DBInstanceNotFoundFault"), unmodelled ones the wire
 * code ("InvalidParameterCombination"). A protected instance is refused with InvalidParameterCombination, as RDS does
 * ("Cannot delete protected DB Instance, please disable deletion protection and try again.").
 *
 * Master passwords are checked against RDS's rules and kept only in a private map (masterPasswordOf, for rotation tests);
 * instances record only that one was set, and the password is scrubbed from the fake cloud's call log.
 *
 * Restores (RestoreDBInstanceFromDBSnapshot, RestoreDBInstanceToPointInTime) create a new instance that inherits the
 * engine, version, storage, encryption, master user and database name of its source, and the master password the
 * source had when the snapshot was taken (a point-in-time restore: the source's current one). An instance with backups
 * on can be restored to any time in its restore window: as in RDS, DescribeDBInstances shows only LatestRestorableTime,
 * and DescribeDBInstanceAutomatedBackups the window (RestoreWindow.EarliestTime and LatestTime). The window runs from
 * the instance's creation to five minutes ago (never before its start), unless a test sets either end.
 */
export interface FakeDbInstance {
  DBInstanceIdentifier: string;
  DBInstanceArn: string;
  DBInstanceClass: string;
  Engine: string;
  EngineVersion: string;
  DBInstanceStatus: string;
  MasterUsername: string;
  DBName?: string;
  AllocatedStorage: number;
  MaxAllocatedStorage?: number;
  StorageType: string;
  StorageEncrypted: boolean;
  PubliclyAccessible: boolean;
  MultiAZ: boolean;
  BackupRetentionPeriod: number;
  PreferredBackupWindow: string;
  PreferredMaintenanceWindow: string;
  AutoMinorVersionUpgrade: boolean;
  DeletionProtection: boolean;
  PerformanceInsightsEnabled: boolean;
  PerformanceInsightsRetentionPeriod?: number;
  MonitoringInterval: number;
  MonitoringRoleArn?: string;
  EnabledCloudwatchLogsExports: string[];
  DBSubnetGroupName: string;
  DBParameterGroupName: string;
  ParameterApplyStatus: string;
  VpcSecurityGroupIds: string[];
  CopyTagsToSnapshot: boolean;
  IAMDatabaseAuthenticationEnabled: boolean;
  /** "db-" and 26 letters and digits, fixed for the life of the instance (the dbuser ARN of rds-db:connect names it). */
  DbiResourceId: string;
  Port: number;
  Address?: string;
  PendingModifiedValues: Record<string, unknown>;
  Tags: Tags;
  /** True once a master password was set; the password itself is not here. */
  MasterPasswordSet: boolean;
  /** When the current transition (creating, modifying, deleting) started, in cloud.elapsed() milliseconds. */
  since: number;
  /** Values a modification applied now takes when the instance is available again. */
  applying: Record<string, unknown>;
  InstanceCreateTime: Date;
  /** Set by tests to move the point-in-time restore window; derived from InstanceCreateTime and now otherwise. */
  restoreWindow?: { earliest?: Date; latest?: Date };
}

export interface FakeSubnetGroup {
  DBSubnetGroupName: string;
  DBSubnetGroupDescription: string;
  DBSubnetGroupArn: string;
  VpcId: string;
  SubnetIds: string[];
  Tags: Tags;
}

export interface FakeParameterGroup {
  DBParameterGroupName: string;
  DBParameterGroupFamily: string;
  Description: string;
  DBParameterGroupArn: string;
  /** Parameters set on the group (Source "user"): name → value. */
  user: Map<string, string>;
  Tags: Tags;
}

export interface FakeSnapshot {
  DBSnapshotIdentifier: string;
  DBSnapshotArn: string;
  DBInstanceIdentifier: string;
  SnapshotType: string;
  Status: string;
  Engine: string;
  EngineVersion: string;
  AllocatedStorage: number;
  Encrypted: boolean;
  SnapshotCreateTime: Date;
  /** The source's master user (DescribeDBSnapshots shows it) and database name (it does not: restores inherit it). */
  MasterUsername?: string;
  DBName?: string;
  since: number;
  Tags: Tags;
}

export interface RdsState {
  instances: Map<string, FakeDbInstance>;
  subnetGroups: Map<string, FakeSubnetGroup>;
  parameterGroups: Map<string, FakeParameterGroup>;
  snapshots: Map<string, FakeSnapshot>;
}

export function newRdsState(): RdsState {
  return { instances: new Map(), subnetGroups: new Map(), parameterGroups: new Map(), snapshots: new Map() };
}

/** The private password store: state → identifier → password. Only rotation tests read it, through masterPasswordOf. */
const passwords = new WeakMap<RdsState, Map<string, string>>();

export function masterPasswordOf(state: RdsState, identifier: string): string | undefined {
  return passwords.get(state)?.get(identifier.toLowerCase());
}

function setPassword(state: RdsState, identifier: string, password: string): void {
  let map = passwords.get(state);
  if (!map) passwords.set(state, (map = new Map()));
  map.set(identifier, password);
}

/** Master passwords as each snapshot captured them, for restores (state → snapshot identifier → password). */
const snapshotPasswords = new WeakMap<RdsState, Map<string, string>>();

function keepSnapshotPassword(state: RdsState, snapshotId: string, instanceId: string): void {
  const password = masterPasswordOf(state, instanceId);
  if (password === undefined) return;
  let map = snapshotPasswords.get(state);
  if (!map) snapshotPasswords.set(state, (map = new Map()));
  map.set(snapshotId, password);
}

export const rdsError = (code: string, message: string, status = 400) => awsError(RDSServiceException, code, message, status);
const invalidValue = (message: string) => rdsError("InvalidParameterValue", message);
const invalidCombination = (message: string) => rdsError("InvalidParameterCombination", message);

/** A small PostgreSQL parameter catalog: apply types as RDS reports them (rds.force_ssl is dynamic). */
interface CatalogParameter {
  name: string;
  applyType: "static" | "dynamic";
  dataType: string;
  allowed?: string;
  modifiable: boolean;
  defaultValue: (major: number) => string;
}

export const PARAMETER_CATALOG: CatalogParameter[] = [
  { name: "rds.force_ssl", applyType: "dynamic", dataType: "boolean", allowed: "0,1", modifiable: true, defaultValue: (m) => (m >= 15 ? "1" : "0") },
  { name: "log_min_duration_statement", applyType: "dynamic", dataType: "integer", allowed: "-1-2147483647", modifiable: true, defaultValue: () => "-1" },
  { name: "log_connections", applyType: "dynamic", dataType: "boolean", allowed: "0,1", modifiable: true, defaultValue: () => "0" },
  { name: "password_encryption", applyType: "dynamic", dataType: "string", allowed: "md5,scram-sha-256", modifiable: true, defaultValue: () => "scram-sha-256" },
  { name: "shared_preload_libraries", applyType: "static", dataType: "list", modifiable: true, defaultValue: () => "pg_stat_statements" },
  { name: "max_connections", applyType: "static", dataType: "integer", allowed: "6-262143", modifiable: true, defaultValue: () => "LEAST({DBInstanceClassMemory/9531392},5000)" },
  { name: "rds.logical_replication", applyType: "static", dataType: "boolean", allowed: "0,1", modifiable: true, defaultValue: () => "0" },
  { name: "data_directory", applyType: "static", dataType: "string", modifiable: false, defaultValue: () => "/rdsdbdata/db" },
];

/** Minor versions the fake offers per major; a major alone picks the last (RDS's default minor). */
export const ENGINE_VERSIONS: Record<string, string[]> = {
  "14": ["14.19", "14.20"],
  "15": ["15.14", "15.15"],
  "16": ["16.10", "16.11", "16.12"],
  "17": ["17.6", "17.7"],
};

const FAMILIES = Object.keys(ENGINE_VERSIONS).map((m) => `postgres${m}`);
const NO_PERFORMANCE_INSIGHTS = ["db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"];
const MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60];
const POSTGRES_LOG_TYPES = ["postgresql", "upgrade", "iam-db-auth-error"];
/** RDS identifiers, parameter group and snapshot names: a letter, then letters, digits and single hyphens, no trailing hyphen. */
const RDS_NAME = /^[a-zA-Z](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9]))*$/;

function checkRdsName(value: unknown, what: string, max: number): string {
  if (typeof value !== "string" || value.length < 1 || value.length > max || !RDS_NAME.test(value)) {
    throw invalidValue(`The parameter ${what} is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.`);
  }
  return value.toLowerCase();
}

function checkPassword(password: unknown): string {
  if (typeof password !== "string" || password.length < 8 || password.length > 128 || !/^[\x21-\x7e]*$/.test(password) || /[/@"]/.test(password)) {
    throw invalidValue("The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used.");
  }
  return password;
}

const majorOf = (version: string) => Number.parseInt(version.split(".")[0]!, 10);

function resolveVersion(requested: unknown): string {
  const text = String(requested ?? "16");
  const [major, minor] = text.split(".");
  const minors = ENGINE_VERSIONS[major!];
  const version = minor === undefined ? minors?.at(-1) : minors?.find((v) => v === text);
  if (!version) throw invalidCombination(`Cannot find version ${text} for postgres`);
  return version;
}

let resourceIds = 0;
/** "db-" and 26 upper-case letters and digits, as RDS writes a DbiResourceId. */
function dbiResourceId(): string {
  return `db-${(++resourceIds).toString(36).toUpperCase().padStart(26, "0")}`;
}

/** The fields RDS defers to the maintenance window unless ApplyImmediately (backup retention only when turned on or off). */
const DEFERRABLE = ["DBInstanceClass", "AllocatedStorage", "MultiAZ", "EngineVersion", "BackupRetentionPeriod"] as const;

const MODIFY_KEYS = new Set([
  "DBInstanceIdentifier",
  "ApplyImmediately",
  ...DEFERRABLE,
  "AllowMajorVersionUpgrade",
  "MasterUserPassword",
  "DeletionProtection",
  "PubliclyAccessible",
  "AutoMinorVersionUpgrade",
  "VpcSecurityGroupIds",
  "PreferredBackupWindow",
  "PreferredMaintenanceWindow",
  "DBParameterGroupName",
  "MonitoringInterval",
  "MonitoringRoleArn",
  "CloudwatchLogsExportConfiguration",
  "EnablePerformanceInsights",
  "PerformanceInsightsRetentionPeriod",
  "MaxAllocatedStorage",
  "CopyTagsToSnapshot",
  "EnableIAMDatabaseAuthentication",
]);

const CREATE_KEYS = new Set([
  "DBInstanceIdentifier",
  "Engine",
  "EngineVersion",
  "DBInstanceClass",
  "AllocatedStorage",
  "MaxAllocatedStorage",
  "StorageType",
  "StorageEncrypted",
  "DBName",
  "MasterUsername",
  "MasterUserPassword",
  "Port",
  "DBSubnetGroupName",
  "VpcSecurityGroupIds",
  "DBParameterGroupName",
  "PubliclyAccessible",
  "MultiAZ",
  "BackupRetentionPeriod",
  "PreferredBackupWindow",
  "PreferredMaintenanceWindow",
  "AutoMinorVersionUpgrade",
  "DeletionProtection",
  "EnablePerformanceInsights",
  "PerformanceInsightsRetentionPeriod",
  "MonitoringInterval",
  "MonitoringRoleArn",
  "EnableCloudwatchLogsExports",
  "CopyTagsToSnapshot",
  "EnableIAMDatabaseAuthentication",
  "Tags",
]);

/** What both restore APIs accept besides their source, as far as the fake models them (AWS's request shapes). */
const RESTORE_KEYS = [
  "DBInstanceClass",
  "DBSubnetGroupName",
  "VpcSecurityGroupIds",
  "DBParameterGroupName",
  "StorageType",
  "AllocatedStorage",
  "MultiAZ",
  "PubliclyAccessible",
  "AutoMinorVersionUpgrade",
  "DeletionProtection",
  "BackupRetentionPeriod",
  "PreferredBackupWindow",
  "EnableCloudwatchLogsExports",
  "CopyTagsToSnapshot",
  "EnableIAMDatabaseAuthentication",
  "Port",
  "Tags",
];
/** RestoreDBInstanceFromDBSnapshot takes no MaxAllocatedStorage, maintenance window, Performance Insights or monitoring. */
const RESTORE_SNAPSHOT_KEYS = new Set(["DBInstanceIdentifier", "DBSnapshotIdentifier", ...RESTORE_KEYS]);
/** RestoreDBInstanceToPointInTime also takes MaxAllocatedStorage; neither takes a maintenance window, Performance Insights or monitoring. */
const RESTORE_TIME_KEYS = new Set(["TargetDBInstanceIdentifier", "SourceDBInstanceIdentifier", "RestoreTime", "UseLatestRestorableTime", "MaxAllocatedStorage", ...RESTORE_KEYS]);
/** How far behind now the latest restorable time of an instance with backups is (RDS: usually within five minutes). */
const LATEST_RESTORABLE_LAG_MS = 5 * 60_000;

function onlyModelled(command: string, input: Record<string, unknown>, keys: Set<string>): void {
  const extra = Object.keys(input).filter((k) => input[k] !== undefined && !keys.has(k));
  if (extra.length) throw new Error(`fake rds: ${command} with ${extra.join(", ")} is not modelled`);
}

/** The model to install, its state, and what it lists to the tagging fake. */
export interface RdsFake {
  model: ServiceModel;
  state: RdsState;
  taggingSources: TagSource[];
}

/** `ec2`, when given, lets the fake check subnets (exist, one VPC, two zones) and security groups as RDS does. */
export function rdsModel(cloud: FakeCloud, ec2?: Ec2State, state: RdsState = newRdsState()): RdsFake {
  const arn = (kind: string, name: string) => `arn:aws:rds:${cloud.region}:${cloud.accountId}:${kind}:${name}`;

  /** Moves every instance and snapshot along its life cycle; called first by every handler. */
  const settle = () => {
    for (const db of [...state.instances.values()]) {
      if (db.DBInstanceStatus === "creating" && cloud.ready("rdsCreate", db.since)) {
        db.DBInstanceStatus = "available";
        db.Address = `${db.DBInstanceIdentifier}.c0ffee123456.${cloud.region}.rds.amazonaws.com`;
      } else if (["modifying", "resetting-master-credentials"].includes(db.DBInstanceStatus) && cloud.ready("rdsModify", db.since)) {
        Object.assign(db, db.applying);
        for (const key of [...Object.keys(db.applying), "MasterUserPassword"]) delete db.PendingModifiedValues[key];
        db.applying = {};
        db.DBInstanceStatus = "available";
      } else if (db.DBInstanceStatus === "deleting" && cloud.ready("rdsDelete", db.since)) {
        state.instances.delete(db.DBInstanceIdentifier);
      }
    }
    for (const s of state.snapshots.values()) if (s.Status === "creating" && cloud.ready("rdsDelete", s.since)) s.Status = "available";
  };

  /** A manual snapshot of `db` (CreateDBSnapshot, or DeleteDBInstance's final one), "creating" until cloud.ready("rdsDelete", since). */
  const takeSnapshot = (db: FakeDbInstance, snapshotId: string, tags: FakeSnapshot["Tags"]): FakeSnapshot => {
    const snapshot: FakeSnapshot = {
      DBSnapshotIdentifier: snapshotId,
      DBSnapshotArn: arn("snapshot", snapshotId),
      DBInstanceIdentifier: db.DBInstanceIdentifier,
      SnapshotType: "manual",
      Status: "creating",
      Engine: db.Engine,
      EngineVersion: db.EngineVersion,
      AllocatedStorage: db.AllocatedStorage,
      Encrypted: db.StorageEncrypted,
      SnapshotCreateTime: new Date(),
      MasterUsername: db.MasterUsername,
      DBName: db.DBName,
      since: cloud.elapsed(),
      Tags: tags,
    };
    state.snapshots.set(snapshotId, snapshot);
    keepSnapshotPassword(state, snapshotId, db.DBInstanceIdentifier);
    return snapshot;
  };

  const instanceOf = (id: unknown): FakeDbInstance => {
    const db = typeof id === "string" ? state.instances.get(id.toLowerCase()) : undefined;
    if (!db) throw rdsError("DBInstanceNotFoundFault", `DBInstance ${String(id)} not found.`, 404);
    return db;
  };
  const subnetGroupOf = (name: unknown): FakeSubnetGroup => {
    const g = typeof name === "string" ? state.subnetGroups.get(name.toLowerCase()) : undefined;
    if (!g) throw rdsError("DBSubnetGroupNotFoundFault", `DB subnet group '${String(name)}' does not exist.`, 404);
    return g;
  };
  const parameterGroupOf = (name: unknown): FakeParameterGroup => {
    const g = typeof name === "string" ? state.parameterGroups.get(name.toLowerCase()) : undefined;
    if (!g) throw rdsError("DBParameterGroupNotFoundFault", `DBParameterGroup not found: ${String(name)}`, 404);
    return g;
  };

  /** The password never stays in the fake cloud's call log (the SDK mock's own call history is the test's business). */
  const scrubCallLog = (command: string) => {
    const call = [...cloud.calls].reverse().find((c) => c.service === "rds" && c.command === command);
    if (call?.input?.MasterUserPassword !== undefined) call.input.MasterUserPassword = "(redacted)";
  };

  const checkSubnets = (subnetIds: unknown): { vpcId: string } => {
    if (!Array.isArray(subnetIds) || subnetIds.length === 0) throw invalidValue("SubnetIds must contain at least one subnet.");
    if (!ec2) return { vpcId: "vpc-unknown" };
    const subnets = subnetIds.map((id: string) => ec2.subnets.get(id));
    if (subnets.some((s) => !s)) throw rdsError("InvalidSubnet", `Some input subnets in :[${subnetIds.join(", ")}] are invalid.`);
    const vpcs = new Set(subnets.map((s) => s!.VpcId));
    if (vpcs.size > 1) throw rdsError("InvalidSubnet", "The subnets must all be in the same VPC.");
    const zones = new Set(subnets.map((s) => s!.AvailabilityZone));
    if (zones.size < 2) {
      throw rdsError("DBSubnetGroupDoesNotCoverEnoughAZs", `The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: ${[...zones].join(", ")}. Add subnets to cover at least 2 AZs.`);
    }
    return { vpcId: [...vpcs][0]! };
  };

  const checkSecurityGroups = (ids: unknown) => {
    if (ids === undefined || !ec2) return;
    for (const id of ids as string[]) if (!ec2.securityGroups.has(id)) throw invalidValue(`Invalid security group , groupId= ${id}, groupName=.`);
  };

  const checkPerformanceInsights = (on: unknown, instanceClass: string) => {
    if (on === true && NO_PERFORMANCE_INSIGHTS.includes(instanceClass)) throw invalidCombination("Performance Insights not supported for this configuration.");
  };

  const checkMonitoring = (interval: unknown, roleArn: unknown) => {
    if (interval === undefined) return;
    if (!MONITORING_INTERVALS.includes(interval as number)) throw invalidValue(`Invalid MonitoringInterval: ${String(interval)}. Valid values: ${MONITORING_INTERVALS.join(", ")}.`);
    if ((interval as number) > 0 && !roleArn) throw invalidCombination("A MonitoringRoleArn value is required if you specify a MonitoringInterval value other than 0.");
  };

  const checkParameterGroupFamily = (group: FakeParameterGroup, engineVersion: string) => {
    const family = `postgres${majorOf(engineVersion)}`;
    if (group.DBParameterGroupFamily !== family) {
      throw invalidCombination(`The parameter group ${group.DBParameterGroupName} with DBParameterGroupFamily ${group.DBParameterGroupFamily} can't be used for this instance. Use a parameter group with DBParameterGroupFamily ${family}.`);
    }
  };

  const instanceView = (db: FakeDbInstance) => ({
    DBInstanceIdentifier: db.DBInstanceIdentifier,
    DBInstanceArn: db.DBInstanceArn,
    DBInstanceClass: db.DBInstanceClass,
    Engine: db.Engine,
    EngineVersion: db.EngineVersion,
    DBInstanceStatus: db.DBInstanceStatus,
    MasterUsername: db.MasterUsername,
    DBName: db.DBName,
    Endpoint: db.Address ? { Address: db.Address, Port: db.Port, HostedZoneId: "Z2R2ITUGPM61AM" } : undefined,
    DbInstancePort: 0,
    AllocatedStorage: db.AllocatedStorage,
    MaxAllocatedStorage: db.MaxAllocatedStorage,
    StorageType: db.StorageType,
    StorageEncrypted: db.StorageEncrypted,
    KmsKeyId: db.StorageEncrypted ? `arn:aws:kms:${cloud.region}:${cloud.accountId}:key/aws-rds-default` : undefined,
    PubliclyAccessible: db.PubliclyAccessible,
    MultiAZ: db.MultiAZ,
    BackupRetentionPeriod: db.BackupRetentionPeriod,
    PreferredBackupWindow: db.PreferredBackupWindow,
    PreferredMaintenanceWindow: db.PreferredMaintenanceWindow,
    AutoMinorVersionUpgrade: db.AutoMinorVersionUpgrade,
    DeletionProtection: db.DeletionProtection,
    PerformanceInsightsEnabled: db.PerformanceInsightsEnabled,
    PerformanceInsightsRetentionPeriod: db.PerformanceInsightsRetentionPeriod,
    MonitoringInterval: db.MonitoringInterval,
    MonitoringRoleArn: db.MonitoringRoleArn,
    EnabledCloudwatchLogsExports: db.EnabledCloudwatchLogsExports.length ? [...db.EnabledCloudwatchLogsExports] : undefined,
    CopyTagsToSnapshot: db.CopyTagsToSnapshot,
    IAMDatabaseAuthenticationEnabled: db.IAMDatabaseAuthenticationEnabled,
    DbiResourceId: db.DbiResourceId,
    DBSubnetGroup: subnetGroupView(state.subnetGroups.get(db.DBSubnetGroupName)),
    DBParameterGroups: [{ DBParameterGroupName: db.DBParameterGroupName, ParameterApplyStatus: db.ParameterApplyStatus }],
    VpcSecurityGroups: db.VpcSecurityGroupIds.map((VpcSecurityGroupId) => ({ VpcSecurityGroupId, Status: "active" })),
    PendingModifiedValues: { ...db.PendingModifiedValues },
    TagList: toTagList(db.Tags),
    InstanceCreateTime: db.InstanceCreateTime,
    LatestRestorableTime: restoreWindow(db)?.LatestTime,
  });

  /** Where a point-in-time restore may go: nowhere without backups, or before the instance is first available. */
  const restoreWindow = (db: FakeDbInstance): { EarliestTime: Date; LatestTime: Date } | undefined => {
    if (db.BackupRetentionPeriod === 0 || db.DBInstanceStatus === "creating") return undefined;
    const earliest = db.restoreWindow?.earliest ?? db.InstanceCreateTime;
    return { EarliestTime: earliest, LatestTime: db.restoreWindow?.latest ?? new Date(Math.max(earliest.getTime(), Date.now() - LATEST_RESTORABLE_LAG_MS)) };
  };

  const snapshotView = ({ since: _since, Tags, DBName: _dbName, ...s }: FakeSnapshot) => ({ ...s, TagList: toTagList(Tags) });

  function subnetGroupView(g: FakeSubnetGroup | undefined) {
    if (!g) return undefined;
    return {
      DBSubnetGroupName: g.DBSubnetGroupName,
      DBSubnetGroupDescription: g.DBSubnetGroupDescription,
      DBSubnetGroupArn: g.DBSubnetGroupArn,
      VpcId: g.VpcId,
      SubnetGroupStatus: "Complete",
      Subnets: g.SubnetIds.map((id) => ({ SubnetIdentifier: id, SubnetAvailabilityZone: { Name: ec2?.subnets.get(id)?.AvailabilityZone }, SubnetStatus: "Active" })),
    };
  }

  const parameterView = (group: FakeParameterGroup, p: CatalogParameter) => {
    const user = group.user.get(p.name);
    return {
      ParameterName: p.name,
      ParameterValue: user ?? p.defaultValue(Number.parseInt(group.DBParameterGroupFamily.replace("postgres", ""), 10)),
      Source: user !== undefined ? "user" : "engine-default",
      ApplyType: p.applyType,
      DataType: p.dataType,
      AllowedValues: p.allowed,
      IsModifiable: p.modifiable,
      ApplyMethod: "pending-reboot",
    };
  };

  /** Resources by ARN, for the tagging calls. */
  const taggable = (resourceArn: unknown): { Tags: Tags } => {
    const text = String(resourceArn);
    const found =
      [...state.instances.values()].find((x) => x.DBInstanceArn === text) ??
      [...state.subnetGroups.values()].find((x) => x.DBSubnetGroupArn === text) ??
      [...state.parameterGroups.values()].find((x) => x.DBParameterGroupArn === text) ??
      [...state.snapshots.values()].find((x) => x.DBSnapshotArn === text);
    if (found) return found;
    const kind = text.split(":")[5];
    if (kind === "subgrp") throw rdsError("DBSubnetGroupNotFoundFault", `DB subnet group not found: ${text}`, 404);
    if (kind === "pg") throw rdsError("DBParameterGroupNotFoundFault", `DBParameterGroup not found: ${text}`, 404);
    if (kind === "snapshot") throw rdsError("DBSnapshotNotFoundFault", `DBSnapshot not found: ${text}`, 404);
    throw rdsError("DBInstanceNotFoundFault", `DBInstance not found: ${text}`, 404);
  };

  /** What a restore inherits from its source (a snapshot or an instance); everything else comes from the request or RDS's defaults. */
  interface RestoreSource {
    EngineVersion: string;
    AllocatedStorage: number;
    StorageEncrypted: boolean;
    MasterUsername: string;
    DBName?: string;
    BackupRetentionPeriod: number;
    DBInstanceClass?: string;
  }

  /** The new instance of a restore, "creating"; a restore never changes its source. */
  const restoredInstance = (id: string, source: RestoreSource, input: any, password: string | undefined): FakeDbInstance => {
    if (state.instances.has(id)) throw rdsError("DBInstanceAlreadyExistsFault", "DB instance already exists");
    const instanceClass = input.DBInstanceClass ?? source.DBInstanceClass;
    if (!instanceClass) throw invalidValue("DBInstanceClass is required when restoring from a snapshot of another class (the fake requires it).");
    const storage = input.AllocatedStorage ?? source.AllocatedStorage;
    if (storage < source.AllocatedStorage) throw invalidValue(`The allocated storage ${storage} is smaller than the source's ${source.AllocatedStorage}.`);
    const retention = input.BackupRetentionPeriod ?? source.BackupRetentionPeriod;
    if (retention < 0 || retention > 35) throw invalidValue("Backup retention period must be between 0 and 35 days.");
    if (input.MaxAllocatedStorage !== undefined && input.MaxAllocatedStorage < storage) throw invalidCombination("Max storage size must be greater than storage size");
    const subnetGroup = subnetGroupOf(input.DBSubnetGroupName ?? "default");
    const parameterGroup = input.DBParameterGroupName !== undefined ? parameterGroupOf(input.DBParameterGroupName) : undefined;
    if (parameterGroup) checkParameterGroupFamily(parameterGroup, source.EngineVersion);
    checkSecurityGroups(input.VpcSecurityGroupIds);
    for (const t of input.EnableCloudwatchLogsExports ?? []) if (!POSTGRES_LOG_TYPES.includes(t)) throw invalidValue(`You cannot use the log types '${t}' with engine version postgres.`);
    const db: FakeDbInstance = {
      DBInstanceIdentifier: id,
      DBInstanceArn: arn("db", id),
      DBInstanceClass: instanceClass,
      Engine: "postgres",
      EngineVersion: source.EngineVersion,
      DBInstanceStatus: "creating",
      MasterUsername: source.MasterUsername,
      DBName: source.DBName,
      AllocatedStorage: storage,
      MaxAllocatedStorage: input.MaxAllocatedStorage,
      StorageType: input.StorageType ?? "gp2",
      StorageEncrypted: source.StorageEncrypted,
      PubliclyAccessible: input.PubliclyAccessible ?? false,
      MultiAZ: input.MultiAZ ?? false,
      BackupRetentionPeriod: retention,
      PreferredBackupWindow: input.PreferredBackupWindow ?? "08:21-08:51",
      PreferredMaintenanceWindow: "wed:05:37-wed:06:07",
      AutoMinorVersionUpgrade: input.AutoMinorVersionUpgrade ?? true,
      DeletionProtection: input.DeletionProtection ?? false,
      PerformanceInsightsEnabled: false,
      MonitoringInterval: 0,
      EnabledCloudwatchLogsExports: [...(input.EnableCloudwatchLogsExports ?? [])],
      DBSubnetGroupName: subnetGroup.DBSubnetGroupName,
      DBParameterGroupName: parameterGroup?.DBParameterGroupName ?? `default.postgres${majorOf(source.EngineVersion)}`,
      ParameterApplyStatus: "in-sync",
      VpcSecurityGroupIds: [...(input.VpcSecurityGroupIds ?? [])],
      CopyTagsToSnapshot: input.CopyTagsToSnapshot ?? false,
      IAMDatabaseAuthenticationEnabled: input.EnableIAMDatabaseAuthentication ?? false,
      DbiResourceId: dbiResourceId(),
      Port: input.Port ?? 5432,
      PendingModifiedValues: {},
      Tags: fromTagList(input.Tags),
      MasterPasswordSet: password !== undefined,
      since: cloud.elapsed(),
      applying: {},
      InstanceCreateTime: new Date(),
    };
    if (password !== undefined) setPassword(state, id, password);
    state.instances.set(id, db);
    return db;
  };

  const inUse = (pick: (db: FakeDbInstance) => string, name: string) => [...state.instances.values()].filter((db) => pick(db) === name);

  const handlers: Record<string, (input: any) => unknown> = {
    // ------------------------------------------------------------------ subnet groups
    CreateDBSubnetGroup: (input) => {
      settle();
      const name = String(input.DBSubnetGroupName ?? "").toLowerCase();
      if (!/^[a-z][a-z0-9._ -]{0,254}$/.test(name) || name === "default") throw invalidValue(`Invalid DB subnet group name: ${input.DBSubnetGroupName}`);
      if (state.subnetGroups.has(name)) throw rdsError("DBSubnetGroupAlreadyExistsFault", `The DB subnet group '${name}' already exists.`);
      if (!input.DBSubnetGroupDescription) throw invalidValue("DBSubnetGroupDescription is required.");
      const { vpcId } = checkSubnets(input.SubnetIds);
      const group: FakeSubnetGroup = {
        DBSubnetGroupName: name,
        DBSubnetGroupDescription: input.DBSubnetGroupDescription,
        DBSubnetGroupArn: arn("subgrp", name),
        VpcId: vpcId,
        SubnetIds: [...input.SubnetIds],
        Tags: fromTagList(input.Tags),
      };
      state.subnetGroups.set(name, group);
      return { DBSubnetGroup: subnetGroupView(group) };
    },
    DescribeDBSubnetGroups: (input) => {
      settle();
      if (input.Filters) throw new Error("fake rds: DescribeDBSubnetGroups Filters are not modelled");
      const groups = input.DBSubnetGroupName !== undefined ? [subnetGroupOf(input.DBSubnetGroupName)] : [...state.subnetGroups.values()];
      return { DBSubnetGroups: groups.map(subnetGroupView) };
    },
    ModifyDBSubnetGroup: (input) => {
      settle();
      const group = subnetGroupOf(input.DBSubnetGroupName);
      const { vpcId } = checkSubnets(input.SubnetIds);
      if (ec2 && vpcId !== group.VpcId && inUse((db) => db.DBSubnetGroupName, group.DBSubnetGroupName).length) {
        throw rdsError("InvalidSubnet", "The new subnets are not in the same VPC as the DB subnet group's instances.");
      }
      group.SubnetIds = [...input.SubnetIds];
      group.VpcId = vpcId;
      if (input.DBSubnetGroupDescription !== undefined) group.DBSubnetGroupDescription = input.DBSubnetGroupDescription;
      return { DBSubnetGroup: subnetGroupView(group) };
    },
    DeleteDBSubnetGroup: (input) => {
      settle();
      const group = subnetGroupOf(input.DBSubnetGroupName);
      const users = inUse((db) => db.DBSubnetGroupName, group.DBSubnetGroupName);
      if (users.length) {
        throw rdsError("InvalidDBSubnetGroupStateFault", `Cannot delete the subnet group '${group.DBSubnetGroupName}' because at least one database instance: ${users[0]!.DBInstanceIdentifier} is still using it.`);
      }
      state.subnetGroups.delete(group.DBSubnetGroupName);
      return {};
    },

    // ------------------------------------------------------------------ parameter groups
    CreateDBParameterGroup: (input) => {
      settle();
      const name = checkRdsName(input.DBParameterGroupName, "DBParameterGroupName", 255);
      if (state.parameterGroups.has(name)) throw rdsError("DBParameterGroupAlreadyExistsFault", `Parameter group ${name} already exists`);
      if (!FAMILIES.includes(input.DBParameterGroupFamily)) throw invalidValue(`DBParameterGroupFamily ${input.DBParameterGroupFamily} is not a valid parameter group family`);
      if (!input.Description) throw invalidValue("Description is required.");
      const group: FakeParameterGroup = {
        DBParameterGroupName: name,
        DBParameterGroupFamily: input.DBParameterGroupFamily,
        Description: input.Description,
        DBParameterGroupArn: arn("pg", name),
        user: new Map(),
        Tags: fromTagList(input.Tags),
      };
      state.parameterGroups.set(name, group);
      const { user: _user, Tags: _tags, ...view } = group;
      return { DBParameterGroup: view };
    },
    DescribeDBParameterGroups: (input) => {
      settle();
      if (input.Filters) throw new Error("fake rds: DescribeDBParameterGroups Filters are not modelled");
      const groups = input.DBParameterGroupName !== undefined ? [parameterGroupOf(input.DBParameterGroupName)] : [...state.parameterGroups.values()];
      return { DBParameterGroups: groups.map(({ user: _user, Tags: _tags, ...view }) => view) };
    },
    DescribeDBParameters: (input) => {
      settle();
      const group = parameterGroupOf(input.DBParameterGroupName);
      const max = input.MaxRecords ?? 100;
      if (max < 20 || max > 100) throw invalidValue("MaxRecords must be between 20 and 100.");
      const names: string[] | undefined = input.Filters?.find((f: { Name: string }) => f.Name === "parameter-name")?.Values;
      if (input.Filters?.some((f: { Name: string }) => f.Name !== "parameter-name")) throw invalidValue("Unrecognized filter name.");
      const all = PARAMETER_CATALOG.map((p) => parameterView(group, p))
        .filter((p) => !input.Source || p.Source === input.Source)
        .filter((p) => !names || names.includes(p.ParameterName));
      const start = input.Marker ? Number(Buffer.from(input.Marker, "base64").toString()) : 0;
      const page = all.slice(start, start + max);
      const next = start + max < all.length ? Buffer.from(String(start + max)).toString("base64") : undefined;
      return { Parameters: page, Marker: next };
    },
    ModifyDBParameterGroup: (input) => {
      settle();
      const group = parameterGroupOf(input.DBParameterGroupName);
      const params: { ParameterName?: string; ParameterValue?: string; ApplyMethod?: string }[] = input.Parameters ?? [];
      if (params.length < 1 || params.length > 20) throw invalidValue("Between 1 and 20 parameters can be modified in one request.");
      for (const p of params) {
        const known = PARAMETER_CATALOG.find((c) => c.name === p.ParameterName);
        if (!known) throw invalidValue(`Could not find parameter with name: ${p.ParameterName}`);
        if (!known.modifiable) throw invalidValue(`The parameter ${p.ParameterName} cannot be modified.`);
        if (p.ApplyMethod !== "immediate" && p.ApplyMethod !== "pending-reboot") throw invalidValue(`Invalid apply method for parameter ${p.ParameterName}: ${p.ApplyMethod}`);
        if (p.ApplyMethod === "immediate" && known.applyType === "static") throw invalidCombination(`cannot use immediate apply method for static parameter ${p.ParameterName}`);
        if (known.dataType === "boolean" && !["0", "1"].includes(String(p.ParameterValue))) throw invalidValue(`Value: ${p.ParameterValue} is outside of range: 0,1 for parameter: ${p.ParameterName}`);
      }
      for (const p of params) group.user.set(p.ParameterName!, String(p.ParameterValue));
      return { DBParameterGroupName: group.DBParameterGroupName };
    },
    ResetDBParameterGroup: (input) => {
      settle();
      const group = parameterGroupOf(input.DBParameterGroupName);
      if (input.ResetAllParameters) group.user.clear();
      else {
        const params: { ParameterName?: string; ApplyMethod?: string }[] = input.Parameters ?? [];
        if (params.length < 1 || params.length > 20) throw invalidValue("Between 1 and 20 parameters can be reset in one request.");
        for (const p of params) {
          const known = PARAMETER_CATALOG.find((c) => c.name === p.ParameterName);
          if (!known) throw invalidValue(`Could not find parameter with name: ${p.ParameterName}`);
          if (p.ApplyMethod === "immediate" && known.applyType === "static") throw invalidCombination(`cannot use immediate apply method for static parameter ${p.ParameterName}`);
        }
        for (const p of params) group.user.delete(p.ParameterName!);
      }
      return { DBParameterGroupName: group.DBParameterGroupName };
    },
    DeleteDBParameterGroup: (input) => {
      settle();
      const group = parameterGroupOf(input.DBParameterGroupName);
      if (inUse((db) => db.DBParameterGroupName, group.DBParameterGroupName).length) {
        throw rdsError("InvalidDBParameterGroupStateFault", `One or more database instances are still members of this parameter group ${group.DBParameterGroupName}, so the group cannot be deleted`);
      }
      state.parameterGroups.delete(group.DBParameterGroupName);
      return {};
    },

    // ------------------------------------------------------------------ instances
    CreateDBInstance: (input) => {
      scrubCallLog("CreateDBInstance");
      settle();
      onlyModelled("CreateDBInstance", input, CREATE_KEYS);
      const id = checkRdsName(input.DBInstanceIdentifier, "DBInstanceIdentifier", 63);
      if (input.Engine !== "postgres") throw new Error(`fake rds: engine ${input.Engine} is not modelled`);
      if (!input.DBInstanceClass) throw invalidValue("DBInstanceClass is required.");
      if (!input.MasterUsername || !/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(input.MasterUsername)) throw invalidValue("MasterUsername must begin with a letter and contain only alphanumeric characters and underscores.");
      const password = checkPassword(input.MasterUserPassword);
      if (input.DBName !== undefined && !/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(input.DBName)) throw invalidValue(`DBName must begin with a letter and contain only alphanumeric characters and underscores.`);
      if (state.instances.has(id)) throw rdsError("DBInstanceAlreadyExistsFault", "DB instance already exists");
      const version = resolveVersion(input.EngineVersion);
      const storage = input.AllocatedStorage;
      if (!Number.isInteger(storage) || storage < 20 || storage > 65536) throw invalidValue(`Invalid storage size for engine name postgres and storage type ${input.StorageType ?? "gp3"}: ${storage}`);
      if (input.MaxAllocatedStorage !== undefined && input.MaxAllocatedStorage < storage) throw invalidCombination("Max storage size must be greater than storage size");
      const retention = input.BackupRetentionPeriod ?? 1;
      if (retention < 0 || retention > 35) throw invalidValue("Backup retention period must be between 0 and 35 days.");
      const subnetGroup = subnetGroupOf(input.DBSubnetGroupName);
      const parameterGroup = parameterGroupOf(input.DBParameterGroupName);
      checkParameterGroupFamily(parameterGroup, version);
      checkSecurityGroups(input.VpcSecurityGroupIds);
      checkPerformanceInsights(input.EnablePerformanceInsights, input.DBInstanceClass);
      checkMonitoring(input.MonitoringInterval, input.MonitoringRoleArn);
      for (const t of input.EnableCloudwatchLogsExports ?? []) if (!POSTGRES_LOG_TYPES.includes(t)) throw invalidValue(`You cannot use the log types '${t}' with engine version postgres.`);
      const db: FakeDbInstance = {
        DBInstanceIdentifier: id,
        DBInstanceArn: arn("db", id),
        DBInstanceClass: input.DBInstanceClass,
        Engine: "postgres",
        EngineVersion: version,
        DBInstanceStatus: "creating",
        MasterUsername: input.MasterUsername,
        DBName: input.DBName,
        AllocatedStorage: storage,
        MaxAllocatedStorage: input.MaxAllocatedStorage,
        StorageType: input.StorageType ?? "gp3",
        StorageEncrypted: input.StorageEncrypted ?? false,
        PubliclyAccessible: input.PubliclyAccessible ?? false,
        MultiAZ: input.MultiAZ ?? false,
        BackupRetentionPeriod: retention,
        PreferredBackupWindow: input.PreferredBackupWindow ?? "07:12-07:42",
        PreferredMaintenanceWindow: input.PreferredMaintenanceWindow ?? "sat:09:08-sat:09:38",
        AutoMinorVersionUpgrade: input.AutoMinorVersionUpgrade ?? true,
        DeletionProtection: input.DeletionProtection ?? false,
        PerformanceInsightsEnabled: input.EnablePerformanceInsights ?? false,
        PerformanceInsightsRetentionPeriod: input.EnablePerformanceInsights ? (input.PerformanceInsightsRetentionPeriod ?? 7) : undefined,
        MonitoringInterval: input.MonitoringInterval ?? 0,
        MonitoringRoleArn: input.MonitoringInterval ? input.MonitoringRoleArn : undefined,
        EnabledCloudwatchLogsExports: [...(input.EnableCloudwatchLogsExports ?? [])],
        DBSubnetGroupName: subnetGroup.DBSubnetGroupName,
        DBParameterGroupName: parameterGroup.DBParameterGroupName,
        ParameterApplyStatus: "in-sync",
        VpcSecurityGroupIds: [...(input.VpcSecurityGroupIds ?? [])],
        CopyTagsToSnapshot: input.CopyTagsToSnapshot ?? false,
        IAMDatabaseAuthenticationEnabled: input.EnableIAMDatabaseAuthentication ?? false,
        DbiResourceId: dbiResourceId(),
        Port: input.Port ?? 5432,
        PendingModifiedValues: {},
        Tags: fromTagList(input.Tags),
        MasterPasswordSet: true,
        since: cloud.elapsed(),
        applying: {},
        InstanceCreateTime: new Date(),
      };
      setPassword(state, id, password);
      state.instances.set(id, db);
      return { DBInstance: instanceView(db) };
    },
    DescribeDBInstances: (input) => {
      settle();
      if (input.Filters) throw new Error("fake rds: DescribeDBInstances Filters are not modelled");
      const list = input.DBInstanceIdentifier !== undefined ? [instanceOf(input.DBInstanceIdentifier)] : [...state.instances.values()];
      return { DBInstances: list.map(instanceView) };
    },
    ModifyDBInstance: (input) => {
      scrubCallLog("ModifyDBInstance");
      settle();
      onlyModelled("ModifyDBInstance", input, MODIFY_KEYS);
      const db = instanceOf(input.DBInstanceIdentifier);
      if (db.DBInstanceStatus !== "available") throw rdsError("InvalidDBInstanceStateFault", `Database instance is not in available state (it is ${db.DBInstanceStatus}).`);
      const now = input.ApplyImmediately === true;

      // Validate everything first: a refused request changes nothing.
      const deferred: Record<string, unknown> = {};
      if (input.DBInstanceClass !== undefined && input.DBInstanceClass !== db.DBInstanceClass) deferred.DBInstanceClass = input.DBInstanceClass;
      if (input.AllocatedStorage !== undefined && input.AllocatedStorage !== db.AllocatedStorage) {
        if (input.AllocatedStorage < db.AllocatedStorage) throw invalidValue(`Invalid storage size for engine name postgres and storage type ${db.StorageType}: ${input.AllocatedStorage}`);
        deferred.AllocatedStorage = input.AllocatedStorage;
      }
      if (input.MultiAZ !== undefined && input.MultiAZ !== db.MultiAZ) deferred.MultiAZ = input.MultiAZ;
      if (input.EngineVersion !== undefined) {
        const version = resolveVersion(input.EngineVersion);
        if (majorOf(version) !== majorOf(db.EngineVersion) && !input.AllowMajorVersionUpgrade) {
          throw invalidCombination("The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.");
        }
        const [, have] = db.EngineVersion.split(".").map(Number);
        const [, want] = version.split(".").map(Number);
        if (majorOf(version) === majorOf(db.EngineVersion) && want! < have!) throw invalidCombination(`Cannot upgrade postgres from ${db.EngineVersion} to ${version}`);
        if (version !== db.EngineVersion) deferred.EngineVersion = version;
      }
      let retentionNow: number | undefined;
      if (input.BackupRetentionPeriod !== undefined && input.BackupRetentionPeriod !== db.BackupRetentionPeriod) {
        if (input.BackupRetentionPeriod < 0 || input.BackupRetentionPeriod > 35) throw invalidValue("Backup retention period must be between 0 and 35 days.");
        if (input.BackupRetentionPeriod === 0 || db.BackupRetentionPeriod === 0) deferred.BackupRetentionPeriod = input.BackupRetentionPeriod;
        else retentionNow = input.BackupRetentionPeriod;
      }
      const classAfter = now && deferred.DBInstanceClass ? String(deferred.DBInstanceClass) : db.DBInstanceClass;
      checkPerformanceInsights(input.EnablePerformanceInsights, classAfter);
      checkMonitoring(input.MonitoringInterval, input.MonitoringRoleArn ?? db.MonitoringRoleArn);
      checkSecurityGroups(input.VpcSecurityGroupIds);
      const password = input.MasterUserPassword !== undefined ? checkPassword(input.MasterUserPassword) : undefined;
      const group = input.DBParameterGroupName !== undefined ? parameterGroupOf(input.DBParameterGroupName) : undefined;
      if (group) checkParameterGroupFamily(group, String(deferred.EngineVersion ?? db.EngineVersion));
      if (input.MaxAllocatedStorage !== undefined && input.MaxAllocatedStorage < (input.AllocatedStorage ?? db.AllocatedStorage)) {
        throw invalidCombination("Max storage size must be greater than storage size");
      }
      const logs = input.CloudwatchLogsExportConfiguration;
      for (const t of [...(logs?.EnableLogTypes ?? []), ...(logs?.DisableLogTypes ?? [])]) {
        if (!POSTGRES_LOG_TYPES.includes(t)) throw invalidValue(`You cannot use the log types '${t}' with engine version postgres.`);
      }

      // Settings RDS applies at once.
      if (input.DeletionProtection !== undefined) db.DeletionProtection = input.DeletionProtection;
      if (input.PubliclyAccessible !== undefined) db.PubliclyAccessible = input.PubliclyAccessible;
      if (input.AutoMinorVersionUpgrade !== undefined) db.AutoMinorVersionUpgrade = input.AutoMinorVersionUpgrade;
      if (input.CopyTagsToSnapshot !== undefined) db.CopyTagsToSnapshot = input.CopyTagsToSnapshot;
      if (input.EnableIAMDatabaseAuthentication !== undefined) db.IAMDatabaseAuthenticationEnabled = input.EnableIAMDatabaseAuthentication;
      if (input.VpcSecurityGroupIds !== undefined) db.VpcSecurityGroupIds = [...input.VpcSecurityGroupIds];
      if (input.PreferredBackupWindow !== undefined) db.PreferredBackupWindow = input.PreferredBackupWindow;
      if (input.PreferredMaintenanceWindow !== undefined) db.PreferredMaintenanceWindow = input.PreferredMaintenanceWindow;
      if (retentionNow !== undefined) db.BackupRetentionPeriod = retentionNow;
      if (group) {
        db.DBParameterGroupName = group.DBParameterGroupName;
        db.ParameterApplyStatus = "pending-reboot";
      }
      if (input.MonitoringInterval !== undefined) {
        db.MonitoringInterval = input.MonitoringInterval;
        db.MonitoringRoleArn = input.MonitoringInterval > 0 ? (input.MonitoringRoleArn ?? db.MonitoringRoleArn) : undefined;
      }
      if (logs) {
        const set = new Set(db.EnabledCloudwatchLogsExports);
        for (const t of logs.EnableLogTypes ?? []) set.add(t);
        for (const t of logs.DisableLogTypes ?? []) set.delete(t);
        db.EnabledCloudwatchLogsExports = [...set];
      }
      if (input.EnablePerformanceInsights !== undefined) {
        db.PerformanceInsightsEnabled = input.EnablePerformanceInsights;
        db.PerformanceInsightsRetentionPeriod = input.EnablePerformanceInsights ? (input.PerformanceInsightsRetentionPeriod ?? 7) : undefined;
      }
      if (input.MaxAllocatedStorage !== undefined) {
        // A ceiling equal to the allocated storage turns autoscaling off.
        db.MaxAllocatedStorage = input.MaxAllocatedStorage === (input.AllocatedStorage ?? db.AllocatedStorage) ? undefined : input.MaxAllocatedStorage;
      }

      // Deferred settings: pending until the window, or applied now (with whatever was already pending).
      const pending = db.PendingModifiedValues;
      Object.assign(pending, deferred);
      if (now && DEFERRABLE.some((k) => pending[k] !== undefined)) {
        db.applying = Object.fromEntries(DEFERRABLE.filter((k) => pending[k] !== undefined).map((k) => [k, pending[k]]));
        db.DBInstanceStatus = "modifying";
        db.since = cloud.elapsed();
      }
      if (password !== undefined) {
        setPassword(state, db.DBInstanceIdentifier, password);
        pending.MasterUserPassword = "****";
        if (db.DBInstanceStatus === "available") db.DBInstanceStatus = "resetting-master-credentials";
        db.since = cloud.elapsed();
      }
      return { DBInstance: instanceView(db) };
    },
    DeleteDBInstance: (input) => {
      settle();
      const db = instanceOf(input.DBInstanceIdentifier);
      if (db.DeletionProtection) throw invalidCombination("Cannot delete protected DB Instance, please disable deletion protection and try again.");
      if (db.DBInstanceStatus === "deleting") throw rdsError("InvalidDBInstanceStateFault", `Instance ${db.DBInstanceIdentifier} is already being deleted.`);
      if (!["available", "stopped", "failed", "storage-full", "incompatible-parameters", "incompatible-network"].includes(db.DBInstanceStatus)) {
        throw rdsError("InvalidDBInstanceStateFault", `Instance ${db.DBInstanceIdentifier} is currently ${db.DBInstanceStatus}; it cannot be deleted now.`);
      }
      const skip = input.SkipFinalSnapshot === true;
      if (skip && input.FinalDBSnapshotIdentifier) throw invalidCombination("Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier.");
      if (!skip && !input.FinalDBSnapshotIdentifier) throw invalidCombination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.");
      if (!skip) {
        const snapshotId = checkRdsName(input.FinalDBSnapshotIdentifier, "FinalDBSnapshotIdentifier", 255);
        if (state.snapshots.has(snapshotId)) throw rdsError("DBSnapshotAlreadyExistsFault", `Cannot create the snapshot because a snapshot with the identifier ${snapshotId} already exists.`);
        takeSnapshot(db, snapshotId, db.CopyTagsToSnapshot ? { ...db.Tags } : {});
      }
      db.DBInstanceStatus = "deleting";
      db.since = cloud.elapsed();
      return { DBInstance: instanceView(db) };
    },
    // A manual snapshot of an available instance; "creating" until cloud.ready("rdsDelete", since), like final snapshots.
    CreateDBSnapshot: (input) => {
      settle();
      const db = instanceOf(input.DBInstanceIdentifier);
      const snapshotId = checkRdsName(input.DBSnapshotIdentifier, "DBSnapshotIdentifier", 255);
      if (state.snapshots.has(snapshotId)) throw rdsError("DBSnapshotAlreadyExistsFault", `Cannot create the snapshot because a snapshot with the identifier ${snapshotId} already exists.`);
      if (db.DBInstanceStatus !== "available") throw rdsError("InvalidDBInstanceStateFault", `DBInstance ${db.DBInstanceIdentifier} is not in available state.`);
      return { DBSnapshot: snapshotView(takeSnapshot(db, snapshotId, fromTagList(input.Tags))) };
    },
    DescribeDBSnapshots: (input) => {
      settle();
      if (input.Filters) throw new Error("fake rds: DescribeDBSnapshots Filters are not modelled");
      let list = [...state.snapshots.values()];
      if (input.DBSnapshotIdentifier !== undefined) {
        const s = state.snapshots.get(String(input.DBSnapshotIdentifier).toLowerCase());
        if (!s) throw rdsError("DBSnapshotNotFoundFault", `DBSnapshot ${input.DBSnapshotIdentifier} not found.`, 404);
        list = [s];
      }
      if (input.DBInstanceIdentifier !== undefined) list = list.filter((s) => s.DBInstanceIdentifier === String(input.DBInstanceIdentifier).toLowerCase());
      if (input.SnapshotType !== undefined) list = list.filter((s) => s.SnapshotType === input.SnapshotType);
      return { DBSnapshots: list.map(snapshotView) };
    },

    // ------------------------------------------------------------------ restores
    // The active automated backups of existing instances (retained backups of deleted instances are not modelled).
    DescribeDBInstanceAutomatedBackups: (input) => {
      settle();
      if (input.Filters || input.DbiResourceId || input.DBInstanceAutomatedBackupsArn) throw new Error("fake rds: DescribeDBInstanceAutomatedBackups by filter, resource id or ARN is not modelled");
      let list = [...state.instances.values()];
      if (input.DBInstanceIdentifier !== undefined) list = list.filter((db) => db.DBInstanceIdentifier === String(input.DBInstanceIdentifier).toLowerCase());
      const backups = list.flatMap((db) => {
        const window = restoreWindow(db);
        if (!window) return [];
        return [{
          DBInstanceArn: db.DBInstanceArn,
          DBInstanceIdentifier: db.DBInstanceIdentifier,
          Status: "active",
          RestoreWindow: window,
          AllocatedStorage: db.AllocatedStorage,
          InstanceCreateTime: db.InstanceCreateTime,
          MasterUsername: db.MasterUsername,
          Engine: db.Engine,
          EngineVersion: db.EngineVersion,
          Encrypted: db.StorageEncrypted,
          StorageType: db.StorageType,
          BackupRetentionPeriod: db.BackupRetentionPeriod,
        }];
      });
      return { DBInstanceAutomatedBackups: backups };
    },
    RestoreDBInstanceFromDBSnapshot: (input) => {
      settle();
      onlyModelled("RestoreDBInstanceFromDBSnapshot", input, RESTORE_SNAPSHOT_KEYS);
      const id = checkRdsName(input.DBInstanceIdentifier, "DBInstanceIdentifier", 63);
      if (input.DBSnapshotIdentifier === undefined) throw invalidCombination("One of DBSnapshotIdentifier or DBClusterSnapshotIdentifier must be specified.");
      const snapshot = state.snapshots.get(String(input.DBSnapshotIdentifier).toLowerCase());
      if (!snapshot) throw rdsError("DBSnapshotNotFoundFault", `DBSnapshot not found: ${input.DBSnapshotIdentifier}`, 404);
      if (snapshot.Status !== "available") throw rdsError("InvalidDBSnapshotStateFault", `Snapshot ${snapshot.DBSnapshotIdentifier} is not in available state (it is ${snapshot.Status}).`);
      const source = {
        EngineVersion: snapshot.EngineVersion,
        AllocatedStorage: snapshot.AllocatedStorage,
        StorageEncrypted: snapshot.Encrypted,
        MasterUsername: snapshot.MasterUsername ?? "postgres",
        DBName: snapshot.DBName,
        BackupRetentionPeriod: 1,
        // RDS restores with the class the snapshot's instance had; the fake knows it while that instance exists.
        DBInstanceClass: state.instances.get(snapshot.DBInstanceIdentifier)?.DBInstanceClass,
      };
      const password = snapshotPasswords.get(state)?.get(snapshot.DBSnapshotIdentifier);
      return { DBInstance: instanceView(restoredInstance(id, source, input, password)) };
    },
    RestoreDBInstanceToPointInTime: (input) => {
      settle();
      onlyModelled("RestoreDBInstanceToPointInTime", input, RESTORE_TIME_KEYS);
      const id = checkRdsName(input.TargetDBInstanceIdentifier, "TargetDBInstanceIdentifier", 63);
      if (input.SourceDBInstanceIdentifier === undefined) throw new Error("fake rds: restores from SourceDbiResourceId or an automated backup ARN are not modelled");
      const db = instanceOf(input.SourceDBInstanceIdentifier);
      if (db.BackupRetentionPeriod === 0) throw rdsError("PointInTimeRestoreNotEnabledFault", `Point-in-time restore is not enabled for DB instance ${db.DBInstanceIdentifier}: its backup retention period is 0.`);
      if (input.RestoreTime !== undefined && input.UseLatestRestorableTime) throw invalidCombination("Cannot specify both RestoreTime and UseLatestRestorableTime.");
      if (input.RestoreTime === undefined && !input.UseLatestRestorableTime) throw invalidCombination("Either RestoreTime or UseLatestRestorableTime must be specified.");
      const window = restoreWindow(db);
      if (!window) throw rdsError("InvalidRestoreFault", `DB instance ${db.DBInstanceIdentifier} has no restorable time yet.`);
      if (input.RestoreTime !== undefined) {
        const at = new Date(input.RestoreTime).getTime();
        if (at < window.EarliestTime.getTime() || at > window.LatestTime.getTime()) {
          throw rdsError("InvalidRestoreFault", `Restore time ${new Date(at).toISOString()} is outside the restorable window of ${db.DBInstanceIdentifier} (${window.EarliestTime.toISOString()} to ${window.LatestTime.toISOString()}).`);
        }
      }
      return { DBInstance: instanceView(restoredInstance(id, db, input, masterPasswordOf(state, db.DBInstanceIdentifier))) };
    },

    // ------------------------------------------------------------------ tags
    ListTagsForResource: (input) => {
      settle();
      return { TagList: toTagList(taggable(input.ResourceName).Tags) };
    },
    AddTagsToResource: (input) => {
      settle();
      const r = taggable(input.ResourceName);
      Object.assign(r.Tags, fromTagList(input.Tags));
      return {};
    },
    RemoveTagsFromResource: (input) => {
      settle();
      const r = taggable(input.ResourceName);
      for (const key of input.TagKeys ?? []) delete r.Tags[key];
      return {};
    },
  };

  const taggingSources: TagSource[] = [
    () => {
      settle();
      return [
        ...[...state.instances.values()].map((x) => ({ arn: x.DBInstanceArn, tags: { ...x.Tags } })),
        ...[...state.subnetGroups.values()].map((x) => ({ arn: x.DBSubnetGroupArn, tags: { ...x.Tags } })),
        ...[...state.parameterGroups.values()].map((x) => ({ arn: x.DBParameterGroupArn, tags: { ...x.Tags } })),
        ...[...state.snapshots.values()].filter((x) => Object.keys(x.Tags).length).map((x) => ({ arn: x.DBSnapshotArn, tags: { ...x.Tags } })),
      ];
    },
  ];

  return { model: { service: "rds", client: RDSClient, handlers }, state, taggingSources };
}
