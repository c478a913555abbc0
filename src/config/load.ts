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
  /** The project folder holding config/ (default: cwd). */
  root?: string;
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

/**
 * Checks that a source names an environment (--env NAME, valid, or --config FILE), before anything is looked up.
 * `root`: the project folder, when one was found, whose environments the error lists.
 */
export function assertEnvironmentGiven(source: Pick<ConfigSource, "env" | "file" | "root">): void {
  if (!source.env && !source.file) throw noEnvironmentGiven(source.root);
  if (source.env) assertEnvironmentName(source.env);
}

function noEnvironmentGiven(root: string | undefined): UserError {
  const known = root ? listEnvironments(root) : [];
  return new UserError(
    known.length
      ? `no environment given: pass --env with one of ${known.join(", ")} (the files in config/), or --config with a config file's path`
      : "no environment given, and there is no config/ folder here: run platform in the project folder, or pass --config with a config file's path",
  );
}

/** Reads, overrides and validates an environment's config. Every failure is a UserError naming the file and field. */
export function loadConfig(source: ConfigSource): LoadedConfig {
  const cwd = source.cwd ?? process.cwd();
  const root = source.root ?? cwd;
  assertEnvironmentGiven({ ...source, root });
  const file = source.file ? path.resolve(cwd, source.file) : path.join(root, "config", `${source.env}.json`);
  const shown = path.relative(cwd, file) || file;
  if (!existsSync(file)) {
    if (source.file) throw new UserError(`--config ${source.file}: no such file`);
    const known = listEnvironments(root);
    throw new UserError(
      `unknown environment "${source.env}": ${shown} does not exist` +
        (known.length ? ` (available: ${known.join(", ")})` : ` (create it with 'platform init --env ${source.env}', or pass --config with a config file's path)`),
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UserError(`${shown}: malformed JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new UserError(`${shown}: expected a JSON object at the top level`);
  // Which fields the flags gave, so an invalid value is blamed on the flag that gave it, not on the file.
  const fromFlags = new Map<string, string>();
  for (const set of source.sets ?? []) fromFlags.set(applySet(raw as Record<string, unknown>, set), `--set ${set}`);
  if (source.region) {
    (raw as Record<string, unknown>).region = source.region;
    fromFlags.set("region", `--region ${source.region}`);
  }

  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(formatIssues(shown, parsed.error, fromFlags));
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

export function listEnvironments(root: string): string[] {
  const dir = path.join(root, "config");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json") && f !== "schema.json")
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Path segments that would reach or replace an object's prototype instead of naming a config field. */
export const FORBIDDEN_SET_SEGMENTS = ["__proto__", "prototype", "constructor"];

/** Applies `key.path=value` and returns the key path; the value is JSON when it parses as JSON (true, 3, ["a"]), a string otherwise. */
export function applySet(target: Record<string, unknown>, set: string): string {
  const eq = set.indexOf("=");
  const key = eq > 0 ? set.slice(0, eq) : "";
  const forbidden = key.split(".").find((part) => FORBIDDEN_SET_SEGMENTS.includes(part));
  if (forbidden) {
    throw new UserError(`--set "${key}=…": "${forbidden}" is not a config field (it would reach the object's prototype); name a field of the config, e.g. --set network.natGateway=true`);
  }
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
  return key;
}

/** The flag that gave a field (or an object holding it, or a key inside it); undefined when the file did. */
function flagFor(fromFlags: Map<string, string>, paths: string[]): string | undefined {
  for (const [key, flag] of fromFlags) {
    if (paths.some((p) => p === key || p.startsWith(`${key}.`))) return flag;
  }
  return undefined;
}

function formatIssues(file: string, error: z.ZodError, fromFlags = new Map<string, string>()): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.join(".") || "(top level)";
      const keys = issue.code === "unrecognized_keys" ? issue.keys.map((k) => [...issue.path, k].join(".")) : [issue.path.join(".")];
      // "--set network.cidr=10.0.0.0/33: network.cidr: ..." rather than "config/dev.json: network.cidr: ..."
      const source = flagFor(fromFlags, keys) ?? file;
      if (issue.code === "unrecognized_keys") {
        const allowed = allowedKeys(issue.path);
        return `${source}: ${issue.path.length ? `${field}: ` : ""}unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys
          .map((k) => `"${k}"`)
          .join(", ")}${allowed.length ? `; allowed: ${allowed.join(", ")}` : ""}`;
      }
      return `${source}: ${field}: ${issue.message}`;
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
