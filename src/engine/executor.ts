/**
 * Runs a dependency graph with bounded parallelism: a task starts as soon as every task it depends on is done,
 * so slow work starts as early as its inputs allow. When more tasks are ready than there are free slots, the one with
 * the longest chain of dependents behind it goes first (critical-path list scheduling): the VPC before a bucket's
 * settings, so the subnets, the DB subnet group and the database start as early as their inputs allow instead of
 * queueing behind leaves. A failed task marks everything downstream as skipped; independent work goes on. An aborted
 * run starts nothing new and lets in-flight tasks finish.
 */
export interface GraphTask {
  id: string;
  /** Ids of tasks that must finish first; ids not in the graph are ignored. */
  deps: string[];
}

export type Outcome<T> =
  | { status: "done"; value: T }
  | { status: "failed"; error: unknown }
  | { status: "skipped"; reason: string };

export interface RunOptions {
  concurrency: number;
  signal?: AbortSignal;
  /** Called for each task that will not run, with the reason. */
  onSkip?: (id: string, reason: string) => void;
}

export async function runGraph<T>(tasks: GraphTask[], work: (id: string) => Promise<T>, options: RunOptions): Promise<Map<string, Outcome<T>>> {
  const ids = new Set(tasks.map((t) => t.id));
  const deps = new Map(tasks.map((t) => [t.id, t.deps.filter((d) => ids.has(d) && d !== t.id)]));
  assertAcyclic(deps);
  const dependents = new Map<string, string[]>();
  for (const [id, ds] of deps) for (const d of ds) dependents.set(d, [...(dependents.get(d) ?? []), id]);

  const chain = chainLengths(deps, dependents);
  const outcomes = new Map<string, Outcome<T>>();
  const waiting = new Map([...deps].map(([id, ds]) => [id, ds.length]));
  const ready: string[] = tasks.filter((t) => waiting.get(t.id) === 0).map((t) => t.id);
  let running = 0;

  return new Promise((resolve) => {
    const skip = (id: string, reason: string) => {
      if (outcomes.has(id)) return;
      outcomes.set(id, { status: "skipped", reason });
      options.onSkip?.(id, reason);
      for (const next of dependents.get(id) ?? []) skip(next, reason.startsWith("interrupted") ? reason : `dependency ${id} did not complete`);
    };
    const finish = (id: string, outcome: Outcome<T>) => {
      outcomes.set(id, outcome);
      running -= 1;
      for (const next of dependents.get(id) ?? []) {
        if (outcome.status !== "done") skip(next, `dependency ${id} ${outcome.status === "failed" ? "failed" : "did not complete"}`);
        else {
          const left = (waiting.get(next) ?? 0) - 1;
          waiting.set(next, left);
          if (left === 0 && !outcomes.has(next)) ready.push(next);
        }
      }
      pump();
    };
    const pump = () => {
      if (options.signal?.aborted) {
        for (const id of ready.splice(0)) skip(id, "interrupted before it started");
      }
      while (running < options.concurrency && ready.length > 0) {
        const id = takeLongestChain(ready, chain);
        if (outcomes.has(id)) continue;
        running += 1;
        work(id).then(
          (value) => finish(id, { status: "done", value }),
          (error: unknown) => finish(id, { status: "failed", error }),
        );
      }
      if (running === 0 && ready.length === 0) {
        for (const t of tasks) if (!outcomes.has(t.id)) skip(t.id, "interrupted before it started");
        resolve(outcomes);
      }
    };
    pump();
  });
}

/** For each task, how many tasks (itself included) the longest chain of its dependents holds. */
function chainLengths(deps: Map<string, string[]>, dependents: Map<string, string[]>): Map<string, number> {
  const lengths = new Map<string, number>();
  const lengthOf = (id: string): number => {
    let n = lengths.get(id);
    if (n === undefined) {
      n = 1 + Math.max(0, ...(dependents.get(id) ?? []).map(lengthOf));
      lengths.set(id, n);
    }
    return n;
  };
  for (const id of deps.keys()) lengthOf(id);
  return lengths;
}

/** Removes and returns the ready task with the longest chain of dependents; the earliest ready wins a tie. */
function takeLongestChain(ready: string[], chain: Map<string, number>): string {
  let best = 0;
  for (let i = 1; i < ready.length; i++) if (chain.get(ready[i]!)! > chain.get(ready[best]!)!) best = i;
  return ready.splice(best, 1)[0]!;
}

/** Throws with the cycle spelled out when the graph has one. */
export function assertAcyclic(deps: Map<string, string[]>): void {
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (id: string) => {
    if (state.get(id) === "done") return;
    if (state.get(id) === "visiting") {
      const cycle = [...path.slice(path.indexOf(id)), id];
      throw new Error(`internal: dependency cycle: ${cycle.join(" → ")}`);
    }
    state.set(id, "visiting");
    path.push(id);
    for (const d of deps.get(id) ?? []) visit(d);
    path.pop();
    state.set(id, "done");
  };
  for (const id of deps.keys()) visit(id);
}

/** Ids in an order where every task comes after its dependencies. */
export function topologicalOrder(tasks: GraphTask[]): string[] {
  const ids = new Set(tasks.map((t) => t.id));
  const deps = new Map(tasks.map((t) => [t.id, t.deps.filter((d) => ids.has(d))]));
  assertAcyclic(deps);
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const d of deps.get(id) ?? []) visit(d);
    out.push(id);
  };
  for (const t of tasks) visit(t.id);
  return out;
}
