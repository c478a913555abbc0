import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CreateNatGatewayCommand,
  CreateTagsCommand,
  DeleteNatGatewayCommand,
  DescribeNatGatewaysCommand,
  EC2Client,
  EC2ServiceException,
  type NatGatewayState,
} from "@aws-sdk/client-ec2";
import { natGateway } from "../../src/resources/nat-gateway.js";
import { clientToken } from "../../src/resources/types.js";
import { awsFailure } from "../../src/aws/errors.js";
import { tagList } from "../../src/aws/tags.js";
import { testContext, testTags } from "../helpers.js";

const ec2 = mockClient(EC2Client);
const logicalId = "network.nat-gateway";
const tags = testTags(logicalId);
const spec = { subnetId: "subnet-1", allocationId: "eipalloc-1", tags };
const attrs = { ...spec, natGatewayId: "nat-1", state: "available" };
const ec2Error = (name: string) => new EC2ServiceException({ name, message: name, $fault: "client", $metadata: {} });
const live = { Name: "state", Values: ["pending", "available"] };
const gw = (State: NatGatewayState, id = "nat-1", failure?: { FailureCode: string; FailureMessage: string }) => ({
  NatGateways: [
    {
      NatGatewayId: id,
      SubnetId: "subnet-1",
      VpcId: "vpc-1",
      State,
      ConnectivityType: "public" as const,
      NatGatewayAddresses: [{ AllocationId: "eipalloc-1", PublicIp: "198.51.100.7", IsPrimary: true }],
      Tags: tagList(tags),
      ...failure,
    },
  ],
});

beforeEach(() => ec2.reset());

