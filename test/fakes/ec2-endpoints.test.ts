import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CreateVpcEndpointCommand, EC2Client } from "@aws-sdk/client-ec2";
import { routeTable } from "../../src/resources/route-table.js";
import { securityGroup } from "../../src/resources/security-group.js";
import { subnet } from "../../src/resources/subnet.js";
import { vpc } from "../../src/resources/vpc.js";
import { vpcEndpoint, type VpcEndpointSpec } from "../../src/resources/vpc-endpoint.js";
import type { ResourceContext } from "../../src/resources/types.js";
import { testContext, testTags } from "../helpers.js";
import { FakeCloud } from "./cloud.js";
import { ec2Model, newEc2State, type Ec2State } from "./ec2.js";
import { registerEndpointsFake, vpcEndpoints } from "./ec2-endpoints.js";
import { registerRoutingFake } from "./ec2-routing.js";
import { registerSecurityFake } from "./ec2-security.js";

/** ec2:vpc-endpoint through its module against the EC2 fake's endpoints: create (with ClientToken), find, update, destroy. */
let cloud: FakeCloud;
let state: Ec2State;
let ctx: ResourceContext & { notes: string[] };

beforeEach(() => {
  registerRoutingFake();
  registerSecurityFake();
  registerEndpointsFake();
  cloud = new FakeCloud();
  // Interface endpoints stay pending, and deleting endpoints deleting, for 20 ms: the module must wait.
  cloud.timings = { latencyMs: 0, provisioningMs: { vpcEndpoint: 20, vpcEndpointDelete: 20 } };
  state = newEc2State();
  cloud.install([ec2Model(cloud, state)]);
  ctx = testContext();
});
afterEach(() => cloud.restore());

async function network() {
  const v = await vpc.create(ctx, { cidrBlock: "10.0.0.0/16", enableDnsSupport: true, enableDnsHostnames: true, tags: testTags("network.vpc") }, { logicalId: "network.vpc" });
  const subnets = [];
  for (const [i, az] of ["us-east-1a", "us-east-1b"].entries()) {
    const id = `network.subnet.private-${i}`;
    subnets.push((await subnet.create(ctx, { vpcId: v.vpcId, cidrBlock: `10.0.${i}.0/24`, availabilityZone: az, mapPublicIpOnLaunch: false, tags: testTags(id) }, { logicalId: id })).subnetId);
  }
  const rt = await routeTable.create(ctx, { vpcId: v.vpcId, tags: testTags("network.route-table.private-a") }, { logicalId: "network.route-table.private-a" });
  const sg = await securityGroup.create(ctx, { vpcId: v.vpcId, groupName: "endpoints", description: "endpoints", tags: testTags("network.security-group.endpoints") }, { logicalId: "network.security-group.endpoints" });
  return { vpcId: v.vpcId, subnets: subnets.sort(), routeTableId: rt.routeTableId, groupId: sg.groupId };
}

