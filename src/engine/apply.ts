import { awsFailure, errorCode } from "../aws/errors.js";
import { isOurs } from "../aws/tags.js";
import { AwsFailure, UserError } from "../errors.js";
import { loadResourceTypes } from "../resources/catalog.js";
import { backoffMs } from "../resources/retry.js";
import type { Change, ResourceContext, ResourceType } from "../resources/types.js";
import { sleep } from "../run/wait-for.js";
import { sameValue } from "../resources/types.js";
import { dependenciesOf, resolveSpec, Ref, type Stack } from "../stack/model.js";
import type { StateStore } from "../state/store.js";
import type { Action, EventSink } from "./events.js";
import { runGraph, type Outcome } from "./executor.js";
import type { Plan, PlannedResource } from "./plan.js";
import { notOurs } from "./ownership.js";
import type { Registry } from "./registry.js";

export interface ApplyOptions {
  concurrency: number;
  allowReplace: boolean;
  signal?: AbortSignal;
  events: EventSink;
}

export interface ResourceResult {
  logicalId: string;
  type: string;
  action: Action;
  status: "done" | "failed" | "skipped";
  physicalId?: string;
  /** AWS's error code and message; the request id and HTTP status of the failed AWS call when there was one (--verbose shows them). */
  error?: { message: string; code?: string; requestId?: string; httpStatus?: number };
  reason?: string;
}

export interface ApplyResult {
  resources: ResourceResult[];
  outputs: Record<string, unknown>;
  ok: boolean;
}

/**
 * Makes AWS match the stack: resources removed from the config are destroyed first (dependents before dependencies),
 * then every wanted resource is created, updated or left alone, in dependency order with bounded parallelism.
 * State is written after every change.
 */
export async function applyStack(stack: Stack, plan: Plan, store: StateStore, registry: Registry, ctx: ResourceContext, options: ApplyOptions): Promise<ApplyResult> {
  const planned = new Map(plan.resources.map((r) => [r.logicalId, r]));
  const results: ResourceResult[] = [];
  await loadResourceTypes(stack.nodes.map((n) => n.type));

  const removals = plan.resources.filter((r) => !stack.nodes.some((n) => n.logicalId === r.logicalId));
  results.push(...(await destroyResources(removals, store, registry, ctx, options)));

  const nodes = new Map(stack.nodes.map((n) => [n.logicalId, n]));
  const attrs = new Map<string, Record<string, unknown>>();
  const outcomes = await runGraph(
    stack.nodes.map((n) => ({ id: n.logicalId, deps: dependenciesOf(n) })),
    async (id) => {
      const node = nodes.get(id)!;
      const spec = resolveSpec(node.spec, (dep) => attrs.get(dep));
      const result = await applyOne(id, node.type, spec, planned.get(id), dependenciesOf(node), store, ctx, options);
      attrs.set(id, result.attributes);
      return result.action;
    },
    { concurrency: options.concurrency, signal: options.signal, onSkip: (id, reason) => options.events({ kind: "skipped", logicalId: id, type: nodes.get(id)!.type.type, reason }) },
  );
  results.push(...summarize(outcomes, (id) => nodes.get(id)!.type.type, (id) => store.get(id)?.physicalId));

  const outputs = resolveOutputs(stack.outputs, attrs);
  const ok = results.every((r) => r.status === "done");
  if (ok) await store.setOutputs(outputs);
  else await store.setOutputs({ ...store.document.outputs, ...outputs });
  await store.flush();
  return { resources: results, outputs, ok };
}

