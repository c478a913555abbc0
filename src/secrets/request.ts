import { UserError } from "../errors.js";
import { findEntry, type CatalogEntry } from "./catalog.js";
import { checkSupplied } from "./generate.js";

/**
 * What `bootstrap-secrets` was asked to do, checked before anything is read from or written to AWS: every name must be
 * one of the environment's secrets, every supplied value must pass its secret's rule. Error messages name the secret
 * and the rule, never the value.
 */
export interface BootstrapRequest {
  /** Keys (catalog short names) whose existing value is replaced. */
  rotate: Set<string>;
  /** Values the user supplied, by key. For database-credentials: the password. */
  supplied: Map<string, string>;
}

export interface RequestFlags {
  rotate?: string[];
  rotateAll?: boolean;
  setSecret?: string[];
}

function known(catalog: CatalogEntry[]): string {
  return catalog.map((e) => e.key).join(", ");
}

/** The catalog entries the names designate; an unknown name is a UserError listing the known ones. */
export function resolveNames(catalog: CatalogEntry[], names: string[], flag: string, environment: string): CatalogEntry[] {
  return names.map((name) => {
    const entry = findEntry(catalog, name);
    if (!entry) throw new UserError(`${flag} ${name}: ${environment} has no such secret (its secrets: ${known(catalog)})`);
    return entry;
  });
}

/**
 * A --from-file document: a JSON object of secret name → string value. JSON.parse's own messages can quote the text,
 * so a syntax error is reported by position only.
 */
export function parseSecretsFile(text: string, file: string, catalog: CatalogEntry[], environment: string): Map<string, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new UserError(`--from-file ${file}: not valid JSON${position ? ` (at character ${position})` : ""}; expected an object such as {"app-secret-key": "..."}`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new UserError(`--from-file ${file}: expected a JSON object of secret name → value`);
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(doc)) {
    const entry = findEntry(catalog, name);
    if (!entry) throw new UserError(`--from-file ${file}: "${name}" is not a secret of ${environment} (its secrets: ${known(catalog)})`);
    if (typeof value !== "string") throw new UserError(`--from-file ${file}: the value of "${name}" must be a string${entry.rule === "database-credentials" ? " (the password)" : ""}`);
    if (values.has(entry.key)) throw new UserError(`--from-file ${file}: "${name}" is given twice`);
    values.set(entry.key, value);
  }
  return values;
}

/** Every supplied value must pass its rule; all problems are reported at once. */
export function checkSuppliedValues(catalog: CatalogEntry[], supplied: Map<string, string>): void {
  const problems: string[] = [];
  for (const [key, value] of supplied) {
    const entry = catalog.find((e) => e.key === key)!;
    const problem = checkSupplied(entry.rule, value);
    if (problem) problems.push(`the value given for ${key} ${problem}`);
  }
  if (problems.length) throw new UserError(`${problems.join("; ")}; nothing was written`);
}

/** The secrets to rotate: named ones, or with --rotate-all every generated one plus the external ones given a value. */
export function rotationSet(catalog: CatalogEntry[], flags: RequestFlags, supplied: Set<string>, environment: string): Set<string> {
  const named = resolveNames(catalog, flags.rotate ?? [], "--rotate", environment);
  const chosen = flags.rotateAll ? catalog.filter((e) => e.rule !== "external" || supplied.has(e.key)) : named;
  for (const entry of chosen) {
    if (entry.rule === "external" && !supplied.has(entry.key)) {
      throw new UserError(`--rotate ${entry.key}: its value is supplied by you, not generated; give the new one with --set-secret ${entry.key}, or --from-file naming a JSON file that maps ${entry.key} to it`);
    }
  }
  return new Set(chosen.map((e) => e.key));
}
