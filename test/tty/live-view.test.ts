import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The live progress view on a real terminal: `platform` runs (test/tty/fake-cli.ts, against the in-process fake AWS)
 * inside tmux, 120 × 40, and the test reads tmux's scrollback (capture-pane -S -) as a user would scroll back. Everything
 * but the transient "… resource creating" lines must be there, in order: the plan summary, every note (the missing-image
 * hint, the database's waits), each finished resource, the SIGINT message and the interrupted summary.
 *
 * tmux is required: CI installs it (.ci/run); without it this file fails, it never skips.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const SOCKET = `platform-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8" });

function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-tty-"));
  mkdirSync(path.join(dir, "config"));
  for (const f of ["dev.json", "schema.json"]) cpSync(path.join(ROOT, "config", f), path.join(dir, "config", f));
  return dir;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the visible pane until `pattern` shows (or `tries` run out); returns whether it did. */
async function showsUp(session: string, pattern: RegExp, tries = 240): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (pattern.test(tmux("capture-pane", "-p", "-t", session))) return true;
    await pause(250);
  }
  return false;
}

/** Starts `platform <args>` against the fake in a new 120 × 40 tmux session; the shell prints EXIT=<code> after it. */
function start(session: string, cwd: string, args: string, env = ""): void {
  tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "bash", "--norc", "--noprofile");
  tmux("set-option", "-t", session, "history-limit", "50000");
  tmux("send-keys", "-t", session, `clear; cd ${ROOT} && ${env} node --import tsx test/tty/fake-cli.ts ${cwd} ${args}; echo EXIT=$?`, "Enter");
}

/** The whole scrollback, wrapped lines joined, without the shell's own lines. */
function scrollback(session: string): string[] {
  return tmux("capture-pane", "-p", "-J", "-S", "-", "-t", session)
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l && !l.includes("fake-cli.ts"));
}

const indexOf = (lines: string[], pattern: RegExp) => lines.findIndex((l) => pattern.test(l));

beforeAll(() => {
  const found = spawnSync("tmux", ["-V"], { encoding: "utf8" });
  if (found.status !== 0) throw new Error("tmux is not installed: the live view is tested through it (apt-get install -y tmux; .ci/run does)");
});
afterAll(() => {
  spawnSync("tmux", ["-L", SOCKET, "kill-server"]);
});

describe("the live terminal view keeps everything that matters in the scrollback", () => {
  it("up, then down: the plan summary, every note and every finished resource stay, in order; no transient line is left", async () => {
    const cwd = project();
    start("full", cwd, "up --env dev --yes + down --env dev --yes");
    expect(await showsUp("full", /^EXIT=\d+/m, 1200), scrollback("full").join("\n")).toBe(true);
    const lines = scrollback("full");
    const text = lines.join("\n");
    expect(text).toMatch(/^EXIT=0$/m);
    const plan = indexOf(lines, /^Plan: 115 to create/);
    const firstDone = indexOf(lines, /^✔ /);
    const dbNote = indexOf(lines, /^data\.database\.instance: creating PostgreSQL .*waiting until the database is available/);
    const dbDone = indexOf(lines, /^✔ data\.database\.instance created/);
    const imageHint = indexOf(lines, /^compute\.service\.api: no image pushed to clinical-platform-dev\/api yet/);
    const serviceDone = indexOf(lines, /^✔ compute\.service\.api created/);
    const applied = indexOf(lines, /^Apply complete: 115 created/);
    const snapshot = indexOf(lines, /^data\.database\.instance: deleting the database; final snapshot \S+/);
    const destroyed = indexOf(lines, /^Destroy complete/);
    for (const [name, at] of Object.entries({ plan, firstDone, dbNote, dbDone, imageHint, serviceDone, applied, snapshot, destroyed })) {
      expect(at, `${name} is in the scrollback:\n${text}`).toBeGreaterThan(-1);
    }
    expect(plan).toBeLessThan(firstDone);
    expect(dbNote).toBeLessThan(dbDone);
    expect(imageHint).toBeLessThan(serviceDone);
    expect(serviceDone).toBeLessThan(applied);
    expect(applied).toBeLessThan(snapshot);
    expect(snapshot).toBeLessThan(destroyed);
    // The live lines ("… data.database.instance creating 1.2s") are gone once their resource is.
    expect(lines.filter((l) => l.startsWith("… "))).toEqual([]);
    tmux("kill-session", "-t", "full");
  }, 600_000);

  it("Ctrl-C while the database is created: the SIGINT message stays, the run is summarised as interrupted, exit 130, lock released", async () => {
    const cwd = project();
    start("ctrlc", cwd, "up --env dev --yes", "FAKE_RDS_CREATE_MS=3600000");
    expect(await showsUp("ctrlc", /^… data\.database\.instance creating/m, 1200), scrollback("ctrlc").join("\n")).toBe(true);
    tmux("send-keys", "-t", "ctrlc", "C-c");
    expect(await showsUp("ctrlc", /^EXIT=\d+/m), scrollback("ctrlc").join("\n")).toBe(true);
    const lines = scrollback("ctrlc");
    const text = lines.join("\n");
    expect(text).toMatch(/^EXIT=130$/m);
    const plan = indexOf(lines, /^Plan: 115 to create/);
    const sigint = indexOf(lines, /^SIGINT: finishing the calls in flight and saving state/);
    const stopped = indexOf(lines, /^■ data\.database\.instance creating interrupted: AWS carries on with it/);
    const summary = indexOf(lines, /^Apply interrupted: \d+ created/);
    const inFlight = indexOf(lines, /^Left in flight .*: data\.database\.instance$/);
    for (const [name, at] of Object.entries({ plan, sigint, stopped, summary, inFlight })) expect(at, `${name} is in the scrollback:\n${text}`).toBeGreaterThan(-1);
    expect(plan).toBeLessThan(sigint);
    expect(sigint).toBeLessThan(stopped);
    expect(stopped).toBeLessThan(summary);
    expect(text).not.toMatch(/Apply complete|this is a bug/);
    expect(lines.filter((l) => l.startsWith("… "))).toEqual([]);
    expect(existsSync(path.join(cwd, "state/dev.lock"))).toBe(false);
    // State records every resource the run reported as created.
    const recorded = Object.keys(JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8")).resources);
    const created = lines.map((l) => /^✔ (\S+) created/.exec(l)?.[1]).filter((id): id is string => id !== undefined);
    expect(created.length).toBeGreaterThan(0);
    for (const id of created) expect(recorded, id).toContain(id);
    tmux("kill-session", "-t", "ctrlc");
  }, 600_000);
});
