import v8 from "node:v8";
import { reviveNatGateways } from "../test/fakes/ec2-routing.js";
import type { FakeAws } from "../test/fakes/index.js";

/**
 * Hands the fake AWS from one benchmark process to the next, so each command can run in a process of its own, as users
 * run `platform` (one command, one process), and its peak memory is its own rather than the peak of every command before it.
 *
 * Each service's state is plain data (Maps, arrays, records, dates) and goes through v8.serialize whole, in one graph, so
 * objects two services share stay shared; the one computed field (a NAT gateway's State) is given back its accessor. The fake's clock (provisioning delays are measured on cloud.elapsed()) carries
 * on where it stopped, and its id counter is advanced past the ids already issued, so new resources get new ids.
 */
interface Handoff {
  services: Record<string, unknown>;
  elapsedMs: number;
  idsIssued: number;
}

/** The FakeAws fields that hold service state (everything but the cloud and `restore`). */
function serviceStates(aws: FakeAws): Record<string, unknown> {
  return Object.fromEntries(Object.entries(aws).filter(([key, value]) => key !== "cloud" && typeof value === "object" && value !== null));
}

/** Counts the ids the fake issues from now on (ids are sequential), for `saveFake`. */
export function countIds(aws: FakeAws, already = 0): () => number {
  let issued = already;
  const id = aws.cloud.id.bind(aws.cloud);
  aws.cloud.id = (prefix: string) => {
    issued += 1;
    return id(prefix);
  };
  return () => issued;
}

export function saveFake(aws: FakeAws, idsIssued: number): Buffer {
  const handoff: Handoff = { services: serviceStates(aws), elapsedMs: aws.cloud.elapsed(), idsIssued };
  return v8.serialize(handoff);
}

/**
 * Puts a saved state into a freshly installed fake, in place: the service models keep references to their state objects,
 * so their Maps, Sets and arrays are refilled rather than replaced. Returns how many ids the fake had issued.
 */
export function loadFake(aws: FakeAws, saved: Buffer): number {
  const handoff = v8.deserialize(saved) as Handoff;
  const live = serviceStates(aws);
  for (const [service, state] of Object.entries(handoff.services)) {
    const target = live[service] as Record<string, unknown> | undefined;
    if (!target) throw new Error(`fake hand-off: the saved fake has service "${service}", this one does not`);
    refill(target, state as Record<string, unknown>);
  }
  reviveNatGateways(aws.cloud, aws.ec2);
  const resumedAt = performance.now();
  aws.cloud.elapsed = () => handoff.elapsedMs + (performance.now() - resumedAt);
  for (let i = 0; i < handoff.idsIssued; i++) aws.cloud.id("handoff");
  return handoff.idsIssued;
}

function refill(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (current instanceof Map && value instanceof Map) {
      current.clear();
      for (const [k, v] of value) current.set(k, v);
    } else if (current instanceof Set && value instanceof Set) {
      current.clear();
      for (const v of value) current.add(v);
    } else if (Array.isArray(current) && Array.isArray(value)) {
      current.splice(0, current.length, ...value);
    } else {
      target[key] = value;
    }
  }
}
