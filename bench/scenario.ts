/**
 * The measured part of `npm run bench`, run by bench/run.ts in a fresh Node process of its own (compiled to plain
 * JavaScript, no tsx loader, so peak memory is the CLI's and the fake's, not a TypeScript loader's). It drives the CLI's
 * own entry point, `main()` from src/cli.ts, in-process against the in-memory fake AWS, through cold up, no-op up, status,
 * plan and down, and writes what it measured as JSON.
 *
 *   node <compiled>/bench/scenario.js --root REPO --out FILE --latency MS --factor F
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { AwsClients } from "../src/aws/clients.js";
import { main } from "../src/cli.js";
import { loadConfig } from "../src/config/load.js";
import { registry } from "../src/resources/index.js";
import { REAL_AWS_WAITS, type ResourceContext, type WaitSettings } from "../src/resources/types.js";
import { buildStack } from "../src/stack/index.js";
import { dependenciesOf } from "../src/stack/model.js";
import { memoryIo } from "../test/cli-harness.js";
import { installFakeAws, type FakeAws } from "../test/fakes/index.js";
import { toggleSets } from "./toggles.js";
import { criticalPath, workItems, type CallStamp, type ChainLink, type TimedEvent } from "./critical-path.js";

/** How long AWS really takes, in seconds (typical values in us-east-1); the fake gets these × factor. */
export const REAL_PROVISIONING_SECONDS: Record<string, number> = {
  natGateway: 90, // CreateNatGateway → available: 1–2 min
  natGatewayDelete: 60,
  rdsCreate: 480, // db.t3.micro PostgreSQL, single AZ: 5–10 min
  rdsModify: 60,
  rdsDelete: 300,
  loadBalancer: 150, // application load balancer provisioning → active: 2–3 min
  loadBalancerDelete: 20,
  ecsSteady: 120, // a Fargate service reaching steady state (image pull, health checks)
  ecsServiceDrain: 90, // DeleteService: DRAINING → INACTIVE (deregistration delay, tasks stopping)
  ecsTask: 60, // a one-off Fargate task running to its end
  iamPropagation: 10, // a new role cannot be assumed yet: 2–30 s
  eniDrain: 180, // network interfaces a deleted load balancer, database or task leaves behind: 2–20 min
};

export type Phase = "coldUp" | "noopUp" | "status" | "plan" | "down";

export interface PhaseResult {
  phase: Phase;
  argv: string[];
  exitCode: number;
  /** Why it failed: the resources that failed, else the CLI's first error line. */
  error?: string;
  wallMs: number;
  criticalPathMs: number;
  ratio: number;
  /** wall − critical path: time lost to concurrency slots, scheduling order, polling slack and CPU. */
  excessMs: number;
  calls: { read: number; mutating: number; byCommand: Record<string, number> };
  /** Resources the engine worked on (finders in plan/status/no-op up; the graph in cold up and down). */
  resources: number;
  readsPerResource: number;
  /** process.resourceUsage().maxRSS after the phase: process-wide and monotone (the peak so far). */
  peakRssMb: number;
  heapUsedMb: number;
  chain: ChainLink[];
  /** Each resource's start and end (ms since the phase began), for the slow phases. */
  timeline?: { id: string; action: string; startMs: number; doneMs: number }[];
}

export interface FinderReads {
  type: string;
  resources: number;
  readsPerFind: number;
  commands: Record<string, number>;
}

export interface ScenarioResult {
  settings: { latencyMs: number; factor: number; waits: WaitSettings; provisioningMs: Record<string, number>; provisioningKindsUsed: string[]; provisioningKindsWithoutDelay: string[]; toggles: string[] };
  baselineRssMb: number;
  phases: PhaseResult[];
  readsPerFinder: FinderReads[];
}

export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

const mb = (kb: number) => round(kb / 1024, 1);

class Scenario {
  readonly cwd = mkdtempSync(path.join(os.tmpdir(), "platform-bench-"));
  readonly aws: FakeAws;
  readonly waits: WaitSettings;
  readonly toggles = toggleSets();
  readonly kindsAsked = new Set<string>();
  private stamps: CallStamp[] = [];
  private phaseStart = 0;

