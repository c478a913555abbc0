import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CreateRouteTableCommand, DeleteRouteTableCommand, DescribeNatGatewaysCommand, EC2Client } from "@aws-sdk/client-ec2";
import { elasticIp } from "../../src/resources/elastic-ip.js";
import { internetGateway } from "../../src/resources/internet-gateway.js";
import { natGateway } from "../../src/resources/nat-gateway.js";
import { routeTableAssociation } from "../../src/resources/route-table-association.js";
import { routeTable } from "../../src/resources/route-table.js";
import { route } from "../../src/resources/route.js";
import { subnet } from "../../src/resources/subnet.js";
import { vpc } from "../../src/resources/vpc.js";
import type { ResourceContext } from "../../src/resources/types.js";
import { testContext, testTags } from "../helpers.js";
import { FakeCloud } from "./cloud.js";
import { ec2Model, newEc2State, type Ec2State } from "./ec2.js";
import { registerRoutingFake } from "./ec2-routing.js";

let cloud: FakeCloud;
let state: Ec2State;
let ctx: ResourceContext & { notes: string[] };

beforeEach(() => {
  registerRoutingFake();
  registerRoutingFake(); // idempotent
  cloud = new FakeCloud();
  state = newEc2State();
  cloud.install([ec2Model(cloud, state)]);
  ctx = testContext();
});

afterEach(() => cloud.restore());

/** A VPC with one public subnet, made through the real modules. */
async function network() {
  const v = await vpc.create(ctx, { cidrBlock: "10.0.0.0/16", enableDnsSupport: true, enableDnsHostnames: true, tags: testTags("network.vpc") }, { logicalId: "network.vpc" });
  const subnetSpec = { vpcId: v.vpcId, cidrBlock: "10.0.0.0/24", availabilityZone: "us-east-1a", mapPublicIpOnLaunch: true, tags: testTags("network.subnet.public-a") };
  const s = await subnet.create(ctx, subnetSpec, { logicalId: "network.subnet.public-a" });
  return { vpcId: v.vpcId, subnetId: s.subnetId };
}

async function attachedGateway(vpcId: string) {
  return internetGateway.create(ctx, { vpcId, tags: testTags("network.internet-gateway") }, { logicalId: "network.internet-gateway" });
}

async function table(vpcId: string, name = "public") {
  const logicalId = `network.route-table.${name}`;
  return routeTable.create(ctx, { vpcId, tags: testTags(logicalId) }, { logicalId });
}

async function natWithAddress(subnetId: string) {
  const eip = await elasticIp.create(ctx, { tags: testTags("network.elastic-ip.nat") }, { logicalId: "network.elastic-ip.nat" });
  const nat = await natGateway.create(ctx, { subnetId, allocationId: eip.allocationId, tags: testTags("network.nat-gateway") }, { logicalId: "network.nat-gateway" });
  return { eip, nat };
}

