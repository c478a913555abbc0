import {
  type DBInstance,
  type DBSnapshot,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
  RestoreDBInstanceToPointInTimeCommand,
  type RestoreWindow,
  waitUntilDBInstanceAvailable,
} from "@aws-sdk/client-rds";
import { awsFailure, hasCode, orUndefined } from "../aws/errors.js";
import { isOurs, tagList, tagRecord } from "../aws/tags.js";
import type { Config } from "../config/schema.js";
import { resolveOutputs } from "../engine/apply.js";
import { RunFailure, UserError } from "../errors.js";
import { dbInstance, type DbInstanceAttrs, type DbInstanceSpec, findDbInstanceById, masterPassword, STORAGE_TYPE } from "../resources/db-instance.js";
import { postgresFamily } from "../resources/spec-helpers.js";
import { single } from "../resources/find.js";
import { findLogGroupByName, logGroup, type LogGroupAttrs, type LogGroupSpec } from "../resources/log-group.js";
import { rdsClient } from "../resources/rds-tags.js";
import { secretFields, type SecretFieldsSpec } from "../resources/secret-fields.js";
import { waiterOptions, type ResourceContext } from "../resources/types.js";
import { WaitFailed, WaitTimeout, withHeartbeat } from "../run/wait-for.js";
import { waitForMasterPassword } from "../secrets/database-password.js";
import { secretIds } from "../secrets/catalog.js";
import { dbIds, restoredDatabaseIdentifier, servingDatabaseIdentifier } from "../stack/database.js";
import { gatherFacts } from "../stack/facts.js";
import { buildStack } from "../stack/index.js";
import { containsUnknown, resolveSpec, type Stack } from "../stack/model.js";
import { rdsLogGroupName, storageIds } from "../stack/storage.js";
import type { ResourceRecord, StateDocument } from "../state/document.js";
import type { StateStore } from "../state/store.js";

/**
 * `platform db restore`: a snapshot or a point in time of the environment's database becomes a NEW instance with the
 * stack's settings; the instance the stack uses now is only ever read. In order:
 *   1. planRestore: reads the current instance, the snapshot (or the restorable window), the stack's instance spec, the
 *      credentials secret and the new instance's log group name; anything wrong is a UserError before any change;
 *   2. restoreInstance: creates the new instance's RDS log group (the stack's retention and tags: otherwise RDS creates
 *      it on first export, untagged and never expiring), then RestoreDBInstanceFromDBSnapshot /
 *      RestoreDBInstanceToPointInTime (or adopts the instance an earlier run of the same restore made), waits until
 *      available, sets the master password to the secret's and applies the settings the restore APIs do not take, as `up` would;
 *   3. (the command confirms) pointStackAt: state records the new instance as data.database.instance and its log group as
 *      data.log-group.rds, the old ones as retired, the credentials secret's host follows, and so do the outputs.
 * `--retire-old` later deletes retired instances and their log groups through the resources' destroy.
 */
export type RestoreSource = { kind: "snapshot"; snapshotId: string } | { kind: "time"; at: Date };

export interface RestorePlan {
  source: RestoreSource;
  /** The instance the stack uses now: kept and never modified. */
  current: { identifier: string; record: ResourceRecord };
  /** The snapshot's creation time, or the --to-time: the data the new instance holds. */
  restorePoint: Date;
  /** GiB the source holds (the snapshot's, or the current instance's): the new instance has at least as much. */
  sourceStorage: number;
  /** `<identifier>-r<yyyymmddhhmmss>` of the restore point. */
  target: string;
  /** The stack's instance spec, with the target identifier. */
  spec: DbInstanceSpec;
  /** An instance of ours already named `target` (an earlier run of this restore): waited for and adopted, not restored again. */
  existing?: DbInstanceAttrs;
  /**
   * The stack's RDS log group, named for `target` (absent when the stack has none): `existing` is the group of that name
   * an earlier run made (or RDS made for that run's instance), reconciled rather than created again.
   */
  logGroup?: { spec: LogGroupSpec; existing?: LogGroupAttrs };
  /** Worth saying before the restore starts (a snapshot of another instance). */
  notes: string[];
  /** The stack, for the connection fields and the outputs that follow the instance. */
  stack: Stack;
}

