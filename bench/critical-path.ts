import type { EngineEvent } from "../src/engine/events.js";
import { topologicalOrder } from "../src/engine/executor.js";

/**
 * The critical path of a run: the longest chain of dependent work, where each item weighs what it really took
 * (a resource's measured duration from the engine's start/done events, or the AWS calls of a serial step such as
 * sts:GetCallerIdentity) and its dependencies come from the stack. With unlimited parallelism and no overhead, a run
 * cannot finish sooner than this, so wall time ÷ critical path says how much the engine loses to scheduling, slots,
 * polling and CPU.
 */
export interface WorkItem {
  id: string;
  /** What the item took on its own, in milliseconds (0 for a barrier). */
  durationMs: number;
  /** Ids that must finish before it starts; ids not among the items are ignored (as the engine's executor does). */
  deps: string[];
}

export interface ChainLink {
  id: string;
  durationMs: number;
  /** When it could start and finish at the earliest, from the start of the run. */
  startMs: number;
  finishMs: number;
}

export interface CriticalPath {
  totalMs: number;
  /** The chain, first item first; empty when there is no work. */
  chain: ChainLink[];
}

/** The longest weighted path over the dependency graph (earliest-finish times in topological order, then back-tracked). */
export function criticalPath(items: WorkItem[]): CriticalPath {
  const byId = new Map(items.map((i) => [i.id, i]));
  if (byId.size !== items.length) throw new Error("critical path: duplicate work item ids");
  const deps = (item: WorkItem) => [...new Set(item.deps)].filter((d) => byId.has(d) && d !== item.id);
  for (const item of items) {
    if (!Number.isFinite(item.durationMs) || item.durationMs < 0) throw new Error(`critical path: ${item.id} has duration ${item.durationMs}`);
  }
  const finish = new Map<string, number>();
  const via = new Map<string, string | undefined>();
  for (const id of topologicalOrder(items.map((i) => ({ id: i.id, deps: deps(i) })))) {
    const item = byId.get(id)!;
    let start = 0;
    let before: string | undefined;
    for (const d of deps(item)) {
      // The dependency that finishes last decides the start; on a tie the first one listed.
      if (before === undefined || finish.get(d)! > start) {
        start = finish.get(d)!;
        before = d;
      }
    }
    finish.set(id, start + item.durationMs);
    via.set(id, before);
  }
  let last: string | undefined;
  for (const item of items) if (last === undefined || finish.get(item.id)! > finish.get(last)!) last = item.id;
  const chain: ChainLink[] = [];
  for (let id = last; id !== undefined; id = via.get(id)) {
    const item = byId.get(id)!;
    chain.unshift({ id, durationMs: item.durationMs, startMs: finish.get(id)! - item.durationMs, finishMs: finish.get(id)! });
  }
  return { totalMs: last === undefined ? 0 : finish.get(last)!, chain };
}

/** Total length of the union of time intervals: how long at least one of them was in progress. */
export function coveredMs(intervals: [number, number][]): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of sorted) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

export interface TimedEvent {
  /** ms since the phase began. */
  at: number;
  event: EngineEvent;
}

export interface CallStamp {
  command: string;
  mutating: boolean;
  /** Start and end of the call, ms since the phase began (the fake's latency is the call's duration). */
  start: number;
  end: number;
}

/**
 * A CLI run as a graph of work items: the AWS calls made before the engine's first event (sts, the zones),
 * then every finder of the observe sweep (independent of each other), a barrier, the resources of the apply or destroy
 * graph with their stack dependencies, and the calls after the engine's last event (down's sweep for leftovers).
 * A serial step weighs the time its calls were in flight; a resource its own measured start → done time.
 */
export function workItems(events: TimedEvent[], stamps: CallStamp[], graph: Map<string, string[]>): WorkItem[] {
  const reads = new Map<string, { start?: number; done?: number }>();
  const work = new Map<string, { start?: number; done?: number; elapsed?: number }>();
  let first = Infinity;
  let last = -Infinity;
  for (const { at, event: e } of events) {
    if (e.kind === "note" || e.kind === "skipped") continue;
    const table = e.action === "read" ? reads : work;
    const entry: { start?: number; done?: number; elapsed?: number } = table.get(e.logicalId) ?? {};
    if (e.kind === "start") entry.start = at;
    else {
      entry.done = at;
      entry.elapsed = e.elapsedMs;
    }
    table.set(e.logicalId, entry);
    first = Math.min(first, e.kind === "start" ? at : at - e.elapsedMs);
    last = Math.max(last, at);
  }
  const setup = "(calls before the engine)";
  const items: WorkItem[] = [{ id: setup, durationMs: coveredMs(stamps.filter((s) => s.start < first).map((s) => [s.start, s.end])), deps: [] }];
  for (const [id, r] of reads) items.push({ id: `read ${id}`, durationMs: span(r), deps: [setup] });
  const gate = reads.size ? "(plan ready)" : setup;
  if (reads.size) items.push({ id: gate, durationMs: 0, deps: [...reads.keys()].map((id) => `read ${id}`) });
  for (const [id, w] of work) {
    items.push({ id, durationMs: w.start !== undefined ? span(w) : (w.elapsed ?? 0), deps: [gate, ...(graph.get(id) ?? []).filter((d) => work.has(d))] });
  }
  const ends = work.size ? [...work.keys()] : [gate];
  items.push({ id: "(calls after the engine)", durationMs: coveredMs(stamps.filter((s) => s.start >= first && s.start > last).map((s) => [s.start, s.end])), deps: ends });
  return items;
}

function span(t: { start?: number; done?: number }): number {
  return t.start !== undefined && t.done !== undefined ? Math.max(0, t.done - t.start) : 0;
}
