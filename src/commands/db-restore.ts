import { applyStack, destroyResources } from "../engine/apply.js";
import { Declined, UserError } from "../errors.js";
import { registry } from "../resources/index.js";
import type { ResourceRecord } from "../state/document.js";
import { interactive } from "../ui/io.js";
import { renderApplySummary } from "../ui/plan.js";
import { createProgress } from "../ui/progress.js";
import { confirm, confirmByTyping } from "../ui/prompt.js";
import { describeSource, planRestore, pointStackAt, restoreInstance, retiredDatabases, retiredLogGroups, type RestorePlan, type RestoreSource } from "../workloads/db-restore.js";
import { isProtected } from "../config/protection.js";
import { dbIds } from "../stack/database.js";
import { dependenciesOf, type Stack } from "../stack/model.js";
import { forgetSupersededDeployments } from "../state/deployments.js";
import { endBakes } from "../state/releases.js";
import { observe } from "./observe.js";
import { engineEvents, type Environment, openEnvironment, type CommandContext } from "./runtime.js";

export interface DbRestoreFlags {
  snapshot?: string;
  toTime?: string;
  retireOld?: boolean;
  forceProd?: boolean;
}

/** Snapshot identifiers as `db snapshots` lists them: manual ones, and automated ones with their "rds:" prefix. */
const SNAPSHOT_ARG = /^(rds:)?[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}$/;
/** ISO 8601 with a date, a time to the minute at least, and a zone: a restore point must not depend on the machine's zone. */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** The instant an ISO 8601 time names; undefined unless it is one (Date alone would take February 31st as March 3rd). */
export function parseIsoTime(text: string): Date | undefined {
  const m = ISO_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const calendar = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
  const exists = calendar.getUTCFullYear() === y && calendar.getUTCMonth() === mo - 1 && calendar.getUTCDate() === d && calendar.getUTCHours() === h && calendar.getUTCMinutes() === mi && calendar.getUTCSeconds() === sec;
  return exists ? new Date(text) : undefined;
}

/** Flags → what to restore from, or "retire"; every mistake is a one-line UserError before anything is read. */
export function restoreRequest(cc: CommandContext, flags: DbRestoreFlags): RestoreSource | "retire" {
  const retireOnly = (["skipFinalSnapshot", "disableDeletionProtection"] as const).filter((k) => cc.opts[k]);
  if (flags.retireOld) {
    if (flags.snapshot !== undefined || flags.toTime !== undefined) throw new UserError("--retire-old deletes the instances earlier restores replaced; run it without --snapshot and --to-time");
    return "retire";
  }
  if (retireOnly.length || flags.forceProd) throw new UserError(`--skip-final-snapshot, --disable-deletion-protection and --force-prod go with --retire-old only`);
  if (flags.snapshot !== undefined && flags.toTime !== undefined) throw new UserError("--snapshot and --to-time: pass one of them (a snapshot, or a point in time), not both");
  if (flags.snapshot !== undefined) {
    if (!SNAPSHOT_ARG.test(flags.snapshot) || flags.snapshot.endsWith("-")) throw new UserError(`--snapshot ${flags.snapshot}: expected a snapshot identifier as platform db snapshots lists it`);
    return { kind: "snapshot", snapshotId: flags.snapshot };
  }
  if (flags.toTime !== undefined) {
    const at = parseIsoTime(flags.toTime);
    if (!at) throw new UserError(`--to-time ${flags.toTime}: expected an ISO 8601 time with its zone, such as 2026-03-01T14:30:00Z`);
    if (at.getTime() > Date.now()) throw new UserError(`--to-time ${flags.toTime} is in the future; pick a time the database has already been through`);
    return { kind: "time", at };
  }
  const env = cc.opts.env ? `--env ${cc.opts.env}` : `--config ${cc.opts.config}`;
  throw new UserError(
    `db restore needs --snapshot with a snapshot 'platform db snapshots ${env}' lists, or --to-time with a time such as ${new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, "Z")} (or --retire-old to delete instances earlier restores replaced)`,
  );
}