  constructor(
    root: string,
    readonly latencyMs: number,
    readonly factor: number,
  ) {
    mkdirSync(path.join(this.cwd, "config"));
    cpSync(path.join(root, "config/dev.json"), path.join(this.cwd, "config/dev.json"));
    this.waits = { minDelay: REAL_AWS_WAITS.minDelay * factor, maxDelay: REAL_AWS_WAITS.maxDelay * factor, scale: factor };
    const provisioningMs = Object.fromEntries(Object.entries(REAL_PROVISIONING_SECONDS).map(([k, s]) => [k, Math.round(s * 1000 * factor)]));
    this.aws = installFakeAws({ latencyMs, provisioningMs });
    const cloud = this.aws.cloud;
    const ready = cloud.ready.bind(cloud);
    cloud.ready = (kind, since) => {
      this.kindsAsked.add(kind);
      return ready(kind, since);
    };
    // The fake calls `fault` once per call, after the call's latency and before its handler: the call's end, near enough.
    cloud.fault = (call) => {
      const end = performance.now() - this.phaseStart;
      this.stamps.push({ command: `${call.service}:${call.command}`, mutating: call.mutating, start: end - latencyMs, end });
      return undefined;
    };
  }

  get sets(): string[] {
    return this.toggles.flatMap((t) => ["--set", t]);
  }

  /** Dependencies of every resource, from the stack the config builds: the graph `up` runs. */
  stackGraph(): Map<string, string[]> {
    const { config } = loadConfig({ env: "dev", sets: this.toggles, cwd: this.cwd });
    const stack = buildStack(config, { accountId: this.aws.cloud.accountId, region: config.region, availabilityZones: [`${config.region}a`, `${config.region}b`] });
    return new Map(stack.nodes.map((n) => [n.logicalId, dependenciesOf(n)]));
  }

  private state(): Record<string, { type: string; dependsOn: string[]; attributes: Record<string, unknown> }> {
    const file = path.join(this.cwd, "state/dev.json");
    return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).resources : {};
  }

  /** The graph `down` runs: a resource is deleted after everything state records as depending on it. */
  destroyGraph(): Map<string, string[]> {
    const resources = this.state();
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
    const peakRssMb = mb(process.resourceUsage().maxRSS);
    const calls = this.aws.cloud.calls.slice(callsBefore);
    const byCommand: Record<string, number> = {};
    for (const c of calls) byCommand[`${c.service}:${c.command}`] = (byCommand[`${c.service}:${c.command}`] ?? 0) + 1;
    const read = calls.filter((c) => !c.mutating).length;
    const cp = criticalPath(workItems(events, this.stamps, graph));
    const worked = new Set(events.filter((e) => e.event.kind === "done" || e.event.kind === "failed").map((e) => e.event.logicalId));
    const result: PhaseResult = {
      phase,
      argv: ["platform", ...argv],
      exitCode,
      ...(exitCode !== 0 ? { error: failureOf(events, io) } : {}),
      wallMs: round(wallMs),
      criticalPathMs: round(cp.totalMs),
      ratio: round(wallMs / Math.max(cp.totalMs, 1), 3),
      excessMs: round(wallMs - cp.totalMs),
      calls: { read, mutating: calls.length - read, byCommand },
      resources: worked.size,
      readsPerResource: worked.size ? round(read / worked.size, 2) : 0,
      peakRssMb,
      heapUsedMb: mb(process.memoryUsage().heapUsed / 1024),
      chain: cp.chain.map((l) => ({ id: l.id, durationMs: round(l.durationMs), startMs: round(l.startMs), finishMs: round(l.finishMs) })),
    };
    if (phase === "coldUp" || phase === "down") result.timeline = timeline(events);
    process.stderr.write(`  ${phase}: exit ${exitCode}, ${result.wallMs} ms${result.error ? `: ${result.error}` : ""}\n`);
    return result;
  }

  /**
   * Reads per finder: every recorded resource's finder, one at a time and without latency, so every call between its
   * start and end is its own. Not timed; it says which finders make the no-op sweep cost more than one read.
   */
  async readsPerFinder(): Promise<FinderReads[]> {
    const { config } = loadConfig({ env: "dev", sets: this.toggles, cwd: this.cwd });
    const cloud = this.aws.cloud;
    const ctx: ResourceContext = {
      aws: new AwsClients({ region: config.region, maxAttempts: 1 }),
      flags: {},
      identity: { project: config.project, environment: config.environment },
      waits: this.waits,
      note: () => undefined,
      accountId: cloud.accountId,
      region: config.region,
    };
    const saved = cloud.timings;
    cloud.timings = { ...saved, latencyMs: 0 };
    const byType = new Map<string, { resources: number; reads: number; commands: Record<string, number> }>();
    try {
      for (const [logicalId, record] of Object.entries(this.state())) {
        const type = registry.get(record.type);
        if (!type) continue;
        const before = cloud.calls.length;
        await type.find(ctx, { logicalId, recorded: record.attributes }).catch(() => undefined); // its reads count all the same
        const t = byType.get(record.type) ?? { resources: 0, reads: 0, commands: {} };
        t.resources += 1;
        for (const c of cloud.calls.slice(before)) {
          t.reads += 1;
          t.commands[`${c.service}:${c.command}`] = (t.commands[`${c.service}:${c.command}`] ?? 0) + 1;
        }
        byType.set(record.type, t);
      }
    } finally {
      cloud.timings = saved;
    }
    return [...byType]
      .map(([type, t]) => ({ type, resources: t.resources, readsPerFind: round(t.reads / t.resources, 2), commands: t.commands }))
      .sort((a, b) => b.readsPerFind - a.readsPerFind || a.type.localeCompare(b.type));
  }

  cleanup(): void {
    this.aws.restore();
    rmSync(this.cwd, { recursive: true, force: true });
  }
}

