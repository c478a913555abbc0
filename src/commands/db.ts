import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, paginateDescribeDBSnapshots, type DBSnapshot, waitUntilDBSnapshotAvailable } from "@aws-sdk/client-rds";
import { awsFailure, hasCode } from "../aws/errors.js";
import { standardTags, tagList } from "../aws/tags.js";
import { UserError } from "../errors.js";
import { rdsClient } from "../resources/rds-tags.js";
import { waiterOptions } from "../resources/types.js";
import { withHeartbeat } from "../run/wait-for.js";
import { configuredDatabaseIdentifier, DATABASE_CLASSIFICATION, dbIds } from "../stack/database.js";
import type { StateDocument } from "../state/document.js";
import { openEnvironment, type CommandContext } from "./runtime.js";

export interface DbSnapshotFlags {
  name?: string;
}

/** The logical id manual snapshots are tagged with (they are not stack resources: `down` leaves them). */
export const MANUAL_SNAPSHOT_ID = "data.database.snapshot";
/** Manual snapshots of a 20–100 GiB instance take minutes; large ones longer. */
const SNAPSHOT_WAIT_SECONDS = 60 * 60;
const PROGRESS_EVERY_SECONDS = 30;
/** RDS snapshot identifiers: 1–255 letters, digits and single hyphens, starting with a letter, not ending with a hyphen. */
const SNAPSHOT_ID = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}$/;

/** `<identifier>-manual-<yyyymmddhhmm>` in UTC. */
export function manualSnapshotId(identifier: string, at: Date): string {
  return `${identifier}-manual-${at.toISOString().replace(/\D/g, "").slice(0, 12)}`;
}

function databaseIdentifier(state: StateDocument, environment: string): string {
  const id = state.resources[dbIds.instance]?.attributes.identifier as string | undefined;
  if (!id) throw new UserError(`${environment} has no database in its state; run platform up --env ${environment} first`);
  return id;
}

/**
 * `platform db snapshot [--name ID]`: a manual snapshot of the environment's database, tagged like the stack's
 * resources (logical id data.database.snapshot), waited for with a progress line every 30 s. `down` never deletes it.
 */
export async function dbSnapshotCommand(cc: CommandContext, flags: DbSnapshotFlags): Promise<number> {
  if (flags.name !== undefined && (!SNAPSHOT_ID.test(flags.name) || flags.name.endsWith("-"))) {
    throw new UserError(`--name ${flags.name}: a snapshot identifier is 1–255 letters, digits and hyphens, starting with a letter, without "--" or a trailing hyphen`);
  }
  const env = await openEnvironment(cc, { command: "db snapshot", lock: false });
  try {
    const identifier = databaseIdentifier(env.store.document, env.config.environment);
    const snapshotId = flags.name ?? manualSnapshotId(identifier, new Date());
    const rds = rdsClient(env.ctx);
    // Tags given to CreateDBSnapshot replace the instance's (CopyTagsToSnapshot copies only when none are given): the
    // snapshot holds the database's clinical records, so it is classified as the instance is.
    const tags = { ...standardTags(env.ctx.identity, MANUAL_SNAPSHOT_ID, env.config.tags), DataClassification: DATABASE_CLASSIFICATION };
    cc.say(`Taking snapshot ${snapshotId} of ${identifier}`);
    try {
      await rds.send(new CreateDBSnapshotCommand({ DBSnapshotIdentifier: snapshotId, DBInstanceIdentifier: identifier, Tags: tagList(tags) }));
    } catch (err) {
      if (hasCode(err, "DBSnapshotAlreadyExistsFault", "DBSnapshotAlreadyExists")) throw new UserError(`snapshot ${snapshotId} already exists; pass another --name`);
      throw awsFailure(`creating RDS DB snapshot (${snapshotId}) of ${identifier}`, err);
    }
    try {
      await withHeartbeat(
        PROGRESS_EVERY_SECONDS * 1000 * env.ctx.waits.scale,
        (ms) => cc.say(`  still creating ${snapshotId} (${Math.round(ms / 1000)} s so far)`),
        () => waitUntilDBSnapshotAvailable(waiterOptions(env.ctx, rds, SNAPSHOT_WAIT_SECONDS), { DBSnapshotIdentifier: snapshotId }),
      );
    } catch (err) {
      throw awsFailure(`waiting for RDS DB snapshot (${snapshotId}) to be available`, err);
    }
    const snapshot = (await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }))).DBSnapshots?.[0];
    if (cc.opts.json) cc.json({ environment: env.config.environment, snapshot: snapshotRow(snapshot!, identifier) });
    cc.say(`✔ snapshot ${snapshotId} is available (${snapshot?.AllocatedStorage ?? "?"} GiB)`);
    return 0;
  } finally {
    await env.close();
  }
}