/**
 * `platform db restore (--snapshot ID | --to-time ISO8601)`: restores into a new instance with the stack's settings,
 * then, once confirmed, points the stack at it and keeps the old instance as retired (src/workloads/db-restore.ts).
 * `--retire-old` deletes retired instances.
 */
export async function dbRestoreCommand(cc: CommandContext, flags: DbRestoreFlags): Promise<number> {
  const request = restoreRequest(cc, flags);
  if (request === "retire") return retireOldCommand(cc, flags);
  if (!cc.opts.yes && !interactive(cc.io)) throw new UserError("not restoring: there is no terminal to confirm on; pass --yes to point the stack at the restored database");
  // Progress is the resources' notes, one line each (a restore is one long wait, not a graph of resources).
  const events = engineEvents(cc, { onEvent: (e) => (e.kind === "note" ? cc.say(`  ${e.message}`) : undefined) });
  const env = await openEnvironment(cc, { command: `db restore --env ${cc.opts.env ?? cc.opts.config}`, lock: true, events });
  try {
    const name = env.config.environment;
    const plan = await planRestore(env.ctx, env.store.document, env.config, request);
    for (const note of plan.notes) cc.say(cc.c.yellow(`note: ${note}`));
    cc.say(`Restoring ${name}'s database from ${describeSource(request)} into ${plan.target}; ${plan.current.identifier} is kept as it is`);
    const { instance: restored, logGroup } = await restoreInstance(env.ctx, plan);
    cc.say(`✔ ${restored.identifier} is available at ${restored.endpointAddress}:${restored.port}${logGroup ? `, exporting its PostgreSQL log to ${logGroup.name}` : ""}`);
    if (!(await confirmRepoint(cc, name, isProtected(env.config), plan))) {
      cc.say(declined(name, plan, flags));
      if (cc.opts.json) cc.json({ environment: name, restored: restored.identifier, endpoint: restored.endpointAddress, pointed: false, current: plan.current.identifier });
      return 1;
    }
    // Whether up has anything to do before the stack moves: if so, that is a config change nobody applied yet, and the
    // services are left to up (which shows the whole plan) rather than rolled here with it.
    const pending = await pendingChanges(cc, env);
    const { retiredId, retiredLogGroupId } = await pointStackAt(env.ctx, env.store, plan, { instance: restored, logGroup });
    cc.say(`✔ ${name} now uses ${restored.identifier}; the credentials secret's host is ${restored.endpointAddress}`);
    const keptGroup = retiredLogGroupId ? ` and its log group (${retiredLogGroupId})` : "";
    cc.say(`${plan.current.identifier} is retired (state: ${retiredId})${keptGroup} and kept, untouched: it still costs money. Delete it once you are sure with: platform db restore --env ${name} --retire-old`);
    const rolled = await rollOntoRestored(cc, env, restored.identifier, pending);
    if (cc.opts.json) cc.json({ environment: name, restored: restored.identifier, endpoint: restored.endpointAddress, pointed: true, retired: plan.current.identifier, rolled });
    return rolled === "failed" ? 1 : 0;
  } finally {
    await env.close();
  }
}

/** --yes, or a yes on the terminal; a protected environment asks for its name to be typed. */
async function confirmRepoint(cc: CommandContext, name: string, protectedEnv: boolean, plan: RestorePlan): Promise<boolean> {
  if (cc.opts.yes) return true;
  const question = `Point ${name} at ${plan.target}, retire ${plan.current.identifier} and roll the services onto ${plan.target}?`;
  if (!protectedEnv) return confirm(cc.io, question);
  return confirmByTyping(cc.io, `${question} ${name} is a protected environment: type its name to confirm:`, name);
}

