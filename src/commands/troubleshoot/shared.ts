import { UserError } from "../../errors.js";
import type { StateDocument } from "../../state/document.js";
import type { Report } from "../../troubleshoot/checks.js";
import { recordedServices } from "../../troubleshoot/services.js";
import { renderSummary } from "../../ui/checklist.js";
import type { CommandContext } from "../runtime.js";

/** The end of every troubleshoot command: the summary (and with --json the whole report on stdout); 0 when nothing failed, else 1. */
export function printReport(cc: CommandContext, r: Report): number {
  cc.say("");
  cc.say(renderSummary(r, cc.c));
  if (cc.opts.json) cc.json(r);
  return r.ok ? 0 : 1;
}

/** --service must name a service state records (its short name: api for compute.service.api). */
export function assertKnownService(state: StateDocument, environment: string, service: string | undefined): void {
  if (service === undefined) return;
  const known = recordedServices(state).map((s) => s.name);
  if (known.includes(service)) return;
  throw new UserError(`--service ${service}: ${known.length ? `no such service in ${environment} (services: ${known.join(", ")})` : `${environment} has no ECS services deployed yet`}`);
}
