import type { ResourceType } from "../resources/types.js";

/** Resource modules by their `type` string, so state alone (without the config) can be destroyed. */
export type Registry = ReadonlyMap<string, ResourceType<any, any>>;

export function registryOf(types: ResourceType<any, any>[]): Registry {
  return new Map(types.map((t) => [t.type, t]));
}
