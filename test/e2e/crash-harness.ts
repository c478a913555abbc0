import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { SimulatedCrash, type CallRecord } from "../fakes/cloud.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { expectConverged, expectGone } from "./convergence.js";

/**
 * Kill-and-rerun: for every mutating AWS call of a full `up` (or `down`) of the whole stack, a run is killed right after
 * that call took effect, and then run again. A kill is simulated as faithfully as one process allows:
 * - the call that "crashed" took effect in the fake, and no AWS call after it does (each fails, the run is aborted);
 * - the state file and the lock file are put back as they were at that instant (writes after a SIGKILL never happen).
 * The next run must report the dead run's lock as stale, naming its holder; after `state unlock` it must converge: `up` to exactly
 * one of each resource, all tagged, state and AWS agreeing; `down` to nothing of the environment left.
 */
export type CrashCommand = "up" | "down";

export const CRASH_CHUNKS = 2;

// Each run writes state after every resource change (~100 writes with fsync per run, most of a run's time on a disk):
// the projects of these hundreds of runs live on a RAM disk where there is one.
if (existsSync("/dev/shm")) process.env.TMPDIR = "/dev/shm";

const ENV = "dev";
const UP = ["up", "--env", ENV, "--yes"];
const DOWN = ["down", "--env", ENV, "--yes"];

/** How many mutating calls a clean run of `command` makes against a fresh fake (the number of crash points). */
export async function mutatingCallCount(command: CrashCommand): Promise<number> {
  const aws = installFakeAws();
  const cwd = tempProject();
  try {
    if (command === "down") await expectOk(cwd, UP);
    aws.cloud.calls.length = 0;
    await expectOk(cwd, command === "up" ? UP : DOWN);
    return aws.cloud.mutatingCalls().length;
  } finally {
    aws.restore();
    rmSync(cwd, { recursive: true, force: true });
  }
}

async function expectOk(cwd: string, args: string[]) {
  const run = await runCli(cwd, args);
  expect(run.code, `${args.join(" ")}\n${run.stdout}\n${run.stderr}`).toBe(0);
  return run;
}

interface Files {
  state?: string;
  lock?: string;
}

const stateFile = (cwd: string) => path.join(cwd, "state", `${ENV}.json`);
const lockFile = (cwd: string) => path.join(cwd, "state", `${ENV}.lock`);

function readFiles(cwd: string): Files {
  const read = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : undefined);
  return { state: read(stateFile(cwd)), lock: read(lockFile(cwd)) };
}

/** The pid of a process that has exited: what the lock of a killed run names. */
const DEAD_PID = spawnSync(process.execPath, ["-e", ""]).pid;

function putBack(cwd: string, files: Files) {
  const put = (file: string, text: string | undefined) => (text === undefined ? rmSync(file, { force: true }) : writeFileSync(file, text, { mode: 0o600 }));
  put(stateFile(cwd), files.state);
  // The killed run's lock, naming its process, which is gone (this test's process is the run, and lives on).
  put(lockFile(cwd), files.lock && JSON.stringify({ ...JSON.parse(files.lock), pid: DEAD_PID }));
}

/** Runs `args`, killing the run right after its `point`-th mutating call; returns what the killed process left on disk. */
export async function runKilledAfter(aws: FakeAws, cwd: string, args: string[], point: number): Promise<{ call: CallRecord; files: Files }> {
  const kill = new AbortController();
  let seen = 0;
  let killed: { call: CallRecord; files: Files } | undefined;
  aws.cloud.crashAfter = (call) => {
    if (!call.mutating || killed || ++seen < point) return false;
    killed = { call, files: readFiles(cwd) };
    kill.abort();
    return true;
  };
  // A dead process makes no more calls: anything the run still tries fails, and it is aborted.
  aws.cloud.fault = () => (killed ? new SimulatedCrash("the process is gone") : undefined);
  try {
    await runCli(cwd, args, { signal: kill.signal });
  } finally {
    aws.cloud.crashAfter = undefined;
    aws.cloud.fault = undefined;
  }
  if (!killed) throw new Error(`the run made fewer than ${point} mutating calls`);
  putBack(cwd, killed.files);
  return killed;
}

/** The crash points of `command` whose index falls in `chunk` (one chunk per file, so vitest can run them in parallel). */
export async function crashSuite(command: CrashCommand, chunk: number, chunks = CRASH_CHUNKS) {
  const total = await mutatingCallCount(command);
  const points = Array.from({ length: total }, (_, i) => i + 1).filter((p) => p % chunks === chunk);
  const args = command === "up" ? UP : DOWN;

  describe(`${command} killed after mutating call N of ${total}, then run again`, () => {
    it.each(points)("N = %i", async (point) => {
      const aws = installFakeAws();
      const cwd = tempProject();
      try {
        if (command === "down") await expectOk(cwd, UP);
        const { call, files } = await runKilledAfter(aws, cwd, args, point);
        const context = `killed after ${call.service}:${call.command}`;

        // The dead run's lock is still there: the next run is refused, naming the holder and saying it is stale, and
        // changes nothing.
        expect(files.lock, `${context}: lock held at the kill`).toBeDefined();
        const before = aws.cloud.mutatingCalls().length;
        const refused = await runCli(cwd, args);
        expect(refused.code, context).toBe(1);
        expect(refused.stderr, context).toMatch(
          new RegExp(`is locked by .+ \\(pid ${DEAD_PID}\\) running "(up|down) --env dev" since .+; that process is no longer running on this host, so the lock is stale: run 'platform state unlock`),
        );
        expect(aws.cloud.mutatingCalls().length, context).toBe(before);
        expect((await runCli(cwd, ["state", "unlock", "--env", ENV, "--force"])).code).toBe(0);

        const rerun = await runCli(cwd, args);
        expect(rerun.code, `${context}\n${rerun.stdout}\n${rerun.stderr}`).toBe(0);
        expect(existsSync(lockFile(cwd)), `${context}: lock released`).toBe(false);
        if (command === "up") await expectConverged(aws, cwd);
        else await expectGone(aws, cwd);
      } finally {
        aws.restore();
        rmSync(cwd, { recursive: true, force: true });
      }
    });
  });
}
