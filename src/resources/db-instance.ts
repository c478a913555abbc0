import {
  CreateDBInstanceCommand,
  type DBInstance,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  type ModifyDBInstanceCommandInput,
  type PendingModifiedValues,
  waitUntilDBInstanceAvailable,
  waitUntilDBInstanceDeleted,
} from "@aws-sdk/client-rds";
import { hasCode, orUndefined } from "../aws/errors.js";
import { readSecretJson } from "../aws/secret-value.js";
import { isOurs, TAG_LOGICAL_ID, tagList, tagRecord } from "../aws/tags.js";
import { UserError } from "../errors.js";
import { single } from "./find.js";
import { applyRdsTags, rdsClient } from "./rds-tags.js";
import { retryWhile } from "./retry.js";
import { WaitFailed, WaitTimeout, waitFor, withHeartbeat } from "../run/wait-for.js";
import { compareTags, sameValue, type Change, type ResourceContext, type ResourceType, waiterOptions, knownKey, readAfterCreate } from "./types.js";

/**
 * An RDS for PostgreSQL instance: encrypted gp3 storage, private, in the database security group and subnet group, with
 * its own parameter group. The master password is read from Secrets Manager at create time, passed to CreateDBInstance
 * and forgotten: it is never returned, recorded, logged or put in an error.
 */
export interface DbInstanceSpec {
  /** 1–63 letters, digits or hyphens, starting with a letter, no "--", no trailing hyphen. RDS stores it lowercase. */
  identifier: string;
  /** "16" (RDS picks its default minor) or "16.11". */
  engineVersion: string;
  instanceClass: string;
  /** GiB. Storage only grows: a smaller value than the instance has (after autoscaling, say) is no change. */
  allocatedStorage: number;
  /** Storage autoscaling ceiling in GiB; absent turns autoscaling off. */
  maxAllocatedStorage?: number;
  storageEncrypted: boolean;
  publiclyAccessible: boolean;
  multiAz: boolean;
  backupRetentionDays: number;
  /** "hh24:mi-hh24:mi" UTC; absent leaves AWS's choice. */
  preferredBackupWindow?: string;
  /** "ddd:hh24:mi-ddd:hh24:mi" UTC; absent leaves AWS's choice. */
  preferredMaintenanceWindow?: string;
  deletionProtection: boolean;
  /** Snapshots (the final one, automated and manual ones) carry the instance's tags, so they stay classified. */
  copyTagsToSnapshot: boolean;
  /** IAM database authentication: users granted rds_iam connect with a short-lived token instead of a password. */
  iamDatabaseAuthentication: boolean;
  /** Wanted; left off (with a plan note) on classes that do not support it (see supportsPerformanceInsights). */
  performanceInsights: boolean;
  /** Enhanced monitoring interval in seconds: 0 (off), 1, 5, 10, 15, 30 or 60. */
  monitoringInterval: number;
  /** Required when monitoringInterval > 0. */
  monitoringRoleArn?: string;
  cloudwatchLogsExports: string[];
  autoMinorVersionUpgrade: boolean;
  dbName: string;
  masterUsername: string;
  /** The Secrets Manager secret whose JSON value holds { username, password, ... }; read at create time only. */
  credentialsSecretArn: string;
  dbSubnetGroupName: string;
  parameterGroupName: string;
  vpcSecurityGroupIds: string[];
  tags: Record<string, string>;
}

/** Modifications RDS holds for the next maintenance window (never the password). */
export interface PendingValues {
  instanceClass?: string;
  allocatedStorage?: number;
  multiAz?: boolean;
  engineVersion?: string;
  backupRetentionDays?: number;
  dbSubnetGroupName?: string;
}

export interface DbInstanceAttrs {
  identifier: string;
  arn: string;
  status: string;
  /** Empty until the instance is first available. */
  endpointAddress: string;
  port: number;
  engineVersion: string;
  instanceClass: string;
  allocatedStorage: number;
  maxAllocatedStorage?: number;
  storageType: string;
  storageEncrypted: boolean;
  publiclyAccessible: boolean;
  multiAz: boolean;
  backupRetentionDays: number;
  preferredBackupWindow: string;
  preferredMaintenanceWindow: string;
  deletionProtection: boolean;
  copyTagsToSnapshot: boolean;
  iamDatabaseAuthentication: boolean;
  /** DbiResourceId ("db-..."): the instance's id in rds-db:connect's dbuser ARN; fixed for its life. */
  resourceId: string;
  performanceInsights: boolean;
  monitoringInterval: number;
  monitoringRoleArn?: string;
  /** Sorted. */
  cloudwatchLogsExports: string[];
  autoMinorVersionUpgrade: boolean;
  dbName: string;
  masterUsername: string;
  dbSubnetGroupName: string;
  parameterGroupName: string;
  /** "in-sync", or "pending-reboot" while static parameters wait for a reboot. */
  parameterApplyStatus: string;
  /** Sorted. */
  vpcSecurityGroupIds: string[];
  tags: Record<string, string>;
  pendingModifiedValues: PendingValues;
}

