import { isProtected } from "../config/protection.js";
import { destroyResources } from "../engine/apply.js";
import { finderChecks } from "../engine/leftovers.js";
import { awsFailure } from "../aws/errors.js";
import { findTaggedResources, sweepEnvironment } from "../aws/sweep.js";
import { Declined, UserError } from "../errors.js";
import { describeCount, estimateObjectCount } from "../resources/bucket.js";
import { registry } from "../resources/index.js";
import { opsIds } from "../stack/operations.js";
import { interactive } from "../ui/io.js";
import { renderApplySummary } from "../ui/plan.js";
import { createProgress } from "../ui/progress.js";
import { confirm, confirmByTyping } from "../ui/prompt.js";
import { renderTable } from "../ui/table.js";
import type { ResourceRecord } from "../state/document.js";
import type { PlannedResource } from "../engine/plan.js";
import { observe } from "./observe.js";
import { engineEvents, openEnvironment, type CommandContext, type Environment } from "./runtime.js";

export interface DownFlags {
  dryRun?: boolean;
  forceProd?: boolean;
}


/**
 * `platform down`: destroys what state records, dependents first; then sweeps for anything still tagged with the
 * environment. Exit 0 only when the environment is really gone.
 */
export async function downCommand(cc: CommandContext, flags: DownFlags): Promise<number> {
  const progress = createProgress(cc.io, cc.c, { live: Boolean(cc.io.stdout.isTTY) && !cc.opts.json, quiet: cc.opts.json });
  const events = engineEvents(cc, progress);
  const env = await openEnvironment(cc, { command: `down --env ${cc.opts.env ?? cc.opts.config}`, lock: !flags.dryRun, events });
  try {
    const records = Object.entries(env.store.document.resources);
    // Looked up the way up does: what a killed run made but never recorded is found by its tags or its name.
    const unrecorded = await unrecordedResources(cc, env);
    if (flags.dryRun) {
      cc.say(records.length ? `down would delete ${records.length} resources from ${env.config.environment}:` : `state records nothing for ${env.config.environment}.`);
      if (records.length) cc.say(renderTable(["RESOURCE", "TYPE", "ID"], records.map(([id, r]) => [id, r.type, r.physicalId])));
      if (unrecorded.length) {
        cc.say(`and ${unrecorded.length} resources of the stack that state does not record, found by their tags or names:`);
        cc.say(renderTable(["RESOURCE", "TYPE", "ID"], unrecorded.map((r) => [r.logicalId, r.type, r.physicalId ?? "-"])));
      }
      // Tagged as this environment's but not in state: down would leave them (it deletes only what state records).
      const recorded = recordedIds(records);
      for (const r of unrecorded) recorded.add(r.physicalId ?? "");
      const known = new Set([...Object.keys(env.store.document.resources), ...unrecorded.map((r) => r.logicalId)]);
      const untracked = (await listTagged(env)).filter((r) => !r.logicalId || !known.has(r.logicalId) || !isRecorded(r.arn, recorded));
      if (untracked.length) {
        cc.say(cc.c.yellow(`Tagged with ${env.config.project}/${env.config.environment} but not in state, so down would leave them:`));
        cc.say(renderTable(["ARN", "LOGICAL ID"], untracked.map((r) => [r.arn, r.logicalId ?? "-"])));
      }
      if (cc.opts.json) {
        cc.json({ environment: env.config.environment, dryRun: true, resources: records.map(([id, r]) => ({ logicalId: id, type: r.type, physicalId: r.physicalId })), untracked });
      }
      return 0;
    }
    if (records.length || unrecorded.length) {
      assertUnprotected(cc, [...records, ...unrecorded.map((r) => [r.logicalId, { attributes: r.actual! }] as [string, { attributes: Record<string, unknown> }])]);
      await assertAuditLogsKept(cc, env);
      await confirmDestroy(cc, env, flags, records.length + unrecorded.length);
      const results = await destroyResources(
        [
          ...records.map(([logicalId, r]) => ({ logicalId, type: r.type, dependsOn: r.dependsOn })),
          ...unrecorded.map((r) => ({ logicalId: r.logicalId, type: r.type, dependsOn: r.dependsOn, actual: r.actual })),
        ],
        env.store,
        registry,
        env.ctx,
        { concurrency: cc.concurrency(), signal: cc.main.signal, events },
      );
      progress.stop();
      cc.say(renderApplySummary({ resources: results }, cc.c, "Destroy", { verbose: cc.opts.verbose, interrupted: cc.main.signal?.aborted }));
      if (results.some((r) => r.status !== "done")) {
        if (cc.opts.json) cc.json({ environment: env.config.environment, ok: false, resources: results });
        return cc.main.signal?.aborted ? 130 : 1;
      }
      // What deploy rolled out, and which slot served it, is gone with the services.
      delete env.store.document.deployments;
      delete env.store.document.releases;
      await env.store.setOutputs({});
    } else {
      cc.say(`state records nothing for ${env.config.environment}.`);
    }
    const swept = await sweep(env, records);
    const { scheduledSecrets } = swept;
    // Database snapshots (the final one, manual ones) are kept on purpose and keep the instance's tags, so they stay
    // classified: they are reported, never counted as leftovers.
    const keptSnapshots = swept.leftovers.filter((l) => isDbSnapshotArn(l.arn));
    const leftovers = swept.leftovers.filter((l) => !isDbSnapshotArn(l.arn));
    if (keptSnapshots.length) cc.say(`Kept: ${keptSnapshots.length} database snapshot(s), tagged like the environment (platform db snapshots --env ${env.config.environment} lists them).`);
    if (leftovers.length) {
      cc.say(cc.c.yellow(`Still there, tagged with ${env.config.project}/${env.config.environment} (down deletes only what its state records):`));
      cc.say(renderTable(["RESOURCE", "LOGICAL ID"], leftovers.map((l) => [l.arn, l.logicalId ?? "-"])));
      cc.say("Delete them by hand if they are yours, or run 'platform up' to adopt them and then 'platform down' again.");
    } else {
      cc.say(`Nothing tagged with ${env.config.project}/${env.config.environment} remains.`);
    }
    if (scheduledSecrets.length) {
      cc.say(`${scheduledSecrets.length} secrets are scheduled for deletion after their recovery window; until then 'platform up' or 'platform bootstrap-secrets' restores them, and 'down --force-delete-secrets' deletes them at once.`);
    }
    if (cc.opts.json) cc.json({ environment: env.config.environment, ok: leftovers.length === 0, deleted: records.length, leftovers, scheduledSecrets });
    return leftovers.length ? 1 : 0;
  } finally {
    progress.stop();
    await env.close();
  }
}

