/**
 * Crash runs against moto: `up` (and `down`) is SIGKILLed right after its Nth mutating call took effect in moto, for
 * several N; after `state unlock` the rerun converges: one of each resource, nothing tagged outside state, state equal
 * to what exists (plan --detailed-exitcode exits 0), and after `down` nothing of the environment left.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { show, useMoto, type Conformance } from "./env.js";
import { liveByLogicalId, liveTaggedArns, plainConfig, project } from "./stack.js";

const c = useMoto();

/** Runs `args`, holding the call after the Nth mutating one (it never reaches moto) and SIGKILLing the CLI then. */
async function killAfter(c: Conformance, cwd: string, args: string[], n: number) {
  let seen = 0;
  let child: ChildProcess | undefined;
  c.proxy.intercept = ({ mutating }) => {
    if (seen >= n) return "hold";
    if (mutating && ++seen === n) setTimeout(() => child?.kill("SIGKILL"), 0);
    return undefined;
  };
  try {
    const r = await c.cli(cwd, args, { onSpawn: (ch) => (child = ch) });
    expect(r.signal, show(r)).toBe("SIGKILL");
    expect(seen).toBe(n);
    return r;
  } finally {
    c.proxy.intercept = undefined;
  }
}

async function rerun(cwd: string, args: string[], killed: { stdout: string }) {
  const refused = await c.cli(cwd, args);
  // The killed run's lock is left behind: the rerun names it as stale, then `state unlock` breaks it.
  expect(refused.code, show(refused)).toBe(1);
  expect(refused.stderr).toMatch(/is locked by .+ that process is no longer running on this host, so the lock is stale/);
  const unlock = await c.cli(cwd, ["state", "unlock", "--env", "dev", "--force"]);
  expect(unlock.code, show(unlock)).toBe(0);
  const r = await c.cli(cwd, args);
  expect(r.code, `${show(r)}\n--- the killed run's stdout\n${killed.stdout.slice(-4000)}`).toBe(0);
}

async function expectConverged(cwd: string) {
  const plan = await c.cli(cwd, ["plan", "--env", "dev", "--detailed-exitcode"]);
  expect(plan.code, show(plan)).toBe(0);
  const state = JSON.parse(readFileSync(path.join(cwd, "state", "dev.json"), "utf8")) as { resources: Record<string, unknown> };
  const live = await liveByLogicalId(c.tls, c.moto.port, "dev");
  const duplicates = [...live].filter(([, arns]) => arns.length > 1);
  expect(duplicates, "one resource per logical id").toEqual([]);
  const orphans = [...live.keys()].filter((id) => !(id in state.resources));
  expect(orphans, "every tagged resource is in state").toEqual([]);
}

describe("SIGKILL and rerun against moto", { timeout: 900_000 }, () => {
  it.each([3, 45])("up killed after %i mutating calls, then down killed, converge on rerun", async (n) => {
    const cwd = project({ dev: plainConfig("dev") });
    const killedUp = await killAfter(c, cwd, ["up", "--env", "dev", "--yes"], n);
    await rerun(cwd, ["up", "--env", "dev", "--yes"], killedUp);
    await expectConverged(cwd);
    const down = ["down", "--env", "dev", "--yes", "--delete-data", "--skip-final-snapshot", "--force-delete-secrets"];
    const killedDown = await killAfter(c, cwd, down, n * 2);
    await rerun(cwd, down, killedDown);
    expect(await liveTaggedArns(c.tls, c.moto.port, "dev")).toEqual([]);
  });
});