/** Restores from snapshots take minutes for small databases and longer as they grow (data is loaded lazily after). */
const RESTORE_WAIT_SECONDS = 90 * 60;
/** How often the wait says it is still waiting (real-world seconds, scaled like every wait). */
const PROGRESS_EVERY_SECONDS = 60;
/** RDS's own waiter polls up to every 30 minutes by default; a minute apart is enough to see progress. */
const MAX_POLL_SECONDS = 60;

/** `data.database.retired.<identifier>`: where state keeps an instance a restore replaced. */
export function retiredLogicalId(identifier: string): string {
  return `data.database.retired.${identifier}`;
}

/** `data.log-group.rds.retired.<identifier>`: where state keeps the log group of an instance a restore replaced. */
export function retiredLogGroupLogicalId(identifier: string): string {
  return `data.log-group.rds.retired.${identifier}`;
}

/** The resources state keeps as retired that served as `from`, in the order they were retired. */
function retiredAs(state: StateDocument, from: string): [string, ResourceRecord][] {
  return Object.entries(state.resources)
    .filter(([, r]) => r.retired?.from === from)
    .sort(([, a], [, b]) => a.retired!.at.localeCompare(b.retired!.at));
}

/** The database instances state keeps as retired, in the order they were retired. */
export function retiredDatabases(state: StateDocument): [string, ResourceRecord][] {
  return retiredAs(state, dbIds.instance);
}

/** The name of the log group state keeps retired next to the retired instance `identifier`, if it keeps one. */
export function retiredLogGroupOf(state: StateDocument, identifier: string): string | undefined {
  return state.resources[retiredLogGroupLogicalId(identifier)]?.physicalId;
}

/** The RDS log groups state keeps as retired (each next to its retired instance), in the order they were retired. */
export function retiredLogGroups(state: StateDocument): [string, ResourceRecord][] {
  return retiredAs(state, storageIds.rdsLogGroup);
}

/** "snapshot X" or "<time> (point in time)", for messages. */
export function describeSource(source: RestoreSource): string {
  return source.kind === "snapshot" ? `snapshot ${source.snapshotId}` : `${source.at.toISOString()} (point in time)`;
}

// ---------------------------------------------------------------------------------------------------------------
// Finders

async function findInstance(ctx: ResourceContext, identifier: string): Promise<DBInstance | undefined> {
  const out = await orUndefined(rdsClient(ctx).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier })));
  return single(out?.DBInstances, `DB instances with identifier ${identifier}`);
}

/** The restore window of an instance's active automated backup; undefined while it has none. */
async function restoreWindow(ctx: ResourceContext, identifier: string): Promise<RestoreWindow | undefined> {
  try {
    const out = await rdsClient(ctx).send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: identifier }));
    return (out.DBInstanceAutomatedBackups ?? []).find((b) => b.Status === "active")?.RestoreWindow;
  } catch (err) {
    if (hasCode(err, "DBInstanceAutomatedBackupNotFoundFault", "DBInstanceAutomatedBackupNotFound")) return undefined;
    throw err;
  }
}

