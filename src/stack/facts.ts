import { awsFailure } from "../aws/errors.js";
import { RunFailure } from "../errors.js";
import type { ResourceContext } from "../resources/types.js";
import type { StateDocument } from "../state/document.js";
import type { StackFacts } from "./builder.js";
import { dbIds } from "./database.js";

/**
 * The first two available zones of the region (sorted by name, opt-in zones excluded). Zones already recorded on the
 * environment's subnets win, so a change in AWS's list never moves existing subnets. The database instance's identifier
 * comes from state (a restored instance keeps serving: see StackFacts.databaseIdentifier).
 */
export async function gatherFacts(ctx: ResourceContext, state: StateDocument): Promise<StackFacts> {
  const databaseIdentifier = state.resources[dbIds.instance]?.attributes.identifier as string | undefined;
  const recorded = ["network.subnet.public-a", "network.subnet.public-b"].map((id) => state.resources[id]?.attributes.availabilityZone as string | undefined);
  const base = { accountId: ctx.accountId, region: ctx.region, ...(databaseIdentifier ? { databaseIdentifier } : {}) };
  if (recorded[0] && recorded[1]) return { ...base, availabilityZones: [recorded[0], recorded[1]] };
  let zones: string[];
  try {
    // Imported here, not above: a plan with zones recorded (or one refused before AWS) loads no EC2 client for this.
    zones = await (await import("./availability-zones.js")).availableZones(ctx);
  } catch (err) {
    throw awsFailure(`listing availability zones in ${ctx.region}`, err);
  }
  if (zones.length < 2) throw new RunFailure(`${ctx.region} has fewer than two available zones; choose another region`);
  return { ...base, availabilityZones: [zones[0]!, zones[1]!] };
}
