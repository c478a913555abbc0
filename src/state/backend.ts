import type { StateDocument } from "./document.js";

/** Who holds a lock, shown to anyone who finds it held. */
export interface LockInfo {
  id: string;
  owner: string;
  host: string;
  pid: number;
  command: string;
  startedAt: string;
  /** After this the lock is reported as stale; it is never broken without `platform state unlock`. */
  expiresAt: string;
}

export interface LockHandle {
  info: LockInfo;
  release(): Promise<void>;
}

/** Where an environment's state lives: a local file or an S3 object. */
export interface StateBackend {
  /** Shown in messages: "state/dev.json", "s3://bucket/key". */
  readonly location: string;
  read(): Promise<StateDocument | undefined>;
  write(doc: StateDocument): Promise<void>;
  /** Takes the lock or throws a LockHeldError naming the holder. */
  /** Takes the lock, waiting up to `waitSeconds` for a holder to release it; Ctrl-C (`signal`) ends the wait at once. */
  lock(info: Omit<LockInfo, "id">, waitSeconds?: number, signal?: AbortSignal): Promise<LockHandle>;
  /** The current lock holder, if any. */
  readLock(): Promise<LockInfo | undefined>;
  /** Removes the lock, whoever holds it (`platform state unlock`). */
  breakLock(expected: LockInfo): Promise<void>;
  /** Removes the state itself (after a complete `down`, state is kept; used by `state migrate`). */
  remove(): Promise<void>;
}
