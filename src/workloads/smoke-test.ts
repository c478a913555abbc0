import { spawn } from "node:child_process";
import http from "node:http";
import https from "node:https";
import { sleep } from "../run/wait-for.js";
import { SMOKE_TEST_PATH } from "../config/schema.js";
import { UserError } from "../errors.js";

/**
 * The gate of a blue-green deploy: before production traffic moves, the new revision must answer through the test
 * listener. A path is fetched (GET, redirects not followed: a 2xx or 3xx answer passes); a command is run by the shell
 * with SMOKE_TEST_URL set to the test listener's base URL (and SMOKE_TEST_HOST to the API's host name when set) and
 * passes when it exits 0.
 */
export type SmokeTest = { kind: "path"; path: string } | { kind: "command"; command: string };

/**
 * The HTTP client the path check uses (tests answer for the fake load balancer). `host`, when given, is the name the
 * request is for: the Host header and, over HTTPS, the TLS server name, so the certificate (issued for the API's
 * domain, never for the load balancer's DNS name) verifies while the connection goes to the load balancer.
 */
export type HttpGet = (url: string, init: { signal: AbortSignal; host?: string }) => Promise<{ status: number }>;

/** GET without following redirects, over node:http or node:https; the answer's status code. */
export const nodeHttpGet: HttpGet = (url, init) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === "https:" ? https : http;
    const request = client.request(
      target,
      { method: "GET", signal: init.signal, headers: init.host ? { Host: init.host } : {}, ...(init.host && target.protocol === "https:" ? { servername: init.host } : {}) },
      (response) => {
        response.resume(); // the body is not needed
        resolve({ status: response.statusCode ?? 0 });
      },
    );
    request.on("error", reject);
    request.end();
  });

/** `--smoke-test` or the config's path: a value starting with "/" is a path, anything else a command. */
export function parseSmokeTest(value: string | undefined, flag = "--smoke-test"): SmokeTest | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!trimmed) throw new UserError(`${flag}: give a URL path such as /health, or a command to run`);
  if (trimmed.startsWith("/")) {
    if (!SMOKE_TEST_PATH.test(trimmed)) throw new UserError(`${flag} ${value}: not a URL path; use letters, digits and URL punctuation without spaces, e.g. /health`);
    return { kind: "path", path: trimmed };
  }
  return { kind: "command", command: trimmed };
}

export const describeSmokeTest = (test: SmokeTest, baseUrl: string) => (test.kind === "path" ? `GET ${baseUrl}${test.path}` : `${test.command} (SMOKE_TEST_URL=${baseUrl})`);

export interface SmokeTestSettings {
  http: HttpGet;
  /** The name requests are for (Host header, TLS server name); SMOKE_TEST_HOST for a command. */
  host?: string;
  /** Attempts of the path check (new targets can need a moment after turning healthy). */
  attempts: number;
  /** Seconds between attempts, and the timeout of each request. */
  pauseMs: number;
  requestTimeoutMs: number;
  /** A command that runs longer fails. */
  commandTimeoutMs: number;
  signal?: AbortSignal;
  /** Each line a command prints, and each failed attempt. */
  say(line: string): void;
}

/** Runs the smoke test against `baseUrl` (the test listener): undefined when it passes, else why it failed. */
export async function runSmokeTest(test: SmokeTest, baseUrl: string, s: SmokeTestSettings): Promise<string | undefined> {
  return test.kind === "path" ? checkPath(`${baseUrl}${test.path}`, s) : runCommand(test.command, baseUrl, s);
}

async function checkPath(url: string, s: SmokeTestSettings): Promise<string | undefined> {
  let last = "";
  for (let attempt = 1; attempt <= s.attempts; attempt++) {
    const timeout = AbortSignal.timeout(s.requestTimeoutMs);
    try {
      const signal = s.signal ? AbortSignal.any([s.signal, timeout]) : timeout;
      const { status } = await s.http(url, { signal, ...(s.host ? { host: s.host } : {}) });
      if (status >= 200 && status < 400) return undefined;
      last = `GET ${url} answered ${status}`;
    } catch (err) {
      if (s.signal?.aborted) throw err;
      // Node's own codes (ECONNREFUSED, ENOTFOUND, ERR_TLS_CERT_ALTNAME_INVALID) say the most; an abort is the timeout.
      const code = [(err as { code?: unknown }).code, (err as { cause?: { code?: unknown } }).cause?.code].find((c) => typeof c === "string" && c !== "ABORT_ERR");
      last = `GET ${url} failed: ${timeout.aborted ? `no answer in ${s.requestTimeoutMs / 1000} s` : ((code as string | undefined) ?? (err as Error).message)}`;
    }
    if (attempt < s.attempts) {
      s.say(`${last}; trying again (${attempt}/${s.attempts})`);
      await sleep(s.pauseMs, s.signal);
    }
  }
  return last;
}

function runCommand(command: string, baseUrl: string, s: SmokeTestSettings): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, SMOKE_TEST_URL: baseUrl, ...(s.host ? { SMOKE_TEST_HOST: s.host } : {}) };
    const child = spawn(command, { shell: true, env, stdio: ["ignore", "pipe", "pipe"], signal: s.signal });
    const timer = setTimeout(() => child.kill("SIGTERM"), s.commandTimeoutMs);
    let timedOut = false;
    timer.unref();
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) s.say(`smoke test: ${line.trimEnd()}`);
    };
    child.stdout.on("data", relay);
    child.stderr.on("data", relay);
    child.on("error", (err) => {
      clearTimeout(timer);
      if (s.signal?.aborted) reject(err);
      else resolve(`smoke test command could not start: ${err.message}`);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGTERM" && !s.signal?.aborted) timedOut = true;
      if (timedOut) resolve(`smoke test command still running after ${s.commandTimeoutMs / 1000} s: stopped`);
      else if (code === 0) resolve(undefined);
      else resolve(`smoke test command exited with ${code ?? signal}`);
    });
  });
}
