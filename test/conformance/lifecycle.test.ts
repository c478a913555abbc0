/**
 * The dev stack's whole life cycle, every option on, driven through the real CLI (a child process) against moto over
 * TLS, with a recording proxy in between that counts calls per action.
 */
import { describe, expect, it } from "vitest";
import { show, useMoto } from "./env.js";
import { fullConfig, liveTaggedArns, project } from "./stack.js";

const c = useMoto();
const cwd = project({ dev: fullConfig("dev"), staging: fullConfig("staging") });
const mutating = (from: number) => c.proxy.calls.slice(from).filter((call) => call.mutating).map((call) => `${call.service}:${call.action}`);

describe("life cycle against moto", { timeout: 180_000 }, () => {
  it("plan --detailed-exitcode on nothing exits 2", async () => {
    const r = await c.cli(cwd, ["plan", "--env", "dev", "--detailed-exitcode"]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stdout).toMatch(/Plan: \d+ to create, 0 to update/);
  });

  it("up creates everything", async () => {
    const r = await c.cli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/Apply complete: \d+ created/);
  });

  it("plan --detailed-exitcode after up exits 0 and a second up makes no mutating call", async () => {
    const plan = await c.cli(cwd, ["plan", "--env", "dev", "--detailed-exitcode"]);
    expect(plan.code, show(plan)).toBe(0);
    const from = c.proxy.calls.length;
    const up = await c.cli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(up.code, show(up)).toBe(0);
    expect(mutating(from)).toEqual([]);
    noOpCalls.up = c.proxy.calls.length - from;
  });

  it("status shows every resource in sync", async () => {
    const from = c.proxy.calls.length;
    const r = await c.cli(cwd, ["status", "--env", "dev"]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).not.toMatch(/drift|missing|out of sync/i);
    expect(mutating(from)).toEqual([]);
    noOpCalls.status = c.proxy.calls.length - from;
  });

  it("outputs --json", async () => {
    const r = await c.cli(cwd, ["outputs", "--env", "dev", "--json"]);
    expect(r.code, show(r)).toBe(0);
    const outputs = JSON.parse(r.stdout);
    expect(outputs).toMatchObject({ github_actions_role_arn: "arn:aws:iam::123456789012:role/clinical-platform-dev-github-actions" });
  });

  it("down --delete-data --skip-final-snapshot leaves nothing tagged; down again exits 0", async () => {
    const r = await c.cli(cwd, ["down", "--env", "dev", "--yes", "--delete-data", "--skip-final-snapshot", "--force-delete-secrets"]);
    expect(r.code, show(r)).toBe(0);
    expect(await liveTaggedArns(c.tls, c.moto.port, "dev")).toEqual([]);
    const again = await c.cli(cwd, ["down", "--env", "dev", "--yes"]);
    expect(again.code, show(again)).toBe(0);
  });
});

const noOpCalls: { up?: number; status?: number } = {};
