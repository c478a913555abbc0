import { randomInt } from "node:crypto";

/**
 * How each secret gets its value: a named rule with a length and an alphabet, and the checks a value the user supplies
 * must pass. Values are drawn with crypto.randomInt (uniform, no modulo bias) and never leave the function that sends
 * them to Secrets Manager; nothing here prints, logs or returns a value in an error message.
 */
export const GENERATORS = ["database-credentials", "token-64", "password-32", "external"] as const;
export type GeneratorName = (typeof GENERATORS)[number];

/** The rules a config's extra secrets may use. */
export const EXTRA_GENERATORS = ["token-64", "password-32", "external"] as const;

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS = "0123456789";
/**
 * Punctuation in generated passwords. RDS rejects "/", "@", '"' and space in master passwords; these eight are also
 * unreserved or harmless in connection URLs, shell words (quoted) and libpq key=value strings.
 */
export const PASSWORD_PUNCTUATION = "-_.~!*()";

/** Characters RDS refuses in a master password (ModifyDBInstance / CreateDBInstance MasterUserPassword). */
export const RDS_FORBIDDEN = ["/", "@", '"', " "] as const;

/** The largest SecretString Secrets Manager stores (65,536 bytes). */
export const MAX_SECRET_BYTES = 65_536;

export interface SecretRule {
  name: GeneratorName;
  /** What a generated value looks like, for help and errors ("32 characters: ..."). Absent for external. */
  shape?: string;
  /** A fresh value; undefined for external secrets, which the user supplies. */
  generate?(): string;
  /** Why a value the user supplies is unacceptable (never quoting it), or undefined when it is fine. */
  check(value: string): string | undefined;
}

const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

function lengthProblem(value: string, min: number, max: number): string | undefined {
  if (value.length < min) return `is ${value.length} characters; at least ${min} are required`;
  if (value.length > max) return `is ${value.length} characters; at most ${max} are allowed`;
  return undefined;
}

/**
 * `length` characters drawn uniformly from the union of `classes`, with at least one from each class
 * (drawn again until that holds; for the lengths used here a retry is rare).
 */
export function randomString(length: number, classes: string[]): string {
  const alphabet = classes.join("");
  for (;;) {
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
    if (classes.every((c) => [...out].some((ch) => c.includes(ch)))) return out;
  }
}

const ALNUM = [LOWER, UPPER, DIGITS];
const WITH_PUNCTUATION = [LOWER, UPPER, DIGITS, PASSWORD_PUNCTUATION];

export const RULES: Record<GeneratorName, SecretRule> = {
  "database-credentials": {
    name: "database-credentials",
    shape: `a JSON document {username, password, engine, host, port, dbname}; the password is 32 characters of letters, digits and ${PASSWORD_PUNCTUATION}`,
    generate: () => randomString(32, WITH_PUNCTUATION),
    // RDS for PostgreSQL: 8 to 128 printable ASCII characters except / " @ (and no space).
    check: (v) =>
      lengthProblem(v, 8, 128) ??
      (RDS_FORBIDDEN.some((c) => v.includes(c)) ? 'contains a character RDS rejects in passwords: "/", "@", \'"\' or a space' : undefined) ??
      (PRINTABLE_ASCII.test(v) ? undefined : "contains a character that is not printable ASCII"),
  },
  "token-64": {
    name: "token-64",
    shape: "64 letters and digits (about 380 bits)",
    generate: () => randomString(64, ALNUM),
    check: (v) =>
      lengthProblem(v, 32, 4096) ?? (PRINTABLE_ASCII.test(v) ? undefined : "contains whitespace or a character that is not printable ASCII"),
  },
  "password-32": {
    name: "password-32",
    shape: `32 characters of letters, digits and ${PASSWORD_PUNCTUATION}`,
    generate: () => randomString(32, WITH_PUNCTUATION),
    check: (v) =>
      lengthProblem(v, 12, 128) ?? (PRINTABLE_ASCII.test(v) ? undefined : "contains whitespace or a character that is not printable ASCII"),
  },
  external: {
    name: "external",
    check: (v) => {
      if (v.trim() === "") return "is empty";
      const bytes = Buffer.byteLength(v, "utf8");
      return bytes > MAX_SECRET_BYTES ? `is ${bytes} bytes; Secrets Manager stores at most ${MAX_SECRET_BYTES}` : undefined;
    },
  },
};

/** The JSON template of the database credentials: everything but the password (RDS rotation's shape). */
export type CredentialsTemplate = Record<string, string | number>;

/**
 * The SecretString to store for `rule`: a generated value when `supplied` is undefined, else the supplied one
 * (already checked). Database credentials wrap the password in the template's JSON. Undefined for an external secret
 * without a supplied value: the secret is then created empty.
 */
export function secretString(rule: GeneratorName, template: CredentialsTemplate | undefined, supplied?: string): string | undefined {
  const value = supplied ?? RULES[rule].generate?.();
  if (value === undefined) return undefined;
  return rule === "database-credentials" ? credentialsJson(template ?? {}, value) : value;
}

/** Database credentials in the shape RDS rotation uses; the template never overrides the password. */
export function credentialsJson(template: Record<string, unknown>, password: string): string {
  return JSON.stringify({ ...template, password });
}

/** The check a supplied value fails, phrased for the user without the value, or undefined when it passes. */
export function checkSupplied(rule: GeneratorName, value: string): string | undefined {
  return RULES[rule].check(value);
}