/** A snapshot by identifier (manual, or automated as "rds:..."); undefined when there is none. */
export async function findSnapshot(ctx: ResourceContext, snapshotId: string): Promise<DBSnapshot | undefined> {
  try {
    const out = await rdsClient(ctx).send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
    return single(out.DBSnapshots, `DB snapshots with identifier ${snapshotId}`);
  } catch (err) {
    if (hasCode(err, "DBSnapshotNotFoundFault", "DBSnapshotNotFound")) return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Plan: read only

/**
 * Checks the restore can be done and what it will make, reading only: the current instance, the source, the stack's
 * spec for the instance (subnet group, security group, parameter group from state) and the credentials secret.
 */
export async function planRestore(ctx: ResourceContext, state: StateDocument, config: Config, source: RestoreSource): Promise<RestorePlan> {
  const env = config.environment;
  const record = state.resources[dbIds.instance];
  const currentId = record?.attributes.identifier as string | undefined;
  if (!record || !currentId) throw new UserError(`${env} has no database in its state; db restore replaces the database of an environment that is up (run platform up --env ${env} first)`);
  const current = await readOrFail(currentId, () => findInstance(ctx, currentId));
  if (!current) throw new UserError(`${env}'s database ${currentId} no longer exists in AWS; run platform status --env ${env} to see what is missing`);

  const stack = buildStack(config, await gatherFacts(ctx, state));
  const spec = stackInstanceSpec(stack, state, env);
  const notes: string[] = [];
  const { restorePoint, sourceStorage } =
    source.kind === "snapshot"
      ? await checkSnapshot(ctx, state, config, spec, source.snapshotId, notes)
      : { restorePoint: await checkPointInTime(ctx, current, source.at, env), sourceStorage: current.AllocatedStorage ?? 0 };
  const target = restoredDatabaseIdentifier(config, restorePoint);
  if (target === currentId) throw new UserError(`${env} already uses ${target}, restored from this ${source.kind === "snapshot" ? "snapshot" : "point in time"}; nothing to do`);
  // An instance of that name that already served (now retired) holds what was written since, not the restore point.
  const served = state.resources[retiredLogicalId(target)];
  if (served?.retired) {
    throw new UserError(
      `${target} was restored from this ${source.kind === "snapshot" ? "snapshot" : "point in time"} before and served ${env} until ${served.retired.at.slice(0, 10)}: it holds what was written since, not the restore point; delete it first (platform db restore --env ${env} --retire-old), then run again`,
    );
  }
  const existing = await adoptable(ctx, target);
  const logGroup = await planLogGroup(ctx, stack, target, existing);
  // The password the new instance gets: read and checked now, so a bad secret stops the restore before it starts.
  await masterPassword(ctx, spec);
  return { source, current: { identifier: currentId, record }, restorePoint, sourceStorage, target, spec: { ...spec, identifier: target }, existing, logGroup, notes, stack };
}

async function readOrFail<T>(identifier: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw awsFailure(`reading RDS DB instance (${identifier})`, err);
  }
}

/** The stack's spec for data.database.instance, resolved against what state records (as `up` would resolve it). */
function stackInstanceSpec(stack: Stack, state: StateDocument, env: string): DbInstanceSpec {
  const node = stack.nodes.find((n) => n.logicalId === dbIds.instance);
  if (!node) throw new UserError(`${env}'s config has no database`);
  const spec = resolveSpec<DbInstanceSpec>(node.spec as never, (id) => state.resources[id]?.attributes);
  if (containsUnknown(spec)) {
    throw new UserError(`${env} is not fully up (state lacks the database's subnet group, parameter group, security group or secret); run platform up --env ${env} first`);
  }
  return spec;
}

/** The snapshot exists, is available, PostgreSQL of the stack's major version, encrypted, with the stack's master user. */
async function checkSnapshot(
  ctx: ResourceContext,
  state: StateDocument,
  config: Config,
  spec: DbInstanceSpec,
  snapshotId: string,
  notes: string[],
): Promise<{ restorePoint: Date; sourceStorage: number }> {
  const env = config.environment;
  let snapshot: DBSnapshot | undefined;
  try {
    snapshot = await findSnapshot(ctx, snapshotId);
  } catch (err) {
    throw awsFailure(`reading RDS DB snapshot (${snapshotId})`, err);
  }
  if (!snapshot) throw new UserError(`--snapshot ${snapshotId}: no such snapshot in ${config.region}; list them with platform db snapshots --env ${env}`);
  if (snapshot.Engine !== "postgres") throw new UserError(`--snapshot ${snapshotId} is a snapshot of ${snapshot.Engine ?? "another engine"}, not PostgreSQL; pick one of platform db snapshots --env ${env}`);
  if (snapshot.Status !== "available" || !snapshot.SnapshotCreateTime) throw new UserError(`--snapshot ${snapshotId} is ${snapshot.Status ?? "not ready"}; wait until it is available and run again`);
  if (!snapshot.Encrypted) {
    throw new UserError(`--snapshot ${snapshotId} is not encrypted, and the platform keeps clinical data encrypted at rest; copy it with encryption (aws rds copy-db-snapshot --kms-key-id ...) and restore the copy`);
  }
  const family = postgresFamily(snapshot.EngineVersion ?? "");
  if (family !== postgresFamily(spec.engineVersion)) {
    throw new UserError(`--snapshot ${snapshotId} is PostgreSQL ${snapshot.EngineVersion}, but ${env}'s database is PostgreSQL ${spec.engineVersion} (parameter group family ${postgresFamily(spec.engineVersion)}); restore a snapshot of the same major version`);
  }
  if (snapshot.MasterUsername && snapshot.MasterUsername !== spec.masterUsername) {
    throw new UserError(`--snapshot ${snapshotId} has master user ${snapshot.MasterUsername}, but database.username is ${spec.masterUsername}; restore a snapshot of this environment's database`);
  }
  const of = snapshot.DBInstanceIdentifier ?? "";
  const ours = servingDatabaseIdentifier(config, of) === of || retiredDatabases(state).some(([, r]) => r.physicalId === of);
  if (!ours) notes.push(`snapshot ${snapshotId} is of instance ${of}, not of ${env}'s database; restoring it anyway (PostgreSQL, available, encrypted)`);
  return { restorePoint: new Date(snapshot.SnapshotCreateTime), sourceStorage: snapshot.AllocatedStorage ?? 0 };
}

/**
 * The time lies in the current instance's restore window. DescribeDBInstances gives only its LatestRestorableTime; the
 * earliest time is its active automated backup's RestoreWindow (DescribeDBInstanceAutomatedBackups).
 */
async function checkPointInTime(ctx: ResourceContext, current: DBInstance, at: Date, env: string): Promise<Date> {
  const id = current.DBInstanceIdentifier!;
  if (!current.BackupRetentionPeriod) {
    throw new UserError(`--to-time: ${id} keeps no automated backups (database.backupRetentionDays is 0), so it cannot be restored to a point in time; restore a snapshot instead`);
  }
  if (!current.StorageEncrypted) throw new UserError(`--to-time: ${id} is not encrypted, and the platform keeps clinical data encrypted at rest; it does not restore it`);
  const window = await readOrFail(id, () => restoreWindow(ctx, id));
  const earliest = window?.EarliestTime && new Date(window.EarliestTime);
  const latestTime = window?.LatestTime ?? current.LatestRestorableTime;
  const latest = latestTime && new Date(latestTime);
  if (!earliest || !latest) throw new UserError(`--to-time: ${id} has no restorable time yet (its first backup is not done); try again later or restore a snapshot`);
  if (at < earliest || at > latest) {
    throw new UserError(`--to-time ${at.toISOString()} is outside ${env}'s restorable window, ${earliest.toISOString()} to ${latest.toISOString()}; pick a time inside it`);
  }
  return at;
}

/**
 * The stack's RDS log group spec (its retention and tags) named for `target`, and the group already of that name: ours
 * (an earlier run of this restore made it) is reconciled; an untagged one is claimed only when `target` is our instance
 * from an earlier run (RDS created it on that instance's first export); anyone else's stops the restore.
 */
async function planLogGroup(ctx: ResourceContext, stack: Stack, target: string, instance: DbInstanceAttrs | undefined): Promise<RestorePlan["logGroup"]> {
  const node = stack.nodes.find((n) => n.logicalId === storageIds.rdsLogGroup);
  if (!node) return undefined;
  const spec: LogGroupSpec = { ...resolveSpec<LogGroupSpec>(node.spec as never, () => undefined), name: rdsLogGroupName(target) };
  let existing: LogGroupAttrs | undefined;
  try {
    existing = await findLogGroupByName(ctx, spec.name);
  } catch (err) {
    throw awsFailure(`reading CloudWatch Logs log group (${spec.name})`, err);
  }
  if (!existing || isOurs(existing.tags, ctx.identity, storageIds.rdsLogGroup)) return { spec, existing };
  if (instance && !Object.keys(existing.tags).length) {
    ctx.note(storageIds.rdsLogGroup, `${spec.name} was created by RDS for ${target}: it gets the stack's tags and retention`);
    return { spec, existing };
  }
  throw new UserError(
    `a log group named ${spec.name}, where ${target} would export its PostgreSQL log, exists and is not tagged as this environment's; delete it (aws logs delete-log-group --log-group-name ${spec.name}) if nothing in it is needed, then run again`,
  );
}

/** An instance already named `target`: ours (an earlier run of the same restore) is adopted; anyone else's stops the restore. */
async function adoptable(ctx: ResourceContext, target: string): Promise<DbInstanceAttrs | undefined> {
  const found = await readOrFail(target, () => findInstance(ctx, target));
  if (!found) return undefined;
  if (!isOurs(tagRecord(found.TagList), ctx.identity, dbIds.instance)) {
    throw new UserError(`an RDS instance named ${target} exists and is not tagged as this environment's database; delete or rename it, then run again`);
  }
  if (found.DBInstanceStatus === "deleting") throw new UserError(`${target}, restored from the same point earlier, is being deleted; wait until it is gone and run again`);
  return findDbInstanceById(ctx, target);
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Restore: the new instance only

/** The restore request's settings from the stack's spec; encryption comes from the source and cannot be asked for. */
function restoreSettings(spec: DbInstanceSpec, sourceStorage: number) {
  return {
    DBInstanceClass: spec.instanceClass,
    DBSubnetGroupName: spec.dbSubnetGroupName,
    VpcSecurityGroupIds: spec.vpcSecurityGroupIds,
    DBParameterGroupName: spec.parameterGroupName,
    StorageType: STORAGE_TYPE,
    // Storage can grow at restore time, never shrink below the source's.
    ...(spec.allocatedStorage > sourceStorage ? { AllocatedStorage: spec.allocatedStorage } : {}),
    MultiAZ: spec.multiAz,
    PubliclyAccessible: false,
    AutoMinorVersionUpgrade: spec.autoMinorVersionUpgrade,
    DeletionProtection: spec.deletionProtection,
    BackupRetentionPeriod: spec.backupRetentionDays,
    ...(spec.preferredBackupWindow ? { PreferredBackupWindow: spec.preferredBackupWindow } : {}),
    EnableCloudwatchLogsExports: spec.cloudwatchLogsExports,
    // As CreateDBInstance: snapshots keep the instance's tags.
    CopyTagsToSnapshot: spec.copyTagsToSnapshot,
    EnableIAMDatabaseAuthentication: spec.iamDatabaseAuthentication,
    Tags: tagList(spec.tags),
  } satisfies Partial<RestoreDBInstanceFromDBSnapshotCommandInput>;
}

/** What a restore made: the new instance, and the log group it exports its PostgreSQL log to. */
export interface Restored {
  instance: DbInstanceAttrs;
  /** Absent when the stack has no RDS log group. */
  logGroup?: LogGroupAttrs;
}

/**
 * Creates the new instance's log group first (so RDS exports into ours), then makes the new instance (or adopts the one
 * an earlier run made), waits until it is available, sets its master password to the credentials secret's (a snapshot
 * carries the password of its time), then applies what the restore APIs do not take (maintenance window, Performance
 * Insights, enhanced monitoring, storage autoscaling) through the resource's own update, exactly as `up` would.
 * Returns both as read back.
 */
export async function restoreInstance(ctx: ResourceContext, plan: RestorePlan): Promise<Restored> {
  const { spec, target } = plan;
  const group = plan.logGroup && (await ensureLogGroup(ctx, plan, plan.logGroup));
  if (!plan.existing) await sendRestore(ctx, plan);
  await waitRestored(ctx, plan);
  await setMasterPassword(ctx, spec);
  const restored = await readBack(ctx, target);
  const changes = dbInstance.diff(spec, restored);
  const replacing = changes.filter((c) => c.action === "replace").map((c) => c.field);
  if (replacing.length) {
    throw new RunFailure(`${target} differs from the stack in ${replacing.join(", ")}, which cannot change in place, so the stack is not pointed at it; delete it (aws rds delete-db-instance --db-instance-identifier ${target} --skip-final-snapshot) and restore a snapshot of this environment's database`);
  }
  const withGroup = (instance: DbInstanceAttrs): Restored => ({ instance, ...(group ? { logGroup: group } : {}) });
  if (!changes.length) return withGroup(restored);
  ctx.note(dbIds.instance, `applying the stack's settings the restore does not take: ${changes.map((c) => c.field).join(", ")}`);
  try {
    return withGroup(await dbInstance.update!(ctx, spec, restored, changes));
  } catch (err) {
    throw err instanceof UserError ? err : awsFailure(`applying the stack's settings to RDS DB instance (${target})`, err);
  }
}

/**
 * The new instance's log group, as the stack would make it: created with its tags, then its retention (CreateLogGroup
 * takes none); or, when planRestore found it, given whatever retention and tags it lacks. Idempotent on a rerun.
 */
async function ensureLogGroup(ctx: ResourceContext, plan: RestorePlan, group: NonNullable<RestorePlan["logGroup"]>): Promise<LogGroupAttrs> {
  const { spec, existing } = group;
  try {
    if (!existing) {
      ctx.note(storageIds.rdsLogGroup, `creating log group ${spec.name} for ${plan.target}'s PostgreSQL log (kept ${spec.retentionDays} days)`);
      return await logGroup.create(ctx, spec, { logicalId: storageIds.rdsLogGroup });
    }
    const changes = logGroup.diff(spec, existing);
    if (!changes.length) return existing;
    ctx.note(storageIds.rdsLogGroup, `updating log group ${spec.name}: ${changes.map((c) => c.field).join(", ")}`);
    return await logGroup.update!(ctx, spec, existing, changes);
  } catch (err) {
    throw awsFailure(`creating CloudWatch Logs log group (${spec.name}) for ${plan.target}'s PostgreSQL log, before the restore; the stack still uses ${plan.current.identifier}`, err);
  }
}

async function sendRestore(ctx: ResourceContext, plan: RestorePlan): Promise<void> {
  const { source, spec, target } = plan;
  const rds = rdsClient(ctx);
  try {
    if (source.kind === "snapshot") {
      await rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ DBInstanceIdentifier: target, DBSnapshotIdentifier: source.snapshotId, ...restoreSettings(spec, plan.sourceStorage) }));
    } else {
      await rds.send(
        new RestoreDBInstanceToPointInTimeCommand({
          SourceDBInstanceIdentifier: plan.current.identifier,
          TargetDBInstanceIdentifier: target,
          RestoreTime: source.at,
          ...restoreSettings(spec, plan.sourceStorage),
          // Unlike the snapshot restore, the point-in-time restore takes the storage autoscaling ceiling.
          ...(spec.maxAllocatedStorage !== undefined ? { MaxAllocatedStorage: spec.maxAllocatedStorage } : {}),
        }),
      );
    }
  } catch (err) {
    // A run that died between the request and the wait: the instance is there, ours by its tags; the wait adopts it.
    if (hasCode(err, "DBInstanceAlreadyExistsFault", "DBInstanceAlreadyExists") && (await adoptable(ctx, target))) return;
    throw awsFailure(`restoring RDS DB instance (${target}) from ${describeSource(source)}`, err);
  }
}

