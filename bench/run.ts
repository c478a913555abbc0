/**
 * `npm run bench`: how fast `platform` converges, against its budgets. Numbers, not tests: CI does not run it.
 *
 * 1. Compiles src/, the fakes and bench/ to plain JavaScript (TypeScript's transpiler, no type check) under
 *    node_modules/.cache/platform-bench, and runs bench/scenario.ts there in a fresh Node process: the full stack
 *    (every optional part on) through the CLI's own entry point against the in-memory fake AWS, with a latency on every
 *    call and provisioning delays scaled by --factor (the waiters' polling scaled the same way). No TypeScript loader in
 *    that process, so its peak memory is the CLI's (plus the fake's).
 * 2. Runs the same five commands again, each in a process of its own, as users run `platform` (the fake AWS and the
 *    project are handed from one process to the next): each command's own peak memory. And the AWS SDK alone: a bare
 *    process that loads every AWS SDK client package platform depends on and creates one client of each.
 * 3. Times `node dist/bin.js --help` against `node -e 0`, interleaved, and takes medians.
 * 4. Writes bench/results.json and prints Markdown tables: wall time, critical path, their ratio, AWS calls, memory,
 *    and the budgets from the issue, met or not.
 *
 *   npm run bench -- [--latency 50] [--factor 0.01] [--runs 10] [--out bench/results.json] [--node-flags="--flag ..."]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import ts from "typescript";
import { PHASES, type AlonePhaseResult, type Phase, type PhaseResult, type ScenarioResult } from "./scenario.js";
import type { SdkFloor } from "./sdk-floor.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const COMPILED = path.join(ROOT, "node_modules/.cache/platform-bench");
/** Trees the scenario imports from (test files themselves are left out). */
const SOURCES = ["src", "test", "bench"];

const PHASE_LABEL: Record<Phase, string> = { coldUp: "cold up", noopUp: "no-op up", status: "status", plan: "plan", down: "down" };

/** "Well under a second" beyond one parallel sweep, for no-op up and status. */
const NOOP_EXCESS_BUDGET_MS = 500;

/** The issue's memory budget for the full stack. */
const PEAK_RSS_BUDGET_MB = 150;

