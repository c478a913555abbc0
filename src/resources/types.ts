import { createHash } from "node:crypto";
import type { AwsClients } from "../aws/clients.js";
import type { StackIdentity } from "../aws/tags.js";

/**
 * The contract every resource type implements: one module, one object, the same five verbs.
 * `S` is the resolved spec (what we want), `A` the attributes read back from AWS (what exists);
 * attributes are recorded in state, so they hold ids, ARNs and settings, never secret values.
 */
export interface ResourceType<S, A> {
  /** "ec2:vpc", "iam:role", ... recorded in state so `down` can find the module without the config. */
  type: string;
  /**
   * Reads the resource by its recorded id, else by what `create` would make it with: our tags (EC2), or the name or key in
   * the wanted spec (`id.wanted`). Undefined when it does not exist. It returns what exists whoever owns it: the engine
   * decides whether a found resource is ours (see `owns`), never `find` or `create`.
   */
  find(ctx: ResourceContext, id: Identity<A, S>): Promise<A | undefined>;
  /**
   * Whether a resource `find` found without a record in state is this environment's `logicalId`. Without it the engine
   * reads the standard tags on `actual.tags`; a type without tags (an association, a bucket's setting) is vouched for by
   * its parent, which its key names.
   */
  owns?(ctx: ResourceContext, actual: A, logicalId: string): boolean;
  /**
   * How the create survives a lost answer (the request ran, the response never came), absent meaning "key":
   * - "token": it takes a ClientToken, so a retry returns the first result (CreateRouteTable, CreateNatGateway, ...);
   * - "key": its name or key is unique, so a replay fails with "already exists" (a bucket, a role, a route's destination,
   *   a subnet's association, a rule's priority, a subnet's CIDR), and the engine looks the result up by that key;
   * - "tags": neither (CreateVpc, CreateInternetGateway, AllocateAddress, RegisterTaskDefinition). The create request is
   *   sent once (`AwsClients.once`: no SDK retry can replay it) with the tags set atomically (TagSpecifications, tags),
   *   and after an ambiguous failure the engine finds the result by them before any new attempt.
   */
  createIdempotency?: "token" | "key" | "tags";
  /** Pure: what would change to make `actual` match `spec`. */
  diff(spec: S, actual: A): Change[];
  /** Creates it, tagged; returns what the finder reads back. */
  create(ctx: ResourceContext, spec: S, id: Identity<A>): Promise<A>;
  /** Applies in-place changes; returns what the finder reads back. Absent when every change is a replacement. */
  update?(ctx: ResourceContext, spec: S, actual: A, changes: Change[]): Promise<A>;
  /** Deletes it and waits until it is gone; "not found" is success. */
  destroy(ctx: ResourceContext, actual: A): Promise<void>;
  /** The id shown to users and recorded as the physical id. */
  physicalId(actual: A): string;
  /** Live details for `status` (state, endpoint, counts); may make one cheap read. Only `status` calls it. */
  details?(ctx: ResourceContext, actual: A): Promise<string | undefined>;
}

export interface Identity<A, S = unknown> {
  logicalId: string;
  /** Attributes recorded in state by an earlier run, when there are any. */
  recorded?: A;
  /**
   * The spec the run wants, references resolved against what exists: what a finder looks up by when nothing is recorded
   * (the name a create would use). A value that depends on a resource that does not exist yet is not a string or number
   * (see `knownKey`): nothing can exist under such a key.
   */
  wanted?: S;
}

/** A key a finder may look up by: the recorded value, else the wanted spec's when it is known (a string or number). */
export function knownKey<T extends string | number>(recorded: T | undefined, wanted: T | undefined): T | undefined {
  if (recorded !== undefined && recorded !== null && recorded !== "") return recorded;
  return typeof wanted === "string" || typeof wanted === "number" ? (wanted as T) : undefined;
}

export interface Change {
  field: string;
  from: unknown;
  to: unknown;
  /** "update": applied in place; "replace": the resource must be destroyed and created again. */
  action: "update" | "replace";
  /** Said in plan next to the change, e.g. "applies at the next maintenance window". */
  note?: string;
}

export { REAL_AWS_WAITS, type WaitSettings } from "../run/wait-for.js";
import { waitFor, type WaitSettings } from "../run/wait-for.js";

