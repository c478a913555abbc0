/**
 * `npm run bench`: how fast `platform` converges. Runs the full stack (every optional part on) through the CLI's own
 * entry point, in-process, against the in-memory fake AWS with realistic timings: a latency on every call and
 * provisioning delays (RDS, NAT gateway, load balancer, ECS, ENIs draining) scaled down by --factor, with the waiters'
 * polling scaled the same way. For cold up, no-op up, status, plan and down it reports wall time, the critical path
 * (bench/critical-path.ts), their ratio, AWS calls by kind, and peak memory; it also times `platform --help` against
 * `node -e 0`. Writes bench/results.json and prints Markdown tables. Numbers, not tests: CI does not run it.
 *
 *   npm run bench -- [--latency 50] [--factor 0.01] [--runs 10] [--out bench/results.json]
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { z } from "zod";
import { main } from "../src/cli.js";
import { loadConfig } from "../src/config/load.js";
import { ConfigSchema } from "../src/config/schema.js";
import type { EngineEvent } from "../src/engine/events.js";
import { REAL_AWS_WAITS, type WaitSettings } from "../src/resources/types.js";
import { buildStack } from "../src/stack/index.js";
import { dependenciesOf } from "../src/stack/model.js";
import { memoryIo } from "../test/cli-harness.js";
import { installFakeAws, type FakeAws } from "../test/fakes/index.js";
import { coveredMs, criticalPath, type ChainLink, type WorkItem } from "./critical-path.js";

const ROOT = path.resolve(import.meta.dirname, "..");

/** How long AWS really takes, in seconds (typical values in us-east-1); the fake gets these × factor. */
export const REAL_PROVISIONING_SECONDS: Record<string, number> = {
  natGateway: 90, // CreateNatGateway → available: 1–2 min
  natGatewayDelete: 60,
  rdsCreate: 480, // db.t3.micro, PostgreSQL, single AZ: 5–10 min
  rdsModify: 60,
  rdsDelete: 300,
  loadBalancer: 150, // ALB provisioning → active: 2–3 min
  loadBalancerDelete: 20,
  ecsSteady: 120, // a Fargate service reaching steady state (image pull, health checks)
  eniDrain: 180, // network interfaces a deleted load balancer or database leaves behind: 2–20 min
};

/** Optional parts switched on when the schema has them (paths that are missing are skipped, so layers can land later). */
const EXPLICIT_TOGGLES: [string, unknown][] = [
  ["network.natGateway", true],
  ["network.flowLogs.enabled", true],
  ["services.worker.enabled", true],
  ["database.enhancedMonitoringInterval", 60], // creates the enhanced-monitoring role
];
/** Besides those: every boolean named `enabled`, and every boolean under these sections. */
const TOGGLE_SECTIONS = ["monitoring"];

type Phase = "coldUp" | "noopUp" | "status" | "plan" | "down";

interface TimedEvent {
  at: number;
  event: EngineEvent;
}

interface CallStamp {
  command: string;
  mutating: boolean;
  /** Start and end of the call, ms since the phase began (the fake's latency is the call's duration). */
  start: number;
  end: number;
}