const KIND = "RDS DB instance";
const ENGINE = "postgres";
const PORT = 5432;
/** Every instance of the stack (created or restored) runs on gp3. */
export const STORAGE_TYPE = "gp3";
/** Days of Performance Insights history kept at no charge. */
const PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7;
/** Creation takes 5–20 minutes, Multi-AZ and class changes as long; deletion with a final snapshot a few more. */
const WAIT_BUDGET_SECONDS = 40 * 60;
/** RDS's own waiter polls up to every 30 minutes by default; a minute apart is enough to see progress. */
const MAX_POLL_SECONDS = 60;
/** How often a long wait says it is still waiting (real-world seconds, scaled like every wait). */
const PROGRESS_EVERY_SECONDS = 60;

const ALREADY_EXISTS = ["DBInstanceAlreadyExistsFault", "DBInstanceAlreadyExists"];
/** The instance is busy (creating, modifying, backing up): it cannot be deleted or modified until it settles. */
const BUSY = ["InvalidDBInstanceStateFault", "InvalidDBInstanceState"];

/**
 * Classes without Performance Insights. AWS's table lists these for RDS for MariaDB and MySQL; they are treated the same
 * for PostgreSQL here (a safe default: asking for it where it is unsupported fails the whole create).
 */
const NO_PERFORMANCE_INSIGHTS = new Set(["db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"]);

export function supportsPerformanceInsights(instanceClass: string): boolean {
  return !NO_PERFORMANCE_INSIGHTS.has(instanceClass);
}

/** What the instance will actually run with: Performance Insights only where the class supports it. */
function effectivePerformanceInsights(spec: Pick<DbInstanceSpec, "performanceInsights" | "instanceClass">): boolean {
  return spec.performanceInsights && supportsPerformanceInsights(spec.instanceClass);
}

