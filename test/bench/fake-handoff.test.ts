import { afterEach, describe, expect, it, vi } from "vitest";
import { countIds, loadFake, saveFake } from "../../bench/fake-handoff.js";
import { elasticIp } from "../../src/resources/elastic-ip.js";
import { natGateway } from "../../src/resources/nat-gateway.js";
import { subnet } from "../../src/resources/subnet.js";
import { vpc } from "../../src/resources/vpc.js";
import { testContext, testTags } from "../helpers.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

let current: FakeAws | undefined;
const install = (natGatewayMs: number) => {
  current?.restore();
  current = installFakeAws({ latencyMs: 0, provisioningMs: { natGateway: natGatewayMs, natGatewayDelete: natGatewayMs } });
  return current;
};
afterEach(() => current?.restore());

/** A VPC, a subnet and a NAT gateway, made through the real modules against the fake. */
async function natInVpc(ctx = testContext()) {
  const v = await vpc.create(ctx, { cidrBlock: "10.0.0.0/16", enableDnsSupport: true, enableDnsHostnames: true, tags: testTags("network.vpc") }, { logicalId: "network.vpc" });
  const s = await subnet.create(ctx, { vpcId: v.vpcId, cidrBlock: "10.0.0.0/24", availabilityZone: "us-east-1a", mapPublicIpOnLaunch: true, tags: testTags("network.subnet.public-a") }, { logicalId: "network.subnet.public-a" });
  const eip = await elasticIp.create(ctx, { tags: testTags("network.elastic-ip.nat") }, { logicalId: "network.elastic-ip.nat" });
  return natGateway.create(ctx, { subnetId: s.subnetId, allocationId: eip.allocationId, tags: testTags("network.nat-gateway") }, { logicalId: "network.nat-gateway" });
}

describe("handing the fake AWS to another process", () => {
  it("restores every service's state into a fresh fake, and new resources get new ids", async () => {
    const first = install(1);
    const ids = countIds(first);
    const nat = await natInVpc();
    const saved = saveFake(first, ids());

    const second = install(1);
    const issued = loadFake(second, saved);
    expect(issued).toBe(ids());
    expect([...second.ec2.vpcs.keys()]).toEqual([...first.ec2.vpcs.keys()]);
    const found = await natGateway.find(testContext(), { logicalId: "network.nat-gateway", recorded: nat });
    expect(found).toMatchObject({ natGatewayId: nat.natGatewayId, state: "available" });
    const another = await vpc.create(testContext(), { cidrBlock: "10.1.0.0/16", enableDnsSupport: true, enableDnsHostnames: true, tags: testTags("network.vpc-2") }, { logicalId: "network.vpc-2" });
    expect(first.ec2.vpcs.has(another.vpcId)).toBe(false);
    expect(second.ec2.vpcs.size).toBe(2);
  });

  it("keeps the fake's clock and a NAT gateway's derived state: a gateway still provisioning becomes available, and deletes", async () => {
    const first = install(300);
    const created = natInVpc(); // waits for the gateway to be available
    await vi.waitFor(() => expect(first.ec2.natGateways.size).toBe(1));
    const [natGatewayId, pending] = [...first.ec2.natGateways.entries()][0] as [string, { State: string }];
    expect(pending.State).toBe("pending");
    const saved = saveFake(first, 0);
    await created;

    const second = install(300);
    loadFake(second, saved);
    const restored = second.ec2.natGateways.get(natGatewayId);
    await vi.waitFor(() => expect(restored.State).toBe("available"), { timeout: 2000 });
    const found = await natGateway.find(testContext(), { logicalId: "network.nat-gateway", recorded: { natGatewayId } as never });
    await natGateway.destroy(testContext(), found!);
    expect(restored.State).toBe("deleted");
  });
});
