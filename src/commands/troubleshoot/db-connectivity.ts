import { accessSync, constants } from "node:fs";
import path from "node:path";
import { UserError } from "../../errors.js";
import { report, runChecks } from "../../troubleshoot/checks.js";
import type { ResourceContext } from "../../resources/types.js";
import type { StateDocument } from "../../state/document.js";
import { DB_CONNECTIVITY_CHECKS, dbFacts, forceSslValue, type DbConnectivityOptions, type ProbeKind } from "../../troubleshoot/db-connectivity.js";
import { renderCheck } from "../../ui/checklist.js";
import { openEnvironment, type CommandContext } from "../runtime.js";
import { printReport } from "./shared.js";

export interface DbConnectivityFlags {
  probe?: string;
  probeTimeout?: string;
  probeImage?: string;
  host?: string;
  port?: string;
  caFile?: string;
  insecureTls?: boolean;
  /** False with --no-tls. */
  tls?: boolean;
  /** Log in as this user (granted rds_iam) with an IAM token instead of the master password. */
  iamUser?: string;
}

const LOCAL_ONLY = ["host", "port", "caFile", "insecureTls", "iamUser"] as const;
const FLAG_NAMES: Record<string, string> = { host: "--host", port: "--port", caFile: "--ca-file", insecureTls: "--insecure-tls", iamUser: "--iam-user" };
/** PostgreSQL user names the probe accepts for --iam-user. */
const PG_USER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Flags → options; every mistake is a UserError (exit 2) before any AWS call. */
export function dbConnectivityOptions(flags: DbConnectivityFlags, cwd: string): DbConnectivityOptions {
  const probe = (flags.probe ?? "ecs") as ProbeKind;
  if (probe !== "local") {
    const misplaced = [...LOCAL_ONLY.filter((k) => flags[k] !== undefined).map((k) => FLAG_NAMES[k]!), ...(flags.tls === false ? ["--no-tls"] : [])];
    if (misplaced.length) throw new UserError(`${misplaced.join(", ")} appl${misplaced.length > 1 ? "y" : "ies"} to --probe local only`);
  }
  if (flags.probeImage !== undefined && probe !== "ecs") throw new UserError("--probe-image applies to --probe ecs only");
  if (flags.insecureTls && flags.tls === false) throw new UserError("--insecure-tls and --no-tls contradict each other: choose one");
  const options: DbConnectivityOptions = { probe };
  if (flags.probeTimeout !== undefined) {
    const n = Number(flags.probeTimeout);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new UserError(`--probe-timeout ${flags.probeTimeout}: expected a number of seconds above 0, at most 3600`);
    options.probeTimeoutSeconds = n;
  }
  if (flags.probeImage !== undefined) options.probeImage = flags.probeImage;
  if (probe === "local") {
    let port: number | undefined;
    if (flags.port !== undefined) {
      port = Number(flags.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UserError(`--port ${flags.port}: expected a port number from 1 to 65535`);
    }
    let caFile: string | undefined;
    if (flags.caFile !== undefined) {
      caFile = path.resolve(cwd, flags.caFile);
      try {
        accessSync(caFile, constants.R_OK);
      } catch {
        throw new UserError(`--ca-file ${flags.caFile}: cannot read it`);
      }
    }
    if (flags.iamUser !== undefined && !PG_USER.test(flags.iamUser)) throw new UserError(`--iam-user ${flags.iamUser}: a PostgreSQL user name (lowercase letters, digits, _), granted rds_iam`);
    options.local = {
      tls: flags.tls === false ? "off" : flags.insecureTls ? "no-verify" : "verify",
      ...(flags.iamUser ? { iamUser: flags.iamUser } : {}),
      ...(flags.host ? { host: flags.host } : {}),
      ...(port ? { port } : {}),
      ...(caFile ? { caFile } : {}),
    };
  }
  return options;
}

/** --no-tls against an instance whose parameter group sets rds.force_ssl=1: refused (exit 2), the server would refuse it too. */
async function refuseNoTlsWhileForced(ctx: ResourceContext, state: StateDocument): Promise<void> {
  const db = await dbFacts(ctx, state).instance();
  if (!db) return;
  const { group, value } = await forceSslValue(ctx, db);
  if (value === "1") throw new UserError(`--no-tls: rds.force_ssl is 1 in ${group}, so ${db.DBInstanceIdentifier} accepts TLS connections only; drop --no-tls (the probe verifies the certificate with the RDS CA bundle it ships)`);
}

/**
 * `platform troubleshoot db-connectivity`: the seven-point checklist of the path from the API to the database, each
 * line printed as its check finishes, then a summary naming the most likely cause. Exit 0 when nothing failed, 1 when
 * something did, 2 for bad flags. Reads only, takes no lock; the ECS probe runs (and removes) a one-off task.
 */
export async function dbConnectivityCommand(cc: CommandContext, flags: DbConnectivityFlags): Promise<number> {
  const options = dbConnectivityOptions(flags, cc.cwd);
  const env = await openEnvironment(cc, { command: "troubleshoot db-connectivity", lock: false });
  try {
    const state = env.store.document;
    if (options.local?.tls === "off") await refuseNoTlsWhileForced(env.ctx, state);
    cc.say(`Database connectivity of ${env.config.project} ${env.config.environment} (${env.config.region}, account ${env.ctx.accountId}), probe: ${options.probe}`);
    let index = 0;
    const checks = await runChecks(DB_CONNECTIVITY_CHECKS, { ctx: env.ctx, state, options, facts: dbFacts(env.ctx, state) }, (o) => cc.say(renderCheck(o, index++, cc.c)));
    return printReport(cc, report("db-connectivity", env.config.environment, checks));
  } finally {
    await env.close();
  }
}
