/**
 * The measured part of `npm run bench`, run by bench/run.ts in fresh Node processes (compiled to plain JavaScript, no tsx
 * loader, so peak memory is the CLI's and the fake's, not a TypeScript loader's). It drives the CLI's own entry point,
 * `main()` from src/cli.ts, in-process against the in-memory fake AWS, through cold up, no-op up, status, plan and down,
 * and writes what it measured as JSON. Two ways:
 *
 *   node <compiled>/bench/scenario.js --root REPO --out FILE --latency MS --factor F
 *       every phase in this one process (timings, calls, reads per finder; peak memory accumulates across the phases);
 *   node <compiled>/bench/scenario.js --root REPO --out FILE --latency MS --factor F --phase PHASE --handoff DIR
 *       one phase in this process, as users run one command per process: the project directory and the fake AWS come
 *       from DIR (left there by the previous phase's process; cold up starts both) and go back there afterwards.
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
import { countIds, loadFake, saveFake } from "./fake-handoff.js";
import { peakRssMb as peakRssMbNow } from "./memory.js";

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
export const PHASES: Phase[] = ["coldUp", "noopUp", "status", "plan", "down"];
/** The command each phase runs (with --env dev and the toggles' --set flags). */
const PHASE_ARGS: Record<Phase, string[]> = {
  coldUp: ["up", "--yes"],
  noopUp: ["up", "--yes"],
  status: ["status"],
  plan: ["plan"],
  down: ["down", "--yes", "--skip-final-snapshot", "--delete-data"],
};

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
  /** This process's peak RSS after the phase (bench/memory.ts): process-wide and monotone, the peak so far. */
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

/** One phase run alone in its own process (`--phase`): what a user's `platform` process of that command costs. */
export interface AlonePhaseResult {
  phase: Phase;
  exitCode: number;
  error?: string;
  wallMs: number;
  /** Peak RSS of this process after loading the CLI, the SDK clients and the fake, and restoring the fake: before the command. */
  rssBeforeMb: number;
  /** Peak RSS of this process after the command: the command's own peak. */
  peakRssMb: number;
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
  readonly cwd: string;
  readonly aws: FakeAws;
  readonly waits: WaitSettings;
  readonly toggles = toggleSets();
  readonly kindsAsked = new Set<string>();
  /** Ids the fake has issued, for handing it to the next process. */
  readonly idsIssued: () => number;
  private stamps: CallStamp[] = [];
  private phaseStart = 0;

  /** A new project directory and an empty fake; or, with `handoff`, the project and fake an earlier process left there. */
  constructor(
    root: string,
    readonly latencyMs: number,
    readonly factor: number,
    handoff?: { project: string; fake?: Buffer },
  ) {
    this.cwd = handoff?.project ?? mkdtempSync(path.join(os.tmpdir(), "platform-bench-"));
    if (!handoff?.fake) {
      mkdirSync(path.join(this.cwd, "config"), { recursive: true });
      cpSync(path.join(root, "config/dev.json"), path.join(this.cwd, "config/dev.json"));
    }
    this.waits = { minDelay: REAL_AWS_WAITS.minDelay * factor, maxDelay: REAL_AWS_WAITS.maxDelay * factor, scale: factor };
    const provisioningMs = Object.fromEntries(Object.entries(REAL_PROVISIONING_SECONDS).map(([k, s]) => [k, Math.round(s * 1000 * factor)]));
    this.aws = installFakeAws({ latencyMs, provisioningMs });
    this.idsIssued = countIds(this.aws, handoff?.fake ? loadFake(this.aws, handoff.fake) : 0);
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
    const peakRssMb = peakRssMbNow();
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
   * Reads per finder: the finders of every recorded resource of one type, together (as the observe sweep runs them, so
   * reads they share count once) and without latency, one type at a time, so every call in between is that type's.
   * Not timed; it says which finders make the no-op sweep cost more than one read per resource.
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
    const recordsByType = new Map<string, [string, { attributes: Record<string, unknown> }][]>();
    for (const [logicalId, record] of Object.entries(this.state())) recordsByType.set(record.type, [...(recordsByType.get(record.type) ?? []), [logicalId, record]]);
    const byType = new Map<string, { resources: number; reads: number; commands: Record<string, number> }>();
    try {
      for (const [typeName, records] of recordsByType) {
        const type = registry.get(typeName);
        if (!type) continue;
        const before = cloud.calls.length;
        // A finder that fails still made its reads; they count all the same.
        await Promise.all(records.map(([logicalId, record]) => type.find(ctx, { logicalId, recorded: record.attributes }).catch(() => undefined)));
        const t = { resources: records.length, reads: 0, commands: {} as Record<string, number> };
        for (const c of cloud.calls.slice(before)) {
          t.reads += 1;
          t.commands[`${c.service}:${c.command}`] = (t.commands[`${c.service}:${c.command}`] ?? 0) + 1;
        }
        byType.set(typeName, t);
      }
    } finally {
      cloud.timings = saved;
    }
    return [...byType]
      .map(([type, t]) => ({ type, resources: t.resources, readsPerFind: round(t.reads / t.resources, 2), commands: t.commands }))
      .sort((a, b) => b.readsPerFind - a.readsPerFind || a.type.localeCompare(b.type));
  }

