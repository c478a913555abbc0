import { errorCode, hintFor } from "../aws/errors.js";
import { isVisibleError } from "../errors.js";
import type { StateDocument } from "../state/document.js";

/**
 * The checklist behind every `platform troubleshoot` command: each check reads what exists in AWS and says passed,
 * failed or skipped, with the evidence it saw and, on failure, what is wrong (`cause`) and what to do (`fix`).
 * `likelihood` (0-100) orders failures in the summary: the most likely root cause first, its consequences after.
 */
export type CheckStatus = "passed" | "failed" | "skipped";

export interface CheckResult {
  status: CheckStatus;
  /** What was looked at and found: ids, values, rule numbers. Never a secret value. */
  evidence: string[];
  /** Failed only: one sentence naming what is wrong. */
  cause?: string;
  /** Failed only: what to do about it. */
  fix?: string;
  /** Failed only: how likely this is the root cause of the symptom (0-100); the summary names the highest first. */
  likelihood?: number;
}

export interface Check<C> {
  id: string;
  title: string;
  run(ctx: C): Promise<CheckResult>;
}

export interface CheckOutcome extends CheckResult {
  id: string;
  title: string;
}

/** What a troubleshoot command reports: its checks and the summary, as `--json` prints it. */
export interface Report {
  /** "db-connectivity", "secrets-access", ... */
  name: string;
  environment: string;
  ok: boolean;
  checks: CheckOutcome[];
  summary: string;
}

/** Likelihood of a check that could not read what it needed (permissions, throttling): rarely the root cause. */
export const UNREADABLE_LIKELIHOOD = 10;

export function passed(evidence: string[]): CheckResult {
  return { status: "passed", evidence };
}

export function failed(evidence: string[], cause: string, fix: string, likelihood: number): CheckResult {
  return { status: "failed", evidence, cause, fix, likelihood };
}

export function skipped(reason: string, evidence: string[] = []): CheckResult {
  return { status: "skipped", evidence: [...evidence, reason] };
}

/**
 * Several findings of one check combined: failed when any failed (the most likely one gives cause and likelihood,
 * every fix is kept), else passed. Evidence keeps the order the parts were given in.
 */
export function combine(parts: CheckResult[]): CheckResult {
  const evidence = parts.flatMap((p) => p.evidence);
  const failures = parts.filter((p) => p.status === "failed").sort((a, b) => (b.likelihood ?? 0) - (a.likelihood ?? 0));
  if (!failures.length) return parts.length && parts.every((p) => p.status === "skipped") ? { status: "skipped", evidence } : passed(evidence);
  const fixes = [...new Set(failures.map((f) => f.fix).filter((f): f is string => Boolean(f)))];
  return failed(evidence, failures.map((f) => f.cause).join("; "), fixes.join("; "), failures[0]!.likelihood ?? UNREADABLE_LIKELIHOOD);
}

/** An error a check ran into (an AWS call refused, a malformed secret) as a failed result that says so. */
export function unreadable(err: unknown): CheckResult {
  const code = errorCode(err);
  const message = (err as Error)?.message ?? String(err);
  const what = code ? `${code}: ${message}` : message;
  const fix = (code && hintFor(code)) ?? (isVisibleError(err) ? "see the message above" : "run again with --verbose; if it persists, report it");
  return failed([`could not check: ${what}`], `the check could not read what it needed (${code ?? "error"})`, fix, UNREADABLE_LIKELIHOOD);
}

/** Runs the checks in order (each may reuse what an earlier one read); a check that throws is reported, not fatal. */
export async function runChecks<C>(checks: Check<C>[], ctx: C, onResult?: (outcome: CheckOutcome) => void): Promise<CheckOutcome[]> {
  const outcomes: CheckOutcome[] = [];
  for (const check of checks) {
    let result: CheckResult;
    try {
      result = await check.run(ctx);
    } catch (err) {
      result = unreadable(err);
    }
    const outcome = { id: check.id, title: check.title, ...result };
    outcomes.push(outcome);
    onResult?.(outcome);
  }
  return outcomes;
}

/** The failures, most likely root cause first; ties keep checklist order. */
export function rankFailures(outcomes: CheckOutcome[]): CheckOutcome[] {
  return outcomes
    .map((o, i) => ({ o, i }))
    .filter(({ o }) => o.status === "failed")
    .sort((a, b) => (b.o.likelihood ?? 0) - (a.o.likelihood ?? 0) || a.i - b.i)
    .map(({ o }) => o);
}

/** One paragraph: how many passed, and when some failed, the most likely cause and its fix first. */
export function summarize(outcomes: CheckOutcome[]): string {
  const failures = rankFailures(outcomes);
  const skippedCount = outcomes.filter((o) => o.status === "skipped").length;
  const skippedNote = skippedCount ? ` (${skippedCount} skipped)` : "";
  if (!failures.length) return `All ${outcomes.length - skippedCount} checks that ran passed${skippedNote}.`;
  const [first, ...rest] = failures;
  const others = rest.length ? ` Also failed: ${rest.map((f) => `${f.title} (${f.cause})`).join("; ")}${rest.length > 1 ? "; these may follow from the first" : "; this may follow from the first"}.` : "";
  return `${failures.length} of ${outcomes.length} checks failed${skippedNote}. Most likely cause: ${first!.title}: ${first!.cause}. Fix: ${first!.fix}.${others}`;
}

export function report(name: string, environment: string, checks: CheckOutcome[]): Report {
  return { name, environment, ok: checks.every((c) => c.status !== "failed"), checks, summary: summarize(checks) };
}

/** What state records for a logical id: its physical id and attributes; undefined when it is not recorded. */
export function recorded(state: StateDocument, logicalId: string): { physicalId: string; attributes: Record<string, unknown> } | undefined {
  const r = state.resources[logicalId];
  return r ? { physicalId: r.physicalId, attributes: r.attributes ?? {} } : undefined;
}

/** A string attribute recorded for `logicalId`, trying each key in turn; else undefined. */
export function recordedString(state: StateDocument, logicalId: string, ...keys: string[]): string | undefined {
  const r = recorded(state, logicalId);
  for (const key of keys) {
    const v = r?.attributes[key];
    if (typeof v === "string" && v) return v;
  }
  return undefined;
}

/** Memoises a lookup, so checks that need the same AWS read share one call. */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}