async function waitRestored(ctx: ResourceContext, plan: RestorePlan): Promise<void> {
  const { target } = plan;
  const rds = rdsClient(ctx);
  const message = plan.existing ? `found ${target} from an earlier run of this restore: waiting until it is available` : `restoring ${target}: waiting until it is available (small databases take 10–30 minutes)`;
  ctx.note(dbIds.instance, message);
  const options = waiterOptions(ctx, rds, RESTORE_WAIT_SECONDS);
  try {
    await withHeartbeat(
      PROGRESS_EVERY_SECONDS * 1000 * ctx.waits.scale,
      (ms) => ctx.note(dbIds.instance, `still restoring ${target} (${Math.floor(ms / 60_000)} min so far)`),
      () => waitUntilDBInstanceAvailable({ ...options, maxDelay: Math.max(options.minDelay, Math.min(MAX_POLL_SECONDS, MAX_POLL_SECONDS * ctx.waits.scale), ctx.waits.maxDelay) }, { DBInstanceIdentifier: target }),
    );
  } catch (err) {
    // Ctrl-C: the restore goes on in AWS; the command says so (a rerun adopts the instance).
    if (ctx.signal?.aborted) throw err;
    const status = (await findInstance(ctx, target).catch(() => undefined))?.DBInstanceStatus ?? "gone";
    const timedOut = (err as Error)?.name === "TimeoutError";
    const cause = timedOut
      ? new WaitTimeout(`RDS DB instance ${target} to be available`, RESTORE_WAIT_SECONDS, status, "run the same command again to keep waiting")
      : new WaitFailed(`RDS DB instance ${target}`, `status ${status}; delete it (aws rds delete-db-instance --db-instance-identifier ${target} --skip-final-snapshot) and restore again`);
    throw awsFailure(`waiting for RDS DB instance (${target}) restored from ${describeSource(plan.source)} to be available; the stack still uses ${plan.current.identifier}`, cause);
  }
}

