import { DescribeNetworkInterfacesCommand, EC2Client, type NetworkInterface } from "@aws-sdk/client-ec2";
import { errorCode } from "../aws/errors.js";
import { AwsFailure } from "../errors.js";
import { retryWhile } from "./retry.js";
import type { ResourceContext } from "./types.js";

/**
 * Teardown of security groups, subnets and the VPC meets DependencyViolation while network interfaces that Fargate tasks,
 * the load balancer or RDS left behind drain (2–20 minutes after their owner is gone). These helpers retry under a time
 * budget, name the interfaces still in the way (and what created them) in progress notes, and, once the budget is spent,
 * in the error itself.
 */

/** The DescribeNetworkInterfaces filter that selects the interfaces in the way: `group-id`, `subnet-id` or `vpc-id`. */
export interface InterfaceScope {
  filter: "group-id" | "subnet-id" | "vpc-id";
  id: string;
}

/** Real-world seconds teardown waits for interfaces to drain before giving up (scaled like every wait). */
export const ENI_DRAIN_BUDGET_SECONDS = 20 * 60;

export async function findInterfaces(ctx: ResourceContext, scope: InterfaceScope): Promise<NetworkInterface[]> {
  const out = await ctx.aws.get(EC2Client).send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: scope.filter, Values: [scope.id] }] }));
  return out.NetworkInterfaces ?? [];
}

/** Who created an interface, from its description, type and requester (what AWS itself shows in the console). */
export function creatorOf(n: NetworkInterface): string {
  const description = n.Description ?? "";
  if (description.startsWith("ELB ")) return `load balancer ${description.slice(4)}`;
  if (/^arn:aws[\w-]*:ecs:.*:attachment\//.test(description)) return "an ECS task (Fargate)";
  if (description.startsWith("RDSNetworkInterface") || n.RequesterId === "amazon-rds") return "RDS (a database instance)";
  if ((n.InterfaceType as string) === "nat_gateway") return `NAT gateway${description ? ` (${description})` : ""}`;
  if (n.InterfaceType === "lambda" || description.startsWith("AWS Lambda VPC ENI")) return "a Lambda function";
  if (n.InterfaceType === "vpc_endpoint" || description.startsWith("VPC Endpoint Interface")) return "a VPC endpoint";
  if (n.RequesterManaged) return `an AWS service (requester ${n.RequesterId ?? "unknown"})${description ? `: ${description}` : ""}`;
  return `created in this account${description ? `: ${description}` : ""}${n.Attachment?.InstanceId ? `, attached to ${n.Attachment.InstanceId}` : ""}`;
}

export function describeInterfaces(enis: NetworkInterface[]): string {
  return enis.map((n) => `${n.NetworkInterfaceId} (${creatorOf(n)}${n.Status ? `, ${n.Status}` : ""})`).join(", ");
}

/** One line on what keeps `scope` busy; never throws (it is said in a note or appended to an error). */
async function blockers(ctx: ResourceContext, scope: InterfaceScope, found?: (ids: string[]) => void): Promise<string> {
  try {
    const enis = await findInterfaces(ctx, scope);
    found?.(enis.map((n) => n.NetworkInterfaceId!).filter(Boolean));
    if (!enis.length) return `${scope.id} is still in use, but by no network interface: something else depends on it (a rule in another group that references it, a route, an endpoint)`;
    return `${enis.length} network interface${enis.length === 1 ? "" : "s"} still attached to ${scope.id}: ${describeInterfaces(enis)}`;
  } catch (err) {
    return `could not list the network interfaces using ${scope.id} (${errorCode(err) ?? (err as Error)?.message})`;
  }
}

/**
 * Runs a delete that fails with DependencyViolation while network interfaces drain: retried with backoff for up to
 * `budgetSeconds` (real-world, scaled), each retry noting the interfaces in the way. Once the budget is spent, the
 * failure is an AwsFailure with the code DependencyViolation (the AWS error, with its request id, as its cause), naming
 * what still blocks and what to do.
 */
export async function retryWhileInterfacesDrain<T>(ctx: ResourceContext, logicalId: string, scope: InterfaceScope, action: () => Promise<T>, budgetSeconds = ENI_DRAIN_BUDGET_SECONDS): Promise<T> {
  try {
    return await retryWhile(ctx, ["DependencyViolation"], budgetSeconds, action, () => {
      void blockers(ctx, scope).then((line) => ctx.note(logicalId, `${line}; retrying`));
    });
  } catch (err) {
    if (errorCode(err) !== "DependencyViolation" || ctx.signal?.aborted) throw err;
    const minutes = Math.round(budgetSeconds / 60);
    let ids: string[] = [];
    const what = await blockers(ctx, scope, (found) => (ids = found));
    const deleteThem = ids.length
      ? ids.map((id) => `aws ec2 delete-network-interface --network-interface-id ${id}`).join("; ")
      : `aws ec2 describe-network-interfaces --filters Name=${scope.filter},Values=${scope.id} lists them`;
    const message = `${(err as Error).message} Gave up after ${minutes} minutes: ${what}.`;
    const hint =
      "interfaces of ECS tasks, load balancers and databases go within about 20 minutes of their owner; run down again later, " +
      `or, if their owner is gone, delete them (${deleteThem}) and run down again`;
    // AWS's own code and request id stay with the failure (the cause); nothing is dressed up as an AWS error.
    throw new AwsFailure(`deleting ${logicalId} (${scope.id})`, "DependencyViolation", message, hint, { cause: err });
  }
}