interface PhaseResult {
  phase: Phase;
  argv: string[];
  exitCode: number;
  error?: string;
  wallMs: number;
  criticalPathMs: number;
  ratio: number;
  /** wall − critical path: scheduling, concurrency slots, polling slack and CPU. */
  excessMs: number;
  calls: { read: number; mutating: number; byCommand: Record<string, number> };
  resources: number;
  readsPerResource: number;
  /** process.resourceUsage().maxRSS after the phase: process-wide and monotone (the peak so far). */
  peakRssMb: number;
  heapUsedMb: number;
  chain: ChainLink[];
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      latency: { type: "string", default: "50" },
      factor: { type: "string", default: "0.01" },
      runs: { type: "string", default: "10" },
      out: { type: "string", default: path.join(ROOT, "bench/results.json") },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write("npm run bench -- [--latency MS (50)] [--factor F (0.01)] [--runs N (10)] [--out FILE (bench/results.json)]\n");
    process.exit(0);
  }
  const latencyMs = Number(values.latency);
  const factor = Number(values.factor);
  const runs = Number(values.runs);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`--latency ${values.latency}: expected milliseconds, 0 or more`);
  if (!(factor > 0 && factor <= 1)) throw new Error(`--factor ${values.factor}: expected a number above 0 and at most 1`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs}: expected a whole number, 1 or more`);
  return { latencyMs, factor, runs, out: path.resolve(values.out) };
}

/** `--set` overrides for every optional part the current schema knows. */
export function toggleSets(schema: z.ZodType = ConfigSchema): string[] {
  const fields = new Map<string, string>();
  const walk = (s: z.ZodType, at: string[]) => {
    const inner = unwrap(s);
    const def = inner._zod.def as { type: string };
    if (inner instanceof z.ZodObject) for (const [k, v] of Object.entries(inner.shape)) walk(v as z.ZodType, [...at, k]);
    else fields.set(at.join("."), def.type);
  };
  walk(schema, []);
  const sets: string[] = [];
  for (const [key, value] of EXPLICIT_TOGGLES) {
    const type = fields.get(key);
    if (type && type === typeof value) sets.push(`${key}=${JSON.stringify(value)}`);
  }
  for (const [key, type] of fields) {
    if (type !== "boolean" || sets.some((s) => s.startsWith(`${key}=`))) continue;
    if (key.endsWith(".enabled") || TOGGLE_SECTIONS.includes(key.split(".")[0]!)) sets.push(`${key}=true`);
  }
  return sets.flatMap((s) => ["--set", s]);
}

function unwrap(s: z.ZodType): z.ZodType {
  for (let i = 0; i < 20; i++) {
    const def = s._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if (def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else break;
  }
  return s;
}

/** The environment a fresh shell would give the CLI, minus anything that could reach real AWS. */
function isolateFromRealAws(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  process.env.AWS_ACCESS_KEY_ID = "AKIDBENCH";
  process.env.AWS_SECRET_ACCESS_KEY = "bench-secret";
  for (const name of Object.keys(process.env)) if (name === "AWS_PROFILE" || name.startsWith("AWS_ENDPOINT_URL") || name === "AWS_SESSION_TOKEN") delete process.env[name];
}

class Bench {
  readonly cwd = mkdtempSync(path.join(os.tmpdir(), "platform-bench-"));
  readonly aws: FakeAws;
  readonly waits: WaitSettings;
  readonly sets = toggleSets();
  readonly kindsAsked = new Set<string>();
  private stamps: CallStamp[] = [];
  private phaseStart = 0;

  constructor(readonly latencyMs: number, readonly factor: number) {
    mkdirSync(path.join(this.cwd, "config"));
    cpSync(path.join(ROOT, "config/dev.json"), path.join(this.cwd, "config/dev.json"));
    this.waits = { minDelay: REAL_AWS_WAITS.minDelay * factor, maxDelay: REAL_AWS_WAITS.maxDelay * factor, scale: factor };
    const provisioningMs = Object.fromEntries(Object.entries(REAL_PROVISIONING_SECONDS).map(([k, s]) => [k, Math.round(s * 1000 * factor)]));
    this.aws = installFakeAws({ latencyMs, provisioningMs });
    const cloud = this.aws.cloud;
    const ready = cloud.ready.bind(cloud);
    cloud.ready = (kind, since) => {
      this.kindsAsked.add(kind);
      return ready(kind, since);
    };
    // Called once per call after its latency, before the handler: the call's end, near enough.
    cloud.fault = (call) => {
      const end = performance.now() - this.phaseStart;
      this.stamps.push({ command: `${call.service}:${call.command}`, mutating: call.mutating, start: end - latencyMs, end });
      return undefined;
    };
  }

  /** Dependencies of every resource, from the stack the config builds (the same graph `up` runs). */
  stackDeps(): Map<string, string[]> {
    const { config } = loadConfig({ env: "dev", sets: this.sets.filter((_, i) => i % 2 === 1), cwd: this.cwd });
    const stack = buildStack(config, { accountId: this.aws.cloud.accountId, region: config.region, availabilityZones: [`${config.region}a`, `${config.region}b`] });
    return new Map(stack.nodes.map((n) => [n.logicalId, dependenciesOf(n)]));
  }

  /** Reverse dependencies of what state records: `down` deletes a resource after everything that depends on it. */
  stateReverseDeps(): Map<string, string[]> {
    const file = path.join(this.cwd, "state/dev.json");
    const resources = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")).resources as Record<string, { dependsOn: string[] }>) : {};
    const waitsFor = new Map<string, string[]>(Object.keys(resources).map((id) => [id, []]));
    for (const [id, r] of Object.entries(resources)) for (const dep of r.dependsOn) waitsFor.get(dep)?.push(id);
    return waitsFor;
  }

  async run(phase: Phase, args: string[], graph: Map<string, string[]>): Promise<PhaseResult> {
    const argv = [...args, "--env", "dev", ...this.sets];
    const events: TimedEvent[] = [];
    const callsBefore = this.aws.cloud.calls.length;
    this.stamps = [];
    const io = memoryIo({});
    this.phaseStart = performance.now();
    const exitCode = await main(argv, io, { cwd: this.cwd, waits: this.waits, events: (event) => events.push({ at: performance.now() - this.phaseStart, event }) });
    const wallMs = performance.now() - this.phaseStart;
    const usage = process.resourceUsage();
    const calls = this.aws.cloud.calls.slice(callsBefore);
    const byCommand: Record<string, number> = {};
    for (const c of calls) byCommand[`${c.service}:${c.command}`] = (byCommand[`${c.service}:${c.command}`] ?? 0) + 1;
    const read = calls.filter((c) => !c.mutating).length;
    const cp = criticalPath(workItems(events, this.stamps, graph));
    const resources = new Set(events.filter((e) => e.event.kind === "done" || e.event.kind === "failed").map((e) => e.event.logicalId)).size;
    return {
      phase,
      argv: ["platform", ...argv],
      exitCode,
      ...(exitCode !== 0 ? { error: io.err().trim().split("\n")[0] ?? `exit ${exitCode}` } : {}),
      wallMs: round(wallMs),
      criticalPathMs: round(cp.totalMs),
      ratio: round(wallMs / Math.max(cp.totalMs, 1), 3),
      excessMs: round(wallMs - cp.totalMs),
      calls: { read, mutating: calls.length - read, byCommand },
      resources,
      readsPerResource: resources ? round(read / resources, 2) : 0,
      peakRssMb: round(usage.maxRSS / 1024, 1),
      heapUsedMb: round(process.memoryUsage().heapUsed / 2 ** 20, 1),
      chain: cp.chain.map((l) => ({ ...l, durationMs: round(l.durationMs), startMs: round(l.startMs), finishMs: round(l.finishMs) })),
    };
  }

  /**
   * Reads per finder: `status --concurrency 1` with no latency, so exactly one finder runs at a time and every call
   * between its start and done events is its own. Not timed.
   */
  async readsPerFinder(): Promise<{ type: string; resources: number; readsPerFind: number; commands: Record<string, number> }[]> {
    const saved = this.aws.cloud.timings;
    this.aws.cloud.timings = { ...saved, latencyMs: 0 };
    const perId = new Map<string, { type: string; commands: string[] }>();
    let active: { type: string; commands: string[] } | undefined;
    const before = this.aws.cloud.fault;
    this.aws.cloud.fault = (call) => {
      active?.commands.push(`${call.service}:${call.command}`);
      return undefined;
    };
    try {
      const io = memoryIo({});
      await main(["status", "--env", "dev", "--concurrency", "1", ...this.sets], io, {
        cwd: this.cwd,
        waits: this.waits,
        events: (e) => {
          if (e.kind === "start" && e.action === "read") perId.set(e.logicalId, (active = { type: e.type, commands: [] }));
          else if (e.kind !== "note") active = undefined;
        },
      });
    } finally {
      this.aws.cloud.timings = saved;
      this.aws.cloud.fault = before;
    }
    const byType = new Map<string, { type: string; resources: number; reads: number; commands: Record<string, number> }>();
    for (const { type, commands } of perId.values()) {
      const t = byType.get(type) ?? { type, resources: 0, reads: 0, commands: {} };
      t.resources += 1;
      t.reads += commands.length;
      for (const c of commands) t.commands[c] = (t.commands[c] ?? 0) + 1;
      byType.set(type, t);
    }
    return [...byType.values()]
      .map((t) => ({ type: t.type, resources: t.resources, readsPerFind: round(t.reads / t.resources, 2), commands: t.commands }))
      .sort((a, b) => b.readsPerFind - a.readsPerFind || a.type.localeCompare(b.type));
  }

  cleanup(): void {
    this.aws.restore();
    rmSync(this.cwd, { recursive: true, force: true });
  }
}

/**
 * The run as a graph: the serial calls before the engine starts (sts:GetCallerIdentity, the zones), then every finder
 * of the observe sweep (independent of each other), then a barrier, then the resources of the apply or destroy graph
 * with their stack dependencies, then the calls after the engine (down's sweep for leftovers). Serial steps weigh the
 * time their calls were in flight, resources their measured start→done time.
 */
export function workItems(events: TimedEvent[], stamps: CallStamp[], graph: Map<string, string[]>): WorkItem[] {
  const reads = new Map<string, { start?: number; done?: number }>();
  const work = new Map<string, { start?: number; done?: number; elapsed?: number }>();
  for (const { at, event: e } of events) {
    if (e.kind === "note" || e.kind === "skipped") continue;
    const table = e.action === "read" ? reads : work;
    const entry = table.get(e.logicalId) ?? {};
    if (e.kind === "start") entry.start = at;
    else {
      entry.done = at;
      if (table === work) (entry as { elapsed?: number }).elapsed = e.elapsedMs;
    }
    table.set(e.logicalId, entry);
  }
  const timed = events.filter((e) => e.event.kind !== "note");
  const first = timed.length ? Math.min(...timed.map((e) => e.at - ("elapsedMs" in e.event && e.event.kind !== "start" ? e.event.elapsedMs : 0))) : Infinity;
  const last = timed.length ? Math.max(...timed.map((e) => e.at)) : Infinity;
  const setupCalls = stamps.filter((s) => s.start < first);
  const tailCalls = stamps.filter((s) => s.start >= first && s.start > last);

  const items: WorkItem[] = [{ id: "(setup calls)", durationMs: coveredMs(setupCalls.map((s) => [s.start, s.end])), deps: [] }];
  for (const [id, r] of reads) items.push({ id: `read ${id}`, durationMs: span(r.start, r.done), deps: ["(setup calls)"] });
  const gate = reads.size ? "(observed)" : "(setup calls)";
  if (reads.size) items.push({ id: gate, durationMs: 0, deps: [...reads.keys()].map((id) => `read ${id}`) });
  for (const [id, w] of work) {
    const duration = w.start !== undefined ? span(w.start, w.done) : (w.elapsed ?? 0);
    items.push({ id, durationMs: duration, deps: [gate, ...(graph.get(id) ?? []).filter((d) => work.has(d))] });
  }
  const ends = work.size ? [...work.keys()] : reads.size ? [gate] : ["(setup calls)"];
  items.push({ id: "(calls after the engine)", durationMs: coveredMs(tailCalls.map((s) => [s.start, s.end])), deps: ends });
  return items;
}

function span(start: number | undefined, done: number | undefined): number {
  return start !== undefined && done !== undefined ? Math.max(0, done - start) : 0;
}

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Start-up: `node dist/bin.js --help` against `node -e 0`, interleaved, medians. Builds dist when it is missing or older than src. */
function timeHelp(runs: number): { helpMs: number; nodeMs: number; ratio: number; runs: number; note?: string } | { error: string } {
  const bin = path.join(ROOT, "dist/bin.js");
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((d) => (d.isDirectory() ? newest(path.join(dir, d.name)) : statSync(path.join(dir, d.name)).mtimeMs)));
  let note: string | undefined;
  if (!existsSync(bin) || newest(path.join(ROOT, "src")) > statSync(bin).mtimeMs) {
    process.stderr.write("building dist (npm run build) for the --help timing...\n");
    const build = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8" });
    if (build.status !== 0) note = `npm run build failed (exit ${build.status}); timed the dist that exists`;
    if (!existsSync(bin)) return { error: `dist/bin.js is missing and npm run build failed: ${build.stdout.split("\n").find((l) => l.includes("error")) ?? ""}` };
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

const PHASE_LABEL: Record<Phase, string> = { coldUp: "cold up", noopUp: "no-op up", status: "status", plan: "plan", down: "down" };

interface Budget {
  budget: string;
  measured: string;
  met: boolean;
}

function budgets(phases: PhaseResult[], help: ReturnType<typeof timeHelp>, latencyMs: number): Budget[] {
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
      budget: `${PHASE_LABEL[p]}: well under 1 s beyond one parallel sweep`,
      measured: `${r.excessMs} ms beyond the critical path (${r.criticalPathMs} ms ≈ ${round(r.criticalPathMs / Math.max(latencyMs, 1), 1)} call latencies)`,
      met: r.exitCode === 0 && r.excessMs < 500,
    });
  }
  if ("ratio" in help) out.push({ budget: "platform --help: ≤ 3 × node -e 0", measured: `${help.ratio} × (${help.helpMs} / ${help.nodeMs} ms, medians)`, met: help.ratio <= 3 });
  const peak = Math.max(...phases.map((r) => r.peakRssMb));
  out.push({ budget: "peak RSS < 150 MB (full stack)", measured: `${peak} MB (whole bench process)`, met: peak < 150 });
  return out;
}

function markdownTable(head: string[], rows: (string | number)[][]): string {
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

async function benchMain(): Promise<void> {
  const options = parseOptions();
  isolateFromRealAws();
  const started = performance.now();
  const baselineRssMb = round(process.resourceUsage().maxRSS / 1024, 1);
  const bench = new Bench(options.latencyMs, options.factor);
  const phases: PhaseResult[] = [];
  let finders: Awaited<ReturnType<Bench["readsPerFinder"]>> = [];
  try {
    const stack = bench.stackDeps();
    const say = (r: PhaseResult) => process.stderr.write(`${PHASE_LABEL[r.phase]}: exit ${r.exitCode}, ${r.wallMs} ms${r.error ? ` (${r.error})` : ""}\n`);
    const phase = async (p: Phase, args: string[], graph: Map<string, string[]>) => {
      const r = await bench.run(p, args, graph);
      say(r);
      phases.push(r);
      return r;
    };
    await phase("coldUp", ["up", "--yes"], stack);
    await phase("noopUp", ["up", "--yes"], stack);
    await phase("status", ["status"], stack);
    await phase("plan", ["plan"], stack);
    finders = await bench.readsPerFinder();
    await phase("down", ["down", "--yes", "--skip-final-snapshot", "--delete-data"], bench.stateReverseDeps());
  } finally {
    bench.cleanup();
  }
  const help = timeHelp(options.runs);
  const missingKinds = [...bench.kindsAsked].filter((k) => !(k in REAL_PROVISIONING_SECONDS));
  const results = {
    generatedAt: new Date().toISOString(),
    machine: { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: os.cpus().length, loadAverage: os.loadavg().map((l) => round(l, 2)) },
    settings: {
      latencyMs: options.latencyMs,
      factor: options.factor,
      waits: bench.waits,
      provisioningMs: bench.aws.cloud.timings.provisioningMs,
      provisioningKindsUsed: [...bench.kindsAsked].sort(),
      ...(missingKinds.length ? { provisioningKindsWithoutDelay: missingKinds } : {}),
      toggles: bench.sets.filter((_, i) => i % 2 === 1),
      concurrency: 10,
    },
    baselineRssMb,
    phases,
    readsPerFinder: finders,
    help,
    budgets: budgets(phases, help, options.latencyMs),
    benchSeconds: round((performance.now() - started) / 1000, 1),
  };
  mkdirSync(path.dirname(options.out), { recursive: true });
  writeFileSync(options.out, JSON.stringify(results, null, 2) + "\n");
  process.stdout.write(report(results) + "\n");
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), options.out) || options.out} in ${results.benchSeconds} s\n`);
}

