import type { ReleaseRecord, Slot, StateDocument } from "./document.js";
import type { StateStore } from "./store.js";

/**
 * Releases: what `platform deploy` and `platform rollback` need to remember beyond the image `up` keeps
 * (src/state/deployments.ts). For a blue-green service, which slot serves production: the stack builds the production
 * listener's forward, the test listener's, and each slot's task count from it. For every service, the release before
 * the last one, which `rollback` redeploys. Unlike a deployment record, a release record outlives a change of
 * services.imageTag: the slot that serves production does not change because the config did.
 */
export const SLOTS: readonly Slot[] = ["blue", "green"];

export const otherSlot = (slot: Slot): Slot => (slot === "blue" ? "green" : "blue");

/** The slot serving production for `service` (blue until a blue-green deploy switches). */
export function liveSlot(state: StateDocument, service: string): Slot {
  return state.releases?.[service]?.live ?? "blue";
}

/** Service → live slot, for the services whose live slot is not the default: a stack fact. */
export function liveSlots(state: StateDocument): Record<string, Slot> {
  return Object.fromEntries(
    Object.entries(state.releases ?? {})
      .filter(([, r]) => r.live && r.live !== "blue")
      .map(([service, r]) => [service, r.live!]),
  );
}

/** Replaces (or, with undefined, forgets) a service's release record in the document; the caller writes state. */
export function setRelease(doc: StateDocument, service: string, record: ReleaseRecord | undefined): void {
  const { [service]: _previous, ...others } = doc.releases ?? {};
  const clean = record && Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
  doc.releases = clean && Object.keys(clean).length ? { ...others, [service]: clean } : others;
  if (!Object.keys(doc.releases).length) delete doc.releases;
}

/** Replaces (or, with undefined, forgets) a service's release record, and writes state. */
export async function recordRelease(store: StateStore, service: string, record: ReleaseRecord | undefined): Promise<void> {
  setRelease(store.document, service, record);
  await store.persist();
}

/**
 * After an `up` that applied: the idle slot runs no tasks (the stack keeps it at 0), so a bake an interrupted deploy
 * left is over. Writes state only when there was one.
 */
export async function endBakes(store: StateStore): Promise<void> {
  const baking = Object.entries(store.document.releases ?? {}).filter(([, r]) => r.bakingUntil);
  if (!baking.length) return;
  for (const [, r] of baking) delete r.bakingUntil;
  await store.persist();
}