async function applyOne(
  logicalId: string,
  type: ResourceType<unknown, unknown>,
  spec: unknown,
  planned: PlannedResource | undefined,
  dependsOn: string[],
  store: StateStore,
  ctx: ResourceContext,
  options: ApplyOptions,
): Promise<{ action: Action; attributes: Record<string, unknown> }> {
  const record = store.get(logicalId);
  let actual = planned?.actual;
  const started = Date.now();
  let action: Action = "noop";
  const emitStart = (a: Action) => {
    action = a;
    options.events({ kind: "start", logicalId, type: type.type, action: a });
  };
  try {
    let attributes: unknown;
    if (!actual) {
      emitStart("create");
      attributes = await createOnce(type, ctx, spec, logicalId);
    } else {
      const changes = type.diff(spec, actual);
      const replacing = changes.filter((c) => c.action === "replace");
      if (replacing.length && !options.allowReplace) {
        throw new UserError(
          `${logicalId} needs replacement (${replacing.map((c) => c.field).join(", ")} cannot change in place); review the plan and run again with --allow-replace`,
        );
      }
      if (replacing.length) {
        emitStart("replace");
        await type.destroy(ctx, actual);
        attributes = await createOnce(type, ctx, spec, logicalId);
      } else if (changes.length) {
        emitStart("update");
        if (!type.update) throw new Error(`internal: ${type.type} has in-place changes but no update`);
        attributes = await updateOnce(type, ctx, spec, actual, changes, logicalId);
      } else {
        attributes = actual;
        if (!record) action = "adopt";
      }
    }
    const recordNow = {
      type: type.type,
      physicalId: type.physicalId(attributes),
      attributes: attributes as Record<string, unknown>,
      dependsOn,
    };
    if (!record || !sameValue(record.attributes, recordNow.attributes) || !sameValue(record.dependsOn, dependsOn) || record.physicalId !== recordNow.physicalId) {
      await store.put(logicalId, recordNow);
    }
    options.events({ kind: "done", logicalId, type: type.type, action, physicalId: recordNow.physicalId, elapsedMs: Date.now() - started });
    return { action, attributes: attributes as Record<string, unknown> };
  } catch (err) {
    const failure = err instanceof UserError ? err : awsFailure(`${verb(action)} ${type.type} (${logicalId})`, err);
    options.events({
      kind: "failed",
      logicalId,
      type: type.type,
      action,
      message: failure.message,
      code: failure instanceof AwsFailure ? failure.code : errorCode(err),
      elapsedMs: Date.now() - started,
    });
    throw failure;
  }
}

/** Attempts of a create or update whose earlier attempts failed ambiguously and whose lookup found nothing (the request never ran). */
const CREATE_ATTEMPTS = 5;

/**
 * Creates `logicalId` exactly once, whatever happens to the answers. A create that fails in a way that leaves open
 * whether AWS ran it (no answer, a connection error, a throttle or 5xx: see `mayHaveRun`), or that meets "already
 * exists" (a retry of a request that had run), is followed by a lookup with the type's own finder, by what the create
 * would have made it with (its tags or its name), before any new attempt: what is found is adopted when its tags prove
 * it ours and it is exactly what was asked (else updated in place, or refused); only when nothing is found is the create
 * tried again.
 */
async function createOnce(type: ResourceType<unknown, unknown>, ctx: ResourceContext, spec: unknown, logicalId: string): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    let created: unknown;
    try {
      created = await type.create(ctx, spec, { logicalId, wanted: spec });
    } catch (err) {
      const existed = alreadyExists(err);
      if (ctx.signal?.aborted || !(existed || mayHaveRun(err))) throw err;
      // A ClientToken makes the retry itself return the first result: no lookup needed after an ambiguous failure.
      const found = type.createIdempotency === "token" && !existed ? undefined : await type.find(ctx, { logicalId, wanted: spec });
      if (found === undefined) {
        if (existed || attempt >= CREATE_ATTEMPTS) throw err;
        await sleep(backoffMs(ctx, attempt - 1), ctx.signal);
        continue;
      }
      const foreign = notOurs(type, ctx, found, logicalId);
      if (foreign) throw foreign;
      const changes = type.diff(spec, found);
      if (!changes.length) return found;
      if (changes.some((c) => c.action === "replace") || !type.update) {
        throw new Error(
          `${logicalId}: ${type.type} ${type.physicalId(found)} exists but differs from what was asked (${changes.map((c) => c.field).join(", ")}); delete it and run again`,
          { cause: err },
        );
      }
      return type.update(ctx, spec, found, changes);
    }
    // A create that hands back what already had the name (ECS CreateCluster does) hands back someone else's too.
    const foreign = notOurs(type, ctx, created, logicalId);
    if (foreign) throw foreign;
    return created;
  }
}

/**
 * Applies in-place changes; an update whose answer was lost (an entry or association call inside it replayed into "already
 * exists", or no answer at all) is read again and diffed: done when nothing is left to change, else applied again.
 */
