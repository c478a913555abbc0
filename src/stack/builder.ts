import type { Slot } from "../state/document.js";
import type { Config } from "../config/schema.js";
import { namePrefix } from "../config/naming.js";
import { standardTags } from "../aws/tags.js";
import type { ResourceType } from "../resources/types.js";
import { ref, type Stack, type StackNode, type Unresolved } from "./model.js";

/** Facts about the account and region a stack is built for, read once per run. */
export interface StackFacts {
  accountId: string;
  region: string;
  availabilityZones: [string, string];
  /** Service → the image `platform deploy` rolled out and `up` keeps (src/state/deployments.ts); absent: the config's tag. */
  deployedImages?: Record<string, string>;
  /**
   * The database instance state records (src/stack/database.ts keeps it when it is one `db restore` made for this
   * stack, so the next `up` does not replace the restored instance); absent: the configured identifier.
   */
  databaseIdentifier?: string;
  /** Service → the blue-green slot serving production when it is not blue (src/state/releases.ts). */
  liveSlots?: Record<string, Slot>;
}

/** Collects a stack's nodes and outputs; each layer (network, data, ...) adds its own. */
export class StackBuilder {
  private readonly nodes: StackNode[] = [];
  private readonly outputs: Stack["outputs"] = {};
  private readonly notes: string[] = [];

  constructor(
    readonly config: Config,
    readonly facts: StackFacts,
  ) {}

  get accountId(): string {
    return this.facts.accountId;
  }

  get region(): string {
    return this.facts.region;
  }

  add<S, A>(logicalId: string, type: ResourceType<S, A>, spec: Unresolved<S>, dependsOn?: string[]): void {
    if (this.nodes.some((n) => n.logicalId === logicalId)) throw new Error(`internal: duplicate logical id ${logicalId}`);
    this.nodes.push({ logicalId, type: type as ResourceType<unknown, unknown>, spec: spec as Unresolved<unknown>, dependsOn });
  }

  /** True when a layer already added `logicalId` (for wiring that exists only when another layer's resource does). */
  has(logicalId: string): boolean {
    return this.nodes.some((n) => n.logicalId === logicalId);
  }

  /** The tags every resource carries; `name` adds a Name tag (`<project>-<env>-<name>`) for the EC2 console. */
  tags(logicalId: string, name?: string): Record<string, string> {
    return standardTags({ project: this.config.project, environment: this.config.environment }, logicalId, {
      ...this.config.tags,
      ...(name ? { Name: `${namePrefix(this.config)}-${name}` } : {}),
    });
  }

  /** A trust policy that lets an AWS service principal (e.g. "monitoring.rds.amazonaws.com") assume a role for this account only. */
  serviceTrust(service: string): Unresolved<Record<string, unknown>> {
    return {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": this.accountId } } }],
    };
  }

  output(name: string, logicalId: string, attribute: string): void {
    this.outputs[name] = ref(logicalId, attribute);
  }

  /** A plan-level note: a consequence of the config that no single resource's change shows. */
  note(text: string): void {
    this.notes.push(text);
  }

  build(): Stack {
    return { nodes: [...this.nodes], outputs: { ...this.outputs }, ...(this.notes.length ? { notes: [...this.notes] } : {}) };
  }
}