/** The credentials secret's password becomes the restored instance's master password (never printed or recorded). */
async function setMasterPassword(ctx: ResourceContext, spec: DbInstanceSpec): Promise<void> {
  const password = await masterPassword(ctx, spec);
  ctx.note(dbIds.instance, `setting ${spec.identifier}'s master password to the one in the credentials secret`);
  try {
    await rdsClient(ctx).send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: spec.identifier, MasterUserPassword: password, ApplyImmediately: true }));
  } catch (err) {
    throw awsFailure(`setting the master password of RDS DB instance (${spec.identifier}) from the credentials secret`, err);
  }
  await waitForMasterPassword(ctx, spec.identifier);
}

async function readBack(ctx: ResourceContext, identifier: string): Promise<DbInstanceAttrs> {
  const found = await readOrFail(identifier, () => findDbInstanceById(ctx, identifier));
  if (!found) throw new RunFailure(`RDS DB instance ${identifier} disappeared while it was being restored; run again`);
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Point the stack at it

export interface Repointed {
  /** The logical id the replaced instance is kept under. */
  retiredId: string;
  /** The logical id the replaced instance's log group is kept under, when state recorded one. */
  retiredLogGroupId?: string;
  /** The outputs that changed (db_endpoint, db_port, db_identifier). */
  outputs: Record<string, unknown>;
}

/**
 * State records the restored instance as data.database.instance and its log group as data.log-group.rds, and the replaced
 * ones as retired, the old instance depending on its old log group as it did (one write, so a crash leaves either the old
 * pointers or the new ones); then the credentials secret's host and port follow (merged into its JSON: the password is
 * never read back out), and the outputs. A crash after the first write leaves the secret for the next `up`, whose
 * connection fields then differ.
 */
export async function pointStackAt(ctx: ResourceContext, store: StateStore, plan: RestorePlan, { instance: restored, logGroup: group }: Restored): Promise<Repointed> {
  const doc = store.document;
  const previous = plan.current.record;
  const previousGroup = doc.resources[storageIds.rdsLogGroup];
  const at = new Date().toISOString();
  const retiredId = retiredLogicalId(plan.current.identifier);
  const retiredGroupId = group && previousGroup && previousGroup.physicalId !== group.name ? retiredLogGroupLogicalId(plan.current.identifier) : undefined;
  const retiredDependsOn = previous.dependsOn.map((id) => (id === storageIds.rdsLogGroup && retiredGroupId ? retiredGroupId : id));
  doc.resources[retiredId] = { ...previous, dependsOn: retiredDependsOn, retired: { from: dbIds.instance, replacedBy: restored.identifier, at }, updatedAt: at };
  doc.resources[dbIds.instance] = {
    type: dbInstance.type,
    physicalId: dbInstance.physicalId(restored),
    attributes: restored as unknown as Record<string, unknown>,
    dependsOn: previous.dependsOn,
    createdAt: at,
    updatedAt: at,
  };
  if (group) {
    // The old group holds the old instance's logs: kept with it (never deleted here or by `up`), until --retire-old or down.
    if (retiredGroupId) doc.resources[retiredGroupId] = { ...previousGroup!, retired: { from: storageIds.rdsLogGroup, replacedBy: group.name, at }, updatedAt: at };
    doc.resources[storageIds.rdsLogGroup] = {
      type: logGroup.type,
      physicalId: logGroup.physicalId(group),
      attributes: group as unknown as Record<string, unknown>,
      dependsOn: previousGroup?.dependsOn ?? [],
      createdAt: at,
      updatedAt: at,
    };
  }
  await store.persist();

  const attrs = new Map<string, Record<string, unknown>>([[dbIds.instance, restored as unknown as Record<string, unknown>]]);
  const connection = plan.stack.nodes.find((n) => n.logicalId === secretIds.databaseConnection);
  if (connection) {
    const spec = resolveSpec<SecretFieldsSpec>(connection.spec as never, (id) => attrs.get(id) ?? doc.resources[id]?.attributes);
    ctx.note(secretIds.databaseConnection, `pointing the credentials secret's host at ${restored.endpointAddress}`);
    let fields;
    try {
      fields = await secretFields.create(ctx, spec, { logicalId: secretIds.databaseConnection }); // merges the fields; idempotent
    } catch (err) {
      throw awsFailure(`updating the host in the database credentials secret (${spec.secretArn}); state already points at ${restored.identifier}, and platform up --env ${ctx.identity.environment} retries it`, err);
    }
    const record = doc.resources[secretIds.databaseConnection];
    if (record) doc.resources[secretIds.databaseConnection] = { ...record, attributes: fields as unknown as Record<string, unknown>, updatedAt: at };
  }
  const outputs = resolveOutputs(Object.fromEntries(Object.entries(plan.stack.outputs).filter(([, r]) => r.logicalId === dbIds.instance)), attrs);
  doc.outputs = { ...doc.outputs, ...outputs };
  await store.persist();
  return { retiredId, ...(retiredGroupId ? { retiredLogGroupId: retiredGroupId } : {}), outputs };
}