/** The configured instance or one `db restore` made of it (`<configured>-r<yyyymmddhhmmss>`). */
function isEnvironmentDatabase(configured: string, identifier: string | undefined): boolean {
  return identifier === configured || Boolean(identifier?.startsWith(`${configured}-r`) && /^-r\d{14}$/.test(identifier.slice(configured.length)));
}

export interface SnapshotRow {
  id: string;
  /** manual, automated, or final (taken when the database was deleted). */
  kind: string;
  created: string | null;
  sizeGiB: number | null;
  status: string;
}

function snapshotRow(s: DBSnapshot, identifier: string): SnapshotRow {
  const final = s.SnapshotType === "manual" && s.DBSnapshotIdentifier!.startsWith(`${identifier}-final-`);
  return {
    id: s.DBSnapshotIdentifier!,
    kind: final ? "final" : s.SnapshotType ?? "",
    created: s.SnapshotCreateTime ? new Date(s.SnapshotCreateTime).toISOString() : null,
    sizeGiB: s.AllocatedStorage ?? null,
    status: s.Status ?? "",
  };
}

/** `platform db snapshots`: the database's manual, automated and final snapshots, newest first (--json: the rows). */
export async function dbSnapshotsCommand(cc: CommandContext): Promise<number> {
  const env = await openEnvironment(cc, { command: "db snapshots", lock: false });
  try {
    const name = env.config.environment;
    const recorded = env.store.document.resources[dbIds.instance]?.attributes.identifier as string | undefined;
    // After `down` state records no database: its snapshots (the final one above all) are found by the identifiers the
    // environment's instances have, the configured one and those `db restore` made (<configured>-r<time>).
    const identifier = recorded ?? configuredDatabaseIdentifier(env.config);
    const rds = rdsClient(env.ctx);
    const snapshots: DBSnapshot[] = [];
    try {
      // Without SnapshotType, DescribeDBSnapshots returns automated and manual snapshots (final ones are manual).
      for await (const out of paginateDescribeDBSnapshots({ client: rds }, recorded ? { DBInstanceIdentifier: recorded } : {})) {
        snapshots.push(...(out.DBSnapshots ?? []).filter((s) => recorded || isEnvironmentDatabase(identifier, s.DBInstanceIdentifier)));
      }
    } catch (err) {
      throw awsFailure(`listing RDS DB snapshots of ${recorded ?? `${identifier} (and its restores)`}`, err);
    }
    const rows = snapshots.map((s) => snapshotRow(s, s.DBInstanceIdentifier ?? identifier)).sort((a, b) => (b.created ?? "").localeCompare(a.created ?? ""));
    const usable = rows.find((r) => r.status === "available" && r.kind === "final") ?? rows.find((r) => r.status === "available");
    const restoreHint = recorded
      ? undefined
      : usable && `${name} has no database now (it was taken down). To restore ${usable.id}: platform up --env ${name}, then platform db restore --env ${name} --snapshot ${usable.id}`;
    if (cc.opts.json) {
      cc.json({ environment: name, database: identifier, deployed: Boolean(recorded), snapshots: rows, ...(restoreHint ? { restore: [`platform up --env ${name}`, `platform db restore --env ${name} --snapshot ${usable!.id}`] } : {}) });
      return 0;
    }
    if (!rows.length) {
      cc.say(`${identifier} has no snapshots`);
      return 0;
    }
    const width = Math.max(...rows.map((r) => r.id.length));
    cc.say(`${"SNAPSHOT".padEnd(width)}  KIND       CREATED (UTC)         SIZE     STATUS`);
    for (const r of rows) {
      cc.say(`${r.id.padEnd(width)}  ${r.kind.padEnd(9)}  ${(r.created?.slice(0, 19).replace("T", " ") ?? "-").padEnd(20)}  ${`${r.sizeGiB ?? "?"} GiB`.padEnd(7)}  ${r.status}`);
    }
    if (restoreHint) cc.say(restoreHint);
    return 0;
  } finally {
    await env.close();
  }
}
