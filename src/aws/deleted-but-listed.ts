import { DescribeNatGatewaysCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeClustersCommand, DescribeServicesCommand, ECSClient } from "@aws-sdk/client-ecs";
import type { ResourceContext } from "../resources/types.js";

/**
 * True when `arn` names a resource that is deleted although the tagging API may still list it for a while: an INACTIVE
 * ECS cluster or service, a deleted NAT gateway. False when it exists or is of another kind; errors propagate (callers
 * keep the tagging API's word then). Used for ARNs no state record describes, e.g. by a second `down` or one after a
 * killed run.
 */
export async function deletedButListed(ctx: ResourceContext, arn: string): Promise<boolean> {
  const [, , service, , , resource = ""] = arn.split(":");
  if (service === "ecs" && resource.startsWith("cluster/")) {
    const out = await ctx.aws.get(ECSClient).send(new DescribeClustersCommand({ clusters: [arn] }));
    return (out.clusters ?? []).every((c) => c.status === "INACTIVE");
  }
  if (service === "ecs" && resource.startsWith("service/")) {
    const parts = resource.split("/");
    if (parts.length !== 3) return false;
    const out = await ctx.aws.get(ECSClient).send(new DescribeServicesCommand({ cluster: parts[1], services: [arn] }));
    return (out.services ?? []).every((s) => s.status === "INACTIVE");
  }
  if (service === "ec2" && resource.startsWith("natgateway/")) {
    const out = await ctx.aws.get(EC2Client).send(new DescribeNatGatewaysCommand({ NatGatewayIds: [resource.slice("natgateway/".length)] }));
    return (out.NatGateways ?? []).every((n) => n.State === "deleted");
  }
  return false;
}
