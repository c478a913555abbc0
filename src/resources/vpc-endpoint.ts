import {
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  DescribeVpcEndpointsCommand,
  type DescribeVpcEndpointsCommandInput,
  EC2Client,
  ModifyVpcEndpointCommand,
  type VpcEndpoint,
} from "@aws-sdk/client-ec2";
import { orUndefined } from "../aws/errors.js";
import { ec2TagFilters, TAG_LOGICAL_ID, tagRecord } from "../aws/tags.js";
import { waitFor } from "../run/wait-for.js";
import { applyEc2Tags, ec2TagSpecification } from "./ec2-tags.js";
import { single } from "./find.js";
import { retryWhile } from "./retry.js";
import { type Change, clientToken, compareFields, compareTags, type ResourceContext, type ResourceType } from "./types.js";

/**
 * A VPC endpoint: a gateway endpoint (S3) routed from the given route tables, or an interface endpoint (ECR, Secrets
 * Manager, CloudWatch Logs) with a network interface in each given subnet behind the given security groups and private
 * DNS, so the service's usual host name resolves to it inside the VPC.
 */
export interface VpcEndpointSpec {
  vpcId: string;
  /** "com.amazonaws.<region>.<service>", e.g. com.amazonaws.us-east-1.ecr.dkr. */
  serviceName: string;
  type: "Gateway" | "Interface";
  /** Gateway endpoints: the route tables that get a route to the service's prefix list. Sorted. */
  routeTableIds: string[];
  /** Interface endpoints: one subnet per availability zone. Sorted. */
  subnetIds: string[];
  /** Interface endpoints: the groups on its network interfaces. Sorted. */
  securityGroupIds: string[];
  /** Interface endpoints: the service's public DNS name resolves to the endpoint inside the VPC. */
  privateDnsEnabled: boolean;
  tags: Record<string, string>;
}

export interface VpcEndpointAttrs extends VpcEndpointSpec {
  vpcEndpointId: string;
  /** "available"; "pending" when a run stopped while AWS was still creating it. */
  state: string;
}

const KIND = "VPC endpoint";
/** States of an endpoint that exists for our purposes (AWS keeps deleted ones listed a while; states are lowercase or capitalised). */
const LIVE_STATES = ["pendingacceptance", "pending", "available"];
const live = (e: VpcEndpoint) => LIVE_STATES.includes(String(e.State ?? "").toLowerCase());
/** Interface endpoints take a minute or two to become available, and as long to go. */
const WAIT_BUDGET_SECONDS = 10 * 60;

const ec2 = (ctx: ResourceContext) => ctx.aws.get(EC2Client);
const sorted = (ids: (string | undefined)[] | undefined) => [...(ids ?? [])].filter((x): x is string => Boolean(x)).sort();

function toAttrs(e: VpcEndpoint): VpcEndpointAttrs {
  return {
    vpcEndpointId: e.VpcEndpointId!,
    vpcId: e.VpcId!,
    serviceName: e.ServiceName!,
    type: e.VpcEndpointType === "Gateway" ? "Gateway" : "Interface",
    routeTableIds: sorted(e.RouteTableIds),
    subnetIds: sorted(e.SubnetIds),
    securityGroupIds: sorted(e.Groups?.map((g) => g.GroupId)),
    privateDnsEnabled: Boolean(e.PrivateDnsEnabled),
    state: String(e.State ?? "").toLowerCase(),
    tags: tagRecord(e.Tags),
  };
}

async function describe(ctx: ResourceContext, input: DescribeVpcEndpointsCommandInput): Promise<VpcEndpoint[]> {
  const out = await orUndefined(ec2(ctx).send(new DescribeVpcEndpointsCommand(input)));
  return out?.VpcEndpoints ?? [];
}

/** The endpoint while it is pending or available; undefined when it is deleting, deleted, failed or unknown. */
export async function findVpcEndpointById(ctx: ResourceContext, vpcEndpointId: string): Promise<VpcEndpointAttrs | undefined> {
  const e = single((await describe(ctx, { VpcEndpointIds: [vpcEndpointId] })).filter(live), `${KIND}s with id ${vpcEndpointId}`);
  return e && toAttrs(e);
}

async function waitAvailable(ctx: ResourceContext, logicalId: string, vpcEndpointId: string): Promise<VpcEndpointAttrs> {
  ctx.note(logicalId, "waiting for the VPC endpoint to become available");
  const found = await waitFor({
    what: `${KIND} ${vpcEndpointId} to become available`,
    refresh: async () => (await describe(ctx, { VpcEndpointIds: [vpcEndpointId] }))[0],
    done: (e) => String(e?.State ?? "").toLowerCase() === "available",
    failed: (e) => (!e ? "it disappeared" : ["failed", "rejected", "deleted", "deleting", "expired"].includes(String(e.State).toLowerCase()) ? `it is ${String(e.State).toLowerCase()}${e.LastError?.Message ? `: ${e.LastError.Message}` : ""}` : undefined),
    budgetSeconds: WAIT_BUDGET_SECONDS,
    waits: ctx.waits,
    signal: ctx.signal,
    describe: (e) => String(e?.State ?? "gone"),
  });
  return toAttrs(found!);
}

async function waitDeleted(ctx: ResourceContext, logicalId: string, vpcEndpointId: string): Promise<void> {
  // Its network interfaces keep the subnets and security groups in use until it is gone.
  ctx.note(logicalId, "waiting for the VPC endpoint to be deleted");
  await waitFor({
    what: `${KIND} ${vpcEndpointId} to be deleted`,
    refresh: async () => (await describe(ctx, { VpcEndpointIds: [vpcEndpointId] }))[0],
    done: (e) => !e || String(e.State).toLowerCase() === "deleted",
    budgetSeconds: WAIT_BUDGET_SECONDS,
    waits: ctx.waits,
    signal: ctx.signal,
    describe: (e) => String(e?.State ?? "gone"),
  });
}