async function updateOnce(type: ResourceType<unknown, unknown>, ctx: ResourceContext, spec: unknown, actual: unknown, changes: Change[], logicalId: string): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await type.update!(ctx, spec, actual, changes);
    } catch (err) {
      if (ctx.signal?.aborted || !(alreadyExists(err) || mayHaveRun(err)) || attempt >= CREATE_ATTEMPTS) throw err;
      const found = await type.find(ctx, { logicalId, recorded: actual, wanted: spec });
      if (found === undefined) throw err;
      actual = found;
      changes = type.diff(spec, found);
      if (!changes.length) return found;
      if (changes.some((c) => c.action === "replace")) throw err;
      await sleep(backoffMs(ctx, attempt - 1), ctx.signal);
    }
  }
}

/** AWS's answer that what a create asked for is there already (a replay of a request that ran, or a resource a killed run made). */
export function alreadyExists(err: unknown): boolean {
  const code = errorCode(err) ?? "";
  return /AlreadyExists|Duplicate|AlreadyAssociated|AlreadyOwnedByYou|ResourceExistsException|PriorityInUse|^InvalidSubnet\.Conflict$/.test(code) && code !== "BucketAlreadyExists";
}

/** Failures after which AWS may have run the request: no answer (network, timeout), throttling, or a 5xx. */
export function mayHaveRun(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $fault?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown } | undefined;
  if (!e || typeof e !== "object") return false;
  if (e.name === "AmbiguousAnswer") return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (/Throttl|RequestLimitExceeded|TooManyRequests|SlowDown|RequestTimeout|ServiceUnavailable|InternalError|InternalFailure/.test(e.name ?? "")) return true;
  // No HTTP answer at all: a socket error or a timeout.
  return status === undefined && /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|TimeoutError|NetworkingError|socket hang up/.test(`${e.code ?? ""} ${e.name ?? ""}`);
}

export interface DestroyOptions {
  concurrency: number;
  signal?: AbortSignal;
  events: EventSink;
}

/**
 * Destroys recorded resources, each only after everything that depends on it is gone. A resource is deleted only when
 * state records it and, for taggable resources, its tags prove it is this environment's.
 */