/** What the user allowed for this run, read by the resources it concerns. */
export interface RunFlags {
  /** up --apply-immediately: RDS modifications now rather than in the next maintenance window. */
  applyImmediately?: boolean;
  /** down --skip-final-snapshot: delete the database without a final snapshot. */
  skipFinalSnapshot?: boolean;
  /** down --delete-data: empty buckets (every version) and ECR repositories before deleting them. */
  deleteData?: boolean;
  /** down --disable-deletion-protection: turn deletion protection off before deleting (required for prod). */
  disableDeletionProtection?: boolean;
  /** down --force-delete-secrets: delete secrets without the recovery window. */
  forceDeleteSecrets?: boolean;
  /** down --force-prod: the user explicitly allowed destructive shortcuts in a protected environment (force-deleting secrets there needs it). */
  forceProd?: boolean;
  /** The environment is protected (src/config/protection.ts isProtected): destructive shortcuts need forceProd. */
  protectedEnvironment?: boolean;
}

export interface ResourceContext {
  aws: AwsClients;
  flags: RunFlags;
  identity: StackIdentity;
  waits: WaitSettings;
  /** A progress note for the resource being worked on ("waiting for available", "3 network interfaces still attached"). */
  note(logicalId: string, message: string): void;
  /** How many times a logical id was destroyed before (from state); part of client tokens. */
  generation?(logicalId: string): number;
  /** Account and region, for ARNs. */
  accountId: string;
  region: string;
  signal?: AbortSignal;
}

/**
 * A deterministic EC2 ClientToken (≤ 64 ASCII characters): the same logical resource with the same spec in the same
 * generation gets the same token, so a create retried after a crash returns the first result instead of a duplicate,
 * while a create after `down` (next generation) is a new request rather than a replay of a deleted resource.
 */
export function clientToken(ctx: ResourceContext, logicalId: string, spec: unknown): string {
  const generation = ctx.generation?.(logicalId) ?? 0;
  const digest = createHash("sha256")
    .update(JSON.stringify([ctx.accountId, ctx.region, ctx.identity.project, ctx.identity.environment, logicalId, generation, spec]))
    .digest("hex");
  return `platform-${digest.slice(0, 48)}`;
}

/** SDK waiter options scaled for this run: `budgetSeconds` is the time AWS may take in the real world. */
export function waiterOptions<C>(ctx: ResourceContext, client: C, budgetSeconds: number) {
  return {
    client,
    maxWaitTime: Math.max(budgetSeconds * ctx.waits.scale, ctx.waits.minDelay * 2),
    minDelay: ctx.waits.minDelay,
    maxDelay: ctx.waits.maxDelay,
    abortSignal: ctx.signal as never,
  };
}

/** The tag change, if any: tags AWS added itself (aws:*) are ignored. */
export function compareTags(want: Record<string, string> | undefined, have: Record<string, string> | undefined): Change[] {
  if (!want) return [];
  const ours = Object.fromEntries(Object.entries(have ?? {}).filter(([k]) => !k.startsWith("aws:")));
  return sameValue(want, ours) ? [] : [{ field: "tags", from: ours, to: want, action: "update" }];
}

/** Tags to add and keys to remove to turn `have` into `want`. */
export function tagDelta(want: Record<string, string>, have: Record<string, string> = {}) {
  const set = Object.fromEntries(Object.entries(want).filter(([k, v]) => have[k] !== v));
  const remove = Object.keys(have).filter((k) => !(k in want) && !k.startsWith("aws:"));
  return { set, remove };
}

/** Compares the listed fields and returns one change for each that differs. */
export function compareFields<S extends object, A extends object>(
  spec: S,
  actual: A,
  fields: { field: keyof S & keyof A & string; action?: "update" | "replace"; note?: string }[],
): Change[] {
  const changes: Change[] = [];
  for (const { field, action = "update", note } of fields) {
    const want = spec[field] as unknown;
    const have = actual[field] as unknown;
    if (want === undefined) continue;
    if (!sameValue(want, have)) changes.push({ field, from: have, to: want, action, ...(note ? { note } : {}) });
  }
  return changes;
}

/** Structural equality for JSON-like values; object key order does not matter. */
export function sameValue(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/** How long a resource just created may stay invisible to its reads (eventual consistency), in real-world seconds. */
export const VISIBLE_WITHIN_SECONDS = 30;

/**
 * What AWS reads back for a resource just created, retrying while it is not yet visible: `create` returns this, never
 * the request echoed. A resource that never shows up fails the create (WaitTimeout naming it).
 */
export async function readAfterCreate<A>(ctx: ResourceContext, what: string, read: () => Promise<A | undefined>): Promise<A> {
  const found = await waitFor({ what: `${what} to be readable after its create`, refresh: read, done: (v) => v !== undefined, budgetSeconds: VISIBLE_WITHIN_SECONDS, waits: ctx.waits, signal: ctx.signal });
  return found!;
}