interface Options {
  latencyMs: number;
  factor: number;
  runs: number;
  out: string;
  /** Node/V8 flags for the measured processes (none by default: platform runs with Node's defaults). */
  nodeFlags: string[];
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      latency: { type: "string", default: "50" },
      factor: { type: "string", default: "0.01" },
      runs: { type: "string", default: "10" },
      out: { type: "string", default: path.join(ROOT, "bench/results.json") },
      "node-flags": { type: "string", default: "" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      "npm run bench -- [--latency MS] [--factor F] [--runs N] [--out FILE] [--node-flags=FLAGS]\n" +
        "  --latency MS         added to every AWS call (default 50, a nearby region)\n" +
        "  --factor F           provisioning delays and waiter polling × F (default 0.01: an 8-minute RDS create takes 4.8 s)\n" +
        "  --runs N             --help and node -e 0 start-ups to time (default 10; medians)\n" +
        "  --out FILE           the JSON results (default bench/results.json)\n" +
        '  --node-flags=FLAGS   Node/V8 flags for the measured processes, e.g. --node-flags=--max-semi-space-size=2 (default none, as platform runs)\n',
    );
    process.exit(0);
  }
  const latencyMs = Number(values.latency);
  const factor = Number(values.factor);
  const runs = Number(values.runs);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`--latency ${values.latency}: expected milliseconds, 0 or more`);
  if (!(factor > 0 && factor <= 1)) throw new Error(`--factor ${values.factor}: expected a number above 0 and at most 1`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs}: expected a whole number, 1 or more`);
  const nodeFlags = values["node-flags"].split(/\s+/).filter(Boolean);
  if (nodeFlags.some((f) => !f.startsWith("--"))) throw new Error(`--node-flags ${values["node-flags"]}: expected flags such as --max-semi-space-size=2`);
  return { latencyMs, factor, runs, out: path.resolve(values.out), nodeFlags };
}

/** Every .ts file under the source trees, as JavaScript beside a package.json that makes it ESM (as the repo is). */
function compileScenario(): string {
  rmSync(COMPILED, { recursive: true, force: true });
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
      const full = path.join(dir, d.name);
      if (d.isDirectory()) return walk(full);
      return d.name.endsWith(".ts") && !d.name.endsWith(".test.ts") && !d.name.endsWith(".d.ts") ? [full] : [];
    });
  for (const file of SOURCES.flatMap((s) => walk(path.join(ROOT, s)))) {
    const out = ts.transpileModule(readFileSync(file, "utf8"), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    const target = path.join(COMPILED, path.relative(ROOT, file)).replace(/\.ts$/, ".js");
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
  }
  writeFileSync(path.join(COMPILED, "package.json"), JSON.stringify({ type: "module", private: true }));
  return path.join(COMPILED, "bench/scenario.js");
}

/** A fresh shell's environment minus anything that could reach real AWS. */
function isolatedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", AWS_ACCESS_KEY_ID: "AKIDBENCH", AWS_SECRET_ACCESS_KEY: "bench-only" };
  for (const name of Object.keys(env)) if (["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"].includes(name) || name.startsWith("AWS_ENDPOINT_URL")) delete env[name];
  return env;
}

/** Runs a compiled bench script in a fresh Node process (with --node-flags) and returns the JSON it wrote to --out. */
function runMeasured<T>(options: Options, script: string, args: string[], what: string): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), "platform-bench-out-"));
  const out = path.join(dir, "result.json");
  try {
    const child = spawnSync(process.execPath, [...options.nodeFlags, script, "--root", ROOT, "--out", out, ...args], { cwd: ROOT, env: isolatedEnv(), stdio: ["ignore", "inherit", "inherit"] });
    if (child.status !== 0 || !existsSync(out)) throw new Error(`${what} failed (exit ${child.status ?? child.signal}); see its output above`);
    return JSON.parse(readFileSync(out, "utf8")) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const scenarioArgs = (options: Options) => ["--latency", String(options.latencyMs), "--factor", String(options.factor)];

function runScenarioProcess(options: Options, script: string): ScenarioResult {
  process.stderr.write("running the scenario in one process (cold up, no-op up, status, plan, down)...\n");
  return runMeasured<ScenarioResult>(options, script, scenarioArgs(options), "the bench scenario");
}

/** Each phase in a process of its own, in order, the fake AWS and the project handed from one to the next. */
function runPhasesAlone(options: Options, script: string): AlonePhaseResult[] {
  process.stderr.write("running each phase in a process of its own...\n");
  const handoff = mkdtempSync(path.join(os.tmpdir(), "platform-bench-handoff-"));
  try {
    return PHASES.map((phase) => runMeasured<AlonePhaseResult>(options, script, [...scenarioArgs(options), "--phase", phase, "--handoff", handoff], `the ${PHASE_LABEL[phase]} process`));
  } finally {
    rmSync(handoff, { recursive: true, force: true });
  }
}

/** Runs of the SDK floor: its peak moves by ±10 MB with when the garbage collector happens to run; the median is reported. */
const SDK_FLOOR_RUNS = 3;

/** A bare process with every AWS SDK client package loaded and one client of each created (bench/sdk-floor.ts). */
function measureSdkFloor(options: Options): SdkFloor & { runs: number[] } {
  const script = path.join(COMPILED, "bench/sdk-floor.js");
  const floors = Array.from({ length: SDK_FLOOR_RUNS }, () => {
    const child = spawnSync(process.execPath, [...options.nodeFlags, script, "--root", ROOT], { cwd: ROOT, env: isolatedEnv(), encoding: "utf8" });
    if (child.status !== 0) throw new Error(`measuring the SDK's memory floor failed (exit ${child.status ?? child.signal}): ${child.stderr.trim()}`);
    return JSON.parse(child.stdout) as SdkFloor;
  });
  const peaks = floors.map((f) => f.peakRssMb);
  return { ...floors[0]!, peakRssMb: median(peaks), runs: peaks };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

type HelpTiming = { helpMs: number; nodeMs: number; ratio: number; runs: number; note?: string } | { error: string };

