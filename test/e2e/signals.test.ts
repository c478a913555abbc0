import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import type { EngineEvent } from "../../src/engine/events.js";
import { memoryIo, runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { TEST_WAITS } from "../helpers.js";
import { expectConverged, expectGone } from "./convergence.js";

/**
 * Ctrl-C and SIGTERM: src/bin.ts turns them into an aborted signal. The run then starts nothing new, lets the calls in
 * flight finish, writes state for everything completed, releases the lock and exits 130 (bin.ts makes it 143 for
 * SIGTERM). Here the signal is raised in-process when the fake sees the run's Nth mutating call.
 */
let aws: FakeAws;
afterEach(() => aws?.restore());

const UP = ["up", "--env", "dev", "--yes"];
const DOWN = ["down", "--env", "dev", "--yes"];

/** Runs `args`, interrupting it when the fake sees its `nth` mutating call; returns what happened around the signal. */
async function interruptedRun(cwd: string, args: string[], nth: number) {
  const interrupt = new AbortController();
  const events: EngineEvent[] = [];
  let mutating = 0;
  let eventsAtSignal = -1;
  aws.cloud.crashAfter = (call) => {
    if (call.mutating && ++mutating === nth) {
      eventsAtSignal = events.length;
      interrupt.abort();
    }
    return false;
  };
  const io = memoryIo();
  const code = await main(args, io, { cwd, waits: TEST_WAITS, signal: interrupt.signal, events: (e) => events.push(e) });
  aws.cloud.crashAfter = undefined;
  expect(eventsAtSignal, "the signal was raised").toBeGreaterThan(-1);
  return { code, stdout: io.out(), stderr: io.err(), events, after: events.slice(eventsAtSignal) };
}

const stateOf = (cwd: string) => JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8"));

describe("interrupted by a signal", () => {
  it.each([10, 60, 110])("up, at mutating call %i: nothing new starts, completed work is in state, the lock is released, exit 130; a rerun converges", async (nth) => {
    aws = installFakeAws();
    const cwd = tempProject();
    const run = await interruptedRun(cwd, UP, nth);
    expect(run.code, run.stdout + run.stderr).toBe(130);
    // No resource started after the signal; those waiting were reported as not attempted.
    expect(run.after.filter((e) => e.kind === "start" && e.action !== "read")).toEqual([]);
    expect(run.stdout).toMatch(/Not attempted \(a dependency failed or the run was interrupted\): /);
    // Everything the run completed is recorded, with the physical id the run reported.
    const resources = stateOf(cwd).resources;
    const done = run.events.filter((e): e is Extract<EngineEvent, { kind: "done" }> => e.kind === "done" && e.action !== "read");
    expect(done.length).toBeGreaterThan(0);
    for (const e of done) expect(resources[e.logicalId]?.physicalId, e.logicalId).toBe(e.physicalId);
    expect(existsSync(path.join(cwd, "state/dev.lock"))).toBe(false);

    const rerun = await runCli(cwd, UP);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    await expectConverged(aws, cwd);
  });

  it.each([5, 40])("down, at mutating call %i: the same, and a rerun removes the rest", async (nth) => {
    aws = installFakeAws();
    const cwd = tempProject();
    expect((await runCli(cwd, UP)).code).toBe(0);
    const before = Object.keys(stateOf(cwd).resources).length;
    const run = await interruptedRun(cwd, DOWN, nth);
    expect(run.code, run.stdout + run.stderr).toBe(130);
    expect(run.after.filter((e) => e.kind === "start")).toEqual([]);
    const deleted = run.events.filter((e) => e.kind === "done" && e.action === "delete").map((e) => e.logicalId);
    const left = Object.keys(stateOf(cwd).resources);
    expect(deleted.length).toBeGreaterThan(0);
    for (const id of deleted) expect(left).not.toContain(id);
    expect(left.length).toBe(before - deleted.length);
    expect(existsSync(path.join(cwd, "state/dev.lock"))).toBe(false);

    const rerun = await runCli(cwd, DOWN);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    await expectGone(aws, cwd);
  });
});
