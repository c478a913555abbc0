/**
 * `npm run bench`: platform's shipped build beside its Terraform twin, against the same AWS-compatible server.
 *
 * 1. Builds the bundle (scripts/bundle.mjs) and starts moto (bench/peer/moto-server.py) on a free loopback port, behind
 *    a recording proxy (bench/peer/recording-proxy.ts) that adds --latency ms to every call and counts reads and
 *    mutating calls by action.
 * 2. platform, as users run it (`node dist/bundle/platform.mjs`, one process per command), on the dev stack
 *    (config/dev.json; budget and CloudTrail off, as moto 5.2.1 serves neither): cold `up`, no-op `up`, `status`,
 *    `plan`, `down`; then `status` and `plan` again --runs times each on a fresh `up` for the run-to-run spread, and the
 *    full stack (every optional part on, bench/toggles.ts) cold `up`, `status`, `plan`, `down`.
 * 3. The server is reset (moto's /moto-api/reset) and the Terraform twin (bench/peer/terraform/main.tf, hashicorp/aws
 *    5.100.0 from the filesystem mirror /opt/tf-plugins) runs against the same proxy: `init`, cold `apply`, no-op
 *    `plan -detailed-exitcode`, `destroy`.
 * 4. `platform --help` against `node -e 0` (medians of --runs, interleaved).
 * Each command: wall time, exit code, calls (read/mutating), peak RSS of its whole process tree (sampled from /proc
 * every 20 ms; for platform also its own VmHWM). Writes bench/peer-results.json and prints the Markdown tables;
 * --write-docs puts them into docs/benchmark.md between its markers.
 *
 *   npm run bench -- [--latency 50] [--runs 3] [--concurrency 10] [--skip-terraform] [--skip-full] [--write-docs] [--up-limit 240]
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { toggleSets } from "../toggles.js";
import { measure, type Measured } from "./measure.js";
import { RecordingProxy, type CallCounts } from "./recording-proxy.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BUNDLE = path.join(ROOT, "dist/bundle/platform.mjs");
const HWM_HOOK = path.join(ROOT, "bench/peer/report-hwm.mjs");
const DOCS = path.join(ROOT, "docs/benchmark.md");

/** The issue's budgets (issue 18), MB and ratios. */
export const BUDGETS = { statusMb: 95, planMb: 100, coldUpFullMb: 110, helpRatio: 1.4, spreadMb: 5 };
/** The dev stack as both tools build it against moto: the parts moto 5.2.1 cannot serve are off for both. */
const DEV_SETS = ["budget.enabled=false", "audit.trail=false"];

interface Options {
  latencyMs: number;
  runs: number;
  concurrency: number;
  skipTerraform: boolean;
  skipFull: boolean;
  writeDocs: boolean;
  upLimitSeconds: number;
  out: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      latency: { type: "string", default: "50" },
      runs: { type: "string", default: "3" },
      concurrency: { type: "string", default: "10" },
      "skip-terraform": { type: "boolean", default: false },
      "skip-full": { type: "boolean", default: false },
      "write-docs": { type: "boolean", default: false },
      "up-limit": { type: "string", default: "240" },
      out: { type: "string", default: path.join(ROOT, "bench/peer-results.json") },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      "npm run bench -- [--latency MS] [--runs N] [--concurrency N] [--skip-terraform] [--skip-full] [--write-docs] [--out FILE]\n" +
        "  --latency MS      added to every AWS call by the recording proxy (default 50)\n" +
        "  --runs N          repeats of status and plan for the spread, and of --help / node -e 0 (default 3)\n" +
        "  --concurrency N   platform's --concurrency and terraform's -parallelism (default 10, both tools' default)\n" +
        "  --skip-terraform  platform only\n" +
        "  --skip-full       no full-stack phases\n" +
        "  --write-docs      replace the results section of docs/benchmark.md\n" +
        "  --up-limit S      SIGTERM the full stack's cold up after S seconds (moto never runs its ECS tasks; default 240)\n",
    );
    process.exit(0);
  }
  const latencyMs = Number(values.latency);
  const runs = Number(values.runs);
  const concurrency = Number(values.concurrency);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`--latency ${values.latency}: expected milliseconds, 0 or more`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs}: expected a whole number, 1 or more`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency ${values.concurrency}: expected a whole number, 1 or more`);
  const upLimitSeconds = Number(values["up-limit"]);
  if (!(upLimitSeconds > 0)) throw new Error(`--up-limit ${values["up-limit"]}: expected seconds above 0`);
  return { latencyMs, runs, concurrency, upLimitSeconds, skipTerraform: values["skip-terraform"], skipFull: values["skip-full"], writeDocs: values["write-docs"], out: path.resolve(values.out) };
}

