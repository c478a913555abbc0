import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, chmodSync, fsyncSync } from "node:fs";
import path from "node:path";
import { sleep } from "../run/wait-for.js";
import type { LockHandle, LockInfo, StateBackend } from "./backend.js";
import { parseState, type StateDocument } from "./document.js";
import { LockHeldError, withLockId } from "./lock.js";
import { RunFailure, UserError } from "../errors.js";

/** State in `state/<env>.json` (mode 0600), written atomically; the lock is `state/<env>.lock`, created exclusively. */
export class LocalBackend implements StateBackend {
  readonly location: string;
  private readonly lockFile: string;

  constructor(
    private readonly file: string,
    cwd = process.cwd(),
  ) {
    this.location = path.relative(cwd, file) || file;
    this.lockFile = file.replace(/\.json$/, "") + ".lock";
  }

  async read(): Promise<StateDocument | undefined> {
    if (!existsSync(this.file)) return undefined;
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (err) {
      // A directory in its place (EISDIR), no permission (EACCES): the user's to fix, not a crash.
      const reason = { EISDIR: "it is a directory, not a state file", EACCES: "permission denied", EPERM: "permission denied" }[(err as NodeJS.ErrnoException).code ?? ""];
      throw new UserError(`${this.location}: cannot read the state: ${reason ?? (err as Error).message}`);
    }
    return parseState(text, this.location);
  }

  async write(doc: StateDocument): Promise<void> {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(doc, null, 2) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }

  async lock(info: Omit<LockInfo, "id">, waitSeconds = 0, signal?: AbortSignal): Promise<LockHandle> {
    mkdirSync(path.dirname(this.lockFile), { recursive: true });
    const full = withLockId(info);
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      try {
        const fd = openSync(this.lockFile, "wx", 0o600);
        writeSync(fd, JSON.stringify(full, null, 2) + "\n");
        closeSync(fd);
        return { info: full, release: async () => this.releaseIfOurs(full) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const holder = await this.readLock();
        if (!holder) continue; // released between our attempt and the read
        if (Date.now() >= deadline) throw new LockHeldError(holder, this.location);
        await sleep(Math.min(1000, Math.max(50, deadline - Date.now())), signal);
      }
    }
  }

  async readLock(): Promise<LockInfo | undefined> {
    if (!existsSync(this.lockFile)) return undefined;
    try {
      return JSON.parse(readFileSync(this.lockFile, "utf8")) as LockInfo;
    } catch {
      // a lock file cut short by a crash: still a lock, with nothing known of its holder
      return { id: "unreadable", owner: "unknown", host: "unknown", pid: 0, command: "unknown", startedAt: "unknown", expiresAt: new Date(0).toISOString() };
    }
  }

  async breakLock(expected: LockInfo): Promise<void> {
    const current = await this.readLock();
    if (!current) return;
    if (current.id !== expected.id) throw new RunFailure("the lock changed hands while it was being broken; look again with 'platform state unlock'");
    rmSync(this.lockFile, { force: true });
  }

  async remove(): Promise<void> {
    rmSync(this.file, { force: true });
  }

  private async releaseIfOurs(info: LockInfo): Promise<void> {
    const current = await this.readLock();
    if (current?.id === info.id) rmSync(this.lockFile, { force: true });
  }
}