describe("routing fake: each module's create → find → destroy", () => {
  it("internet gateway", async () => {
    const { vpcId } = await network();
    const igw = await attachedGateway(vpcId);
    expect(igw.vpcId).toBe(vpcId);
    expect(await internetGateway.find(ctx, { logicalId: "network.internet-gateway" })).toEqual(igw);

    await internetGateway.destroy(ctx, igw);
    expect(await internetGateway.find(ctx, { logicalId: "network.internet-gateway", recorded: igw })).toBeUndefined();
    await expect(internetGateway.destroy(ctx, igw)).resolves.toBeUndefined();
  });

  it("route table, whose client token returns the same table on a retried create", async () => {
    const { vpcId } = await network();
    const rt = await table(vpcId);
    expect(await table(vpcId)).toEqual(rt);
    expect(state.routeTables.size).toBe(1);
    expect(await routeTable.find(ctx, { logicalId: "network.route-table.public" })).toEqual(rt);

    await routeTable.destroy(ctx, rt);
    expect(await routeTable.find(ctx, { logicalId: "network.route-table.public", recorded: rt })).toBeUndefined();
    await expect(routeTable.destroy(ctx, rt)).resolves.toBeUndefined();

    // Applied again in the same VPC, the first token replays the deleted table: a derived token makes a new one.
    const again = await table(vpcId);
    expect(again.routeTableId).not.toBe(rt.routeTableId);
    expect(cloud.callsTo("CreateRouteTable")).toHaveLength(4);
  });

  it("route: a create that finds it already there fails with RouteAlreadyExists, and find by the wanted key returns it", async () => {
    const { vpcId } = await network();
    const igw = await attachedGateway(vpcId);
    const rt = await table(vpcId);
    const spec = { routeTableId: rt.routeTableId, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.internetGatewayId };
    const created = await route.create(ctx, spec, { logicalId: "network.route.public-default" });
    expect(created).toEqual(spec);
    expect(await route.find(ctx, { logicalId: "network.route.public-default", recorded: created })).toEqual(spec);

    // A run that stopped before recording the route creates it again: the engine meets RouteAlreadyExists and looks it up.
    await expect(route.create(ctx, spec, { logicalId: "network.route.public-default" })).rejects.toMatchObject({ name: "RouteAlreadyExists" });
    expect(await route.find(ctx, { logicalId: "network.route.public-default", wanted: spec })).toEqual(spec);

    await route.destroy(ctx, created);
    expect(await route.find(ctx, { logicalId: "network.route.public-default", recorded: created })).toBeUndefined();
    await expect(route.destroy(ctx, created)).resolves.toBeUndefined();
  });

  it("route table association: a retried create fails with Resource.AlreadyAssociated, find by the subnet returns it, update moves it", async () => {
    const { vpcId, subnetId } = await network();
    const [publicRt, otherRt] = [await table(vpcId), await table(vpcId, "other")];
    const logicalId = "network.route-table-association.public-a";
    const assoc = await routeTableAssociation.create(ctx, { routeTableId: publicRt.routeTableId, subnetId }, { logicalId });
    expect(await routeTableAssociation.find(ctx, { logicalId, recorded: assoc })).toEqual(assoc);
    await expect(routeTableAssociation.create(ctx, { routeTableId: publicRt.routeTableId, subnetId }, { logicalId })).rejects.toMatchObject({ name: "Resource.AlreadyAssociated" });
    expect(await routeTableAssociation.find(ctx, { logicalId, wanted: { routeTableId: publicRt.routeTableId, subnetId } })).toEqual(assoc);

    const want = { routeTableId: otherRt.routeTableId, subnetId };
    const moved = await routeTableAssociation.update!(ctx, want, assoc, routeTableAssociation.diff(want, assoc));
    expect(moved).toMatchObject(want);
    expect(moved.associationId).not.toBe(assoc.associationId);
    expect(await routeTableAssociation.find(ctx, { logicalId, recorded: assoc })).toBeUndefined();

    await routeTableAssociation.destroy(ctx, moved);
    expect(await routeTableAssociation.find(ctx, { logicalId, recorded: moved })).toBeUndefined();
    await expect(routeTableAssociation.destroy(ctx, moved)).resolves.toBeUndefined();
    await routeTable.destroy(ctx, otherRt);
  });

  it("Elastic IP", async () => {
    const eip = await elasticIp.create(ctx, { tags: testTags("network.elastic-ip.nat") }, { logicalId: "network.elastic-ip.nat" });
    expect(eip.publicIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await elasticIp.find(ctx, { logicalId: "network.elastic-ip.nat" })).toEqual(eip);

    await elasticIp.destroy(ctx, eip);
    expect(await elasticIp.find(ctx, { logicalId: "network.elastic-ip.nat", recorded: eip })).toBeUndefined();
    await expect(elasticIp.destroy(ctx, eip)).resolves.toBeUndefined();
  });

  it("NAT gateway: pending until provisioned, then available; deleted ones stay listed but are not found", async () => {
    cloud.timings = { latencyMs: 0, provisioningMs: { natGateway: 40, natGatewayDelete: 40 } };
    const { vpcId, subnetId } = await network();
    await attachedGateway(vpcId);
    const { nat } = await natWithAddress(subnetId);
    expect(nat.state).toBe("available");
    expect(ctx.notes).toContain("waiting for the NAT gateway to become available");
    expect(cloud.callsTo("DescribeNatGateways").some((c) => c.input.NatGatewayIds?.[0] === nat.natGatewayId)).toBe(true);
    expect(await natGateway.find(ctx, { logicalId: "network.nat-gateway" })).toEqual(nat);

    await natGateway.destroy(ctx, nat);
    expect(state.natGateways.get(nat.natGatewayId).State).toBe("deleted");
    expect(await natGateway.find(ctx, { logicalId: "network.nat-gateway", recorded: nat })).toBeUndefined();
    const listed = await ctx.aws.get(EC2Client).send(new DescribeNatGatewaysCommand({ NatGatewayIds: [nat.natGatewayId] }));
    expect(listed.NatGateways?.[0]?.State).toBe("deleted");
    await expect(natGateway.destroy(ctx, nat)).resolves.toBeUndefined();
  });
});

