import { readFileSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { AwsClients } from "../aws/clients.js";
import { listEnvironments } from "../config/load.js";
import { bucketNameProblem, type Config } from "../config/schema.js";
import { Declined, RunFailure, UserError } from "../errors.js";
import type { StateBackend } from "../state/backend.js";
import { assertStateMatches, parseState, type StateDocument } from "../state/document.js";
import { backendFor, type BackendKind } from "../state/index.js";
import { readConfigFlag } from "../config/project.js";
import { describeLock, describeTime, newLockInfo, staleReason } from "../state/lock.js";
import { interactive } from "../ui/io.js";
import { confirm } from "../ui/prompt.js";
import { renderTable } from "../ui/table.js";
import { awsClientsFor, type CommandContext } from "./runtime.js";

/**
 * `platform state ...`, as Terraform's state commands: look at the state (list, show, pull), repair it (push, rm,
 * unlock), move it between backends (migrate), and create the S3 bucket that holds it (bootstrap).
 * Commands that write take the environment's lock first and release it however they end.
 */

async function openState(cc: CommandContext): Promise<{ config: Config; backend: StateBackend }> {
  const { config } = cc.loadConfig();
  return { config, backend: await backendFor(config, awsClientsFor(cc, config), cc.root) };
}

const envFlag = (config: Config) => `--env ${config.environment}`;

/** Runs `work` holding the backend's lock; the lock is released however `work` ends. */
async function withLock<T>(cc: CommandContext, backend: StateBackend, command: string, work: () => Promise<T>): Promise<T> {
  const lock = await backend.lock(newLockInfo(command), cc.lockTimeoutSeconds(), cc.main.signal);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

async function requireState(backend: StateBackend, config: Config): Promise<StateDocument> {
  const doc = await backend.read();
  if (!doc) throw new UserError(`there is no state at ${backend.location} yet: run 'platform up ${envFlag(config)}' first`);
  return doc;
}

/** `platform state list`: the logical ids state records, one per line (the type and id with --verbose or --json). */
export async function stateListCommand(cc: CommandContext): Promise<number> {
  const { backend } = await openState(cc);
  const doc = await backend.read();
  const records = Object.entries(doc?.resources ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (cc.opts.json) {
    cc.json(records.map(([logicalId, r]) => ({ logicalId, type: r.type, physicalId: r.physicalId })));
  } else if (!doc) {
    cc.io.stderr.write(`there is no state at ${backend.location} yet.\n`);
  } else if (cc.opts.verbose) {
    cc.say(renderTable(["RESOURCE", "TYPE", "ID"], records.map(([id, r]) => [id, r.type, r.physicalId])));
  } else {
    for (const [id] of records) cc.io.stdout.write(`${id}\n`);
  }
  return 0;
}

/** `platform state show ID`: everything state records about one resource. */
export async function stateShowCommand(cc: CommandContext, id: string): Promise<number> {
  const { config, backend } = await openState(cc);
  const doc = await requireState(backend, config);
  const record = doc.resources[id];
  if (!record) throw new UserError(`state ${backend.location} records no resource "${id}"; see 'platform state list ${envFlag(config)}'`);
  if (cc.opts.json) {
    cc.json({ logicalId: id, ...record });
    return 0;
  }
  cc.say(`# ${id}`);
  cc.say(`type        ${record.type}`);
  cc.say(`physical id ${record.physicalId}`);
  cc.say(`depends on  ${record.dependsOn.length ? record.dependsOn.join(", ") : "-"}`);
  cc.say(`created     ${record.createdAt}`);
  cc.say(`updated     ${record.updatedAt}`);
  cc.say(`attributes  ${JSON.stringify(record.attributes, null, 2).replace(/\n/g, "\n            ")}`);
  return 0;
}

/** `platform state pull`: the whole state document on stdout, as stored. */
export async function statePullCommand(cc: CommandContext): Promise<number> {
  const { config, backend } = await openState(cc);
  const doc = await requireState(backend, config);
  cc.io.stdout.write(JSON.stringify(doc, null, 2) + "\n");
  return 0;
}

/**
 * `platform state push FILE`: replaces the state with FILE, under the lock. Refuses a file of another lineage, or
 * with a lower serial than the stored state (someone wrote after it was pulled), unless --force. The stored serial
 * becomes one more than both, so every reader sees a newer state.
 */
export async function statePushCommand(cc: CommandContext, file: string, flags: { force?: boolean }): Promise<number> {
  const { config, backend } = await openState(cc);
  let text: string;
  try {
    text = readFileSync(path.resolve(cc.cwd, file), "utf8");
  } catch (err) {
    throw new UserError(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const pushed = parseState(text, file);
  assertStateMatches(pushed, { project: config.project, environment: config.environment, region: config.region }, file);
  return withLock(cc, backend, `state push ${envFlag(config)}`, async () => {
    const current = await backend.read();
    if (current && !flags.force) {
      if (current.lineage !== pushed.lineage) {
        throw new UserError(`${file} has lineage ${pushed.lineage}, but ${backend.location} has ${current.lineage}: it is another state of this environment; pass --force to replace it anyway`);
      }
      if (pushed.serial < current.serial) {
        throw new UserError(`${file} has serial ${pushed.serial}, older than serial ${current.serial} at ${backend.location}: the state changed after it was pulled; pull again and redo the edit, or pass --force`);
      }
    }
    const doc: StateDocument = { ...pushed, serial: Math.max(pushed.serial, current?.serial ?? 0) + 1 };
    await backend.write(doc);
    cc.say(`Pushed ${file} to ${backend.location} (serial ${doc.serial}, ${Object.keys(doc.resources).length} resources).`);
    return 0;
  });
}

/**
 * `platform state rm ID...`: forgets resources, under the lock. They stay in AWS; as they keep their tags, the next
 * `up` adopts them again unless they are removed from the config or retagged.
 */
export async function stateRmCommand(cc: CommandContext, ids: string[], flags: { dryRun?: boolean }): Promise<number> {
  const { config, backend } = await openState(cc);
  const forget = async () => {
    const doc = await requireState(backend, config);
    const unknown = ids.filter((id) => !(id in doc.resources));
    if (unknown.length) throw new UserError(`state ${backend.location} records no resource ${unknown.map((id) => `"${id}"`).join(", ")}; nothing was removed; see 'platform state list ${envFlag(config)}'`);
    if (flags.dryRun) {
      for (const id of ids) cc.say(`would remove ${id} (${doc.resources[id]!.type} ${doc.resources[id]!.physicalId})`);
      return 0;
    }
    for (const id of ids) delete doc.resources[id];
    doc.serial += 1;
    await backend.write(doc);
    for (const id of ids) cc.say(`Removed ${id} from ${backend.location}.`);
    cc.say(`The AWS resources were not deleted. Tagged as they are, 'platform up' adopts them again unless the config drops them.`);
    return 0;
  };
  return flags.dryRun ? forget() : withLock(cc, backend, `state rm ${envFlag(config)}`, forget);
}

/** `platform state unlock`: shows who holds the lock and removes it after confirmation (or --force). */
export async function stateUnlockCommand(cc: CommandContext, flags: { force?: boolean }): Promise<number> {
  const { backend } = await openState(cc);
  const holder = await backend.readLock();
  if (!holder) {
    cc.say(`${backend.location} is not locked.`);
    return 0;
  }
  const stale = staleReason(holder);
  cc.say(`Locked by ${describeLock(holder)}; ${stale ?? `valid until ${describeTime(holder.expiresAt)}`}.`);
  if (!flags.force) {
    if (!interactive(cc.io)) throw new UserError("not unlocking: there is no terminal to confirm on; pass --force once you are sure that run is gone");
    if (!(await confirm(cc.io, "Break this lock? Only do this if that run is no longer running."))) throw new Declined(`the lock on ${backend.location} is left in place`);
  }
  await backend.breakLock(holder);
  cc.say(`Unlocked ${backend.location}.`);
  return 0;
}

/**
 * `platform state migrate --to s3|local`: copies the state to the other backend with both locks held, reads the copy
 * back and compares it with the original, and only then removes the original. A destination that already holds another
 * state is overwritten only with --force.
 */
export async function stateMigrateCommand(cc: CommandContext, flags: { to: BackendKind; force?: boolean }): Promise<number> {
  const { config, file } = cc.loadConfig();
  const clients = awsClientsFor(cc, config);
  const source = await backendFor(config, clients, cc.root, flags.to === "s3" ? "local" : "s3");
  const target = await backendFor(config, clients, cc.root, flags.to);
  const command = `state migrate ${envFlag(config)} --to ${flags.to}`;
  const moved = await withLock(cc, source, command, () => withLock(cc, target, command, () => copyState(source, target, flags.force)));
  if (moved === "nothing") cc.say(`There is no state at ${source.location} to migrate.`);
  else cc.say(`Moved the state of ${config.environment} from ${source.location} to ${target.location} (serial ${moved.serial}); the copy was read back and matched before the original was removed.`);
  if (config.state.backend !== flags.to) {
    cc.say(cc.c.yellow(`${path.relative(cc.cwd, file) || file} still says state.backend "${config.state.backend}": set it to "${flags.to}", or platform will not find this state.`));
  }
  if (cc.opts.json) cc.json({ environment: config.environment, from: source.location, to: target.location, moved: moved !== "nothing" });
  return 0;
}

async function copyState(source: StateBackend, target: StateBackend, force?: boolean): Promise<StateDocument | "nothing"> {
  const doc = await source.read();
  const existing = await target.read();
  if (!doc) return "nothing";
  if (existing && !isDeepStrictEqual(existing, doc)) {
    if (!force) {
      throw new UserError(
        `${target.location} already holds a state (lineage ${existing.lineage}, serial ${existing.serial}) that differs from ${source.location} (lineage ${doc.lineage}, serial ${doc.serial}); ` +
          "pass --force to overwrite it",
      );
    }
  }
  if (!existing || !isDeepStrictEqual(existing, doc)) await target.write(doc);
  const copy = await target.read();
  if (!isDeepStrictEqual(copy, doc)) {
    throw new RunFailure(`the state read back from ${target.location} differs from ${source.location}; ${source.location} was kept: look at both with 'platform state pull'`);
  }
  await source.remove();
  return doc;
}

/**
 * `platform state bootstrap --bucket NAME`: creates the S3 bucket for remote state (or re-applies its settings).
 * Needs no environment; with --env, the config's state bucket and region are the defaults.
 */
export async function stateBootstrapCommand(cc: CommandContext, flags: { bucket?: string }): Promise<number> {
  const namesConfigFile = cc.opts.config !== undefined && readConfigFlag(cc.opts.config, cc.cwd).kind === "file";
  const config = cc.opts.env || namesConfigFile ? cc.loadConfig().config : undefined;
  const bucket = flags.bucket ?? config?.state.bucket;
  if (!bucket) throw new UserError(`no bucket given: pass --bucket with a globally unique S3 bucket name${config ? `, e.g. --bucket ${config.project}-platform-state` : ""}`);
  const problem = bucketNameProblem(bucket);
  if (problem) throw new UserError(`--bucket ${bucket}: ${problem}`);
  const region = cc.opts.region ?? config?.state.region ?? config?.region ?? cc.io.env.AWS_REGION ?? cc.io.env.AWS_DEFAULT_REGION;
  if (!region) throw new UserError("no region given: pass --region with the state bucket's region (e.g. --region us-east-1), or --env to use the environment's");
  const { bootstrapStateBucket } = await import("../state/bootstrap.js");
  const clients = new AwsClients({ region, profile: cc.opts.profile, endpoint: config?.endpoint });
  const result = await bootstrapStateBucket(clients, { bucket, region }, (line) => cc.say(line));
  // With --env the lines name that environment; without, each environment of the project (never a placeholder).
  const envs = config ? [config.environment] : listEnvironments(cc.cwd);
  cc.say(`State bucket s3://${bucket} is ready. To keep an environment's state there, add to ${envs.length ? envs.map((e) => `config/${e}.json`).join(" or ") : "its config file"}:`);
  cc.say(`  "state": { "backend": "s3", "bucket": "${bucket}", "region": "${region}" }`);
  cc.say(`then move its current state there: ${envs.length ? envs.map((e) => `platform state migrate --env ${e} --to s3`).join(", or ") : "platform state migrate --to s3 with the environment's --env"}`);
  if (cc.opts.json) cc.json(result);
  return 0;
}
