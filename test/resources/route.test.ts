import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { CreateRouteCommand, DeleteRouteCommand, DescribeRouteTablesCommand, EC2Client, EC2ServiceException, ReplaceRouteCommand } from "@aws-sdk/client-ec2";
import { route } from "../../src/resources/route.js";
import { testContext } from "../helpers.js";

const ec2 = mockClient(EC2Client);
const logicalId = "network.route.public-default";
const toIgw = { routeTableId: "rtb-1", destinationCidrBlock: "0.0.0.0/0", gatewayId: "igw-1" };
const toNat = { routeTableId: "rtb-1", destinationCidrBlock: "0.0.0.0/0", natGatewayId: "nat-1" };
const ec2Error = (name: string) => new EC2ServiceException({ name, message: name, $fault: "client", $metadata: {} });
const tableWith = (...routes: object[]) => ({
  RouteTables: [{ RouteTableId: "rtb-1", VpcId: "vpc-1", Routes: [{ DestinationCidrBlock: "10.0.0.0/16", GatewayId: "local", State: "active" }, ...routes] }],
});

beforeEach(() => ec2.reset());

describe("ec2:route", () => {
  it("has nothing to find without a recorded route: routes carry no tags", async () => {
    expect(await route.find(testContext(), { logicalId })).toBeUndefined();
    expect(ec2).not.toHaveReceivedAnyCommand();
  });

  it("finds the recorded route by table and destination", async () => {
    ec2.on(DescribeRouteTablesCommand, { RouteTableIds: ["rtb-1"] }).resolves(tableWith({ DestinationCidrBlock: "0.0.0.0/0", NatGatewayId: "nat-1", State: "active" }));
    expect(await route.find(testContext(), { logicalId, recorded: toNat })).toEqual(toNat);
  });

  it("returns undefined when the route or its table is gone", async () => {
    ec2.on(DescribeRouteTablesCommand, { RouteTableIds: ["rtb-1"] }).resolves(tableWith());
    expect(await route.find(testContext(), { logicalId, recorded: toIgw })).toBeUndefined();
    ec2.on(DescribeRouteTablesCommand, { RouteTableIds: ["rtb-1"] }).rejects(ec2Error("InvalidRouteTableID.NotFound"));
    expect(await route.find(testContext(), { logicalId, recorded: toIgw })).toBeUndefined();
  });

  it("creates the route with exactly one target and reads it back", async () => {
    ec2.on(CreateRouteCommand).resolves({ Return: true });
    ec2.on(DescribeRouteTablesCommand).resolves(tableWith({ DestinationCidrBlock: "0.0.0.0/0", GatewayId: "igw-1", State: "active" }));
    const created = await route.create(testContext(), toIgw, { logicalId });
    expect(created).toEqual(toIgw);
    expect(ec2.commandCalls(CreateRouteCommand)[0]!.args[0].input).toEqual({ RouteTableId: "rtb-1", DestinationCidrBlock: "0.0.0.0/0", GatewayId: "igw-1" });
    expect(ec2).not.toHaveReceivedCommand(ReplaceRouteCommand);
  });

  it("retries while a just-created gateway is unknown", async () => {
    ec2.on(CreateRouteCommand).rejectsOnce(ec2Error("InvalidGatewayID.NotFound")).rejectsOnce(ec2Error("InvalidNatGatewayID.NotFound")).resolves({ Return: true });
    ec2.on(DescribeRouteTablesCommand).resolves(tableWith({ DestinationCidrBlock: "0.0.0.0/0", GatewayId: "igw-1" }));
    await route.create(testContext(), toIgw, { logicalId });
    expect(ec2).toHaveReceivedCommandTimes(CreateRouteCommand, 3);
  });

  it("refuses a spec with no target or two", async () => {
    await expect(route.create(testContext(), { routeTableId: "rtb-1", destinationCidrBlock: "0.0.0.0/0" }, { logicalId })).rejects.toThrow(/exactly one target/);
    await expect(route.create(testContext(), { ...toIgw, natGatewayId: "nat-1" }, { logicalId })).rejects.toThrow(/exactly one target/);
    expect(ec2).not.toHaveReceivedAnyCommand();
  });

  it("diffs a target change in place and a table or destination change as a replacement", () => {
    expect(route.diff(toNat, toIgw)).toEqual([
      { field: "gatewayId", from: "igw-1", to: undefined, action: "update" },
      { field: "natGatewayId", from: undefined, to: "nat-1", action: "update" },
    ]);
    expect(route.diff({ ...toIgw, routeTableId: "rtb-2" }, toIgw)).toEqual([{ field: "routeTableId", from: "rtb-1", to: "rtb-2", action: "replace" }]);
    expect(route.diff(toIgw, toIgw)).toEqual([]);
  });

  it("replaces the target in place with ReplaceRoute", async () => {
    ec2.on(ReplaceRouteCommand).resolves({});
    ec2.on(DescribeRouteTablesCommand).resolves(tableWith({ DestinationCidrBlock: "0.0.0.0/0", NatGatewayId: "nat-1" }));
    const updated = await route.update!(testContext(), toNat, toIgw, route.diff(toNat, toIgw));
    expect(updated).toEqual(toNat);
    expect(ec2.commandCalls(ReplaceRouteCommand)[0]!.args[0].input).toEqual({ RouteTableId: "rtb-1", DestinationCidrBlock: "0.0.0.0/0", NatGatewayId: "nat-1" });
  });

  it("deletes the route; a route or table already gone is deleted", async () => {
    ec2.on(DeleteRouteCommand).resolvesOnce({}).rejectsOnce(ec2Error("InvalidRoute.NotFound")).rejects(ec2Error("InvalidRouteTableID.NotFound"));
    await route.destroy(testContext(), toIgw);
    await expect(route.destroy(testContext(), toIgw)).resolves.toBeUndefined();
    await expect(route.destroy(testContext(), toIgw)).resolves.toBeUndefined();
    expect(ec2).toHaveReceivedCommandWith(DeleteRouteCommand, { RouteTableId: "rtb-1", DestinationCidrBlock: "0.0.0.0/0" });
  });

  it("is known by table and destination", () => {
    expect(route.physicalId(toIgw)).toBe("rtb-1_0.0.0.0/0");
  });
});
