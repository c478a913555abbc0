import type { Config } from "../config/schema.js";
import type { DeploymentRecord, StateDocument } from "./document.js";
import type { StateStore } from "./store.js";

/**
 * Deployments: `platform deploy --service api --image v2` rolls one service to an image the config does not name, and
 * records it in state. The rule that keeps a later `up` from silently rolling it back:
 *
 *   a recorded deployment holds while services.imageTag (after this run's --set and up --image) is still what it was
 *   when deploy ran, and the service is still in the config;
 *
 * so `up` keeps the deployed image until someone pins another tag in the config (or passes up --image), and from then
 * on the config wins and the record is dropped (by the `up` that applies it, so a later return to the old tag does
 * not bring the deployed image back). `down` forgets every record.
 */
export const DEPLOYABLE_SERVICES = ["api", "worker"] as const;
export type DeployableService = (typeof DEPLOYABLE_SERVICES)[number];

export function isDeployable(name: string): name is DeployableService {
  return (DEPLOYABLE_SERVICES as readonly string[]).includes(name);
}

/** Whether the config runs `service` as an ECS service (the API always; the worker when enabled). */
export function serviceEnabled(config: Config, service: DeployableService): boolean {
  return service === "api" || config.services.worker.enabled;
}

export function deploymentHolds(config: Config, service: string, record: DeploymentRecord): boolean {
  return isDeployable(service) && serviceEnabled(config, service) && record.configImageTag === config.services.imageTag;
}

/** Service → the image its app container keeps running, for the deployments that hold (a stack fact). */
export function deployedImages(config: Config, state: StateDocument): Record<string, string> {
  return Object.fromEntries(
    Object.entries(state.deployments ?? {})
      .filter(([service, record]) => deploymentHolds(config, service, record))
      .map(([service, record]) => [service, record.image]),
  );
}

/** The services whose recorded deployment the config has overridden (or dropped). */
export function supersededDeployments(config: Config, state: StateDocument): string[] {
  return Object.entries(state.deployments ?? {})
    .filter(([service, record]) => !deploymentHolds(config, service, record))
    .map(([service]) => service)
    .sort();
}

/** Records (or, with undefined, forgets) a service's deployment in the document; the caller writes state. */
export function setDeployment(doc: StateDocument, service: string, record: DeploymentRecord | undefined): void {
  const { [service]: _previous, ...others } = doc.deployments ?? {};
  doc.deployments = record ? { ...others, [service]: record } : others;
  if (!Object.keys(doc.deployments).length) delete doc.deployments;
}

/** Records (or, with undefined, forgets) a service's deployment, and writes state. */
export async function recordDeployment(store: StateStore, service: string, record: DeploymentRecord | undefined): Promise<void> {
  setDeployment(store.document, service, record);
  await store.persist();
}

/** Drops the records an applied config has overridden; writes state only when there were any. Returns their services. */
export async function forgetSupersededDeployments(store: StateStore, config: Config): Promise<string[]> {
  const superseded = supersededDeployments(config, store.document);
  if (!superseded.length) return [];
  const kept = Object.fromEntries(Object.entries(store.document.deployments ?? {}).filter(([service]) => !superseded.includes(service)));
  if (Object.keys(kept).length) store.document.deployments = kept;
  else delete store.document.deployments;
  await store.persist();
  return superseded;
}
