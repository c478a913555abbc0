import path from "node:path";
import { listEnvironments, loadConfig } from "../config/load.js";
import { readConfigFlag } from "../config/project.js";
import type { Config } from "../config/schema.js";
import { isVisibleError, UserError } from "../errors.js";
import type { CommandContext } from "./runtime.js";

/**
 * `platform validate --env NAME`: checks a config offline with the checks every command makes (schema, names, network
 * ranges), exit 0 with a one-line summary, or exit 2 with the field and the fix. No AWS call; no AWS SDK code is loaded.
 * Without --env or --config FILE: every config/<env>.json of the project.
 */
export async function validateCommand(cc: CommandContext): Promise<number> {
  const flag = cc.opts.config ? readConfigFlag(cc.opts.config, cc.cwd) : undefined;
  if (cc.opts.env || flag?.kind === "file") {
    const { config, file } = cc.loadConfig();
    report(cc, [{ file, config }]);
    return 0;
  }
  const environments = listEnvironments(cc.root);
  if (!environments.length) throw new UserError(`no config/<env>.json in ${cc.root}: create one with 'platform init --env dev'`);
  const results: { file: string; config?: Config; error?: string }[] = [];
  for (const env of environments) {
    try {
      const { config, file } = loadConfig({ env, cwd: cc.cwd, root: cc.root, sets: cc.opts.set, region: cc.opts.region });
      results.push({ file, config });
    } catch (err) {
      if (!isVisibleError(err)) throw err;
      results.push({ file: path.join(cc.root, "config", `${env}.json`), error: err.message });
    }
  }
  report(cc, results);
  return results.some((r) => r.error) ? 2 : 0;
}

function report(cc: CommandContext, results: { file: string; config?: Config; error?: string }[]): void {
  const shown = (file: string) => path.relative(cc.cwd, file) || file;
  if (cc.opts.json) {
    cc.json(results.map((r) => ({ file: r.file, environment: r.config?.environment, valid: !r.error, ...(r.error ? { error: r.error } : {}) })));
  }
  for (const r of results) {
    if (r.error) cc.io.stderr.write(`error: ${r.error}\n`);
    else cc.say(`${shown(r.file)}: valid (${summary(r.config!)})`);
  }
}

/** What the config will build, in one line. */
export function summary(config: Config): string {
  const api = config.services.api;
  const parts = [
    `${config.project}-${config.environment} in ${config.region}`,
    `VPC ${config.network.cidr}${config.network.natGateway ? " with a NAT gateway" : ", no NAT gateway"}`,
    `database ${config.database.instanceClass}${config.database.multiAz ? " Multi-AZ" : ""}`,
    `api ${api.desiredCount}×${api.cpu} CPU/${api.memory} MiB`,
    config.services.worker.enabled ? "worker on" : "no worker",
    `state in ${config.state.backend === "s3" ? `s3://${config.state.bucket ?? "?"}` : `state/${config.environment}.json`}`,
  ];
  return parts.join("; ");
}