function report(r: {
  settings: { latencyMs: number; factor: number; toggles: string[]; provisioningMs: Record<string, number> };
  machine: { node: string; cpus: number; loadAverage: number[] };
  phases: PhaseResult[];
  readsPerFinder: { type: string; resources: number; readsPerFind: number; commands: Record<string, number> }[];
  help: ReturnType<typeof timeHelp>;
  budgets: Budget[];
  baselineRssMb: number;
}): string {
  const lines: string[] = [];
  lines.push(
    `Full stack (${r.settings.toggles.join(", ")}), ${r.settings.latencyMs} ms per call, provisioning and polling × ${r.settings.factor}, concurrency 10; Node ${r.machine.node}, ${r.machine.cpus} CPUs (load ${r.machine.loadAverage[0]}).`,
    "",
  );
  lines.push(
    markdownTable(
      ["phase", "wall ms", "critical path ms", "wall / path", "beyond path ms", "reads", "mutating", "reads / resource", "peak RSS MB"],
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
  );
  lines.push("", `Peak RSS is process.resourceUsage().maxRSS of the one bench process (fake AWS and tsx included): monotone, the peak so far; ${r.baselineRssMb} MB before the first command.`);
  if ("ratio" in r.help) lines.push("", `Start-up: platform --help ${r.help.helpMs} ms, node -e 0 ${r.help.nodeMs} ms (medians of ${r.help.runs}): ${r.help.ratio} ×.${r.help.note ? ` ${r.help.note}` : ""}`);
  else lines.push("", `Start-up: not measured: ${r.help.error}`);
  lines.push("", markdownTable(["budget", "measured", "met"], r.budgets.map((b) => [b.budget, b.measured, b.met ? "yes" : "**no**"])));
  for (const p of r.phases.filter((x) => x.phase === "coldUp" || x.phase === "down")) {
    lines.push("", `Critical path of ${PHASE_LABEL[p.phase]} (${p.criticalPathMs} ms): ${p.chain.filter((l) => l.durationMs > 0 || !l.id.startsWith("(")).map((l) => `${l.id} ${l.durationMs}`).join(" → ")}`);
  }
  const heavy = r.readsPerFinder.filter((f) => f.readsPerFind > 1);
  if (heavy.length) {
    lines.push("", "Finders that read more than once per resource (status, one at a time):", "");
    lines.push(markdownTable(["type", "resources", "reads per find", "calls"], heavy.map((f) => [f.type, f.resources, f.readsPerFind, Object.entries(f.commands).map(([c, n]) => `${c} ×${n}`).join(", ")])));
  }
  return lines.join("\n");
}

if (import.meta.filename === process.argv[1] || process.argv[1]?.endsWith("bench/run.ts")) {
  benchMain().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