function diff(spec: VpcEndpointSpec, actual: VpcEndpointAttrs): Change[] {
  const want = { ...spec, routeTableIds: sorted(spec.routeTableIds), subnetIds: sorted(spec.subnetIds), securityGroupIds: sorted(spec.securityGroupIds) };
  return [
    ...compareFields(want, actual, [
      { field: "vpcId", action: "replace" },
      { field: "serviceName", action: "replace" },
      { field: "type", action: "replace" },
      { field: "routeTableIds" },
      { field: "subnetIds" },
      { field: "securityGroupIds" },
      { field: "privateDnsEnabled" },
    ]),
    ...(actual.state === "available" ? [] : [{ field: "state", from: actual.state, to: "available", action: "update" as const, note: "still being created: waits until it is available" }]),
    ...compareTags(spec.tags, actual.tags),
  ];
}

const added = (want: string[], have: string[]) => want.filter((x) => !have.includes(x));

async function update(ctx: ResourceContext, spec: VpcEndpointSpec, actual: VpcEndpointAttrs, changes: Change[]): Promise<VpcEndpointAttrs> {
  const fields = new Set(changes.map((c) => c.field));
  const id = actual.vpcEndpointId;
  const logicalId = actual.tags[TAG_LOGICAL_ID] ?? id;
  if (fields.has("state")) await waitAvailable(ctx, logicalId, id);
  const modify: Record<string, unknown> = {};
  if (fields.has("routeTableIds")) Object.assign(modify, { AddRouteTableIds: added(spec.routeTableIds, actual.routeTableIds), RemoveRouteTableIds: added(actual.routeTableIds, spec.routeTableIds) });
  if (fields.has("subnetIds")) Object.assign(modify, { AddSubnetIds: added(spec.subnetIds, actual.subnetIds), RemoveSubnetIds: added(actual.subnetIds, spec.subnetIds) });
  if (fields.has("securityGroupIds")) Object.assign(modify, { AddSecurityGroupIds: added(spec.securityGroupIds, actual.securityGroupIds), RemoveSecurityGroupIds: added(actual.securityGroupIds, spec.securityGroupIds) });
  if (fields.has("privateDnsEnabled")) modify.PrivateDnsEnabled = spec.privateDnsEnabled;
  const nonEmpty = Object.fromEntries(Object.entries(modify).filter(([, v]) => !Array.isArray(v) || v.length));
  if (Object.keys(nonEmpty).length) {
    await ec2(ctx).send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, ...nonEmpty }));
    if (spec.type === "Interface") await waitAvailable(ctx, logicalId, id);
  }
  if (fields.has("tags")) await applyEc2Tags(ctx, id, spec.tags, actual.tags);
  const found = await findVpcEndpointById(ctx, id);
  if (!found) throw new Error(`reading ${KIND} (${id}) back: DescribeVpcEndpoints does not list it; run again`);
  return found;
}

export const vpcEndpoint: ResourceType<VpcEndpointSpec, VpcEndpointAttrs> = {
  type: "ec2:vpc-endpoint",

  async find(ctx, { logicalId, recorded }) {
    if (recorded?.vpcEndpointId) {
      const found = await findVpcEndpointById(ctx, recorded.vpcEndpointId);
      if (found) return found;
    }
    const e = single((await describe(ctx, { Filters: ec2TagFilters(ctx.identity, logicalId) })).filter(live), `${KIND}s tagged ${logicalId}`);
    return e && toAttrs(e);
  },

  diff,

  // The token is deterministic: a run that stopped mid-create gets its endpoint back rather than a second one.
  async create(ctx, spec, { logicalId }) {
    const gateway = spec.type === "Gateway";
    const out = await retryWhile(ctx, ["InvalidSubnetID.NotFound", "InvalidGroup.NotFound", "InvalidRouteTableId.NotFound", "InvalidVpcID.NotFound"], 60, () =>
      ec2(ctx).send(
        new CreateVpcEndpointCommand({
          VpcId: spec.vpcId,
          ServiceName: spec.serviceName,
          VpcEndpointType: spec.type,
          ...(gateway
            ? { RouteTableIds: spec.routeTableIds }
            : { SubnetIds: spec.subnetIds, SecurityGroupIds: spec.securityGroupIds, PrivateDnsEnabled: spec.privateDnsEnabled }),
          ClientToken: clientToken(ctx, logicalId, spec),
          TagSpecifications: ec2TagSpecification("vpc-endpoint", spec.tags),
        }),
      ),
    );
    const id = out.VpcEndpoint!.VpcEndpointId!;
    return waitAvailable(ctx, logicalId, id);
  },

  update,

  async destroy(ctx, actual) {
    const out = await orUndefined(ec2(ctx).send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [actual.vpcEndpointId] })));
    const problem = out?.Unsuccessful?.find((u) => u.Error?.Code !== "InvalidVpcEndpoint.NotFound" && u.Error?.Code !== "InvalidVpcEndpointId.NotFound");
    if (problem) throw new Error(`deleting ${KIND} ${actual.vpcEndpointId}: ${problem.Error?.Code}: ${problem.Error?.Message}`);
    if (out) await waitDeleted(ctx, actual.tags[TAG_LOGICAL_ID] ?? actual.vpcEndpointId, actual.vpcEndpointId);
  },

  physicalId: (a) => a.vpcEndpointId,
};
