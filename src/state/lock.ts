import { hostname, userInfo } from "node:os";
import { randomUUID } from "node:crypto";
import { RunFailure } from "../errors.js";
import type { LockInfo } from "./backend.js";

/** How long a lock is valid before it is reported as stale. A live run renews nothing: runs are far shorter. */
export const LOCK_TTL_SECONDS = 2 * 60 * 60;

export function newLockInfo(command: string, now = new Date()): Omit<LockInfo, "id"> {
  let owner = "unknown";
  try {
    owner = userInfo().username;
  } catch {
    // no user database entry (containers)
  }
  return {
    owner,
    host: hostname(),
    pid: process.pid,
    command,
    startedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + LOCK_TTL_SECONDS * 1000).toISOString(),
  };
}

export function withLockId(info: Omit<LockInfo, "id">): LockInfo {
  return { id: randomUUID(), ...info };
}

export function isStale(info: LockInfo, now = new Date()): boolean {
  return Date.parse(info.expiresAt) < now.getTime() || holderIsGone(info);
}

/**
 * True when the lock was taken on this host by a process that no longer runs: a run killed (SIGKILL, a closed terminal,
 * a crashed machine) before it could release it. Only reported, never acted on: another host's lock cannot be checked.
 */
export function holderIsGone(info: LockInfo): boolean {
  if (info.host !== hostname() || !Number.isInteger(info.pid) || info.pid <= 0) return false;
  try {
    process.kill(info.pid, 0); // signal 0: only asks whether the process exists
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

export function describeLock(info: LockInfo): string {
  return `${info.owner}@${info.host} (pid ${info.pid}) running "${info.command}" since ${info.startedAt}`;
}

/** Thrown when another run holds the environment's lock. Exit 1: the input was fine, the environment is busy. */
export class LockHeldError extends RunFailure {
  /** `advice` replaces the default "wait for it" when the caller knows better. */
  constructor(
    readonly holder: LockInfo,
    location: string,
    advice?: string,
  ) {
    super(
      `the state at ${location} is locked by ${describeLock(holder)}` +
        (holderIsGone(holder)
          ? `; that process is no longer running on this host, so the lock is stale: run 'platform state unlock --env ENV', then run again (it resumes where that run stopped)`
          : isStale(holder)
            ? `; the lock expired at ${holder.expiresAt} and looks stale: if that run is gone, run 'platform state unlock --env ENV'`
            : `; ${advice ?? "wait for it to finish, or pass --lock-timeout SECONDS to wait"}`),
    );
  }
}