describe("ec2:nat-gateway", () => {
  it("finds the recorded gateway by id, asking only for live ones", async () => {
    ec2.on(DescribeNatGatewaysCommand).resolves(gw("available"));
    expect(await natGateway.find(testContext(), { logicalId, recorded: attrs })).toEqual(attrs);
    expect(ec2.commandCalls(DescribeNatGatewaysCommand)[0]!.args[0].input).toEqual({ NatGatewayIds: ["nat-1"], Filter: [live] });
  });

  it("finds by tags, ignoring failed, deleting and deleted gateways, when the recorded one is gone", async () => {
    ec2.on(DescribeNatGatewaysCommand).resolves(gw("pending", "nat-2"));
    ec2.on(DescribeNatGatewaysCommand, { NatGatewayIds: ["nat-1"] }).rejects(ec2Error("NatGatewayNotFound"));
    const found = await natGateway.find(testContext(), { logicalId, recorded: attrs });
    expect(found).toEqual({ ...attrs, natGatewayId: "nat-2", state: "pending" });
    expect(ec2.commandCalls(DescribeNatGatewaysCommand)[1]!.args[0].input).toEqual({
      Filter: [
        { Name: "tag:platform:logical-id", Values: [logicalId] },
        { Name: "tag:Project", Values: ["clinical-platform"] },
        { Name: "tag:Environment", Values: ["dev"] },
        live,
      ],
    });
  });

  it("returns undefined when only a failed gateway exists (AWS filters it out), so it is created again", async () => {
    ec2.on(DescribeNatGatewaysCommand).resolves({ NatGateways: [] });
    expect(await natGateway.find(testContext(), { logicalId, recorded: attrs })).toBeUndefined();
  });

  it("creates with a deterministic client token and tags, waits until available, and notes the wait", async () => {
    ec2.on(CreateNatGatewayCommand).resolves({ NatGateway: { NatGatewayId: "nat-1", State: "pending" } });
    ec2.on(DescribeNatGatewaysCommand).resolvesOnce(gw("pending")).resolvesOnce(gw("pending")).resolvesOnce(gw("pending")).resolves(gw("available"));
    const ctx = testContext();

    const created = await natGateway.create(ctx, spec, { logicalId });

    expect(created).toEqual(attrs);
    expect(ec2.commandCalls(CreateNatGatewayCommand)[0]!.args[0].input).toEqual({
      SubnetId: "subnet-1",
      AllocationId: "eipalloc-1",
      ConnectivityType: "public",
      ClientToken: clientToken(testContext(), logicalId, spec),
      TagSpecifications: [{ ResourceType: "natgateway", Tags: tagList(tags) }],
    });
    expect(ec2).toHaveReceivedCommandTimes(CreateNatGatewayCommand, 1);
    expect(ec2.commandCalls(DescribeNatGatewaysCommand).length).toBeGreaterThanOrEqual(4);
    expect(ctx.notes).toContain("waiting for the NAT gateway to become available");
  });

  it("surfaces a failed gateway's FailureCode and FailureMessage", async () => {
    const failure = { FailureCode: "InsufficientFreeAddressesInSubnet", FailureMessage: "Subnet has insufficient free addresses to create this NAT gateway" };
    ec2.on(CreateNatGatewayCommand).resolves({ NatGateway: { NatGatewayId: "nat-1", State: "pending" } });
    ec2.on(DescribeNatGatewaysCommand).resolvesOnce(gw("pending")).resolves(gw("failed", "nat-1", failure));

    const err = await natGateway.create(testContext(), spec, { logicalId }).catch((e: unknown) => e);

    expect(err).toMatchObject({ name: "NatGatewayFailed", failureCode: "InsufficientFreeAddressesInSubnet" });
    expect(awsFailure("creating ec2:nat-gateway (network.nat-gateway)", err).message).toBe(
      "creating ec2:nat-gateway (network.nat-gateway): NatGatewayFailed: NAT gateway nat-1: InsufficientFreeAddressesInSubnet: Subnet has insufficient free addresses to create this NAT gateway",
    );
    expect(ec2).toHaveReceivedCommandTimes(CreateNatGatewayCommand, 1);
  });

  it("asks for a new gateway under a derived token when the token replays a failed one from an earlier run", async () => {
    ec2.on(CreateNatGatewayCommand).resolvesOnce({ NatGateway: { NatGatewayId: "nat-old" } }).resolves({ NatGateway: { NatGatewayId: "nat-1" } });
    ec2.on(DescribeNatGatewaysCommand, { NatGatewayIds: ["nat-old"] }).resolves(gw("failed", "nat-old", { FailureCode: "Gateway.NotAttached", FailureMessage: "no internet gateway" }));
    ec2.on(DescribeNatGatewaysCommand, { NatGatewayIds: ["nat-1"] }).resolves(gw("available"));

    const created = await natGateway.create(testContext(), spec, { logicalId });

    expect(created.natGatewayId).toBe("nat-1");
    const tokens = ec2.commandCalls(CreateNatGatewayCommand).map((c) => c.args[0].input.ClientToken);
    expect(tokens).toEqual([clientToken(testContext(), logicalId, spec), clientToken(testContext(), logicalId, { ...spec, replacing: "nat-old" })]);
  });

  it("creates a new gateway when one fails with Gateway.NotAttached (the internet gateway was being attached)", async () => {
    ec2.on(CreateNatGatewayCommand).resolvesOnce({ NatGateway: { NatGatewayId: "nat-0" } }).resolves({ NatGateway: { NatGatewayId: "nat-1" } });
    ec2.on(DescribeNatGatewaysCommand, { NatGatewayIds: ["nat-0"] })
      .resolvesOnce(gw("pending", "nat-0"))
      .resolves(gw("failed", "nat-0", { FailureCode: "Gateway.NotAttached", FailureMessage: "Network vpc-1 has no Internet gateway attached" }));
    ec2.on(DescribeNatGatewaysCommand, { NatGatewayIds: ["nat-1"] }).resolvesOnce(gw("pending")).resolves(gw("available"));

    expect((await natGateway.create(testContext(), spec, { logicalId })).natGatewayId).toBe("nat-1");
    expect(ec2).toHaveReceivedCommandTimes(CreateNatGatewayCommand, 2);
  });

  it("retries CreateNatGateway while a just-allocated address is unknown", async () => {
    ec2.on(CreateNatGatewayCommand).rejectsOnce(ec2Error("InvalidAllocationID.NotFound")).resolves({ NatGateway: { NatGatewayId: "nat-1" } });
    ec2.on(DescribeNatGatewaysCommand).resolves(gw("available"));
    await natGateway.create(testContext(), spec, { logicalId });
    expect(ec2).toHaveReceivedCommandTimes(CreateNatGatewayCommand, 2);
  });

  it("diffs subnet and address as replacements, and a pending gateway as an update that waits", () => {
    expect(natGateway.diff({ ...spec, subnetId: "subnet-2", allocationId: "eipalloc-2" }, attrs)).toEqual([
      { field: "subnetId", from: "subnet-1", to: "subnet-2", action: "replace" },
      { field: "allocationId", from: "eipalloc-1", to: "eipalloc-2", action: "replace" },
    ]);
    expect(natGateway.diff(spec, { ...attrs, state: "pending" })).toEqual([
      { field: "state", from: "pending", to: "available", action: "update", note: "still provisioning: waits until it is available" },
    ]);
    expect(natGateway.diff(spec, attrs)).toEqual([]);
  });

  it("waits for a gateway a stopped run left pending, and updates tags", async () => {
    ec2.on(DescribeNatGatewaysCommand).resolvesOnce(gw("pending")).resolves(gw("available"));
    ec2.on(CreateTagsCommand).resolves({});
    const have = { ...attrs, state: "pending" };
    const want = { ...spec, tags: { ...tags, Team: "data" } };
    const ctx = testContext();
    const updated = await natGateway.update!(ctx, want, have, natGateway.diff(want, have));
    expect(updated.state).toBe("available");
    expect(ctx.notes).toContain("waiting for the NAT gateway to become available");
    expect(ec2).toHaveReceivedCommandWith(CreateTagsCommand, { Resources: ["nat-1"], Tags: [{ Key: "Team", Value: "data" }] });
  });

  it("deletes and waits until AWS reports it deleted", async () => {
    ec2.on(DeleteNatGatewayCommand).resolves({ NatGatewayId: "nat-1" });
    ec2.on(DescribeNatGatewaysCommand).resolvesOnce(gw("deleting")).resolvesOnce(gw("deleting")).resolves(gw("deleted"));
    const ctx = testContext();
    await natGateway.destroy(ctx, attrs);
    expect(ec2).toHaveReceivedCommandWith(DeleteNatGatewayCommand, { NatGatewayId: "nat-1" });
    expect(ec2.commandCalls(DescribeNatGatewaysCommand).map((c) => c.args[0].input)).toEqual([{ NatGatewayIds: ["nat-1"] }, { NatGatewayIds: ["nat-1"] }, { NatGatewayIds: ["nat-1"] }]);
    expect(ctx.notes).toContain("waiting for the NAT gateway to be deleted");
  });

  it("treats a gateway already gone as deleted, without waiting", async () => {
    ec2.on(DeleteNatGatewayCommand).rejects(ec2Error("NatGatewayNotFound"));
    await expect(natGateway.destroy(testContext(), attrs)).resolves.toBeUndefined();
    expect(ec2).not.toHaveReceivedCommand(DescribeNatGatewaysCommand);
  });

  it("uses the gateway id as the physical id", () => {
    expect(natGateway.physicalId(attrs)).toBe("nat-1");
  });
});