/**
 * Resources recorded with deletion protection on (the load balancer, the database) are refused before anything is deleted,
 * so a down without --disable-deletion-protection does not tear away everything around them (listeners, services) first.
 */
function assertUnprotected(cc: CommandContext, records: [string, { attributes: Record<string, unknown> }][]): void {
  const guarded = records.filter(([, r]) => r.attributes.deletionProtection === true).map(([id]) => id);
  if (guarded.length && !cc.opts.disableDeletionProtection) {
    throw new UserError(`${guarded.join(", ")} ha${guarded.length > 1 ? "ve" : "s"} deletion protection on; nothing was deleted. Run down again with --disable-deletion-protection to turn it off and delete everything`);
  }
}

/**
 * `down --delete-data` would empty and delete the CloudTrail bucket: refused while it holds logs (every log it holds is
 * within its retention, since the lifecycle rule expires them after audit.retentionDays), unless
 * audit.allowDeletingAuditLogs. Object Lock is not used: enabling it on an existing bucket, in governance mode, would
 * still yield to anyone allowed s3:BypassGovernanceRetention and would make down fail halfway instead of up front.
 */
async function assertAuditLogsKept(cc: CommandContext, env: Environment): Promise<void> {
  const record = env.store.document.resources[opsIds.auditBucket];
  if (!cc.opts.deleteData || !record || env.config.audit.allowDeletingAuditLogs) return;
  const name = String(record.attributes.name ?? record.physicalId);
  let held;
  try {
    held = await estimateObjectCount(env.ctx, name);
  } catch (err) {
    throw awsFailure(`reading whether the audit bucket ${name} holds logs (s3:ListBucket)`, err);
  }
  if (held && held.count > 0) {
    const e = env.config.environment;
    throw new UserError(
      `${opsIds.auditBucket} (${name}) holds ${describeCount(held)} audit log file(s) inside their ${env.config.audit.retentionDays}-day retention; down --delete-data would delete them, so nothing was deleted. ` +
        `Run down without --delete-data (the audit bucket and its logs stay), or set audit.allowDeletingAuditLogs to true in config/${e}.json to give that up`,
    );
  }
}