/** Why a phase failed: the resources that failed, else the CLI's first error line. */
function failureOf(events: TimedEvent[], io: { out(): string; err(): string }): string {
  const failed = events.flatMap(({ event: e }) => (e.kind === "failed" ? [`${e.logicalId}: ${e.message}`] : []));
  if (failed.length) return failed.join("; ");
  return io.err().trim().split("\n")[0] || io.out().trim().split("\n").at(-1) || "no output";
}

function timeline(events: TimedEvent[]): PhaseResult["timeline"] {
  const out: NonNullable<PhaseResult["timeline"]> = [];
  const starts = new Map<string, number>();
  for (const { at, event: e } of events) {
    if (e.kind === "start" && e.action !== "read") starts.set(e.logicalId, at);
    if ((e.kind === "done" || e.kind === "failed") && e.action !== "read") {
      out.push({ id: e.logicalId, action: e.kind === "failed" ? `${e.action} (failed)` : e.action, startMs: round(starts.get(e.logicalId) ?? at - e.elapsedMs), doneMs: round(at) });
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

export async function runScenario(root: string, latencyMs: number, factor: number): Promise<ScenarioResult> {
  const baselineRssMb = mb(process.resourceUsage().maxRSS);
  const s = new Scenario(root, latencyMs, factor);
  const phases: PhaseResult[] = [];
  let readsPerFinder: FinderReads[] = [];
  try {
    const stack = s.stackGraph();
    phases.push(await s.run("coldUp", ["up", "--yes"], stack));
    phases.push(await s.run("noopUp", ["up", "--yes"], stack));
    phases.push(await s.run("status", ["status"], stack));
    phases.push(await s.run("plan", ["plan"], stack));
    readsPerFinder = await s.readsPerFinder();
    phases.push(await s.run("down", ["down", "--yes", "--skip-final-snapshot", "--delete-data"], s.destroyGraph()));
  } finally {
    s.cleanup();
  }
  return {
    settings: {
      latencyMs,
      factor,
      waits: s.waits,
      provisioningMs: s.aws.cloud.timings.provisioningMs,
      provisioningKindsUsed: [...s.kindsAsked].sort(),
      provisioningKindsWithoutDelay: [...s.kindsAsked].filter((k) => !(k in REAL_PROVISIONING_SECONDS)).sort(),
      toggles: s.toggles,
    },
    baselineRssMb,
    phases,
    readsPerFinder,
  };
}

async function scenarioMain(): Promise<void> {
  const { values } = parseArgs({ options: { root: { type: "string" }, out: { type: "string" }, latency: { type: "string" }, factor: { type: "string" } } });
  if (!values.root || !values.out || !values.latency || !values.factor) throw new Error("usage: scenario.js --root REPO --out FILE --latency MS --factor F (bench/run.ts passes these)");
  const result = await runScenario(values.root, Number(values.latency), Number(values.factor));
  writeFileSync(values.out, JSON.stringify(result));
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  scenarioMain().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench scenario failed: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