export async function destroyResources(
  targets: Pick<PlannedResource, "logicalId" | "type" | "dependsOn" | "actual">[],
  store: StateStore,
  registry: Registry,
  ctx: ResourceContext,
  options: DestroyOptions,
): Promise<ResourceResult[]> {
  await loadResourceTypes(targets.map((t) => registry.get(t.type)));
  const ids = new Set(targets.map((t) => t.logicalId));
  const byId = new Map(targets.map((t) => [t.logicalId, t]));
  // Reverse edges: X waits for every target that depends on X.
  const waitsFor = new Map<string, string[]>([...ids].map((id) => [id, []]));
  for (const t of targets) for (const dep of t.dependsOn) if (ids.has(dep)) waitsFor.get(dep)!.push(t.logicalId);

  // The ids (physical id, ARN) of each parent whose tags, read from AWS, prove it ours; undefined when not proven.
  const provenParents = new Map<string, Promise<Set<string> | undefined>>();
  const provenIds = (parentId: string) => {
    let proven = provenParents.get(parentId);
    if (!proven) {
      proven = (async () => {
        const record = store.get(parentId);
        const parentType = registry.get(byId.get(parentId)?.type ?? record?.type ?? "");
        if (!parentType) return undefined;
        const parent = (byId.get(parentId)?.actual ?? (await parentType.find(ctx, { logicalId: parentId, recorded: record?.attributes }))) as Record<string, unknown> | undefined;
        if (!parent?.tags || notOurs(parentType, ctx, parent, record?.retired?.from ?? parentId)) return undefined;
        return new Set([parentType.physicalId(parent), parent.arn].filter((v): v is string => typeof v === "string"));
      })().catch(() => undefined);
      provenParents.set(parentId, proven);
    }
    return proven;
  };
  const hangsOnOwnedParent = async (parents: string[], actual: Record<string, unknown>) => {
    const refs = new Set(Object.values(actual).filter((v): v is string => typeof v === "string"));
    for (const parentId of parents) {
      const ids = await provenIds(parentId);
      if (ids && [...ids].some((v) => refs.has(v))) return true;
    }
    return false;
  };

  const outcomes = await runGraph(
    [...waitsFor].map(([id, deps]) => ({ id, deps })),
    async (id) => {
      const target = byId.get(id)!;
      const type = registry.get(target.type);
      if (!type) throw new Error(`state records ${id} with type ${target.type}, which this version of platform does not know`);
      const started = Date.now();
      options.events({ kind: "start", logicalId: id, type: type.type, action: "delete" });
      try {
        const actual = (target.actual ?? (await type.find(ctx, { logicalId: id, recorded: store.get(id)?.attributes }))) as Record<string, unknown> | undefined;
        if (actual) {
          const tags = actual.tags as Record<string, string> | undefined;
          // A retired resource still carries the logical id it served as (see ResourceRecord.retired).
          // One with no tags at all (created, killed before it was tagged) is ours when its type's own proof says so (a
          // bucket of our name in us-east-1, as find adopts it).
          const servedAs = store.get(id)?.retired?.from ?? id;
          if (tags && !isOurs(tags, ctx.identity, servedAs) && !(Object.keys(tags).length === 0 && type.owns?.(ctx, actual, servedAs))) {
            throw new UserError(`${id} (${type.physicalId(actual)}) is not tagged as this environment's ${id}; refusing to delete it. Remove it from state with 'platform state rm ${id}' if it is not ours`);
          }
          // Untagged (an association, a route, a bucket's setting): deleted only when it hangs on a parent whose tags,
          // read from AWS now, prove it this environment's. State alone (possibly copied from another environment) never does.
          // A type with its own proof (a dashboard's marker) uses that.
          if (!tags && !(type.owns ? type.owns(ctx, actual, id) : await hangsOnOwnedParent(target.dependsOn, actual))) {
            throw new UserError(
              `${id} (${type.physicalId(actual)}) carries no tags and hangs on no resource whose tags prove it this environment's (${target.dependsOn.join(", ") || "no parent recorded"}); refusing to delete it. Remove it from state with 'platform state rm ${id}' if it is not ours`,
            );
          }
          await type.destroy(ctx, actual);
        }
        await store.remove(id);
        options.events({ kind: "done", logicalId: id, type: type.type, action: "delete", elapsedMs: Date.now() - started });
        return "delete" as Action;
      } catch (err) {
        const failure = err instanceof UserError ? err : awsFailure(`deleting ${type.type} (${id})`, err);
        options.events({ kind: "failed", logicalId: id, type: type.type, action: "delete", message: failure.message, code: failure instanceof AwsFailure ? failure.code : undefined, elapsedMs: Date.now() - started });
        throw failure;
      }
    },
    { concurrency: options.concurrency, signal: options.signal, onSkip: (id, reason) => options.events({ kind: "skipped", logicalId: id, type: byId.get(id)!.type, reason }) },
  );
  await store.flush();
  return summarize(outcomes, (id) => byId.get(id)!.type, () => undefined);
}

function summarize(outcomes: Map<string, Outcome<Action>>, typeOf: (id: string) => string, physicalIdOf: (id: string) => string | undefined): ResourceResult[] {
  return [...outcomes].map(([logicalId, o]) => {
    const base = { logicalId, type: typeOf(logicalId), physicalId: physicalIdOf(logicalId) };
    if (o.status === "done") return { ...base, action: o.value, status: "done" };
    if (o.status === "skipped") return { ...base, action: "noop", status: "skipped", reason: o.reason };
    const err = o.error as Error;
    const meta = ((err.cause ?? err) as { $metadata?: { requestId?: string; httpStatusCode?: number } }).$metadata;
    const request = { ...(meta?.requestId ? { requestId: meta.requestId } : {}), ...(meta?.httpStatusCode ? { httpStatus: meta.httpStatusCode } : {}) };
    return { ...base, action: "noop", status: "failed", error: { message: err.message, code: err instanceof AwsFailure ? err.code : undefined, ...request } };
  });
}

function verb(action: Action): string {
  return { create: "creating", update: "updating", replace: "replacing", delete: "deleting", noop: "reading", read: "reading", adopt: "adopting" }[action];
}

export function resolveOutputs(outputs: Record<string, Ref>, attrs: Map<string, Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, r] of Object.entries(outputs)) {
    const value = attrs.get(r.logicalId)?.[r.attribute];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
