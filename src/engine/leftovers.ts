import { inBatches, type SweepChecks } from "../aws/sweep.js";
import { isOurs } from "../aws/tags.js";
import type { ResourceContext } from "../resources/types.js";
import type { ResourceRecord } from "../state/document.js";
import type { Registry } from "./registry.js";
import { deletedButListed } from "../aws/deleted-but-listed.js";

/**
 * The checks a sweep after `down` makes with the resources' own finders, for the logical ids state recorded before it:
 * - a resource the tagging API still lists is dropped when its finder says it is gone (the API's index lags deletions);
 * - a recorded resource the tagging API does not list is looked up with its finder, and reported when it still exists
 *   and its tags prove it is this environment's (the tagging API does not cover every service and partition). A shared
 *   resource down leaves on purpose (an OIDC provider another environment uses) carries no environment's tags.
 * A finder that fails leaves the tagging API's word standing.
 */
export function finderChecks(records: [string, ResourceRecord][], registry: Registry, ctx: ResourceContext): SweepChecks {
  const recorded = new Map(records);
  /** undefined when gone, "unknown" when it cannot be checked, else what the finder found. */
  const find = async (logicalId: string | undefined) => {
    const record = logicalId ? recorded.get(logicalId) : undefined;
    const type = record && registry.get(record.type);
    if (!record || !type) return "unknown" as const;
    try {
      const actual = (await type.find(ctx, { logicalId: logicalId!, recorded: record.attributes })) as { tags?: Record<string, string> } | undefined;
      if (actual === undefined) return undefined;
      return { type: type.type, physicalId: type.physicalId(actual), ours: Boolean(actual.tags && isOurs(actual.tags, ctx.identity)) };
    } catch {
      return "unknown" as const;
    }
  };
  return {
    exists: async (r) => {
      const found = await find(r.logicalId);
      if (found !== "unknown") return found !== undefined;
      // No record to ask a finder with (an earlier or killed run of down already deleted it and its record): the ARN
      // alone tells whether it is one of the kinds the tagging API keeps listing after deletion, already gone.
      try {
        return (await deletedButListed(ctx, r.arn)) ? false : undefined;
      } catch {
        return undefined;
      }
    },
    unlisted: async (listed) => {
      const seen = new Set(listed.map((r) => r.logicalId));
      const ids = [...recorded.keys()].filter((id) => !seen.has(id));
      const found = await inBatches(ids, async (logicalId) => ({ logicalId, found: await find(logicalId) }));
      return found.flatMap(({ logicalId, found: f }) => (f && f !== "unknown" && f.ours ? [{ arn: `${f.type} ${f.physicalId}`, logicalId, type: f.type, physicalId: f.physicalId }] : []));
    },
  };
}
