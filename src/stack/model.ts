import type { ResourceType } from "../resources/types.js";

/** A reference to an attribute of another resource in the stack, resolved by the engine once that resource exists. */
export class Ref {
  constructor(
    readonly logicalId: string,
    readonly attribute: string,
  ) {}
  toString(): string {
    return `\${${this.logicalId}.${this.attribute}}`;
  }
}

export function ref(logicalId: string, attribute: string): Ref {
  return new Ref(logicalId, attribute);
}

/** A string made of literal parts and references (an ARN naming another resource's id), resolved with them. */
export class Join {
  constructor(readonly parts: (string | Ref)[]) {}
  toString(): string {
    return this.parts.map(String).join("");
  }
}

export function join(...parts: (string | Ref)[]): Join {
  return new Join(parts);
}

/** A value not known until apply (a resource that does not exist yet); shown in plans as "(known after apply)". */
export class Unknown {
  constructor(readonly ref: Ref) {}
  toJSON(): string {
    return "(known after apply)";
  }
}

/** Spec values may be references to other resources' attributes anywhere in the tree. */
export type Unresolved<S> = S extends string
  ? S | Ref | Join
  : S extends number | boolean | null | undefined
  ? S | Ref
  : S extends (infer E)[]
    ? Unresolved<E>[] | Ref
    : { [K in keyof S]: Unresolved<S[K]> } | Ref;

export interface StackNode<S = unknown, A = unknown> {
  logicalId: string;
  type: ResourceType<S, A>;
  spec: Unresolved<S>;
  /** Logical ids this node waits for beyond the ones its refs name. */
  dependsOn?: string[];
}

export interface Stack {
  nodes: StackNode[];
  /** Output name → the attribute it reads (`vpc_id` → network.vpc.vpcId). */
  outputs: Record<string, Ref>;
  /** Said once in plan and up, above the resources: trade-offs the config implies ("no NAT gateway: tasks get public IPs"). */
  notes?: string[];
}

/** Every logical id a spec refers to. */
export function refsIn(value: unknown, out = new Set<string>()): Set<string> {
  if (value instanceof Ref) out.add(value.logicalId);
  else if (Array.isArray(value)) value.forEach((v) => refsIn(v, out));
  else if (value && typeof value === "object" && !(value instanceof Unknown)) Object.values(value).forEach((v) => refsIn(v, out));
  return out;
}

export function dependenciesOf(node: StackNode): string[] {
  return [...new Set([...refsIn(node.spec), ...(node.dependsOn ?? [])])];
}

/**
 * Replaces every Ref with the attribute it names. `lookup` returns undefined for a resource that does not exist yet;
 * such refs become Unknown (for plans) .
 */
export function resolveSpec<S>(spec: Unresolved<S>, lookup: (logicalId: string) => Record<string, unknown> | undefined): S {
  const walk = (value: unknown): unknown => {
    if (value instanceof Ref) {
      const attrs = lookup(value.logicalId);
      if (!attrs) return new Unknown(value);
      const v = attrs[value.attribute];
      if (v === undefined) throw new Error(`internal: ${value.logicalId} has no attribute ${value.attribute}`);
      return v;
    }
    if (value instanceof Join) {
      const parts = value.parts.map(walk);
      return parts.find((p) => p instanceof Unknown) ?? parts.join("");
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === "object" && !(value instanceof Unknown)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return walk(spec) as S;
}

export function containsUnknown(value: unknown): boolean {
  if (value instanceof Unknown) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}