/** Start-up: `node dist/bin.js --help` against `node -e 0`, interleaved, medians. Builds dist when missing or older than src. */
function timeHelp(runs: number): HelpTiming {
  const bin = path.join(ROOT, "dist/bin.js");
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((d) => (d.isDirectory() ? newest(path.join(dir, d.name)) : statSync(path.join(dir, d.name)).mtimeMs)));
  let note: string | undefined;
  if (!existsSync(bin) || newest(path.join(ROOT, "src")) > statSync(bin).mtimeMs) {
    process.stderr.write("building dist (npm run build) for the --help timing...\n");
    const build = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8" });
    if (build.status !== 0) note = `npm run build failed (exit ${build.status}); timed the dist that was emitted`;
    if (!existsSync(bin)) return { error: "dist/bin.js is missing and npm run build failed" };
  }
  const time = (args: string[]) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "ignore", env: { ...process.env, NO_COLOR: "1" } });
    if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}`);
    return performance.now() - t0;
  };
  time(["-e", "0"]); // warm the file cache
  time([bin, "--help"]);
  const help: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(time(["-e", "0"]));
    help.push(time([bin, "--help"]));
  }
  const helpMs = median(help);
  const nodeMs = median(bare);
  return { helpMs: round(helpMs, 1), nodeMs: round(nodeMs, 1), ratio: round(helpMs / nodeMs, 2), runs, ...(note ? { note } : {}) };
}

interface Budget {
  budget: string;
  measured: string;
  met: boolean;
}

function budgets(phases: PhaseResult[], alone: AlonePhaseResult[], help: HelpTiming, latencyMs: number): Budget[] {
  const out: Budget[] = [];
  const get = (p: Phase) => phases.find((r) => r.phase === p);
  for (const p of ["coldUp", "down"] as const) {
    const r = get(p);
    if (r) out.push({ budget: `${PHASE_LABEL[p]}: wall ≤ 1.15 × critical path`, measured: `${r.ratio.toFixed(2)} × (${r.wallMs} / ${r.criticalPathMs} ms)`, met: r.exitCode === 0 && r.ratio <= 1.15 });
  }
  for (const p of ["noopUp", "status"] as const) {
    const r = get(p);
    if (!r) continue;
    out.push({ budget: `${PHASE_LABEL[p]}: no mutating calls`, measured: String(r.calls.mutating), met: r.calls.mutating === 0 });
    out.push({ budget: `${PHASE_LABEL[p]}: ≤ 1.5 reads per resource`, measured: `${r.readsPerResource} (${r.calls.read} reads, ${r.resources} resources)`, met: r.readsPerResource <= 1.5 });
    out.push({
      budget: `${PHASE_LABEL[p]}: < ${NOOP_EXCESS_BUDGET_MS} ms beyond one parallel sweep`,
      measured: `${r.excessMs} ms beyond a critical path of ${r.criticalPathMs} ms (${round(r.criticalPathMs / Math.max(latencyMs, 1), 1)} call latencies)`,
      met: r.exitCode === 0 && r.excessMs < NOOP_EXCESS_BUDGET_MS,
    });
  }
  if ("ratio" in help) out.push({ budget: "platform --help: ≤ 3 × node -e 0", measured: `${help.ratio} × (${help.helpMs} / ${help.nodeMs} ms, medians)`, met: help.ratio <= 3 });
  // As users run platform: one command per process. The one-process figure (every phase's peak piled up) is shown too.
  const worst = alone.reduce<AlonePhaseResult | undefined>((w, r) => (!w || r.peakRssMb > w.peakRssMb ? r : w), undefined);
  if (worst) {
    out.push({
      budget: `peak RSS < ${PEAK_RSS_BUDGET_MB} MB, full stack, one command per process`,
      measured: `${worst.peakRssMb} MB (${PHASE_LABEL[worst.phase]})`,
      met: alone.every((r) => r.exitCode === 0 && r.peakRssMb < PEAK_RSS_BUDGET_MB),
    });
  }
  const cumulative = Math.max(...phases.map((r) => r.peakRssMb));
  out.push({ budget: `peak RSS < ${PEAK_RSS_BUDGET_MB} MB, all five commands in one process`, measured: `${cumulative} MB`, met: cumulative < PEAK_RSS_BUDGET_MB });
  return out;
}

function markdownTable(head: string[], rows: (string | number)[][]): string {
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

type Results = ScenarioResult & {
  generatedAt: string;
  machine: { node: string; cpus: number; loadAverage: number[] };
  nodeFlags: string[];
  /** Each phase again, in a process of its own. */
  alone: AlonePhaseResult[];
  sdkFloor: SdkFloor & { runs: number[] };
  help: HelpTiming;
  budgets: Budget[];
  benchSeconds: number;
};

export function report(r: Results): string {
  const lines: string[] = [
    `Full stack (${r.settings.toggles.join(", ")}); ${r.settings.latencyMs} ms per AWS call; provisioning and polling × ${r.settings.factor}; concurrency 10. Node ${r.machine.node}, ${r.machine.cpus} CPUs, load ${r.machine.loadAverage[0]}.`,
    "",
    markdownTable(
      ["phase", "wall ms", "critical path ms", "wall / path", "beyond path ms", "reads", "mutating", "reads / resource", "peak RSS MB (one process)"],
      r.phases.map((p) => [
        PHASE_LABEL[p.phase] + (p.exitCode ? ` (exit ${p.exitCode})` : ""),
        p.wallMs,
        p.criticalPathMs,
        p.ratio.toFixed(2),
        p.excessMs,
        p.calls.read,
        p.calls.mutating,
        p.readsPerResource,
        p.peakRssMb,
      ]),
    ),
    "",
    `Peak RSS above: the one scenario process's high-water mark after each phase (bench/memory.ts; process-wide, so monotone: the peak so far); ${r.baselineRssMb} MB with the CLI, the SDK clients and the fake loaded, before the first command.${r.nodeFlags.length ? ` Node flags: ${r.nodeFlags.join(" ")}.` : ""}`,
    "",
    "One command per process, as users run platform (the fake AWS handed from one process to the next):",
    "",
    markdownTable(
      ["phase", "wall ms", "peak RSS before the command MB", "peak RSS MB"],
      r.alone.map((p) => [PHASE_LABEL[p.phase] + (p.exitCode ? ` (exit ${p.exitCode})` : ""), p.wallMs, p.rssBeforeMb, p.peakRssMb]),
    ),
    "",
    `The AWS SDK alone: a bare Node process with the ${r.sdkFloor.clients} AWS SDK client packages platform depends on loaded and one client of each created peaks at ${r.sdkFloor.peakRssMb} MB (median of ${r.sdkFloor.runs.join(", ")} MB; bare Node ${r.sdkFloor.bareRssMb} MB).`,
    "",
    "ratio" in r.help
      ? `Start-up: platform --help ${r.help.helpMs} ms, node -e 0 ${r.help.nodeMs} ms (medians of ${r.help.runs}): ${r.help.ratio} ×.${r.help.note ? ` ${r.help.note}.` : ""}`
      : `Start-up: not measured: ${r.help.error}.`,
    "",
    markdownTable(["budget", "measured", "met"], r.budgets.map((b) => [b.budget, b.measured, b.met ? "yes" : "**no**"])),
  ];
  for (const p of r.phases.filter((x) => x.phase === "coldUp" || x.phase === "down")) {
    const links = p.chain.filter((l) => l.durationMs > 0).map((l) => `${l.id} ${l.durationMs}`);
    lines.push("", `Critical path of ${PHASE_LABEL[p.phase]} (${p.criticalPathMs} ms): ${links.join(" → ")}`);
  }
  const heavy = r.readsPerFinder.filter((f) => f.readsPerFind > 1);
  if (heavy.length) {
    lines.push("", "Finders that make more than one read per resource (each type's finders together, as the sweep runs them, against the state `up` left):", "");
    lines.push(markdownTable(["type", "resources", "reads per find", "calls"], heavy.map((f) => [f.type, f.resources, f.readsPerFind, Object.entries(f.commands).map(([c, n]) => `${c} ×${n}`).join(", ")])));
  }
  if (r.settings.provisioningKindsWithoutDelay.length) {
    lines.push("", `Provisioning kinds the fakes ask for that the bench gives no delay (add them to REAL_PROVISIONING_SECONDS): ${r.settings.provisioningKindsWithoutDelay.join(", ")}`);
  }
  return lines.join("\n");
}

async function benchMain(): Promise<void> {
  const options = parseOptions();
  const started = performance.now();
  const script = compileScenario();
  const scenario = runScenarioProcess(options, script);
  const alone = runPhasesAlone(options, script);
  const sdkFloor = measureSdkFloor(options);
  const help = timeHelp(options.runs);
  const results: Results = {
    generatedAt: new Date().toISOString(),
    machine: { node: process.version, cpus: os.cpus().length, loadAverage: os.loadavg().map((l) => round(l, 2)) },
    nodeFlags: options.nodeFlags,
    ...scenario,
    alone,
    sdkFloor,
    help,
    budgets: budgets(scenario.phases, alone, help, options.latencyMs),
    benchSeconds: 0,
  };
  results.benchSeconds = round((performance.now() - started) / 1000, 1);
  mkdirSync(path.dirname(options.out), { recursive: true });
  writeFileSync(options.out, JSON.stringify(results, null, 2) + "\n");
  process.stdout.write(report(results) + "\n\n");
  process.stdout.write(`wrote ${path.relative(process.cwd(), options.out) || options.out} in ${results.benchSeconds} s\n`);
}

benchMain().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error)?.message ?? String(err)}\n`);
  process.exitCode = 1;
});
