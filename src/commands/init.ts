import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { applySet, assertEnvironmentName, loadConfig } from "../config/load.js";
import { configJsonSchema } from "../config/json-schema.js";
import { HOME_VARIABLE, projectFolder, readConfigFlag } from "../config/project.js";
import { ConfigSchema } from "../config/schema.js";
import { UserError } from "../errors.js";
import type { CommandContext } from "./runtime.js";

/**
 * `platform init --env NAME`: writes config/NAME.json with the schema's defaults for the settings people change first
 * (and config/schema.json, for editors, when it is missing). Refuses to overwrite. No AWS call.
 * Where: --config DIR, else PLATFORM_HOME, else the project found from here upwards, else this folder.
 */
export async function initCommand(cc: CommandContext): Promise<number> {
  const env = cc.opts.env;
  if (!env) throw new UserError("no environment given: pass --env with the new environment's name, e.g. platform init --env dev (writes config/dev.json)");
  assertEnvironmentName(env);
  if (cc.opts.config && readConfigFlag(cc.opts.config, cc.cwd).kind === "file") {
    throw new UserError(`--config ${cc.opts.config}: init writes config/${env}.json in a project folder; pass that folder to --config, not a file`);
  }
  const root = projectFolder({ cwd: cc.cwd, configFlag: cc.opts.config, home: cc.io.env[HOME_VARIABLE] || undefined }) ?? cc.cwd;
  const dir = path.join(root, "config");
  const file = path.join(dir, `${env}.json`);
  const shown = path.relative(cc.cwd, file) || file;
  if (existsSync(file)) throw new UserError(`${shown} already exists; edit it, check it with 'platform validate --env ${env}', or pick another --env`);

  const doc = starterConfig();
  for (const set of cc.opts.set ?? []) applySet(doc, set);
  if (cc.opts.region) doc.region = cc.opts.region;

  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(doc, null, 2) + "\n", { flag: "wx" });
  try {
    // The same checks every command makes; a --set or --region the schema refuses leaves no file behind.
    loadConfig({ env, cwd: cc.cwd, root });
  } catch (err) {
    rmSync(file, { force: true });
    throw err;
  }
  const schemaFile = path.join(dir, "schema.json");
  const wroteSchema = !existsSync(schemaFile);
  if (wroteSchema) writeFileSync(schemaFile, JSON.stringify(configJsonSchema(), null, 2) + "\n");

  if (cc.opts.json) {
    cc.json({ environment: env, file, schema: wroteSchema ? schemaFile : undefined });
    return 0;
  }
  cc.say(`Wrote ${shown}${wroteSchema ? ` (and ${path.relative(cc.cwd, schemaFile) || schemaFile}, for editors)` : ""}.`);
  cc.say(`Next: edit it (every field: config/schema.json), check it with 'platform validate --env ${env}', see its cost with 'platform cost --env ${env}', then 'platform up --env ${env}'.`);
  return 0;
}

/** The settings a new environment most often changes, at the schema's defaults; everything else keeps its default. */
function starterConfig(): Record<string, unknown> {
  const d = ConfigSchema.parse({});
  return {
    $schema: "./schema.json",
    project: d.project,
    region: d.region,
    tags: {},
    network: { cidr: d.network.cidr, natGateway: d.network.natGateway },
    database: { instanceClass: d.database.instanceClass },
    services: { api: { cpu: d.services.api.cpu, memory: d.services.api.memory, desiredCount: d.services.api.desiredCount } },
    budget: { monthlyUsd: d.budget.monthlyUsd, emails: [] },
    logs: { retentionDays: d.logs.retentionDays },
  };
}