  /** Uninstalls the fake; removes the project directory unless a later process takes it over. */
  cleanup({ keepProject = false } = {}): void {
    this.aws.restore();
    if (!keepProject) rmSync(this.cwd, { recursive: true, force: true });
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
  const baselineRssMb = peakRssMbNow();
  const s = new Scenario(root, latencyMs, factor);
  const phases: PhaseResult[] = [];
  let readsPerFinder: FinderReads[] = [];
  try {
    const stack = s.stackGraph();
    phases.push(await s.run("coldUp", PHASE_ARGS.coldUp, stack));
    phases.push(await s.run("noopUp", PHASE_ARGS.noopUp, stack));
    phases.push(await s.run("status", PHASE_ARGS.status, stack));
    phases.push(await s.run("plan", PHASE_ARGS.plan, stack));
    readsPerFinder = await s.readsPerFinder();
    phases.push(await s.run("down", PHASE_ARGS.down, s.destroyGraph()));
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

/**
 * One phase in this process, as a user's `platform <command>` runs: the project and the fake AWS come from `handoff`
 * (cold up starts them) and are saved back there for the next phase's process.
 */
export async function runPhaseAlone(root: string, latencyMs: number, factor: number, phase: Phase, handoff: string): Promise<AlonePhaseResult> {
  const project = path.join(handoff, "project");
  const fakeFile = path.join(handoff, "fake.bin");
  const s = new Scenario(root, latencyMs, factor, { project, ...(phase === "coldUp" ? {} : { fake: readFileSync(fakeFile) }) });
  try {
    const rssBeforeMb = peakRssMbNow();
    const graph = phase === "down" ? s.destroyGraph() : s.stackGraph();
    const r = await s.run(phase, PHASE_ARGS[phase], graph);
    writeFileSync(fakeFile, saveFake(s.aws, s.idsIssued()));
    return { phase, exitCode: r.exitCode, ...(r.error ? { error: r.error } : {}), wallMs: r.wallMs, rssBeforeMb, peakRssMb: r.peakRssMb };
  } finally {
    s.cleanup({ keepProject: true });
  }
}

async function scenarioMain(): Promise<void> {
  const { values } = parseArgs({
    options: { root: { type: "string" }, out: { type: "string" }, latency: { type: "string" }, factor: { type: "string" }, phase: { type: "string" }, handoff: { type: "string" } },
  });
  if (!values.root || !values.out || !values.latency || !values.factor) {
    throw new Error("usage: scenario.js --root REPO --out FILE --latency MS --factor F [--phase PHASE --handoff DIR] (bench/run.ts passes these)");
  }
  if (values.phase !== undefined) {
    if (!PHASES.includes(values.phase as Phase) || !values.handoff) throw new Error(`--phase ${values.phase}: expected one of ${PHASES.join(", ")}, with --handoff DIR`);
    const result = await runPhaseAlone(values.root, Number(values.latency), Number(values.factor), values.phase as Phase, values.handoff);
    writeFileSync(values.out, JSON.stringify(result));
    return;
  }
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
