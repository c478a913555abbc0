import { isIP } from "node:net";
import { UserError } from "../errors.js";

/**
 * Where AWS requests go when not to AWS: the config's `endpoint` (also through --set endpoint=...), AWS_ENDPOINT_URL,
 * and AWS_ENDPOINT_URL_<SERVICE>. Requests are signed, not encrypted: over plain HTTP anyone on the path reads the
 * data (secret values among them) and can replay or alter requests. Plain HTTP is accepted only to this machine.
 */
export interface EndpointOverride {
  url: string;
  /** What set it: "config endpoint", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3". */
  source: string;
}

/** Every endpoint override in effect, the config's first (the SDK gives AWS_ENDPOINT_URL precedence over it). */
export function endpointOverrides(configEndpoint: string | undefined, env: NodeJS.ProcessEnv = process.env): EndpointOverride[] {
  const found: EndpointOverride[] = [];
  if (configEndpoint) found.push({ url: configEndpoint, source: "config endpoint" });
  for (const [key, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (value && (key === "AWS_ENDPOINT_URL" || key.startsWith("AWS_ENDPOINT_URL_"))) found.push({ url: value, source: key });
  }
  return found;
}

/** localhost, 127.0.0.0/8 and ::1: traffic that never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host === "0:0:0:0:0:0:0:1";
  return false;
}

/** Refuses (exit 2, before any AWS call) an override that is not a URL, or plain HTTP beyond loopback unless allowed. */
export function checkEndpoints(overrides: EndpointOverride[], allowInsecure: boolean): void {
  for (const o of overrides) {
    let url: URL;
    try {
      url = new URL(o.url);
    } catch {
      throw new UserError(`${o.source} ${o.url}: not a URL; use https://host[:port]`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new UserError(`${o.source} ${o.url}: use https:// (or http:// to this machine)`);
    if (url.protocol === "http:" && !isLoopbackHost(url.hostname) && !allowInsecure) {
      throw new UserError(
        `${o.source} ${o.url}: plain HTTP to another machine would send every request, secret values included, in cleartext; use https://, or pass --allow-insecure-endpoint to accept that`,
      );
    }
  }
}

/** The one line every run prints while requests do not go to AWS. */
export function endpointNotice(overrides: EndpointOverride[]): string | undefined {
  if (!overrides.length) return undefined;
  return `note: AWS requests go to ${overrides.map((o) => `${o.url} (${o.source})`).join(", ")}, not to AWS`;
}
