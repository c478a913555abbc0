import type { Io } from "./io.js";

/**
 * The one place that keeps credentials out of what platform prints. Everything the CLI writes (progress, summaries,
 * errors with AWS's messages, --verbose details, stack traces) passes through `redact` on its way to the terminal, so
 * a secret that reaches an error message (a connection string in a driver error, a key in a failed request's echo)
 * is masked however it got there. It masks:
 * - AWS access key ids (AKIA…, ASIA… and the other IAM unique-id prefixes that are keys), keeping the prefix;
 * - AWS secret access keys: 40 characters of base64 with upper and lower case letters and digits;
 * - values of secret-looking keys: `password=…`, `client_secret=…`, `Signature=…`, and quoted ones after a colon
 *   (`"SecretString": "…"`, `{ password: '…' }`; an unquoted word after a colon is prose, not a value);
 * - passwords in URLs: `postgres://user:PASSWORD@host` (any scheme), and `Bearer`/`Basic` authorization values;
 * - PEM blocks (private keys, certificates): the whole body between BEGIN and END.
 * Ids, ARNs, names and endpoints are not secrets and stay readable.
 */
export const MASK = "****";

const ACCESS_KEY_ID = /\b(AKIA|ASIA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA|AGPA)[A-Z0-9]{16}\b/g;
const SECRET_ACCESS_KEY = /(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const PEM = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]+:)[^@/?#\s]+@/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;

/** Key names whose values are secrets (compared without case, `-` and `_`); tokens that are not secret are excluded. */
const SECRET_KEY = "(?:[a-z0-9]*(?:password|passwd|passphrase|secret|secretstring|secretaccesskey|token|apikey|privatekey|signature|credential)|pwd)";
const NOT_SECRET_KEYS = new Set(["clienttoken", "nexttoken", "paginationtoken", "continuationtoken", "idempotencytoken"]);

/** `key=value`, `key: "value"`, `"key": "value"` (JSON), with the key matched as a whole word. */
const KEY_VALUE = new RegExp(
  String.raw`(["']?)\b([A-Za-z0-9_.-]*?)\1(\s*[:=]\s*)(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s,;&"'}\])]+))`,
  "g",
);
const SECRET_KEY_NAME = new RegExp(`^${SECRET_KEY}$`, "i");

function isSecretKey(key: string): boolean {
  const bare = key.replace(/[-_.]/g, "").toLowerCase();
  if (!bare || NOT_SECRET_KEYS.has(bare)) return false;
  // The last word of a dotted or prefixed name: DB_PASSWORD, spring.datasource.password, x-api-key.
  return SECRET_KEY_NAME.test(bare);
}

/** Literal values that cannot be secrets (flags, counts), left as they are so JSON stays meaningful. */
const PLAIN = /^(true|false|null|undefined|\d{1,9}|\*+)$/;

export function redact(text: string): string {
  if (!text) return text;
  return text
    .replace(PEM, (_m, label: string) => `-----BEGIN ${label}----- ${MASK} -----END ${label}-----`)
    .replace(URL_PASSWORD, (_m, head: string) => `${head}${MASK}@`)
    .replace(BEARER, (_m, scheme: string) => `${scheme} ${MASK}`)
    .replace(KEY_VALUE, (match, quote: string, key: string, sep: string, dq?: string, sq?: string, bare?: string) => {
      const value = dq ?? sq ?? bare ?? "";
      if (!isSecretKey(key) || PLAIN.test(value) || value === "") return match;
      // After a colon only a quoted value is a value ({ password: '...' }, "SecretString": "..."): an unquoted word is
      // prose ("rotating the database password: RDS refused", "openai-api-key: no value yet").
      if (bare !== undefined && sep.trim() === ":") return match;
      const masked = dq !== undefined ? `"${MASK}"` : sq !== undefined ? `'${MASK}'` : MASK;
      return `${quote}${key}${quote}${sep}${masked}`;
    })
    .replace(ACCESS_KEY_ID, (_m, prefix: string) => `${prefix}${MASK}`)
    .replace(SECRET_ACCESS_KEY, MASK);
}

/**
 * Every string inside a value redacted as text is, before it becomes JSON: once JSON-encoded, a string's own quotes
 * are escaped (`{\"password\": \"…\"}`) and the patterns above no longer see them, so a --json document would show
 * what the text output masks. Keys stay as they are.
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === "string") return redact(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}

type Writable = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** A stream that redacts every chunk written to it, otherwise the stream itself (isTTY, columns, events). */
export function redactingStream<T extends Writable>(stream: T): T {
  const write = (chunk: unknown, ...rest: unknown[]) => {
    if (chunk instanceof Uint8Array) {
      // Bytes become text to be redacted; an encoding argument ("buffer") then no longer applies.
      chunk = Buffer.from(chunk).toString("utf8");
      if (typeof rest[0] === "string") rest = rest.slice(1);
    }
    return (stream.write as (...args: unknown[]) => boolean)(typeof chunk === "string" ? redact(chunk) : chunk, ...rest);
  };
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === "write") return write;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The CLI's Io with stdout and stderr redacted. */
export function redactingIo(io: Io): Io {
  return { ...io, stdout: redactingStream(io.stdout), stderr: redactingStream(io.stderr) };
}
