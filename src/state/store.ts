import type { StateBackend } from "./backend.js";
import type { ResourceRecord, StateDocument } from "./document.js";

/**
 * The state of one run: changes are applied in memory and persisted one at a time, in order,
 * after every resource change, so a crash loses at most the operation in flight (which adoption by tags recovers).
 */
export class StateStore {
  private pending: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    readonly backend: StateBackend,
    private doc: StateDocument,
  ) {}

  get document(): StateDocument {
    return this.doc;
  }

  get(logicalId: string): ResourceRecord | undefined {
    return this.doc.resources[logicalId];
  }

  async put(logicalId: string, record: Omit<ResourceRecord, "createdAt" | "updatedAt">, now = new Date()): Promise<void> {
    const previous = this.doc.resources[logicalId];
    const stamp = now.toISOString();
    this.doc.resources[logicalId] = { ...record, createdAt: previous?.createdAt ?? stamp, updatedAt: stamp };
    await this.persist();
  }

  /** The number of times a logical id has been destroyed (see StateDocument.generations). */
  generation(logicalId: string): number {
    return this.doc.generations?.[logicalId] ?? 0;
  }

  async remove(logicalId: string): Promise<void> {
    if (!(logicalId in this.doc.resources)) return;
    delete this.doc.resources[logicalId];
    this.doc.generations = { ...this.doc.generations, [logicalId]: this.generation(logicalId) + 1 };
    await this.persist();
  }

  async setOutputs(outputs: Record<string, unknown>): Promise<void> {
    this.doc.outputs = outputs;
    await this.persist();
  }

  /** Writes the document; writes are queued so concurrent resource completions never interleave. */
  persist(): Promise<void> {
    const write = async () => {
      this.doc.serial += 1;
      await this.backend.write(structuredClone(this.doc));
    };
    this.pending = this.pending.then(write, write);
    return this.pending.catch((err) => {
      this.failure = err;
      throw err;
    });
  }

  async flush(): Promise<void> {
    await this.pending.catch(() => undefined);
    if (this.failure) throw this.failure;
  }
}
