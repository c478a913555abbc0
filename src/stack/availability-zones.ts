import { DescribeAvailabilityZonesCommand, EC2Client } from "@aws-sdk/client-ec2";
import type { ResourceContext } from "../resources/types.js";

/**
 * The region's available zones (opt-in zones excluded), sorted by name. Its own module so that facts.ts can import it
 * on demand: an `import()` of the SDK package itself would keep the whole package in the bundle (esbuild cannot
 * tree-shake a dynamically imported namespace), while this module's named imports are tree-shaken.
 */
export async function availableZones(ctx: ResourceContext): Promise<string[]> {
  const out = await ctx.aws.get(EC2Client).send(
    new DescribeAvailabilityZonesCommand({ Filters: [{ Name: "state", Values: ["available"] }, { Name: "opt-in-status", Values: ["opt-in-not-required"] }] }),
  );
  return (out.AvailabilityZones ?? [])
    .filter((z) => z.State === "available" && (z.ZoneType ?? "availability-zone") === "availability-zone")
    .map((z) => z.ZoneName!)
    .sort();
}
