import type { CheckOutcome, CheckStatus, Report } from "../troubleshoot/checks.js";
import type { Colors } from "./io.js";

/** The troubleshoot checklist as people read it: one numbered line per check, its evidence, and on failure cause and fix. */
const LABEL: Record<CheckStatus, (c: Colors) => string> = {
  passed: (c) => c.green("PASS"),
  failed: (c) => c.red("FAIL"),
  skipped: (c) => c.dim("SKIP"),
};

const INDENT = "      ";

export function renderCheck(outcome: CheckOutcome, index: number, c: Colors): string {
  const lines = [`${LABEL[outcome.status](c)}  ${index + 1}. ${c.bold(outcome.title)}`];
  for (const e of outcome.evidence) lines.push(`${INDENT}${c.dim(e)}`);
  if (outcome.status === "failed") {
    if (outcome.cause) lines.push(`${INDENT}${c.red("cause:")} ${outcome.cause}`);
    if (outcome.fix) lines.push(`${INDENT}${c.yellow("fix:")} ${outcome.fix}`);
  }
  return lines.join("\n");
}

export function renderSummary(r: Report, c: Colors): string {
  return `${r.ok ? c.green("Summary:") : c.red("Summary:")} ${r.summary}`;
}
