import { CreateRouteCommand, DeleteRouteCommand, EC2Client, ReplaceRouteCommand, type Route } from "@aws-sdk/client-ec2";
import { orUndefined } from "../aws/errors.js";
import { single } from "./find.js";
import { retryWhile } from "./retry.js";
import { findRouteTables } from "./route-table.js";
import { compareFields, knownKey, readAfterCreate, sameValue, type Change, type ResourceContext, type ResourceType } from "./types.js";

/** One route in a route table. Routes carry no tags and no id of their own: they are known by table and destination. */
export interface RouteSpec {
  routeTableId: string;
  destinationCidrBlock: string;
  /** Exactly one target: an internet gateway ... */
  gatewayId?: string;
  /** ... or a NAT gateway. */
  natGatewayId?: string;
}

export type RouteAttrs = RouteSpec;

const TARGETS = ["gatewayId", "natGatewayId"] as const;

/** Codes AWS returns while a table or target created a moment ago has not reached every endpoint yet. */
const PROPAGATION_CODES = ["InvalidRouteTableID.NotFound", "InvalidGatewayID.NotFound", "InvalidNatGatewayID.NotFound"];

function toAttrs(routeTableId: string, r: Route): RouteAttrs {
  return {
    routeTableId,
    destinationCidrBlock: r.DestinationCidrBlock!,
    ...(r.GatewayId ? { gatewayId: r.GatewayId } : {}),
    ...(r.NatGatewayId ? { natGatewayId: r.NatGatewayId } : {}),
  };
}

export async function findRoute(ctx: ResourceContext, routeTableId: string, destinationCidrBlock: string): Promise<RouteAttrs | undefined> {
  const table = single(await findRouteTables(ctx, { RouteTableIds: [routeTableId] }), `route tables with id ${routeTableId}`);
  const r = table?.Routes?.find((x) => x.DestinationCidrBlock === destinationCidrBlock);
  return r && toAttrs(routeTableId, r);
}

/** The request body shared by CreateRoute and ReplaceRoute. */
function routeInput(spec: RouteSpec) {
  const targets = TARGETS.filter((t) => spec[t]);
  if (targets.length !== 1) throw new Error(`internal: route ${spec.routeTableId}_${spec.destinationCidrBlock} needs exactly one target, got ${targets.length}`);
  return {
    RouteTableId: spec.routeTableId,
    DestinationCidrBlock: spec.destinationCidrBlock,
    ...(spec.gatewayId ? { GatewayId: spec.gatewayId } : {}),
    ...(spec.natGatewayId ? { NatGatewayId: spec.natGatewayId } : {}),
  };
}

async function replaceRoute(ctx: ResourceContext, spec: RouteSpec): Promise<void> {
  await ctx.aws.get(EC2Client).send(new ReplaceRouteCommand(routeInput(spec)));
}

/** CreateRoute; RouteAlreadyExists (a run that stopped before recording it, a lost answer) is the engine's to look up. */
async function putRoute(ctx: ResourceContext, spec: RouteSpec): Promise<void> {
  await ctx.aws.get(EC2Client).send(new CreateRouteCommand(routeInput(spec)));
}

const readBack = (ctx: ResourceContext, spec: RouteSpec) =>
  readAfterCreate(ctx, `route ${spec.routeTableId}_${spec.destinationCidrBlock}`, () => findRoute(ctx, spec.routeTableId, spec.destinationCidrBlock));

function targetChanges(spec: RouteSpec, actual: RouteAttrs): Change[] {
  return TARGETS.filter((t) => !sameValue(spec[t], actual[t])).map((t) => ({ field: t, from: actual[t], to: spec[t], action: "update" as const }));
}

export const route: ResourceType<RouteSpec, RouteAttrs> = {
  type: "ec2:route",

  // Untagged: by its table and destination (recorded, else the ones create would use); the table, found by its tags, vouches for it.
  async find(ctx, { recorded, wanted }) {
    const routeTableId = knownKey(recorded?.routeTableId, wanted?.routeTableId);
    const destination = knownKey(recorded?.destinationCidrBlock, wanted?.destinationCidrBlock);
    return routeTableId && destination ? findRoute(ctx, routeTableId, destination) : undefined;
  },

  diff(spec, actual) {
    return [
      ...compareFields(spec, actual, [
        { field: "routeTableId", action: "replace" },
        { field: "destinationCidrBlock", action: "replace" },
      ]),
      ...targetChanges(spec, actual),
    ];
  },

  async create(ctx, spec) {
    await retryWhile(ctx, PROPAGATION_CODES, 60, () => putRoute(ctx, spec));
    return readBack(ctx, spec);
  },

  async update(ctx, spec, actual) {
    await retryWhile(ctx, PROPAGATION_CODES, 60, () => replaceRoute(ctx, spec));
    return readBack(ctx, actual);
  },

  async destroy(ctx, actual) {
    // InvalidRoute.NotFound or InvalidRouteTableID.NotFound: already gone.
    await orUndefined(
      ctx.aws.get(EC2Client).send(new DeleteRouteCommand({ RouteTableId: actual.routeTableId, DestinationCidrBlock: actual.destinationCidrBlock })),
    );
  },

  physicalId: (a) => `${a.routeTableId}_${a.destinationCidrBlock}`,
};