/** RDS for PostgreSQL master passwords: 8–128 printable ASCII characters except "/", "@", '"' and space (CreateDBInstance reference). */
export function isValidMasterPassword(password: string): boolean {
  return /^[\x21-\x7e]{8,128}$/.test(password) && !/[/@"]/.test(password);
}

/** `<identifier>-final-<yyyymmddhhmmss>` in UTC: letters, digits and single hyphens, starting with a letter, ≤ 255. */
export function finalSnapshotId(identifier: string, at: Date): string {
  const stamp = at.toISOString().replace(/\D/g, "").slice(0, 14);
  return `${identifier}-final-${stamp}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Finders

async function describeById(ctx: ResourceContext, identifier: string): Promise<DBInstance | undefined> {
  const out = await orUndefined(rdsClient(ctx).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier })));
  return single(out?.DBInstances, `DB instances with identifier ${identifier}`);
}

function pendingValues(p: PendingModifiedValues | undefined): PendingValues {
  const out: PendingValues = {};
  if (!p) return out;
  if (p.DBInstanceClass !== undefined) out.instanceClass = p.DBInstanceClass;
  if (p.AllocatedStorage !== undefined) out.allocatedStorage = p.AllocatedStorage;
  if (p.MultiAZ !== undefined) out.multiAz = p.MultiAZ;
  if (p.EngineVersion !== undefined) out.engineVersion = p.EngineVersion;
  if (p.BackupRetentionPeriod !== undefined) out.backupRetentionDays = p.BackupRetentionPeriod;
  if (p.DBSubnetGroupName !== undefined) out.dbSubnetGroupName = p.DBSubnetGroupName;
  return out;
}

function toAttrs(db: DBInstance): DbInstanceAttrs {
  const group = db.DBParameterGroups?.[0];
  return {
    identifier: db.DBInstanceIdentifier!,
    arn: db.DBInstanceArn!,
    status: db.DBInstanceStatus ?? "",
    endpointAddress: db.Endpoint?.Address ?? "",
    port: db.Endpoint?.Port ?? (db.DbInstancePort || PORT),
    engineVersion: db.EngineVersion ?? "",
    instanceClass: db.DBInstanceClass!,
    allocatedStorage: db.AllocatedStorage ?? 0,
    ...(db.MaxAllocatedStorage !== undefined ? { maxAllocatedStorage: db.MaxAllocatedStorage } : {}),
    storageType: db.StorageType ?? "",
    storageEncrypted: db.StorageEncrypted ?? false,
    publiclyAccessible: db.PubliclyAccessible ?? false,
    multiAz: db.MultiAZ ?? false,
    backupRetentionDays: db.BackupRetentionPeriod ?? 0,
    preferredBackupWindow: db.PreferredBackupWindow ?? "",
    preferredMaintenanceWindow: db.PreferredMaintenanceWindow ?? "",
    deletionProtection: db.DeletionProtection ?? false,
    copyTagsToSnapshot: db.CopyTagsToSnapshot ?? false,
    iamDatabaseAuthentication: db.IAMDatabaseAuthenticationEnabled ?? false,
    resourceId: db.DbiResourceId ?? "",
    performanceInsights: db.PerformanceInsightsEnabled ?? false,
    monitoringInterval: db.MonitoringInterval ?? 0,
    ...(db.MonitoringRoleArn ? { monitoringRoleArn: db.MonitoringRoleArn } : {}),
    cloudwatchLogsExports: [...(db.EnabledCloudwatchLogsExports ?? [])].sort(),
    autoMinorVersionUpgrade: db.AutoMinorVersionUpgrade ?? false,
    dbName: db.DBName ?? "",
    masterUsername: db.MasterUsername ?? "",
    dbSubnetGroupName: db.DBSubnetGroup?.DBSubnetGroupName ?? "",
    parameterGroupName: group?.DBParameterGroupName ?? "",
    parameterApplyStatus: group?.ParameterApplyStatus ?? "",
    vpcSecurityGroupIds: (db.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId!).sort(),
    tags: tagRecord(db.TagList),
    pendingModifiedValues: pendingValues(db.PendingModifiedValues),
  };
}

/** The instance, unless it is being deleted (it is going away: for planning it is absent). */
export async function findDbInstanceById(ctx: ResourceContext, identifier: string): Promise<DbInstanceAttrs | undefined> {
  const db = await describeById(ctx, identifier);
  return db && db.DBInstanceStatus !== "deleting" ? toAttrs(db) : undefined;
}

async function readBack(ctx: ResourceContext, identifier: string): Promise<DbInstanceAttrs> {
  return readAfterCreate(ctx, `${KIND} ${identifier}`, () => findDbInstanceById(ctx, identifier));
}

const logicalIdOf = (a: { tags: Record<string, string>; identifier: string }) => a.tags[TAG_LOGICAL_ID] ?? a.identifier;

// ---------------------------------------------------------------------------------------------------------------
// Waits

function waitOptions(ctx: ResourceContext) {
  const base = waiterOptions(ctx, rdsClient(ctx), WAIT_BUDGET_SECONDS);
  return { ...base, maxDelay: Math.max(base.minDelay, Math.min(MAX_POLL_SECONDS, MAX_POLL_SECONDS * ctx.waits.scale), ctx.waits.maxDelay) };
}

/** Runs a long wait, noting what it waits for now and again so a CI log shows it is alive. */
async function withProgress<T>(ctx: ResourceContext, logicalId: string, message: string, wait: () => Promise<T>): Promise<T> {
  ctx.note(logicalId, message);
  return withHeartbeat(PROGRESS_EVERY_SECONDS * 1000 * ctx.waits.scale, (ms) => ctx.note(logicalId, `${message} (${Math.floor(ms / 60_000)} min so far)`), wait);
}

/** Why a wait failed, in words: the instance's status when it ended, or that the time budget ran out. */
async function waitFailure(ctx: ResourceContext, identifier: string, goal: string, err: unknown): Promise<unknown> {
  if (ctx.signal?.aborted) return err;
  const db = await describeById(ctx, identifier).catch(() => undefined);
  const status = db?.DBInstanceStatus ?? "gone";
  if ((err as Error)?.name === "TimeoutError") return new WaitTimeout(`${KIND} ${identifier} ${goal}`, WAIT_BUDGET_SECONDS, status, "run again to keep waiting");
  return new WaitFailed(`${KIND} ${identifier}`, `status ${status} while waiting for it ${goal}`);
}

async function waitAvailable(ctx: ResourceContext, logicalId: string, identifier: string, doing: string): Promise<void> {
  await withProgress(ctx, logicalId, `${doing}: waiting until the database is available (usually 5–20 minutes)`, async () => {
    try {
      await waitUntilDBInstanceAvailable(waitOptions(ctx), { DBInstanceIdentifier: identifier });
    } catch (err) {
      throw await waitFailure(ctx, identifier, "to be available", err);
    }
  });
}

async function waitDeleted(ctx: ResourceContext, logicalId: string, identifier: string): Promise<void> {
  await withProgress(ctx, logicalId, "waiting until the database is deleted", async () => {
    try {
      await waitUntilDBInstanceDeleted(waitOptions(ctx), { DBInstanceIdentifier: identifier });
    } catch (err) {
      throw await waitFailure(ctx, identifier, "to be deleted", err);
    }
  });
}

/**
 * After a modification applied now, RDS can still report "available" for a moment before it starts: waiting for
 * "available" alone would read the old values back. This waits until none of `fields` is pending and the status is available.
 */
async function waitApplied(ctx: ResourceContext, logicalId: string, identifier: string, fields: (keyof PendingValues)[]): Promise<void> {
  await withProgress(ctx, logicalId, `applying ${fields.join(", ")} now: waiting until the database is available again`, () =>
    waitFor({
      what: `${KIND} ${identifier} to apply ${fields.join(", ")}`,
      refresh: () => describeById(ctx, identifier),
      done: (db) => db?.DBInstanceStatus === "available" && fields.every((f) => pendingValues(db.PendingModifiedValues)[f] === undefined),
      failed: (db) => (db ? undefined : "it disappeared while it was being modified"),
      describe: (db) => `${db?.DBInstanceStatus} with ${fields.join(", ")} pending`,
      budgetSeconds: WAIT_BUDGET_SECONDS,
      waits: ctx.waits,
      signal: ctx.signal,
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Create

/** The master password from the credentials secret, checked against RDS's rules before it is sent anywhere (also `db restore`'s). */
export async function masterPassword(ctx: ResourceContext, spec: DbInstanceSpec): Promise<string> {
  const secret = await readSecretJson(ctx, spec.credentialsSecretArn);
  const where = `secret ${spec.credentialsSecretArn}`;
  if (typeof secret.password !== "string" || !secret.password) throw new UserError(`${where} has no "password"; put the database credentials in it and run again`);
  if (!isValidMasterPassword(secret.password)) {
    throw new UserError(`the password in ${where} is not one RDS accepts (8–128 printable ASCII characters, no "/", "@", '"' or space); generate another and run again`);
  }
  if (secret.username !== undefined && secret.username !== spec.masterUsername) {
    throw new UserError(`${where} holds username "${String(secret.username)}" but database.username is "${spec.masterUsername}"; make them the same and run again`);
  }
  return secret.password;
}

/**
 * Sends CreateDBInstance. Enhanced monitoring is turned on after the
 * instance is available (see create): a monitoring role created moments earlier may not be usable by RDS yet.
 */
async function sendCreate(ctx: ResourceContext, spec: DbInstanceSpec, password: string): Promise<void> {
  const performanceInsights = effectivePerformanceInsights(spec);
  await rdsClient(ctx).send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: spec.identifier,
        Engine: ENGINE,
        EngineVersion: spec.engineVersion,
        DBInstanceClass: spec.instanceClass,
        AllocatedStorage: spec.allocatedStorage,
        MaxAllocatedStorage: spec.maxAllocatedStorage,
        StorageType: STORAGE_TYPE,
        StorageEncrypted: spec.storageEncrypted,
        DBName: spec.dbName,
        MasterUsername: spec.masterUsername,
        MasterUserPassword: password,
        Port: PORT,
        DBSubnetGroupName: spec.dbSubnetGroupName,
        VpcSecurityGroupIds: spec.vpcSecurityGroupIds,
        DBParameterGroupName: spec.parameterGroupName,
        PubliclyAccessible: spec.publiclyAccessible,
        MultiAZ: spec.multiAz,
        BackupRetentionPeriod: spec.backupRetentionDays,
        PreferredBackupWindow: spec.preferredBackupWindow,
        PreferredMaintenanceWindow: spec.preferredMaintenanceWindow,
        AutoMinorVersionUpgrade: spec.autoMinorVersionUpgrade,
        DeletionProtection: spec.deletionProtection,
        EnablePerformanceInsights: performanceInsights,
        PerformanceInsightsRetentionPeriod: performanceInsights ? PERFORMANCE_INSIGHTS_RETENTION_DAYS : undefined,
        EnableCloudwatchLogsExports: spec.cloudwatchLogsExports,
        // Snapshots keep the instance's tags (DataClassification among them); down reports kept snapshots apart.
        CopyTagsToSnapshot: spec.copyTagsToSnapshot,
        EnableIAMDatabaseAuthentication: spec.iamDatabaseAuthentication,
        Tags: tagList(spec.tags),
      }),
    );
}

/**
 * Creates the instance. An identifier taken by an instance of ours that is being deleted (an interrupted `down`; finders
 * treat it as gone) is waited out, then created anew. Any other instance of that identifier is the engine's to adopt or
 * refuse (the create fails with DBInstanceAlreadyExists and the engine looks it up).
 */
async function createInstance(ctx: ResourceContext, spec: DbInstanceSpec, logicalId: string, password: string): Promise<void> {
  try {
    await sendCreate(ctx, spec, password);
  } catch (err) {
    if (!hasCode(err, ...ALREADY_EXISTS)) throw err;
    const existing = await describeById(ctx, spec.identifier);
    if (existing?.DBInstanceStatus !== "deleting" || !isOurs(tagRecord(existing.TagList), ctx.identity, logicalId)) throw err;
    await waitDeleted(ctx, logicalId, spec.identifier);
    await sendCreate(ctx, spec, password);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Diff

const NOW = "applies now";
const LATER = "applies at the next maintenance window, or now with up --apply-immediately";
const ALREADY = "already requested: applies at the next maintenance window, or now with up --apply-immediately";

function change(field: string, from: unknown, to: unknown, note: string, action: Change["action"] = "update"): Change {
  return { field, from, to, action, note };
}

/** A change RDS defers to the maintenance window unless applied immediately; "already requested" when it is pending. */
function deferred(field: keyof PendingValues, from: unknown, to: unknown, pending: PendingValues, extra = ""): Change {
  return change(field, from, to, (sameValue(pending[field], to) ? ALREADY : LATER) + extra);
}

function parseVersion(v: string): [number, number | undefined] {
  const [major, minor] = v.split(".");
  return [Number.parseInt(major ?? "", 10), minor === undefined ? undefined : Number.parseInt(minor, 10)];
}

function majorOf(v: string): number {
  return parseVersion(v)[0];
}

/** Minor upgrades only: "16" is satisfied by any 16.x, and a newer minor (automatic upgrades) is never downgraded. */
function versionChange(spec: DbInstanceSpec, actual: DbInstanceAttrs): Change[] {
  const [wantMajor, wantMinor] = parseVersion(spec.engineVersion);
  const [haveMajor, haveMinor] = parseVersion(actual.engineVersion);
  if (wantMajor !== haveMajor) {
    return [change("engineVersion", actual.engineVersion, spec.engineVersion, "a major version upgrade: platform does not do it (see README, \"Database\"); up stops here")];
  }
  if (wantMinor === undefined || (haveMinor !== undefined && haveMinor >= wantMinor)) return [];
  return [deferred("engineVersion", actual.engineVersion, spec.engineVersion, actual.pendingModifiedValues, "; the database restarts (minutes of downtime)")];
}

function storageChanges(spec: DbInstanceSpec, actual: DbInstanceAttrs): Change[] {
  const changes: Change[] = [];
  // RDS cannot shrink storage; autoscaling may have grown it past the config.
  if (spec.allocatedStorage > actual.allocatedStorage) {
    changes.push(deferred("allocatedStorage", actual.allocatedStorage, spec.allocatedStorage, actual.pendingModifiedValues, "; no downtime"));
  }
  if ((spec.maxAllocatedStorage ?? undefined) !== (actual.maxAllocatedStorage ?? undefined)) {
    changes.push(change("maxAllocatedStorage", actual.maxAllocatedStorage, spec.maxAllocatedStorage, spec.maxAllocatedStorage ? NOW : `${NOW}: storage autoscaling turned off`));
  }
  return changes;
}

function classChanges(spec: DbInstanceSpec, actual: DbInstanceAttrs): Change[] {
  const changes: Change[] = [];
  const piNote = spec.performanceInsights && !supportsPerformanceInsights(spec.instanceClass) ? `; ${spec.instanceClass} has no Performance Insights` : "";
  if (spec.instanceClass !== actual.instanceClass) {
    changes.push(deferred("instanceClass", actual.instanceClass, spec.instanceClass, actual.pendingModifiedValues, `; the database restarts (minutes of downtime)${piNote}`));
  }
  const wantPi = effectivePerformanceInsights(spec);
  if (wantPi !== actual.performanceInsights) {
    let note: string = NOW;
    if (!wantPi && spec.performanceInsights) note = `${NOW}: ${spec.instanceClass} does not support Performance Insights, so it is turned off`;
    else if (wantPi && !supportsPerformanceInsights(actual.instanceClass)) note = `turned on once the instance runs as ${spec.instanceClass} (after the class change)`;
    changes.push(change("performanceInsights", actual.performanceInsights, wantPi, note));
  }
  return changes;
}

function backupChanges(spec: DbInstanceSpec, actual: DbInstanceAttrs): Change[] {
  if (spec.backupRetentionDays === actual.backupRetentionDays) return [];
  // Turning backups on or off waits for the maintenance window (brief I/O suspension); between two non-zero values it applies now.
  if (spec.backupRetentionDays === 0 || actual.backupRetentionDays === 0) {
    return [deferred("backupRetentionDays", actual.backupRetentionDays, spec.backupRetentionDays, actual.pendingModifiedValues)];
  }
  return [change("backupRetentionDays", actual.backupRetentionDays, spec.backupRetentionDays, NOW)];
}

function monitoringChanges(spec: DbInstanceSpec, actual: DbInstanceAttrs): Change[] {
  const changes: Change[] = [];
  if (spec.monitoringInterval !== actual.monitoringInterval) changes.push(change("monitoringInterval", actual.monitoringInterval, spec.monitoringInterval, NOW));
  if (spec.monitoringInterval > 0 && spec.monitoringRoleArn !== actual.monitoringRoleArn) changes.push(change("monitoringRoleArn", actual.monitoringRoleArn, spec.monitoringRoleArn, NOW));
  return changes;
}

/** Settings RDS applies at once whatever ApplyImmediately says. */
function immediateChanges(spec: DbInstanceSpec, actual: DbInstanceAttrs): Change[] {
  const changes: Change[] = [];
  const compare = (field: keyof DbInstanceSpec & keyof DbInstanceAttrs, want: unknown, have: unknown, note = NOW) => {
    if (want !== undefined && !sameValue(want, have)) changes.push(change(field, have, want, note));
  };
  compare("deletionProtection", spec.deletionProtection, actual.deletionProtection, spec.deletionProtection ? NOW : `${NOW}: the database can then be deleted`);
  compare("publiclyAccessible", spec.publiclyAccessible, actual.publiclyAccessible);
  compare("copyTagsToSnapshot", spec.copyTagsToSnapshot, actual.copyTagsToSnapshot);
  compare("iamDatabaseAuthentication", spec.iamDatabaseAuthentication, actual.iamDatabaseAuthentication);
  compare("autoMinorVersionUpgrade", spec.autoMinorVersionUpgrade, actual.autoMinorVersionUpgrade);
  compare("cloudwatchLogsExports", [...spec.cloudwatchLogsExports].sort(), actual.cloudwatchLogsExports);
  compare("vpcSecurityGroupIds", [...spec.vpcSecurityGroupIds].sort(), actual.vpcSecurityGroupIds);
  compare("preferredBackupWindow", spec.preferredBackupWindow, actual.preferredBackupWindow);
  compare("preferredMaintenanceWindow", spec.preferredMaintenanceWindow, actual.preferredMaintenanceWindow);
  compare("parameterGroupName", spec.parameterGroupName.toLowerCase(), actual.parameterGroupName, "associated now; static parameters take effect at the next reboot");
  return changes;
}

/** Settings RDS cannot change on an existing instance. */
function replacements(spec: DbInstanceSpec, actual: DbInstanceAttrs): Change[] {
  const changes: Change[] = [];
  const compare = (field: keyof DbInstanceSpec & keyof DbInstanceAttrs, want: unknown, have: unknown) => {
    if (!sameValue(want, have)) changes.push({ field, from: have, to: want, action: "replace" });
  };
  compare("identifier", spec.identifier.toLowerCase(), actual.identifier);
  compare("dbName", spec.dbName, actual.dbName);
  compare("masterUsername", spec.masterUsername, actual.masterUsername);
  compare("storageEncrypted", spec.storageEncrypted, actual.storageEncrypted);
  compare("dbSubnetGroupName", spec.dbSubnetGroupName.toLowerCase(), actual.dbSubnetGroupName);
  return changes;
}

/** A run that stopped while RDS was still creating the instance: update waits for it. */
function creatingChange(actual: DbInstanceAttrs): Change[] {
  return actual.status === "creating" ? [change("status", actual.status, "available", "still being created: waits until it is available")] : [];
}

function diff(spec: DbInstanceSpec, actual: DbInstanceAttrs): Change[] {
  return [
    ...replacements(spec, actual),
    ...creatingChange(actual),
    ...versionChange(spec, actual),
    ...classChanges(spec, actual),
    ...storageChanges(spec, actual),
    ...(spec.multiAz !== actual.multiAz ? [deferred("multiAz", actual.multiAz, spec.multiAz, actual.pendingModifiedValues, "; no downtime")] : []),
    ...backupChanges(spec, actual),
    ...monitoringChanges(spec, actual),
    ...immediateChanges(spec, actual),
    ...compareTags(spec.tags, actual.tags),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Update

/** Fields that wait for the maintenance window unless applied immediately (backup retention only when turned on or off). */
const DEFERRABLE: (keyof PendingValues)[] = ["instanceClass", "allocatedStorage", "multiAz", "engineVersion", "backupRetentionDays"];

interface ModifyPlan {
  input: ModifyDBInstanceCommandInput;
  /** Deferrable fields sent with ApplyImmediately: waited for. */
  applyingNow: (keyof PendingValues)[];
  /** Performance Insights to turn on once a class change to a class that supports it is done. */
  performanceInsightsAfterClass: boolean;
}

function modifyPlan(ctx: ResourceContext, spec: DbInstanceSpec, actual: DbInstanceAttrs, fields: Set<string>): ModifyPlan {
  const now = Boolean(ctx.flags.applyImmediately);
  const input: ModifyDBInstanceCommandInput = { DBInstanceIdentifier: actual.identifier, ApplyImmediately: now };
  const pending = actual.pendingModifiedValues;
  // Without --apply-immediately, a change RDS already holds for the window needs no second request.
  const wanted = (field: keyof PendingValues, value: unknown) => fields.has(field) && (now || !sameValue(pending[field], value));
  if (wanted("instanceClass", spec.instanceClass)) input.DBInstanceClass = spec.instanceClass;
  if (wanted("allocatedStorage", spec.allocatedStorage)) input.AllocatedStorage = spec.allocatedStorage;
  if (wanted("multiAz", spec.multiAz)) input.MultiAZ = spec.multiAz;
  if (wanted("engineVersion", spec.engineVersion)) input.EngineVersion = spec.engineVersion;
  if (wanted("backupRetentionDays", spec.backupRetentionDays)) input.BackupRetentionPeriod = spec.backupRetentionDays;
  // Setting the ceiling to the allocated storage is how RDS turns autoscaling off (0 is rejected).
  if (fields.has("maxAllocatedStorage")) input.MaxAllocatedStorage = spec.maxAllocatedStorage ?? Math.max(spec.allocatedStorage, actual.allocatedStorage);
  if (fields.has("deletionProtection")) input.DeletionProtection = spec.deletionProtection;
  if (fields.has("publiclyAccessible")) input.PubliclyAccessible = spec.publiclyAccessible;
  if (fields.has("copyTagsToSnapshot")) input.CopyTagsToSnapshot = spec.copyTagsToSnapshot;
  if (fields.has("iamDatabaseAuthentication")) input.EnableIAMDatabaseAuthentication = spec.iamDatabaseAuthentication;
  if (fields.has("autoMinorVersionUpgrade")) input.AutoMinorVersionUpgrade = spec.autoMinorVersionUpgrade;
  if (fields.has("vpcSecurityGroupIds")) input.VpcSecurityGroupIds = spec.vpcSecurityGroupIds;
  if (fields.has("preferredBackupWindow")) input.PreferredBackupWindow = spec.preferredBackupWindow;
  if (fields.has("preferredMaintenanceWindow")) input.PreferredMaintenanceWindow = spec.preferredMaintenanceWindow;
  if (fields.has("parameterGroupName")) input.DBParameterGroupName = spec.parameterGroupName;
  if (fields.has("monitoringInterval") || fields.has("monitoringRoleArn")) {
    input.MonitoringInterval = spec.monitoringInterval;
    if (spec.monitoringInterval > 0) input.MonitoringRoleArn = spec.monitoringRoleArn;
  }
  if (fields.has("cloudwatchLogsExports")) {
    const want = new Set(spec.cloudwatchLogsExports);
    const have = new Set(actual.cloudwatchLogsExports);
    input.CloudwatchLogsExportConfiguration = { EnableLogTypes: [...want].filter((t) => !have.has(t)), DisableLogTypes: [...have].filter((t) => !want.has(t)) };
  }
  let performanceInsightsAfterClass = false;
  if (fields.has("performanceInsights")) {
    const wantPi = effectivePerformanceInsights(spec);
    // The current class cannot have it: it can be turned on only once the new class is in place.
    if (wantPi && !supportsPerformanceInsights(actual.instanceClass)) performanceInsightsAfterClass = now;
    else Object.assign(input, performanceInsightsInput(wantPi));
  }
  const applyingNow = now ? DEFERRABLE.filter((f) => fieldOf(input, f) !== undefined) : [];
  return { input, applyingNow, performanceInsightsAfterClass };
}

function performanceInsightsInput(on: boolean): Partial<ModifyDBInstanceCommandInput> {
  return on ? { EnablePerformanceInsights: true, PerformanceInsightsRetentionPeriod: PERFORMANCE_INSIGHTS_RETENTION_DAYS } : { EnablePerformanceInsights: false };
}

function fieldOf(input: ModifyDBInstanceCommandInput, field: keyof PendingValues): unknown {
  const key = { instanceClass: "DBInstanceClass", allocatedStorage: "AllocatedStorage", multiAz: "MultiAZ", engineVersion: "EngineVersion", backupRetentionDays: "BackupRetentionPeriod", dbSubnetGroupName: "DBSubnetGroupName" }[field];
  return (input as unknown as Record<string, unknown>)[key];
}

async function applyChanges(ctx: ResourceContext, spec: DbInstanceSpec, actual: DbInstanceAttrs, changes: Change[]): Promise<DbInstanceAttrs> {
  const logicalId = logicalIdOf(actual);
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  if (fields.has("engineVersion") && majorOf(spec.engineVersion) !== majorOf(actual.engineVersion)) {
    throw new UserError(
      `${logicalId} (${actual.identifier}) runs PostgreSQL ${actual.engineVersion}; a major version upgrade to ${spec.engineVersion} is not done by platform. ` +
        `Upgrade it yourself (RDS Blue/Green deployment, or modify-db-instance --allow-major-version-upgrade with a parameter group of the new family), or set database.engineVersion back`,
    );
  }
  if (actual.status !== "available") await waitAvailable(ctx, logicalId, actual.identifier, `the database is ${actual.status}`);
  const plan = modifyPlan(ctx, spec, actual, fields);
  if (Object.keys(plan.input).length > 2) {
    ctx.note(logicalId, ctx.flags.applyImmediately ? "modifying the database now (--apply-immediately)" : "modifying the database; deferred changes wait for the maintenance window");
    await rdsClient(ctx).send(new ModifyDBInstanceCommand(plan.input));
  }
  if (plan.applyingNow.length) await waitApplied(ctx, logicalId, actual.identifier, plan.applyingNow);
  if (plan.performanceInsightsAfterClass) {
    await rdsClient(ctx).send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: actual.identifier, ApplyImmediately: true, ...performanceInsightsInput(true) }));
  }
  if (fields.has("tags")) await applyRdsTags(ctx, actual.arn, spec.tags, actual.tags);
  return readBack(ctx, actual.identifier);
}

// ---------------------------------------------------------------------------------------------------------------
// Destroy

/** Deletion protection is turned off only when the user said so; otherwise nothing is deleted. */
async function allowDeletion(ctx: ResourceContext, actual: DbInstanceAttrs): Promise<void> {
  if (!actual.deletionProtection) return;
  const logicalId = logicalIdOf(actual);
  if (!ctx.flags.disableDeletionProtection) {
    throw new UserError(`${logicalId} (${actual.identifier}) has deletion protection on; nothing was deleted. Pass --disable-deletion-protection to turn it off and delete the database`);
  }
  ctx.note(logicalId, "turning deletion protection off (--disable-deletion-protection)");
  await rdsClient(ctx).send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: actual.identifier, DeletionProtection: false, ApplyImmediately: true }));
  // DeleteDBInstance refuses a protected instance outright (InvalidParameterCombination), so it waits until RDS shows the change.
  await waitFor({
    what: `${KIND} ${actual.identifier} to show deletion protection off`,
    refresh: () => describeById(ctx, actual.identifier),
    done: (db) => !db?.DeletionProtection,
    describe: () => "deletion protection still on",
    budgetSeconds: 5 * 60,
    waits: ctx.waits,
    signal: ctx.signal,
  });
}

export const dbInstance: ResourceType<DbInstanceSpec, DbInstanceAttrs> = {
  type: "rds:db-instance",

  // The identifier is the key: the recorded one, else the one create would use.
  async find(ctx, { recorded, wanted }) {
    const identifier = knownKey(recorded?.identifier, wanted?.identifier);
    return identifier ? findDbInstanceById(ctx, identifier) : undefined;
  },

  diff,

  async create(ctx, spec, { logicalId }) {
    await createInstance(ctx, spec, logicalId, await masterPassword(ctx, spec));
    const pi = spec.performanceInsights && !supportsPerformanceInsights(spec.instanceClass) ? `; ${spec.instanceClass} has no Performance Insights, so it is off` : "";
    await waitAvailable(ctx, logicalId, spec.identifier, `creating PostgreSQL ${spec.engineVersion} on ${spec.instanceClass}${pi}`);
    const attrs = await readBack(ctx, spec.identifier);
    // Enhanced monitoring is set now that the instance is available.
    const changes = diff(spec, attrs);
    return changes.length ? applyChanges(ctx, spec, attrs, changes) : attrs;
  },

  update: applyChanges,

  async destroy(ctx, actual) {
    const logicalId = logicalIdOf(actual);
    await allowDeletion(ctx, actual);
    const snapshot = ctx.flags.skipFinalSnapshot ? undefined : finalSnapshotId(actual.identifier, new Date());
    ctx.note(logicalId, snapshot ? `deleting the database; final snapshot ${snapshot}` : "deleting the database without a final snapshot (--skip-final-snapshot)");
    // Busy (a backup right after creation, a modification): retried until it settles.
    const out = await retryWhile(ctx, BUSY, WAIT_BUDGET_SECONDS, () =>
      orUndefined(
        rdsClient(ctx).send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: actual.identifier,
            ...(snapshot ? { FinalDBSnapshotIdentifier: snapshot } : { SkipFinalSnapshot: true }),
          }),
        ),
      ),
    );
    if (out) await waitDeleted(ctx, logicalId, actual.identifier);
  },

  physicalId: (a) => a.identifier,

  async details(_ctx, a) {
    const endpoint = a.endpointAddress ? `${a.endpointAddress}:${a.port}` : "no endpoint yet";
    return `${a.status}, ${endpoint}, ${a.allocatedStorage} GiB ${a.storageType}${a.parameterApplyStatus === "pending-reboot" ? ", parameters pending reboot" : ""}`;
  },
};