describe("routing fake: teardown ordering", () => {
  it("holds the internet gateway and the Elastic IP until the NAT gateway is deleted; tearing down in parallel converges", async () => {
    cloud.timings = { latencyMs: 0, provisioningMs: { natGatewayDelete: 60 } };
    const { vpcId, subnetId } = await network();
    const igw = await attachedGateway(vpcId);
    const { eip, nat } = await natWithAddress(subnetId);

    await Promise.all([natGateway.destroy(ctx, nat), internetGateway.destroy(ctx, igw), elasticIp.destroy(ctx, eip)]);

    expect(cloud.callsTo("DetachInternetGateway").length).toBeGreaterThan(1);
    expect(cloud.callsTo("ReleaseAddress").length).toBeGreaterThan(1);
    expect(state.internetGateways.size).toBe(0);
    expect(state.addresses.size).toBe(0);
  });

  it("recreates a NAT gateway that failed, under a new token, and leaves the failed one listed", async () => {
    const { vpcId, subnetId } = await network();
    await attachedGateway(vpcId);
    const { eip, nat } = await natWithAddress(subnetId);
    state.natGateways.get(nat.natGatewayId).State = "failed";
    expect(await natGateway.find(ctx, { logicalId: "network.nat-gateway", recorded: nat })).toBeUndefined();

    const again = await natGateway.create(ctx, { subnetId, allocationId: eip.allocationId, tags: testTags("network.nat-gateway") }, { logicalId: "network.nat-gateway" });

    expect(again.natGatewayId).not.toBe(nat.natGatewayId);
    expect(again.state).toBe("available");
    expect(cloud.callsTo("CreateNatGateway")).toHaveLength(3);
    expect(state.natGateways.get(nat.natGatewayId).State).toBe("failed");
  });

  it("rejects a reused client token with other parameters, and a table deletion while a subnet is associated", async () => {
    const { vpcId, subnetId } = await network();
    const ec2 = ctx.aws.get(EC2Client);
    const rt = await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId, ClientToken: "token-1" }));
    await expect(ec2.send(new CreateRouteTableCommand({ VpcId: vpcId, ClientToken: "token-1", TagSpecifications: [{ ResourceType: "route-table", Tags: [{ Key: "a", Value: "b" }] }] }))).rejects.toMatchObject({
      name: "IdempotentParameterMismatch",
    });
    const routeTableId = rt.RouteTable!.RouteTableId!;
    await routeTableAssociation.create(ctx, { routeTableId, subnetId }, { logicalId: "network.route-table-association.public-a" });
    await expect(ec2.send(new DeleteRouteTableCommand({ RouteTableId: routeTableId }))).rejects.toMatchObject({ name: "DependencyViolation" });
  });
});
