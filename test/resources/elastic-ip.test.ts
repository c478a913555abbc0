import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { AllocateAddressCommand, CreateTagsCommand, DescribeAddressesCommand, EC2Client, EC2ServiceException, ReleaseAddressCommand } from "@aws-sdk/client-ec2";
import { elasticIp } from "../../src/resources/elastic-ip.js";
import { tagList } from "../../src/aws/tags.js";
import { testContext, testTags } from "../helpers.js";

const ec2 = mockClient(EC2Client);
const logicalId = "network.elastic-ip.nat";
const tags = testTags(logicalId);
const attrs = { allocationId: "eipalloc-1", publicIp: "198.51.100.7", tags };
const ec2Error = (name: string) => new EC2ServiceException({ name, message: name, $fault: "client", $metadata: {} });
const address = { AllocationId: "eipalloc-1", PublicIp: "198.51.100.7", Domain: "vpc" as const, Tags: tagList(tags) };

beforeEach(() => ec2.reset());

describe("ec2:eip", () => {
  it("finds by recorded allocation id", async () => {
    ec2.on(DescribeAddressesCommand, { AllocationIds: ["eipalloc-1"] }).resolves({ Addresses: [address] });
    expect(await elasticIp.find(testContext(), { logicalId, recorded: attrs })).toEqual(attrs);
  });

  it("finds by tags when the recorded address is gone", async () => {
    ec2.on(DescribeAddressesCommand).resolves({ Addresses: [address] });
    ec2.on(DescribeAddressesCommand, { AllocationIds: ["eipalloc-gone"] }).rejects(ec2Error("InvalidAllocationID.NotFound"));
    expect(await elasticIp.find(testContext(), { logicalId, recorded: { ...attrs, allocationId: "eipalloc-gone" } })).toEqual(attrs);
    expect(ec2.commandCalls(DescribeAddressesCommand)[1]!.args[0].input).toEqual({
      Filters: [
        { Name: "tag:platform:logical-id", Values: [logicalId] },
        { Name: "tag:Project", Values: ["clinical-platform"] },
        { Name: "tag:Environment", Values: ["dev"] },
      ],
    });
  });

  it("returns undefined when nothing is found", async () => {
    ec2.on(DescribeAddressesCommand).resolves({ Addresses: [] });
    expect(await elasticIp.find(testContext(), { logicalId })).toBeUndefined();
  });

  it("allocates a VPC address tagged on create, without a client token", async () => {
    ec2.on(AllocateAddressCommand).resolves({ AllocationId: "eipalloc-1", PublicIp: "198.51.100.7", Domain: "vpc" });
    ec2.on(DescribeAddressesCommand, { AllocationIds: ["eipalloc-1"] }).resolves({ Addresses: [address] });
    expect(await elasticIp.create(testContext(), { tags }, { logicalId })).toEqual(attrs);
    expect(ec2.commandCalls(AllocateAddressCommand)[0]!.args[0].input).toEqual({
      Domain: "vpc",
      TagSpecifications: [{ ResourceType: "elastic-ip", Tags: tagList(tags) }],
    });
  });

  it("diffs and updates tags in place", async () => {
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(DescribeAddressesCommand).resolves({ Addresses: [address] });
    const want = { tags: { ...tags, Team: "data" } };
    const changes = elasticIp.diff(want, attrs);
    expect(changes).toEqual([{ field: "tags", from: tags, to: want.tags, action: "update" }]);
    await elasticIp.update!(testContext(), want, attrs, changes);
    expect(ec2).toHaveReceivedCommandWith(CreateTagsCommand, { Resources: ["eipalloc-1"], Tags: [{ Key: "Team", Value: "data" }] });
  });

  it("retries InvalidIPAddress.InUse and AuthFailure while the NAT gateway that held it is deleting", async () => {
    ec2.on(ReleaseAddressCommand).rejectsOnce(ec2Error("InvalidIPAddress.InUse")).rejectsOnce(ec2Error("AuthFailure")).resolves({});
    ec2.on(DescribeAddressesCommand).resolves({ Addresses: [address] });
    await elasticIp.destroy(testContext(), attrs);
    expect(ec2).toHaveReceivedCommandTimes(ReleaseAddressCommand, 3);
    expect(ec2).toHaveReceivedCommandWith(ReleaseAddressCommand, { AllocationId: "eipalloc-1" });
  });

  it("takes AuthFailure for an address that no longer exists as released", async () => {
    ec2.on(ReleaseAddressCommand).rejects(ec2Error("AuthFailure"));
    ec2.on(DescribeAddressesCommand).rejects(ec2Error("InvalidAllocationID.NotFound"));
    await expect(elasticIp.destroy(testContext(), attrs)).resolves.toBeUndefined();
    expect(ec2).toHaveReceivedCommandTimes(ReleaseAddressCommand, 1);
  });

  it("treats an address already released as released", async () => {
    ec2.on(ReleaseAddressCommand).rejects(ec2Error("InvalidAllocationID.NotFound"));
    await expect(elasticIp.destroy(testContext(), attrs)).resolves.toBeUndefined();
  });

  it("gives up once the time budget is spent", async () => {
    ec2.on(ReleaseAddressCommand).rejects(ec2Error("InvalidIPAddress.InUse"));
    await expect(elasticIp.destroy(testContext(), attrs)).rejects.toMatchObject({ name: "InvalidIPAddress.InUse" });
  });

  it("uses the allocation id as the physical id", () => {
    expect(elasticIp.physicalId(attrs)).toBe("eipalloc-1");
  });
});
