import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  AssociateRouteTableCommand,
  DescribeRouteTablesCommand,
  DisassociateRouteTableCommand,
  EC2Client,
  EC2ServiceException,
  ReplaceRouteTableAssociationCommand,
} from "@aws-sdk/client-ec2";
import { routeTableAssociation } from "../../src/resources/route-table-association.js";
import { testContext } from "../helpers.js";

const ec2 = mockClient(EC2Client);
const logicalId = "network.route-table-association.public-a";
const spec = { routeTableId: "rtb-1", subnetId: "subnet-1" };
const attrs = { ...spec, associationId: "rtbassoc-1" };
const ec2Error = (name: string) => new EC2ServiceException({ name, message: name, $fault: "client", $metadata: {} });
const association = (id: string, routeTableId: string, subnetId: string, state = "associated") => ({
  RouteTableAssociationId: id,
  RouteTableId: routeTableId,
  SubnetId: subnetId,
  Main: false,
  AssociationState: { State: state },
});
const tables = (routeTableId: string, ...associations: object[]) => ({
  RouteTables: [{ RouteTableId: routeTableId, VpcId: "vpc-1", Associations: [{ RouteTableAssociationId: "rtbassoc-main", RouteTableId: routeTableId, Main: true }, ...associations] }],
});
const byAssociation = (id: string) => ({ Filters: [{ Name: "association.route-table-association-id", Values: [id] }] });

beforeEach(() => ec2.reset());

describe("ec2:route-table-association", () => {
  it("has nothing to find without a recorded association id", async () => {
    expect(await routeTableAssociation.find(testContext(), { logicalId })).toBeUndefined();
    expect(ec2).not.toHaveReceivedAnyCommand();
  });

  it("finds the recorded association by its id, skipping the table's main association", async () => {
    ec2.on(DescribeRouteTablesCommand, byAssociation("rtbassoc-1")).resolves(tables("rtb-1", association("rtbassoc-1", "rtb-1", "subnet-1"), association("rtbassoc-2", "rtb-1", "subnet-2")));
    expect(await routeTableAssociation.find(testContext(), { logicalId, recorded: attrs })).toEqual(attrs);
    expect(ec2.commandCalls(DescribeRouteTablesCommand)[0]!.args[0].input).toEqual(byAssociation("rtbassoc-1"));
  });

  it("returns undefined for an association that is gone or going", async () => {
    ec2.on(DescribeRouteTablesCommand, byAssociation("rtbassoc-1")).resolvesOnce({ RouteTables: [] }).resolves(tables("rtb-1", association("rtbassoc-1", "rtb-1", "subnet-1", "disassociating")));
    expect(await routeTableAssociation.find(testContext(), { logicalId, recorded: attrs })).toBeUndefined();
    expect(await routeTableAssociation.find(testContext(), { logicalId, recorded: attrs })).toBeUndefined();
  });

  it("associates and reads back, retrying while the new subnet is unknown", async () => {
    ec2.on(AssociateRouteTableCommand).rejectsOnce(ec2Error("InvalidSubnetID.NotFound")).resolves({ AssociationId: "rtbassoc-1", AssociationState: { State: "associated" } });
    ec2.on(DescribeRouteTablesCommand, byAssociation("rtbassoc-1")).resolves(tables("rtb-1", association("rtbassoc-1", "rtb-1", "subnet-1")));
    expect(await routeTableAssociation.create(testContext(), spec, { logicalId })).toEqual(attrs);
    expect(ec2.commandCalls(AssociateRouteTableCommand)[0]!.args[0].input).toEqual({ RouteTableId: "rtb-1", SubnetId: "subnet-1" });
    expect(ec2).toHaveReceivedCommandTimes(AssociateRouteTableCommand, 2);
  });

  it("passes Resource.AlreadyAssociated on when no association of the subnet can be found", async () => {
    ec2.on(AssociateRouteTableCommand).rejects(ec2Error("Resource.AlreadyAssociated"));
    ec2.on(DescribeRouteTablesCommand).resolves({ RouteTables: [] });
    await expect(routeTableAssociation.create(testContext(), spec, { logicalId })).rejects.toMatchObject({ name: "Resource.AlreadyAssociated" });
  });

  it("diffs a table change in place and a subnet change as a replacement", () => {
    expect(routeTableAssociation.diff({ ...spec, routeTableId: "rtb-2" }, attrs)).toEqual([{ field: "routeTableId", from: "rtb-1", to: "rtb-2", action: "update" }]);
    expect(routeTableAssociation.diff({ ...spec, subnetId: "subnet-2" }, attrs)).toEqual([{ field: "subnetId", from: "subnet-1", to: "subnet-2", action: "replace" }]);
  });

  it("moves to another table in place and records the new association id", async () => {
    ec2.on(ReplaceRouteTableAssociationCommand).resolves({ NewAssociationId: "rtbassoc-9" });
    ec2.on(DescribeRouteTablesCommand, byAssociation("rtbassoc-9")).resolves(tables("rtb-2", association("rtbassoc-9", "rtb-2", "subnet-1")));
    const want = { ...spec, routeTableId: "rtb-2" };
    const updated = await routeTableAssociation.update!(testContext(), want, attrs, routeTableAssociation.diff(want, attrs));
    expect(updated).toEqual({ associationId: "rtbassoc-9", routeTableId: "rtb-2", subnetId: "subnet-1" });
    expect(ec2.commandCalls(ReplaceRouteTableAssociationCommand)[0]!.args[0].input).toEqual({ AssociationId: "rtbassoc-1", RouteTableId: "rtb-2" });
  });

  it("disassociates; an association already gone is deleted", async () => {
    ec2.on(DisassociateRouteTableCommand).resolvesOnce({}).rejects(ec2Error("InvalidAssociationID.NotFound"));
    await routeTableAssociation.destroy(testContext(), attrs);
    await expect(routeTableAssociation.destroy(testContext(), attrs)).resolves.toBeUndefined();
    expect(ec2).toHaveReceivedCommandWith(DisassociateRouteTableCommand, { AssociationId: "rtbassoc-1" });
  });

  it("uses the association id as the physical id", () => {
    expect(routeTableAssociation.physicalId(attrs)).toBe("rtbassoc-1");
  });
});
