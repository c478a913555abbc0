import {
  AssociateRouteTableCommand,
  DisassociateRouteTableCommand,
  EC2Client,
  ReplaceRouteTableAssociationCommand,
  type RouteTableAssociation,
} from "@aws-sdk/client-ec2";
import { orUndefined } from "../aws/errors.js";
import { single } from "./find.js";
import { retryWhile } from "./retry.js";
import { findRouteTables } from "./route-table.js";
import { compareFields, knownKey, readAfterCreate, type ResourceContext, type ResourceType } from "./types.js";

/** The explicit association of one subnet with one route table. Associations carry no tags. */
export interface RouteTableAssociationSpec {
  routeTableId: string;
  subnetId: string;
}

export interface RouteTableAssociationAttrs extends RouteTableAssociationSpec {
  associationId: string;
}

const GONE = new Set(["disassociating", "disassociated", "failed"]);

/** Associations of the route tables `filter` selects that `match` accepts, live ones only. */
async function findAssociations(
  ctx: ResourceContext,
  filter: { Name: string; Values: string[] },
  match: (a: RouteTableAssociation) => boolean,
): Promise<RouteTableAssociationAttrs[]> {
  const tables = await findRouteTables(ctx, { Filters: [filter] });
  return tables
    .flatMap((t) => t.Associations ?? [])
    .filter((a) => !a.Main && match(a) && !GONE.has(a.AssociationState?.State ?? ""))
    .map((a) => ({ associationId: a.RouteTableAssociationId!, routeTableId: a.RouteTableId!, subnetId: a.SubnetId! }));
}

export async function findAssociationById(ctx: ResourceContext, associationId: string): Promise<RouteTableAssociationAttrs | undefined> {
  const found = await findAssociations(ctx, { Name: "association.route-table-association-id", Values: [associationId] }, (a) => a.RouteTableAssociationId === associationId);
  return single(found, `route table associations with id ${associationId}`);
}

async function findAssociationBySubnet(ctx: ResourceContext, subnetId: string): Promise<RouteTableAssociationAttrs | undefined> {
  const found = await findAssociations(ctx, { Name: "association.subnet-id", Values: [subnetId] }, (a) => a.SubnetId === subnetId);
  return single(found, `route table associations of subnet ${subnetId}`);
}

/** Moves an association to another table; AWS gives it a new id. */
async function reassociate(ctx: ResourceContext, associationId: string, routeTableId: string): Promise<string> {
  const out = await ctx.aws.get(EC2Client).send(new ReplaceRouteTableAssociationCommand({ AssociationId: associationId, RouteTableId: routeTableId }));
  return out.NewAssociationId!;
}

/**
 * A subnet has at most one explicit association: Resource.AlreadyAssociated means one exists (a run that stopped before
 * recording it, or a lost answer), which the engine finds by the subnet and adopts, moved to the wanted table if needed.
 */
async function associate(ctx: ResourceContext, spec: RouteTableAssociationSpec): Promise<string> {
  // Either id can be briefly unknown right after creation.
  const out = await retryWhile(ctx, ["InvalidRouteTableID.NotFound", "InvalidSubnetID.NotFound"], 60, () =>
    ctx.aws.get(EC2Client).send(new AssociateRouteTableCommand({ RouteTableId: spec.routeTableId, SubnetId: spec.subnetId })),
  );
  return out.AssociationId!;
}

const readBack = (ctx: ResourceContext, associationId: string) =>
  readAfterCreate(ctx, `route table association ${associationId}`, () => findAssociationById(ctx, associationId));

export const routeTableAssociation: ResourceType<RouteTableAssociationSpec, RouteTableAssociationAttrs> = {
  type: "ec2:route-table-association",

  // By the recorded id; else the association of the subnet create would associate (a subnet has at most one). Untagged:
  // the subnet, found by its tags, vouches for it.
  async find(ctx, { recorded, wanted }) {
    if (recorded?.associationId) return findAssociationById(ctx, recorded.associationId);
    const subnetId = knownKey(undefined, wanted?.subnetId);
    return subnetId ? findAssociationBySubnet(ctx, subnetId) : undefined;
  },

  diff(spec, actual) {
    return compareFields(spec, actual, [{ field: "routeTableId" }, { field: "subnetId", action: "replace" }]);
  },

  async create(ctx, spec) {
    return readBack(ctx, await associate(ctx, spec));
  },

  async update(ctx, spec, actual) {
    return readBack(ctx, await reassociate(ctx, actual.associationId, spec.routeTableId));
  },

  async destroy(ctx, actual) {
    // InvalidAssociationID.NotFound: already gone.
    await orUndefined(ctx.aws.get(EC2Client).send(new DisassociateRouteTableCommand({ AssociationId: actual.associationId })));
  },

  physicalId: (a) => a.associationId,
};
