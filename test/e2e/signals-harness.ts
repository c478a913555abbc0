/** Shared by the signal tests (signals-waits, signals-more): run a command and raise the signal at a wait's first poll. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { main } from "../../src/cli.js";
import { REAL_AWS_WAITS } from "../../src/run/wait-for.js";
import type { HttpGet } from "../../src/workloads/smoke-test.js";
import { memoryIo, withoutGuardNotice } from "../cli-harness.js";
import type { CallRecord } from "../fakes/cloud.js";
import type { FakeAws } from "../fakes/index.js";

export const ENV = ["--env", "dev"];
export const HOUR = 3_600_000;
export const stateOf = (cwd: string) => JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8"));
export const lockFile = (cwd: string) => path.join(cwd, "state/dev.lock");

/**
 * Runs `args` with real-world waits, raising the signal when `when` first holds for a call (seen before the call runs),
 * or when `extra.interrupt` is aborted from elsewhere (a smoke test's answer).
 */
export async function interruptedWhen(
  aws: FakeAws,
  cwd: string,
  args: string[],
  when: (call: CallRecord, before: CallRecord[]) => boolean,
  extra: { http?: HttpGet; interrupt?: AbortController } = {},
) {
  const interrupt = extra.interrupt ?? new AbortController();
  const seen: CallRecord[] = [];
  let at = -1;
  aws.cloud.fault = (call) => {
    if (at < 0 && (when(call, seen) || interrupt.signal.aborted)) {
      at = seen.length;
      interrupt.abort();
    }
    seen.push(call);
    return undefined;
  };
  const io = memoryIo();
  const code = await main(args, io, { cwd, waits: REAL_AWS_WAITS, signal: interrupt.signal, ...(extra.http ? { http: extra.http } : {}) });
  aws.cloud.fault = undefined;
  expect(at, "the signal was raised").toBeGreaterThan(-1);
  // The call that saw the signal still runs (calls in flight finish); what came after it is the wait's reaction.
  return { code, stdout: io.out(), stderr: withoutGuardNotice(io.err()), after: seen.slice(at + 1) };
}

/** The first `trigger` call after a `command` call: the wait's first poll. */
export const firstAfter = (command: string, trigger: string) => (call: CallRecord, before: CallRecord[]) =>
  call.command === trigger && before.some((c) => c.command === command);

export function expectInterrupted(run: { code: number; stdout: string; stderr: string }, cwd: string) {
  expect(run.code, run.stdout + run.stderr).toBe(130);
  expect(existsSync(lockFile(cwd)), "the lock is released").toBe(false);
  expect(run.stdout + run.stderr).not.toMatch(/this is a bug in platform|AbortError|ExitPromptError/);
  expect(run.stdout).not.toMatch(/Apply complete|Destroy complete/);
}
