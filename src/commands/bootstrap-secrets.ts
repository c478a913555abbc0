import { readFileSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { UserError } from "../errors.js";
import { bootstrapSecrets } from "../secrets/bootstrap.js";
import { secretCatalog, type CatalogEntry } from "../secrets/catalog.js";
import { checkSuppliedValues, parseSecretsFile, resolveNames, rotationSet, type BootstrapRequest } from "../secrets/request.js";
import { interactive, type Io } from "../ui/io.js";
import { openEnvironment, type CommandContext } from "./runtime.js";
import { renderSecrets } from "./secrets.js";

export interface BootstrapSecretsFlags {
  /** --rotate NAME (repeatable): replace this secret's value. */
  rotate?: string[];
  rotateAll?: boolean;
  /** --from-file FILE: a JSON object of secret name → value. */
  fromFile?: string;
  /** --set-secret NAME (repeatable): prompt for this secret's value with hidden input. */
  setSecret?: string[];
}

/**
 * `platform bootstrap-secrets`: creates every missing secret with a generated value, keeps existing values, rotates
 * the ones named, stores the values the user supplies. Steps: validate every name and value (exit 2, nothing written),
 * prompt for --set-secret values, then lock the environment and execute. Prints names, ARNs and statuses; never a value.
 */
export async function bootstrapSecretsCommand(cc: CommandContext, flags: BootstrapSecretsFlags): Promise<number> {
  const { config } = cc.loadConfig();
  const catalog = secretCatalog(config);
  const { request, prompted } = validate(cc, catalog, flags, config.environment);
  if (prompted.length) await ask(cc, catalog, prompted, request);

  const env = await openEnvironment(cc, {
    command: `bootstrap-secrets --env ${config.environment}`,
    lock: true,
    events: (e) => e.kind === "note" && cc.verbose(`${e.logicalId}: ${e.message}`),
  });
  try {
    const reports = await bootstrapSecrets(env.ctx, env.store, env.config, catalog, request);
    await env.store.flush();
    renderSecrets(cc, env.config.environment, reports);
    return 0;
  } finally {
    await env.close();
  }
}

function validate(cc: CommandContext, catalog: CatalogEntry[], flags: BootstrapSecretsFlags, environment: string): { request: BootstrapRequest; prompted: CatalogEntry[] } {
  const supplied = flags.fromFile ? parseSecretsFile(readSecretsFile(cc, flags.fromFile), flags.fromFile, catalog, environment) : new Map<string, string>();
  const prompted = resolveNames(catalog, flags.setSecret ?? [], "--set-secret", environment);
  const seen = new Set<string>();
  for (const entry of prompted) {
    if (supplied.has(entry.key)) throw new UserError(`${entry.key} is given both in --from-file and with --set-secret; give it once`);
    if (seen.has(entry.key)) throw new UserError(`--set-secret ${entry.key} is given twice`);
    seen.add(entry.key);
  }
  const rotate = rotationSet(catalog, flags, new Set([...supplied.keys(), ...seen]), environment);
  checkSuppliedValues(catalog, supplied);
  if (prompted.length && !interactive(cc.io)) {
    throw new UserError("--set-secret asks for the value with hidden input, but there is no terminal to ask on; in scripts, use --from-file naming a JSON file that maps each secret's name to its value");
  }
  return { request: { rotate, supplied }, prompted };
}

function readSecretsFile(cc: CommandContext, file: string): string {
  try {
    return readFileSync(path.resolve(cc.cwd, file), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`--from-file ${file}: ${code === "ENOENT" ? "no such file" : `cannot be read (${code ?? "error"})`}`);
  }
}

/** Hidden input: nothing is echoed, not even a mask, so the value's length is not shown either. */
async function ask(cc: CommandContext, catalog: CatalogEntry[], entries: CatalogEntry[], request: BootstrapRequest): Promise<void> {
  const values = new Map<string, string>();
  for (const entry of entries) {
    const what = entry.rule === "database-credentials" ? "the database password" : "the value";
    values.set(entry.key, await promptHidden(cc.io, `Enter ${what} for ${entry.key} (${entry.name}):`, cc.opts.json));
  }
  checkSuppliedValues(catalog, values);
  for (const [k, v] of values) request.supplied.set(k, v);
}

async function promptHidden(io: Io, message: string, json?: boolean): Promise<string> {
  const { default: password } = await import("@inquirer/password");
  const target = json ? io.stderr : io.stdout;
  // The prompt ends the stream it writes to when it closes; the command still has its table to print there.
  const output = new Writable({ write: (chunk, encoding, done) => void target.write(chunk, encoding, done) });
  return password({ message, mask: false }, { input: io.stdin, output });
}