async function confirmDestroy(cc: CommandContext, env: Environment, flags: DownFlags, count: number): Promise<void> {
  const name = env.config.environment;
  const isProd = isProtected(env.config);
  if (isProd && cc.opts.forceDeleteSecrets && !flags.forceProd) {
    throw new UserError(`${name} is a protected environment: --force-delete-secrets (no recovery window) is honoured there only together with --force-prod; nothing was deleted`);
  }
  if (cc.opts.yes && (!isProd || flags.forceProd)) return;
  if (isProd && cc.opts.yes) throw new UserError(`${name} is a protected environment: pass --yes --force-prod to destroy it without typing its name`);
  if (!interactive(cc.io)) throw new UserError(`not destroying ${name}: there is no terminal to confirm on; pass --yes${isProd ? " --force-prod" : ""} to destroy it`);
  const ok = isProd
    ? await confirmByTyping(cc.io, `This deletes ${count} resources of protected environment ${name}. Type its name to confirm:`, name)
    : await confirm(cc.io, `Delete ${count} resources of ${name}?`);
  if (!ok) throw new Declined("nothing was deleted");
}

/**
 * The stack's resources state does not record that exist and are provably this environment's: looked up as `up` looks
 * them up (by tags, or by the name or key the config gives them, ownership decided by the engine). What cannot be read
 * or is not ours is left alone; when the stack cannot be built or observed at all, down deletes what state records.
 */
async function unrecordedResources(cc: CommandContext, env: Environment): Promise<PlannedResource[]> {
  try {
    const { plan } = await observe(cc, env);
    // A secret already scheduled for deletion (an earlier down) is down's work done, not a leftover.
    return plan.resources.filter((r) => r.actual && !r.inState && !r.actual.deletedDate);
  } catch (err) {
    cc.say(cc.c.yellow(`could not look up the stack's resources that state does not record (${(err as Error).message}); deleting what state records`));
    return [];
  }
}

async function listTagged(env: Environment) {
  try {
    return await findTaggedResources(env.clients, env.ctx.identity);
  } catch (err) {
    throw awsFailure(`listing resources tagged with ${env.config.environment} (tag:GetResources)`, err);
  }
}

/**
 * What is left of the environment after down: what the tagging API lists with its tags, checked with the resources'
 * finders (src/engine/leftovers.ts). Secrets in their recovery window are reported apart: down asked for exactly that.
 */
async function sweep(env: Environment, records: [string, ResourceRecord][]) {
  let left;
  try {
    left = await sweepEnvironment(env.clients, env.ctx.identity, finderChecks(records, registry, env.ctx));
  } catch (err) {
    throw awsFailure(`listing resources still tagged with ${env.config.environment} (tag:GetResources)`, err);
  }
  const { splitScheduledSecrets } = await import("../secrets/scheduled.js");
  return splitScheduledSecrets(env.ctx, left);
}

/** An RDS DB snapshot's ARN (arn:aws:rds:REGION:ACCOUNT:snapshot:NAME). */
function isDbSnapshotArn(arn: string): boolean {
  return /^arn:aws[a-z-]*:rds:[^:]*:\d{12}:snapshot:/.test(arn);
}

/** What state records identify resources by: physical ids, ARNs, names and identifiers of every record (retired ones too). */
function recordedIds(records: [string, ResourceRecord][]): Set<string> {
  const ids = new Set<string>();
  for (const [, r] of records) {
    ids.add(r.physicalId);
    for (const key of ["arn", "name", "identifier", "id"]) if (typeof r.attributes[key] === "string") ids.add(r.attributes[key] as string);
  }
  return ids;
}

/**
 * Whether a tagged resource is one state records, by its ARN or the id inside it (`db:<identifier>`,
 * `log-group:<name>:*`, `service/<cluster>/<name>`). Exact matches only: a restored database `db restore` made but was
 * not pointed at carries the instance's logical id, yet state names another instance. A task definition's older
 * revisions are its history, recorded through the family.
 */
function isRecorded(arn: string, ids: Set<string>): boolean {
  if (/:task-definition\//.test(arn)) return true;
  const resource = arn.split(":").slice(5).join(":");
  const afterType = resource.replace(/^[^:/]+[:/]/, "");
  const candidates = [arn, resource, afterType, afterType.split("/").at(-1) ?? ""].map((c) => c.replace(/:\*$/, ""));
  return candidates.some((c) => c && ids.has(c));
}
