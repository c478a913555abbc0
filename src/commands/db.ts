import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, type DBSnapshot, waitUntilDBSnapshotAvailable } from "@aws-sdk/client-rds";
import { awsFailure, hasCode } from "../aws/errors.js";
import { standardTags, tagList } from "../aws/tags.js";
import { UserError } from "../errors.js";
import { rdsClient } from "../resources/rds-tags.js";
import { waiterOptions } from "../resources/types.js";
import { DATABASE_CLASSIFICATION, dbIds } from "../stack/database.js";
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
    const started = Date.now();
    const timer = setInterval(() => cc.say(`  still creating ${snapshotId} (${Math.round((Date.now() - started) / 1000)} s so far)`), Math.max(10, PROGRESS_EVERY_SECONDS * 1000 * env.ctx.waits.scale));
    timer.unref();
    try {
      await waitUntilDBSnapshotAvailable(waiterOptions(env.ctx, rds, SNAPSHOT_WAIT_SECONDS), { DBSnapshotIdentifier: snapshotId });
    } catch (err) {
      throw awsFailure(`waiting for RDS DB snapshot (${snapshotId}) to be available`, err);
    } finally {
      clearInterval(timer);
    }
    const snapshot = (await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }))).DBSnapshots?.[0];
    if (cc.opts.json) cc.json({ environment: env.config.environment, snapshot: snapshotRow(snapshot!, identifier) });
    cc.say(`✔ snapshot ${snapshotId} is available (${snapshot?.AllocatedStorage ?? "?"} GiB)`);
    return 0;
  } finally {
    await env.close();
  }
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
    const identifier = databaseIdentifier(env.store.document, env.config.environment);
    const rds = rdsClient(env.ctx);
    const snapshots: DBSnapshot[] = [];
    try {
      // Without SnapshotType, DescribeDBSnapshots returns automated and manual snapshots (final ones are manual).
      let Marker: string | undefined;
      do {
        const out = await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: identifier, Marker }));
        snapshots.push(...(out.DBSnapshots ?? []));
        Marker = out.Marker;
      } while (Marker);
    } catch (err) {
      throw awsFailure(`listing RDS DB snapshots of ${identifier}`, err);
    }
    const rows = snapshots.map((s) => snapshotRow(s, identifier)).sort((a, b) => (b.created ?? "").localeCompare(a.created ?? ""));
    if (cc.opts.json) {
      cc.json({ environment: env.config.environment, database: identifier, snapshots: rows });
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
    return 0;
  } finally {
    await env.close();
  }
}
