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

/** "2026-12-08 04:09:14 UTC (12 min ago)": UTC said as UTC, with how far from now, so no time zone is misread. */
export function describeTime(iso: string, now = new Date()): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const shown = new Date(t).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  const minutes = Math.round((t - now.getTime()) / 60_000);
  const span = (m: number) => (m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`);
  return `${shown} (${minutes === 0 ? "now" : minutes < 0 ? `${span(-minutes)} ago` : `in ${span(minutes)}`})`;
}

export function describeLock(info: LockInfo, now = new Date()): string {
  return `${info.owner}@${info.host} (pid ${info.pid}) running "${info.command}" since ${describeTime(info.startedAt, now)}`;
}

/** Why a lock looks stale (its process is gone from this host, or it expired), with real times; undefined while valid. */
export function staleReason(info: LockInfo, now = new Date()): string | undefined {
  if (holderIsGone(info)) return `that process is no longer running on this host, so the lock is stale`;
  if (Date.parse(info.expiresAt) < now.getTime()) return `the lock expired at ${describeTime(info.expiresAt, now)} and looks stale`;
  return undefined;
}

/** The unlock command for the environment the holder locked, with its own --env (or --config) value. */
export function unlockCommand(info: LockInfo): string {
  const m = /--(env|config)[ =](\S+)/.exec(info.command);
  return m ? `platform state unlock --${m[1]} ${m[2]}` : "platform state unlock";
}

/** Thrown when another run holds the environment's lock. Exit 1: the input was fine, the environment is busy. */
export class LockHeldError extends RunFailure {
  /** `advice` replaces the default "wait for it" when the caller knows better. */
  constructor(
    readonly holder: LockInfo,
    location: string,
    advice?: string,
  ) {
    const stale = staleReason(holder);
    super(
      `the state at ${location} is locked by ${describeLock(holder)}` +
        (stale
          ? holderIsGone(holder)
            ? `; ${stale}: run '${unlockCommand(holder)}', then run again (it resumes where that run stopped)`
            : `; ${stale}: if that run is gone, run '${unlockCommand(holder)}'`
          : `; ${advice ?? `wait for it to finish, or pass --lock-timeout 600 to wait up to 10 minutes for it (the lock is valid until ${describeTime(holder.expiresAt)})`}`),
    );
  }
}
