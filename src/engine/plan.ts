import { awsFailure } from "../aws/errors.js";
import { loadResourceTypes } from "../resources/catalog.js";
import type { Change, ResourceContext } from "../resources/types.js";
import { dependenciesOf, resolveSpec, type Stack, type StackNode } from "../stack/model.js";
import type { StateDocument } from "../state/document.js";
import type { EventSink } from "./events.js";
import { runGraph, topologicalOrder } from "./executor.js";
import { NotOurs, notOurs } from "./ownership.js";
import type { Registry } from "./registry.js";

export type PlannedAction = "create" | "update" | "replace" | "delete" | "noop";

/** What a run found for one resource and what it would do about it. */
export interface PlannedResource {
  logicalId: string;
  type: string;
  action: PlannedAction;
  changes: Change[];
  /** What exists in AWS now, as the finder read it; undefined when absent. */
  actual?: Record<string, unknown>;
  physicalId?: string;
  /** True when state records it. */
  inState: boolean;
  /** Why: "deleted outside platform", "found by its tags: adopted", "removed from the config". */
  reason?: string;
  dependsOn: string[];
}

export interface Plan {
  resources: PlannedResource[];
  /** Finders that failed (permissions, throttling beyond retries): the plan is incomplete. */
  errors: { logicalId: string; error: Error }[];
  /** The stack's plan-level notes (trade-offs the config implies). */
  notes?: string[];
}

/**
 * Finders running at once per --concurrency slot in the observe sweep. A finder is one to three short reads that never
 * wait on provisioning, so with 10 slots the no-op sweep of the full stack (123 resources, 181 reads) took ten rounds of
 * calls; 40 at once takes the few rounds its longest finders need (`npm run bench`: 931 → 371 ms). 40 stays under the SDK's 50 keep-alive sockets per client
 * (@smithy/node-http-handler) and well inside EC2's per-API token buckets for describe calls (100, refilled at 20/s,
 * per AWS's "Request throttling for the Amazon EC2 API"); throttling beyond that is retried by the SDK.
 */
export const READS_PER_SLOT = 4;

export interface PlanOptions {
  /** Resources worked on at once (--concurrency); the observe sweep reads READS_PER_SLOT times as many. */
  concurrency: number;
  signal?: AbortSignal;
  /** Each finder's start and end (action "read"), for timing; the progress view does not subscribe. */
  events?: EventSink;
}

/**
 * Observes every resource the stack wants and every resource state records, in parallel (each finder is independent),
 * then diffs in dependency order so a spec's references resolve against what exists.
 */