describe("ec2:vpc-endpoint", () => {
  it("creates an interface endpoint with a ClientToken and waits until it is available; a second create with the same spec returns the same endpoint", async () => {
    const n = await network();
    const ID = "network.vpc-endpoint.ecr-dkr";
    const spec: VpcEndpointSpec = { vpcId: n.vpcId, serviceName: "com.amazonaws.us-east-1.ecr.dkr", type: "Interface", routeTableIds: [], subnetIds: n.subnets, securityGroupIds: [n.groupId], privateDnsEnabled: true, tags: testTags(ID) };
    const created = await vpcEndpoint.create(ctx, spec, { logicalId: ID });
    expect(created).toMatchObject({ state: "available", type: "Interface", subnetIds: n.subnets, securityGroupIds: [n.groupId], privateDnsEnabled: true });
    expect(ctx.notes.some((n) => n.includes("waiting for the VPC endpoint to become available"))).toBe(true);
    const call = cloud.callsTo("CreateVpcEndpoint")[0]!.input;
    expect(call.ClientToken).toMatch(/^platform-[0-9a-f]{48}$/);
    expect(call.TagSpecifications).toEqual([{ ResourceType: "vpc-endpoint", Tags: expect.arrayContaining([{ Key: "platform:logical-id", Value: ID }]) }]);
    // A run that stopped after CreateVpcEndpoint: the same token gets the same endpoint back, not a second one.
    const again = await vpcEndpoint.create(ctx, spec, { logicalId: ID });
    expect(again.vpcEndpointId).toBe(created.vpcEndpointId);
    expect(vpcEndpoints(state).size).toBe(1);
    await expect(vpcEndpoint.find(ctx, { logicalId: ID })).resolves.toMatchObject({ vpcEndpointId: created.vpcEndpointId });
    expect(vpcEndpoint.diff(spec, created)).toEqual([]);
  });

  it("creates the S3 gateway endpoint on route tables, available at once, and moves it between route tables in place", async () => {
    const n = await network();
    const ID = "network.vpc-endpoint.s3";
    const spec: VpcEndpointSpec = { vpcId: n.vpcId, serviceName: "com.amazonaws.us-east-1.s3", type: "Gateway", routeTableIds: [n.routeTableId], subnetIds: [], securityGroupIds: [], privateDnsEnabled: false, tags: testTags(ID) };
    const created = await vpcEndpoint.create(ctx, spec, { logicalId: ID });
    expect(created).toMatchObject({ state: "available", type: "Gateway", routeTableIds: [n.routeTableId] });
    const other = await routeTable.create(ctx, { vpcId: n.vpcId, tags: testTags("network.route-table.public") }, { logicalId: "network.route-table.public" });
    const want = { ...spec, routeTableIds: [n.routeTableId, other.routeTableId] };
    const changes = vpcEndpoint.diff(want, created);
    expect(changes.map((c) => [c.field, c.action])).toEqual([["routeTableIds", "update"]]);
    const updated = await vpcEndpoint.update!(ctx, want, created, changes);
    expect(updated.routeTableIds).toEqual([n.routeTableId, other.routeTableId].sort());
    expect(cloud.callsTo("ModifyVpcEndpoint")[0]!.input).toEqual({ VpcEndpointId: created.vpcEndpointId, AddRouteTableIds: [other.routeTableId] });
    // Another service is a replacement.
    expect(vpcEndpoint.diff({ ...spec, serviceName: "com.amazonaws.us-east-1.dynamodb" }, created).map((c) => c.action)).toEqual(["replace"]);
  });

  it("destroys and waits until it is deleted; a deleted endpoint is not found, and deleting it again succeeds", async () => {
    const n = await network();
    const ID = "network.vpc-endpoint.logs";
    const spec: VpcEndpointSpec = { vpcId: n.vpcId, serviceName: "com.amazonaws.us-east-1.logs", type: "Interface", routeTableIds: [], subnetIds: n.subnets, securityGroupIds: [n.groupId], privateDnsEnabled: true, tags: testTags(ID) };
    const created = await vpcEndpoint.create(ctx, spec, { logicalId: ID });
    await vpcEndpoint.destroy(ctx, created);
    expect(ctx.notes.some((n) => n.includes("waiting for the VPC endpoint to be deleted"))).toBe(true);
    await expect(vpcEndpoint.find(ctx, { logicalId: ID, recorded: created })).resolves.toBeUndefined();
    await expect(vpcEndpoint.destroy(ctx, created)).resolves.toBeUndefined();
  });

  it("the fake refuses what EC2 refuses: a gateway endpoint for an interface-only service, two subnets in one zone", async () => {
    const n = await network();
    const ec2 = new EC2Client({ region: "us-east-1" });
    await expect(ec2.send(new CreateVpcEndpointCommand({ VpcId: n.vpcId, ServiceName: "com.amazonaws.us-east-1.logs", VpcEndpointType: "Gateway", RouteTableIds: [n.routeTableId] }))).rejects.toThrow(/does not support the endpoint type Gateway/);
    const sameZone = await subnet.create(ctx, { vpcId: n.vpcId, cidrBlock: "10.0.9.0/24", availabilityZone: "us-east-1a", mapPublicIpOnLaunch: false, tags: testTags("x") }, { logicalId: "x" });
    await expect(
      ec2.send(new CreateVpcEndpointCommand({ VpcId: n.vpcId, ServiceName: "com.amazonaws.us-east-1.logs", VpcEndpointType: "Interface", SubnetIds: [n.subnets[0]!, sameZone.subnetId], SecurityGroupIds: [n.groupId] })),
    ).rejects.toThrow(/DuplicateSubnetsInSameZone|another VPC endpoint subnet/);
  });
});
