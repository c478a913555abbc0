import { WaitTimeout, waitFor } from "../run/wait-for.js";
import { clientToken, type ResourceContext } from "./types.js";

/** How long a resource just created may stay invisible to Describe* (eventual consistency), in real-world seconds. */
const VISIBLE_WITHIN_SECONDS = 15;
/** Down-then-up cycles with an unchanged spec inside EC2's token memory that we step past before giving up. */
const MAX_STALE_TOKENS = 10;

/**
 * Creates through an EC2 call that takes a ClientToken, and returns what `read` finds for the new id.
 *
 * The token is deterministic (see clientToken), so a create retried after a crash gets the first attempt's resource.
 * The catch: EC2 remembers tokens after the resource is deleted and replays the old answer, so `down` and then `up` with
 * the same spec would be handed the id of a resource that no longer exists. When the returned id does not show up, the
 * next token is derived from that stale id: still deterministic, so a crash-retry of this step finds the same resource.
 */
export async function createWithClientToken<T>(
  ctx: ResourceContext,
  logicalId: string,
  spec: unknown,
  create: (token: string) => Promise<string>,
  read: (id: string) => Promise<T | undefined>,
): Promise<T> {
  let token = clientToken(ctx, logicalId, spec);
  const stale: string[] = [];
  while (stale.length < MAX_STALE_TOKENS) {
    const id = await create(token);
    const found = await waitVisible(ctx, () => read(id));
    if (found) return found;
    stale.push(id);
    token = clientToken(ctx, logicalId, { spec, staleId: id });
  }
  throw new Error(`creating ${logicalId}: AWS keeps returning ids that do not exist (${stale.join(", ")})`);
}

/** Polls `read` until it finds something or the (scaled) visibility window has passed. */
async function waitVisible<T>(ctx: ResourceContext, read: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await waitFor({ what: "a created resource to be visible", refresh: read, done: (found) => found !== undefined, budgetSeconds: VISIBLE_WITHIN_SECONDS, waits: ctx.waits, signal: ctx.signal });
  } catch (err) {
    // Not visible within the window: the id is stale (see above), not a failure.
    if (err instanceof WaitTimeout) return undefined;
    throw err;
  }
}