const say = (line: string) => process.stderr.write(`${line}\n`);

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startMoto(): Promise<{ port: number; process: ChildProcess }> {
  const check = spawnSync("python3", ["-c", "import moto"], { encoding: "utf8" });
  if (check.status !== 0) throw new Error("moto is not importable by python3 (pip install 'moto[server]'); the benchmark needs it as its AWS-compatible server");
  const port = await freePort();
  const child = spawn("python3", [path.join(ROOT, "bench/peer/moto-server.py"), "127.0.0.1", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`moto exited (${child.exitCode}): ${log}`);
    const up = await fetch(`http://127.0.0.1:${port}/moto-api/`).then(() => true, () => false);
    if (up) return { port, process: child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`moto did not answer on port ${port} within 60 s: ${log}`);
}

async function resetMoto(port: number): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${port}/moto-api/reset`, { method: "POST" });
  if (!r.ok) throw new Error(`moto reset: HTTP ${r.status}`);
}

/** A shell's environment without anything that could reach real AWS. */
function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1", ...extra };
  for (const name of Object.keys(env)) {
    if (["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_DEFAULT_PROFILE", "NODE_OPTIONS"].includes(name) || name.startsWith("AWS_ENDPOINT_URL")) delete env[name];
  }
  return env;
}

export interface Run {
  tool: "platform" | "terraform" | "node";
  label: string;
  args: string[];
  code: number | null;
  wallMs: number;
  peakMb: number;
  processes: number;
  reads: number;
  mutating: number;
  byAction: Record<string, number>;
  tail?: string;
}

class Bench {
  readonly runs: Run[] = [];
  constructor(
    readonly proxy: RecordingProxy,
    readonly options: Options,
  ) {}

  private record(tool: Run["tool"], label: string, args: string[], m: Measured, counts: CallCounts, peakMb: number): Run {
    const run: Run = { tool, label, args, code: m.code, wallMs: m.wallMs, peakMb, processes: m.processes, reads: counts.reads, mutating: counts.mutating, byAction: counts.byAction };
    // plan -detailed-exitcode: 0 is "no changes"; 2 ("changes") after an apply is a finding too, so it is kept.
    if (m.code !== 0) run.tail = (m.stderr || m.stdout).trim().split("\n").slice(-6).join("\n");
    this.runs.push(run);
    say(`  ${tool} ${label}: exit ${m.code}, ${(m.wallMs / 1000).toFixed(1)} s, ${counts.reads} reads / ${counts.mutating} mutating, peak ${peakMb.toFixed(1)} MB${run.tail ? `\n    ${run.tail.replace(/\n/g, "\n    ")}` : ""}`);
    return run;
  }

  /** One platform command in a process of its own, as a user runs it. */
  async platform(label: string, project: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs?: number): Promise<Run> {
    const hwm = path.join(project, ".hwm");
    rmSync(hwm, { force: true });
    this.proxy.reset();
    const m = await measure(process.execPath, ["--import", HWM_HOOK, BUNDLE, ...args], { cwd: project, env: isolatedEnv({ PLATFORM_BENCH_HWM: hwm, ...env }), timeoutMs });
    const own = existsSync(hwm) ? Number(readFileSync(hwm, "utf8")) / 1e6 : 0;
    return this.record("platform", label, args, m, this.proxy.reset(), Math.max(own, m.peakTreeMb));
  }

  async terraform(label: string, dir: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
    this.proxy.reset();
    const m = await measure("terraform", args, { cwd: dir, env: isolatedEnv(env) });
    return this.record("terraform", label, args, m, this.proxy.reset(), m.peakTreeMb);
  }
}

function project(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "platform-bench-project-"));
  mkdirSync(path.join(dir, "config"));
  for (const f of ["dev.json", "schema.json"]) copyFileSync(path.join(ROOT, "config", f), path.join(dir, "config", f));
  return dir;
}

async function main(): Promise<void> {
  const options = parseOptions();
  say("building the bundle (scripts/bundle.mjs)...");
  const built = spawnSync(process.execPath, [path.join(ROOT, "scripts/bundle.mjs")], { cwd: ROOT, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`bundle build failed: ${built.stderr}`);
  say(built.stdout.trim());

  say("starting moto...");
  const moto = await startMoto();
  const proxy = new RecordingProxy({ host: "127.0.0.1", port: moto.port }, options.latencyMs);
  const proxyPort = await proxy.start();
  const endpoint = `http://127.0.0.1:${proxyPort}`;
  const bench = new Bench(proxy, options);
  const started = new Date();
  const sets = (extra: string[]) => [...[`endpoint=${endpoint}`, ...DEV_SETS, ...extra].flatMap((s) => ["--set", s]), "--concurrency", String(options.concurrency)];
  const dirs: string[] = [];
  try {
    say(`platform, dev stack (${BUNDLE}), ${options.latencyMs} ms per call:`);
    const dev = project();
    dirs.push(dev);
    const devSets = sets([]);
    await bench.platform("cold up", dev, ["up", "--env", "dev", "--yes", ...devSets]);
    await bench.platform("no-op up", dev, ["up", "--env", "dev", "--yes", ...devSets]);
    await bench.platform("status", dev, ["status", "--env", "dev", ...devSets]);
    await bench.platform("plan", dev, ["plan", "--env", "dev", "--detailed-exitcode", ...devSets]);
    for (let i = 1; i < options.runs; i++) {
      await bench.platform(`status #${i + 1}`, dev, ["status", "--env", "dev", ...devSets]);
      await bench.platform(`plan #${i + 1}`, dev, ["plan", "--env", "dev", "--detailed-exitcode", ...devSets]);
    }
    await bench.platform("cost", dev, ["cost", "--env", "dev", ...devSets]);
    await bench.platform("outputs", dev, ["outputs", "--env", "dev", ...devSets]);
    await bench.platform("state list", dev, ["state", "list", "--env", "dev", ...devSets]);
    await bench.platform("down", dev, ["down", "--env", "dev", "--yes", "--skip-final-snapshot", ...devSets]);

    if (!options.skipFull) {
      await resetMoto(moto.port);
      say("platform, full stack (every optional part on):");
      const full = project();
      dirs.push(full);
      const fullSets = sets(toggleSets().filter((s) => !DEV_SETS.some((d) => s.startsWith(d.split("=")[0]!))));
      // moto starts no ECS tasks and registers no targets, so the monitoring services (third-party images, desired
      // count 1) never reach a steady state there: after --up-limit seconds the run gets SIGTERM, saves state and
      // exits 143. Its peak memory (made while creating, long before) is what this phase is for.
      await bench.platform("full: cold up", full, ["up", "--env", "dev", "--yes", ...fullSets], {}, options.upLimitSeconds * 1000);
      await bench.platform("full: status", full, ["status", "--env", "dev", ...fullSets]);
      await bench.platform("full: plan", full, ["plan", "--env", "dev", "--detailed-exitcode", ...fullSets]);
      await bench.platform("full: down", full, ["down", "--env", "dev", "--yes", "--skip-final-snapshot", "--force-prod", ...fullSets]);
    }

    if (!options.skipTerraform) {
      await resetMoto(moto.port);
      say("terraform twin (bench/peer/terraform), same server and proxy:");
      const tf = mkdtempSync(path.join(os.tmpdir(), "platform-bench-terraform-"));
      dirs.push(tf);
      copyFileSync(path.join(ROOT, "bench/peer/terraform/main.tf"), path.join(tf, "main.tf"));
      const rc = path.join(tf, "terraformrc");
      writeFileSync(rc, 'provider_installation {\n  filesystem_mirror {\n    path = "/opt/tf-plugins"\n  }\n}\n');
      const env = { TF_CLI_CONFIG_FILE: rc, TF_IN_AUTOMATION: "1", TF_INPUT: "0", TF_VAR_endpoint: endpoint, CHECKPOINT_DISABLE: "1" };
      const parallel = `-parallelism=${options.concurrency}`;
      await bench.terraform("init", tf, ["init", "-no-color"], env);
      await bench.terraform("cold up", tf, ["apply", "-auto-approve", "-no-color", parallel], env);
      await bench.terraform("plan", tf, ["plan", "-detailed-exitcode", "-no-color", parallel], env);
      await bench.terraform("down", tf, ["destroy", "-auto-approve", "-no-color", parallel], env);
    }

    say(`--help against node -e 0 (${Math.max(options.runs, 5)} each, interleaved):`);
    for (let i = 0; i < Math.max(options.runs, 5); i++) {
      const bare = await measure(process.execPath, ["-e", "0"], { cwd: ROOT, env: isolatedEnv() });
      bench.runs.push({ tool: "node", label: "node -e 0", args: ["-e", "0"], code: bare.code, wallMs: bare.wallMs, peakMb: bare.peakTreeMb, processes: 1, reads: 0, mutating: 0, byAction: {} });
      const help = await measure(process.execPath, [BUNDLE, "--help"], { cwd: ROOT, env: isolatedEnv() });
      bench.runs.push({ tool: "platform", label: "--help", args: ["--help"], code: help.code, wallMs: help.wallMs, peakMb: help.peakTreeMb, processes: 1, reads: 0, mutating: 0, byAction: {} });
    }
  } finally {
    await proxy.stop();
    moto.process.kill("SIGTERM");
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }

  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "CPU"}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}, Node ${process.version}, ${terraformVersion()}`;
  const results = { date: started.toISOString(), machine, latencyMs: options.latencyMs, concurrency: options.concurrency, runs: bench.runs };
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  const markdown = report(results);
  process.stdout.write(`${markdown}\n`);
  if (options.writeDocs) writeDocs(markdown);
  say(`results: ${path.relative(ROOT, options.out)}${options.writeDocs ? `; ${path.relative(ROOT, DOCS)} updated` : ""}`);
}

function terraformVersion(): string {
  const v = spawnSync("terraform", ["version"], { encoding: "utf8" });
  return v.status === 0 ? v.stdout.split("\n")[0]!.trim() : "terraform not found";
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};
const s1 = (ms: number) => (ms / 1000).toFixed(1);
const mb = (x: number) => x.toFixed(0);
const ratio = (a: number, b: number) => (b > 0 && a > 0 ? (a / b).toFixed(2) : "–");

export function report(results: { date: string; machine: string; latencyMs: number; concurrency: number; runs: Run[] }): string {
  const find = (tool: Run["tool"], label: string) => results.runs.find((r) => r.tool === tool && r.label === label);
  const lines: string[] = [];
  lines.push(`Measured ${results.date.slice(0, 16).replace("T", " ")} UTC on ${results.machine}; ${results.latencyMs} ms per AWS call (recording proxy), concurrency ${results.concurrency}.`, "");
  lines.push("| phase | platform wall s | terraform wall s | wall ratio | platform reads / mutating | terraform reads / mutating | platform peak MB | terraform peak MB (processes) | memory ratio |");
  lines.push("|---|---|---|---|---|---|---|---|---|");
  for (const [phase, tfLabel] of [["cold up", "cold up"], ["no-op up", ""], ["status", ""], ["plan", "plan"], ["down", "down"]] as const) {
    const p = find("platform", phase);
    const t = tfLabel ? find("terraform", tfLabel) : undefined;
    const cell = (r: Run | undefined, f: (r: Run) => string) => (r ? `${f(r)}${r.code !== 0 ? ` (exit ${r.code})` : ""}` : "–");
    lines.push(
      `| ${phase}${phase === "plan" ? " (no changes)" : ""} | ${cell(p, (r) => s1(r.wallMs))} | ${cell(t, (r) => s1(r.wallMs))} | ${p && t ? ratio(p.wallMs, t.wallMs) : "–"} | ${p ? `${p.reads} / ${p.mutating}` : "–"} | ${t ? `${t.reads} / ${t.mutating}` : "–"} | ${p ? mb(p.peakMb) : "–"} | ${t ? `${mb(t.peakMb)} (${t.processes})` : "–"} | ${p && t ? ratio(p.peakMb, t.peakMb) : "–"} |`,
    );
  }
  const init = find("terraform", "init");
  if (init) lines.push("", `\`terraform init\` (from the filesystem mirror, not counted above): ${s1(init.wallMs)} s, peak ${mb(init.peakMb)} MB.`);

  lines.push("", "Memory per command (platform, each in its own process; peak RSS MB) against the budgets of issue 18:", "");
  lines.push("| command | runs | min | median | max | spread | budget |", "|---|---|---|---|---|---|---|");
  const row = (label: string, prefix: string, budget: string) => {
    const rs = results.runs.filter((r) => r.tool === "platform" && (r.label === prefix || r.label.startsWith(`${prefix} #`)));
    if (!rs.length) return;
    const xs = rs.map((r) => r.peakMb);
    lines.push(`| ${label} | ${xs.length} | ${mb(Math.min(...xs))} | ${mb(median(xs))} | ${mb(Math.max(...xs))} | ${(Math.max(...xs) - Math.min(...xs)).toFixed(1)} | ${budget} |`);
  };
  row("status (dev)", "status", `≤ ${BUDGETS.statusMb}; spread ≤ ${BUDGETS.spreadMb}`);
  row("plan (dev)", "plan", `≤ ${BUDGETS.planMb}; spread ≤ ${BUDGETS.spreadMb}`);
  row("cold up (dev)", "cold up", "");
  row("down (dev)", "down", "");
  row("cold up (full stack)", "full: cold up", `≤ ${BUDGETS.coldUpFullMb}`);
  row("status (full stack)", "full: status", `≤ ${BUDGETS.statusMb}`);
  row("plan (full stack)", "full: plan", `≤ ${BUDGETS.planMb}`);
  row("down (full stack)", "full: down", "");
  row("cost", "cost", "");
  row("outputs", "outputs", "");
  row("state list", "state list", "");
  const help = results.runs.filter((r) => r.label === "--help").map((r) => r.wallMs);
  const bare = results.runs.filter((r) => r.label === "node -e 0").map((r) => r.wallMs);
  if (help.length && bare.length) {
    lines.push("", `\`platform --help\` starts in ${median(help).toFixed(0)} ms against ${median(bare).toFixed(0)} ms for \`node -e 0\` (medians of ${help.length}): ${ratio(median(help), median(bare))} × (budget ≤ ${BUDGETS.helpRatio} ×).`);
  }
  const failed = results.runs.filter((r) => r.tail);
  if (failed.length) {
    lines.push("", "Runs that did not exit 0 (plan: 0 = no changes):", "");
    for (const r of failed) lines.push(`- ${r.tool} ${r.label}: exit ${r.code}: ${r.tail!.split("\n").slice(-2).join(" / ")}`);
  }
  return lines.join("\n");
}

function writeDocs(markdown: string): void {
  const text = readFileSync(DOCS, "utf8");
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${DOCS} has no ${start} … ${end} section`);
  writeFileSync(DOCS, `${text.slice(0, a + start.length)}\n${markdown}\n${text.slice(b)}`);
}

await main();
