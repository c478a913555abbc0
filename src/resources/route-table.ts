import {
  CreateRouteTableCommand,
  DeleteRouteTableCommand,
  DescribeRouteTablesCommand,
  DisassociateRouteTableCommand,
  type DescribeRouteTablesCommandInput,
  EC2Client,
  type RouteTable,
} from "@aws-sdk/client-ec2";
import { isNotFound, orUndefined } from "../aws/errors.js";
import { ec2TagFilters, TAG_LOGICAL_ID, tagRecord } from "../aws/tags.js";
import { applyEc2Tags, ec2TagSpecification } from "./ec2-tags.js";
import { single } from "./find.js";
import { retryWhile } from "./retry.js";
import { clientToken, compareFields, compareTags, type ResourceContext, type ResourceType } from "./types.js";

export interface RouteTableSpec {
  vpcId: string;
  tags: Record<string, string>;
}

export interface RouteTableAttrs extends RouteTableSpec {
  routeTableId: string;
}

/** Route tables in AWS's shape, for this module and the route and association modules. */
export async function findRouteTables(ctx: ResourceContext, input: DescribeRouteTablesCommandInput): Promise<RouteTable[]> {
  const out = await orUndefined(ctx.aws.get(EC2Client).send(new DescribeRouteTablesCommand(input)));
  return out?.RouteTables ?? [];
}

function toAttrs(t: RouteTable): RouteTableAttrs {
  return { routeTableId: t.RouteTableId!, vpcId: t.VpcId!, tags: tagRecord(t.Tags) };
}

export async function findRouteTableById(ctx: ResourceContext, routeTableId: string): Promise<RouteTableAttrs | undefined> {
  const t = single(await findRouteTables(ctx, { RouteTableIds: [routeTableId] }), `route tables with id ${routeTableId}`);
  return t && toAttrs(t);
}

/** Removes every explicit subnet association of the table (the main association of a VPC's main table is not one). */
async function disassociateAll(ctx: ResourceContext, routeTableId: string): Promise<void> {
  const table = single(await findRouteTables(ctx, { RouteTableIds: [routeTableId] }), `route tables with id ${routeTableId}`);
  for (const a of table?.Associations ?? []) {
    if (a.Main || !a.RouteTableAssociationId || !a.SubnetId) continue;
    ctx.note(tagRecord(table!.Tags)[TAG_LOGICAL_ID] ?? routeTableId, `disassociating subnet ${a.SubnetId} first`);
    await orUndefined(ctx.aws.get(EC2Client).send(new DisassociateRouteTableCommand({ AssociationId: a.RouteTableAssociationId })));
  }
}

async function sendCreate(ctx: ResourceContext, spec: RouteTableSpec, token: string): Promise<string> {
  const out = await retryWhile(ctx, ["InvalidVpcID.NotFound"], 60, () =>
    ctx.aws.get(EC2Client).send(
      new CreateRouteTableCommand({ VpcId: spec.vpcId, ClientToken: token, TagSpecifications: ec2TagSpecification("route-table", spec.tags) }),
    ),
  );
  return out.RouteTable!.RouteTableId!;
}

/** A just-created table, allowing AWS a moment to make it visible; undefined when it never appears. */
async function readBack(ctx: ResourceContext, routeTableId: string): Promise<RouteTableAttrs | undefined> {
  try {
    const out = await retryWhile(ctx, ["InvalidRouteTableID.NotFound"], 30, () =>
      ctx.aws.get(EC2Client).send(new DescribeRouteTablesCommand({ RouteTableIds: [routeTableId] })),
    );
    const t = single(out.RouteTables, `route tables with id ${routeTableId}`);
    return t && toAttrs(t);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export const routeTable: ResourceType<RouteTableSpec, RouteTableAttrs> = {
  type: "ec2:route-table",
  createIdempotency: "token",

  async find(ctx, { logicalId, recorded }) {
    if (recorded?.routeTableId) {
      const found = await findRouteTableById(ctx, recorded.routeTableId);
      if (found) return found;
    }
    const t = single(await findRouteTables(ctx, { Filters: ec2TagFilters(ctx.identity, logicalId) }), `route tables tagged ${logicalId}`);
    return t && toAttrs(t);
  },

  diff(spec, actual) {
    return [...compareFields(spec, actual, [{ field: "vpcId", action: "replace" }]), ...compareTags(spec.tags, actual.tags)];
  },

  async create(ctx, spec, { logicalId }) {
    // The ClientToken makes a retried create (after a crash or a lost response) return the first table, not a second one.
    const routeTableId = await sendCreate(ctx, spec, clientToken(ctx, logicalId, spec));
    const found = await readBack(ctx, routeTableId);
    if (found) return found;
    // The token replayed a table deleted since (a partial teardown applied again in the same VPC): ask under a token derived from it.
    const fresh = await sendCreate(ctx, spec, clientToken(ctx, logicalId, { ...spec, replacing: routeTableId }));
    return (await readBack(ctx, fresh)) ?? { ...spec, routeTableId: fresh };
  },

  async update(ctx, spec, actual, changes) {
    if (changes.some((c) => c.field === "tags")) await applyEc2Tags(ctx, actual.routeTableId, spec.tags, actual.tags);
    return (await findRouteTableById(ctx, actual.routeTableId))!;
  },

  async destroy(ctx, actual) {
    // What still hangs on the table goes with it: an association a killed run made but never recorded would otherwise
    // block DeleteRouteTable for good. The engine has proven the table ours by the tags it read from AWS before this.
    await disassociateAll(ctx, actual.routeTableId);
    // DependencyViolation while a subnet is still associated: AWS may lag behind the disassociations.
    await retryWhile(ctx, ["DependencyViolation"], 5 * 60, async () => {
      await orUndefined(ctx.aws.get(EC2Client).send(new DeleteRouteTableCommand({ RouteTableId: actual.routeTableId })));
    });
  },

  physicalId: (a) => a.routeTableId,
};