/** What to do with a restored instance the user did not point the stack at. */
function declined(name: string, plan: RestorePlan, flags: DbRestoreFlags): string {
  const again = flags.snapshot !== undefined ? `--snapshot ${flags.snapshot}` : `--to-time ${flags.toTime}`;
  const protection = plan.spec.deletionProtection ? `aws rds modify-db-instance --db-instance-identifier ${plan.target} --no-deletion-protection --apply-immediately, then ` : "";
  const group = plan.logGroup?.spec.name;
  return [
    `Not confirmed: ${name} still uses ${plan.current.identifier}. ${group ? `${plan.target} and its log group ${group} stay (they cost` : `${plan.target} stays (it costs`} money until deleted). Either`,
    `  point ${name} at it:  platform db restore --env ${name} ${again}   (finds ${plan.target}; nothing is restored twice)`,
    `  or delete it:  ${protection}aws rds delete-db-instance --db-instance-identifier ${plan.target} --skip-final-snapshot${group ? `, then (once it is deleted) aws logs delete-log-group --log-group-name ${group}` : ""}`,
  ].join("\n");
}

/**
 * `db restore --retire-old`: deletes the retired instances (final snapshot unless --skip-final-snapshot) and their retired
 * log groups (each instance before the group it exports to, as state's dependsOn says) and forgets them.
 */
async function retireOldCommand(cc: CommandContext, flags: DbRestoreFlags): Promise<number> {
  const progress = createProgress(cc.io, cc.c, { live: Boolean(cc.io.stdout.isTTY) && !cc.opts.json, quiet: cc.opts.json });
  const events = engineEvents(cc, progress);
  const env = await openEnvironment(cc, { command: `db restore --retire-old --env ${cc.opts.env ?? cc.opts.config}`, lock: true, events });
  try {
    const name = env.config.environment;
    const retired = retiredDatabases(env.store.document);
    const retiredGroups = retiredLogGroups(env.store.document);
    if (!retired.length && !retiredGroups.length) {
      cc.say(`${name} has no retired database instances; nothing to delete`);
      if (cc.opts.json) cc.json({ environment: name, deleted: [] });
      return 0;
    }
    const protectedOnes = retired.filter(([, r]) => r.attributes.deletionProtection === true).map(([, r]) => r.physicalId);
    if (protectedOnes.length && !cc.opts.disableDeletionProtection) {
      throw new UserError(`${protectedOnes.join(", ")} ha${protectedOnes.length > 1 ? "ve" : "s"} deletion protection on; nothing was deleted. Run again with --disable-deletion-protection to turn it off and delete`);
    }
    await confirmRetire(cc, name, isProtected(env.config), flags, retired, retiredGroups);
    const results = await destroyResources(
      // Only the edges among these count: the retired instances' other dependencies serve the stack still.
      [...retired, ...retiredGroups].map(([logicalId, r]) => ({ logicalId, type: r.type, dependsOn: r.dependsOn })),
      env.store,
      registry,
      env.ctx,
      { concurrency: cc.concurrency(), signal: cc.main.signal, events },
    );
    progress.stop();
    cc.say(renderApplySummary({ resources: results }, cc.c, "Destroy", { verbose: cc.opts.verbose, interrupted: cc.main.signal?.aborted }));
    const ok = results.every((r) => r.status === "done");
    if (cc.opts.json) cc.json({ environment: name, ok, deleted: results.filter((r) => r.status === "done").map((r) => r.logicalId), resources: results });
    return ok ? 0 : 1;
  } finally {
    progress.stop();
    await env.close();
  }
}

/** As `down`: --yes (protected: --yes --force-prod), or a yes on the terminal (protected: its name typed). */
async function confirmRetire(cc: CommandContext, name: string, protectedEnv: boolean, flags: DbRestoreFlags, retired: [string, ResourceRecord][], groups: [string, ResourceRecord][]): Promise<void> {
  const isProd = protectedEnv;
  if (cc.opts.yes && (!isProd || flags.forceProd)) return;
  if (isProd && cc.opts.yes) throw new UserError(`${name} is a protected environment: pass --yes --force-prod to delete its retired databases without typing its name`);
  if (!interactive(cc.io)) throw new UserError(`not deleting: there is no terminal to confirm on; pass --yes${isProd ? " --force-prod" : ""} to delete ${name}'s retired databases`);
  const ids = [...retired, ...groups].map(([, r]) => r.physicalId).join(", ");
  const snapshot = !retired.length ? "and the logs they hold" : cc.opts.skipFinalSnapshot ? "without a final snapshot" : "each database with a final snapshot";
  const ok = isProd
    ? await confirmByTyping(cc.io, `This deletes ${ids} of protected environment ${name}, ${snapshot}. Type its name to confirm:`, name)
    : await confirm(cc.io, `Delete ${ids} of ${name}, ${snapshot}?`);
  if (!ok) throw new Declined("nothing was deleted");
}

/** What `up` would change right now (before the stack is pointed at the restored instance): logical ids, or unread. */
async function pendingChanges(cc: CommandContext, env: Environment): Promise<string[]> {
  const { plan } = await observe(cc, env);
  return [...plan.resources.filter((r) => r.action !== "noop").map((r) => `${r.logicalId} (${r.action})`), ...plan.errors.map((e) => `${e.logicalId} (could not be read)`)];
}

/**
 * After re-pointing: what follows the database (task definitions naming DB_HOST, their services, the alarms and the
 * dashboard) is rolled onto the restored instance now, by the same engine as `up`, when `up` had nothing to do before
 * the restore (`pending` empty) and now only updates what depends on the database. Otherwise nothing is applied here:
 * the user runs `up`, which shows the whole plan. Returns what happened.
 */
async function rollOntoRestored(cc: CommandContext, env: Environment, identifier: string, pending: string[]): Promise<"rolled" | "nothing" | "left-to-up" | "failed"> {
  const name = env.config.environment;
  const leaveToUp = (why: string) => {
    cc.say(cc.c.yellow(`not rolling the services here: ${why}. `) + `Run platform up --env ${name} to review and apply it all; until then running tasks keep the old database's host.`);
    return "left-to-up" as const;
  };
  if (pending.length) return leaveToUp(`up already had changes to make before the restore: ${pending.join(", ")}`);
  const { stack, plan } = await observe(cc, env);
  const changing = plan.resources.filter((r) => r.action !== "noop");
  if (!changing.length) return "nothing";
  const follows = dependents(stack, dbIds.instance);
  const unrelated = changing.filter((r) => r.action !== "update" || !follows.has(r.logicalId));
  if (plan.errors.length || unrelated.length) {
    return leaveToUp(`up would also change ${unrelated.map((r) => `${r.logicalId} (${r.action})`).join(", ") || "resources it could not read"}`);
  }
  cc.say(`Rolling onto ${identifier}: ${changing.map((r) => r.logicalId).join(", ")}`);
  const progress = createProgress(cc.io, cc.c, { live: Boolean(cc.io.stdout.isTTY) && !cc.opts.json, quiet: cc.opts.json });
  try {
    const result = await applyStack(stack, plan, env.store, registry, env.ctx, { concurrency: cc.concurrency(), allowReplace: false, signal: cc.main.signal, events: engineEvents(cc, progress) });
    progress.stop();
    cc.say(renderApplySummary(result, cc.c, "Apply", { verbose: cc.opts.verbose, interrupted: cc.main.signal?.aborted }));
    if (!result.ok) {
      cc.say(`the database is restored and in use; run platform up --env ${name} to finish rolling the services onto it`);
      return "failed";
    }
    // As after up: the idle slot is at 0 again, and deployments the config overrides are forgotten.
    await forgetSupersededDeployments(env.store, env.config);
    await endBakes(env.store);
    return "rolled";
  } finally {
    progress.stop();
  }
}

/** The logical ids that depend, directly or through others, on `root`. */
function dependents(stack: Stack, root: string): Set<string> {
  const found = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const node of stack.nodes) {
      if (found.has(node.logicalId)) continue;
      if (dependenciesOf(node).some((d) => d === root || found.has(d))) {
        found.add(node.logicalId);
        grew = true;
      }
    }
  }
  return found;
}
