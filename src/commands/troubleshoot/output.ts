import type { Report } from "../../troubleshoot/checks.js";
import { renderSummary } from "../../ui/checklist.js";
import type { CommandContext } from "../runtime.js";

/** The end of every troubleshoot command: the summary (and with --json the whole report on stdout); 0 when nothing failed, else 1. */
export function printReport(cc: CommandContext, r: Report): number {
  cc.say("");
  cc.say(renderSummary(r, cc.c));
  if (cc.opts.json) cc.json(r);
  return r.ok ? 0 : 1;
}