export async function planStack(stack: Stack, state: StateDocument, registry: Registry, ctx: ResourceContext, options: PlanOptions): Promise<Plan> {
  const wanted = new Map(stack.nodes.map((n) => [n.logicalId, n]));
  // A retired resource (the database instance a restore replaced) is kept on purpose until `db restore --retire-old` or `down`.
  const removed = Object.entries(state.resources).filter(([id, record]) => !wanted.has(id) && !record.retired);
  // Each type's module (and its SDK client) is imported here, when a resource of it is first read (src/resources/catalog.ts).
  await loadResourceTypes([...stack.nodes.map((n) => n.type), ...removed.map(([, record]) => registry.get(record.type))]);
  const observed = new Map<string, Record<string, unknown> | undefined>();
  const errors: Plan["errors"] = [];

  // A resource state records is read by its recorded id at once; one it does not is looked up by what its create would
  // use (tags, or a name or key in its spec that may name a parent), so it waits for its dependencies to be observed.
  const observeTasks = [
    ...[...wanted.values()].map((n) => ({ id: n.logicalId, deps: state.resources[n.logicalId] ? [] : dependenciesOf(n) })),
    ...removed.map(([id]) => ({ id, deps: [] })),
  ];
  const outcomes = await runGraph(
    observeTasks,
    async (id) => {
      const node = wanted.get(id);
      const type = node?.type ?? registry.get(state.resources[id]!.type);
      if (!type) throw new Error(`state records ${id} with unknown type ${state.resources[id]!.type}`);
      const started = Date.now();
      options.events?.({ kind: "start", logicalId: id, type: type.type, action: "read" });
      const wantedSpec = node ? wantedSpecOf(node, (dep) => observed.get(dep) ?? state.resources[dep]?.attributes) : undefined;
      const actual = await type.find(ctx, { logicalId: id, recorded: state.resources[id]?.attributes, wanted: wantedSpec }).catch((err: unknown) => {
        options.events?.({ kind: "failed", logicalId: id, type: type.type, action: "read", message: (err as Error)?.message ?? String(err), elapsedMs: Date.now() - started });
        throw err;
      });
      options.events?.({ kind: "done", logicalId: id, type: type.type, action: "read", elapsedMs: Date.now() - started });
      // Found without a record: adopted only when its tags prove it ours (the engine decides, once, for every type).
      const foreign = actual !== undefined && !state.resources[id] ? notOurs(type, ctx, actual, id) : undefined;
      if (foreign) throw foreign;
      observed.set(id, actual as Record<string, unknown> | undefined);
    },
    { concurrency: options.concurrency * READS_PER_SLOT, signal: options.signal },
  );
  for (const [id, outcome] of outcomes) {
    if (outcome.status === "failed") errors.push({ logicalId: id, error: outcome.error instanceof NotOurs ? outcome.error : awsFailure(`reading ${id}`, outcome.error) });
    // Not looked up because a dependency could not be read: unknown, not absent.
    if (outcome.status === "skipped" && !options.signal?.aborted) errors.push({ logicalId: id, error: new Error(`not read: ${outcome.reason}`) });
  }

  const resources: PlannedResource[] = [];
  const byId = new Map<string, PlannedResource>();
  const order = topologicalOrder(stack.nodes.map((n) => ({ id: n.logicalId, deps: dependenciesOf(n) })));
  for (const id of order) {
    const node = wanted.get(id)!;
    const planned = planNode(node, observed.get(id), state, byId);
    byId.set(id, planned);
    resources.push(planned);
  }
  for (const [id, record] of removed) {
    const actual = observed.get(id);
    resources.push({
      logicalId: id,
      type: record.type,
      action: actual ? "delete" : "noop",
      changes: [],
      actual,
      physicalId: record.physicalId,
      inState: true,
      reason: actual ? "removed from the config" : "removed from the config and already gone",
      dependsOn: record.dependsOn,
    });
  }
  return { resources, errors, ...(stack.notes?.length ? { notes: stack.notes } : {}) };
}

/** The node's spec with references resolved against what is known so far; undefined when it cannot be resolved. */
export function wantedSpecOf(node: StackNode, lookup: (logicalId: string) => Record<string, unknown> | undefined): unknown {
  try {
    return resolveSpec(node.spec, lookup);
  } catch {
    return undefined; // an attribute an older record lacks: look up by tags or recorded ids only
  }
}

function planNode(node: StackNode, actual: Record<string, unknown> | undefined, state: StateDocument, planned: Map<string, PlannedResource>): PlannedResource {
  const record = state.resources[node.logicalId];
  const base = { logicalId: node.logicalId, type: node.type.type, inState: Boolean(record), dependsOn: dependenciesOf(node) };
  if (!actual) {
    return { ...base, action: "create", changes: [], reason: record ? "deleted outside platform" : undefined };
  }
  const spec = resolveSpec(node.spec, (depId) => {
    const dep = planned.get(depId);
    return dep && (dep.action === "noop" || dep.action === "update") ? dep.actual : undefined;
  });
  const changes = node.type.diff(spec, actual);
  const action: PlannedAction = changes.some((c) => c.action === "replace") ? "replace" : changes.length ? "update" : "noop";
  return {
    ...base,
    action,
    changes,
    actual,
    physicalId: node.type.physicalId(actual),
    reason: record ? undefined : "found by its tags: adopted into state",
  };
}

/** The first resource the plan found under its key but could not prove ours: the run stops with it (exit 2). */
export function foreignResource(plan: Plan): NotOurs | undefined {
  return plan.errors.map((e) => e.error).find((e): e is NotOurs => e instanceof NotOurs);
}

/** True when applying the plan would change anything in AWS (adoptions and state clean-ups alone do not count). */
export function hasChanges(plan: Plan): boolean {
  return plan.resources.some((r) => r.action !== "noop");
}

export function countActions(plan: Plan): Record<PlannedAction, number> {
  const counts: Record<PlannedAction, number> = { create: 0, update: 0, replace: 0, delete: 0, noop: 0 };
  for (const r of plan.resources) counts[r.action] += 1;
  return counts;
}
