import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { UserError } from "../errors.js";
import { type Config, ConfigSchema, ENVIRONMENT_PATTERN, ENVIRONMENT_RULE, MAX_NAME_PREFIX } from "./schema.js";
import { deriveSubnetCidrs } from "./cidr.js";

export interface ConfigSource {
  env?: string;
  /** --config FILE: a config file outside config/. */
  file?: string;
  /** --set key.path=value overrides, applied in order. */
  sets?: string[];
  /** --region overrides the config's region. */
  region?: string;
  cwd?: string;
}

export interface LoadedConfig {
  config: Config;
  file: string;
}

/** Checks an environment name before it is used in a path or a resource name. */
export function assertEnvironmentName(env: string): void {
  if (!ENVIRONMENT_PATTERN.test(env)) {
    throw new UserError(`invalid environment name "${env}": use ${ENVIRONMENT_RULE}`);
  }
}

/** Reads, overrides and validates an environment's config. Every failure is a UserError naming the file and field. */
export function loadConfig(source: ConfigSource): LoadedConfig {
  const cwd = source.cwd ?? process.cwd();
  if (!source.env && !source.file) throw new UserError("no environment given: pass --env NAME (for config/NAME.json) or --config FILE");
  if (source.env) assertEnvironmentName(source.env);
  const file = source.file ? path.resolve(cwd, source.file) : path.join(cwd, "config", `${source.env}.json`);
  const shown = path.relative(cwd, file) || file;
  if (!existsSync(file)) {
    if (source.file) throw new UserError(`--config ${source.file}: no such file`);
    const known = listEnvironments(cwd);
    throw new UserError(
      `unknown environment "${source.env}": ${shown} does not exist` +
        (known.length ? ` (available: ${known.join(", ")})` : " (create it, or pass --config FILE)"),
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UserError(`${shown}: malformed JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new UserError(`${shown}: expected a JSON object at the top level`);
  for (const set of source.sets ?? []) applySet(raw as Record<string, unknown>, set);
  if (source.region) (raw as Record<string, unknown>).region = source.region;

  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(formatIssues(shown, parsed.error));
  const fileEnv = source.file ? undefined : source.env;
  const environment = parsed.data.environment ?? fileEnv ?? path.basename(file, ".json");
  if (fileEnv && parsed.data.environment && parsed.data.environment !== fileEnv) {
    throw new UserError(`${shown}: environment: "${parsed.data.environment}" does not match the file name; use "${fileEnv}" or remove the field`);
  }
  assertEnvironmentName(environment);
  const config: Config = { ...parsed.data, environment };
  // The DataClassification tag every resource carries follows dataClassification unless given (the schema checks they agree).
  if (config.dataClassification && config.tags.DataClassification === undefined) config.tags = { ...config.tags, DataClassification: config.dataClassification };
  const prefix = `${config.project}-${environment}`;
  if (prefix.length > MAX_NAME_PREFIX) {
    throw new UserError(
      `${shown}: project: "${prefix}" is ${prefix.length} characters; load balancer and target group names allow 32, so <project>-<environment> must be at most ${MAX_NAME_PREFIX}: shorten project`,
    );
  }
  if (!config.network.publicSubnets || !config.network.privateSubnets) {
    const derived = deriveSubnetCidrs(config.network.cidr);
    const given = [...(config.network.publicSubnets ?? []), ...(config.network.privateSubnets ?? [])];
    const clash = [...derived.public, ...derived.private].find((d) => given.includes(d));
    config.network.publicSubnets ??= clash ? undefined : derived.public;
    config.network.privateSubnets ??= clash ? undefined : derived.private;
    if (!config.network.publicSubnets || !config.network.privateSubnets) {
      throw new UserError(`${shown}: network: give both publicSubnets and privateSubnets, or neither (derived ranges would clash with ${clash})`);
    }
  }
  return { config, file };
}

export function listEnvironments(cwd: string): string[] {
  const dir = path.join(cwd, "config");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json") && f !== "schema.json")
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Applies `key.path=value`; the value is JSON when it parses as JSON (true, 3, ["a"]), a string otherwise. */
function applySet(target: Record<string, unknown>, set: string): void {
  const eq = set.indexOf("=");
  const key = eq > 0 ? set.slice(0, eq) : "";
  if (!key || !/^[A-Za-z$][\w$-]*(\.[\w$:-]+)*$/.test(key)) {
    throw new UserError(`--set "${set}": expected key.path=value, e.g. --set network.natGateway=true`);
  }
  const text = set.slice(eq + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // a plain string
  }
  const parts = key.split(".");
  let node: Record<string, unknown> = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === undefined) node[part] = {};
    else if (typeof next !== "object" || next === null || Array.isArray(next)) {
      throw new UserError(`--set "${set}": ${part} is not an object in the config`);
    }
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

function formatIssues(file: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.join(".") || "(top level)";
      if (issue.code === "unrecognized_keys") {
        const allowed = allowedKeys(issue.path);
        return `${file}: ${issue.path.length ? `${field}: ` : ""}unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys
          .map((k) => `"${k}"`)
          .join(", ")}${allowed.length ? `; allowed: ${allowed.join(", ")}` : ""}`;
      }
      return `${file}: ${field}: ${issue.message}`;
    })
    .join("\n");
}

/** The keys the schema allows at a path, for "unknown key" messages. */
function allowedKeys(at: PropertyKey[]): string[] {
  let schema: z.ZodType = ConfigSchema;
  for (const key of [...at, null]) {
    // unwrap defaults, optionals and refinements until an object (or something else) appears
    for (let i = 0; i < 10; i++) {
      const def = (schema as { _zod: { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } } })._zod.def;
      if (def.innerType) schema = def.innerType;
      else if (def.type === "pipe" && def.in) schema = def.in;
      else break;
    }
    if (!(schema instanceof z.ZodObject)) return [];
    if (key === null) return Object.keys(schema.shape);
    schema = schema.shape[key as string] as z.ZodType;
    if (!schema) return [];
  }
  return [];
}
