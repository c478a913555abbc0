import { mkdtempSync, mkdirSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { main } from "../src/cli.js";
import type { Io } from "../src/ui/io.js";
import type { HttpGet } from "../src/workloads/smoke-test.js";
import { TEST_WAITS } from "./helpers.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** An Io with in-memory streams: not a terminal, no colour, nothing to read. */
export function memoryIo(env: NodeJS.ProcessEnv = {}): Io & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d) => (out += d));
  stderr.on("data", (d) => (err += d));
  const stdin = new PassThrough();
  return { stdout, stderr, stdin, env, out: () => out, err: () => err };
}

/** Runs the CLI in-process, as `platform <args>` in `cwd`, with waits scaled down for tests. */
export async function runCli(cwd: string, args: string[], options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; http?: HttpGet } = {}): Promise<CliRun> {
  const io = memoryIo(options.env);
  const code = await main(args, io, { cwd, waits: TEST_WAITS, signal: options.signal, ...(options.http ? { http: options.http } : {}) });
  await new Promise((r) => setImmediate(r));
  return { code, stdout: io.out(), stderr: withoutGuardNotice(io.err()) };
}

/**
 * test/setup.ts points AWS_ENDPOINT_URL at a closed loopback port so that nothing reaches AWS; every run announces it
 * on stderr (src/aws/endpoint.ts). runCli drops exactly that line, so tests assert what else a command writes; the
 * announcement itself is tested with other endpoints (test/aws/endpoint.test.ts).
 */
export const GUARD_NOTICE = `note: AWS requests go to ${process.env.AWS_ENDPOINT_URL} (AWS_ENDPOINT_URL), not to AWS\n`;
export function withoutGuardNotice(stderr: string): string {
  return stderr.startsWith(GUARD_NOTICE) ? stderr.slice(GUARD_NOTICE.length) : stderr;
}

/** A temporary project folder with config/<env>.json files (the repo's own config files when none are given). */
export function tempProject(configs?: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-project-"));
  mkdirSync(path.join(dir, "config"));
  if (configs) {
    for (const [env, config] of Object.entries(configs)) writeFileSync(path.join(dir, "config", `${env}.json`), JSON.stringify(config, null, 2));
  } else {
    const repoConfig = path.resolve(import.meta.dirname, "../config");
    for (const env of ["dev", "staging", "prod"]) cpSync(path.join(repoConfig, `${env}.json`), path.join(dir, "config", `${env}.json`));
    cpSync(path.join(repoConfig, "schema.json"), path.join(dir, "config", "schema.json"));
  }
  return dir;
}

/** The CLI on a pretend terminal (isTTY), answering the first question it asks with `answer`. */
export async function runOnTerminal(cwd: string, args: string[], answer: string): Promise<CliRun> {
  const io = memoryIo();
  // Like process.stdout, not ended when the prompt's output stream ends.
  for (const s of [io.stdin, io.stdout] as { isTTY?: boolean; _isStdio?: boolean }[]) Object.assign(s, { isTTY: true, _isStdio: true });
  const running = main(args, io, { cwd, waits: TEST_WAITS });
  for (let i = 0; i < 5000 && !/\(y\/N\)|to confirm:/.test(io.out()); i++) await new Promise((r) => setTimeout(r, 2));
  (io.stdin as unknown as NodeJS.WritableStream).write(`${answer}\n`);
  const code = await running;
  await new Promise((r) => setImmediate(r));
  return { code, stdout: io.out(), stderr: io.err() };
}
