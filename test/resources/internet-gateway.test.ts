import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateTagsCommand,
  DeleteInternetGatewayCommand,
  DescribeInternetGatewaysCommand,
  DetachInternetGatewayCommand,
  EC2Client,
  EC2ServiceException,
  type AttachmentStatus,
} from "@aws-sdk/client-ec2";
import { internetGateway } from "../../src/resources/internet-gateway.js";
import { tagList } from "../../src/aws/tags.js";
import { testContext, testTags } from "../helpers.js";

const ec2 = mockClient(EC2Client);
const tags = testTags("network.internet-gateway");
const spec = { vpcId: "vpc-1", tags };
const attrs = { internetGatewayId: "igw-1", vpcId: "vpc-1", tags };
const ec2Error = (name: string, message = name) => new EC2ServiceException({ name, message, $fault: "client", $metadata: {} });
/** AWS reports an attached internet gateway as "available", a value the SDK's AttachmentStatus type lacks. */
const gateway = (vpcId?: string, state = "available") => ({
  InternetGatewayId: "igw-1",
  Attachments: vpcId ? [{ VpcId: vpcId, State: state as AttachmentStatus }] : [],
  Tags: tagList(tags),
});

beforeEach(() => ec2.reset());

describe("ec2:internet-gateway", () => {
  it("finds by recorded id and reads the attached VPC", async () => {
    ec2.on(DescribeInternetGatewaysCommand, { InternetGatewayIds: ["igw-1"] }).resolves({ InternetGateways: [gateway("vpc-1")] });
    const found = await internetGateway.find(testContext(), { logicalId: "network.internet-gateway", recorded: attrs });
    expect(found).toEqual(attrs);
  });

  it("finds by tags when the recorded id is gone, and reports a detached gateway's VPC as undefined", async () => {
    ec2.on(DescribeInternetGatewaysCommand).resolves({ InternetGateways: [gateway()] });
    ec2.on(DescribeInternetGatewaysCommand, { InternetGatewayIds: ["igw-gone"] }).rejects(ec2Error("InvalidInternetGatewayID.NotFound"));
    const found = await internetGateway.find(testContext(), { logicalId: "network.internet-gateway", recorded: { ...attrs, internetGatewayId: "igw-gone" } });
    expect(found).toEqual({ internetGatewayId: "igw-1", vpcId: undefined, tags });
    expect(ec2.commandCalls(DescribeInternetGatewaysCommand)[1]!.args[0].input.Filters).toEqual([
      { Name: "tag:platform:logical-id", Values: ["network.internet-gateway"] },
      { Name: "tag:Project", Values: ["clinical-platform"] },
      { Name: "tag:Environment", Values: ["dev"] },
    ]);
  });

  it("ignores an attachment that is being detached", async () => {
    ec2.on(DescribeInternetGatewaysCommand).resolves({ InternetGateways: [gateway("vpc-1", "detaching")] });
    const found = await internetGateway.find(testContext(), { logicalId: "network.internet-gateway", recorded: attrs });
    expect(found?.vpcId).toBeUndefined();
  });

  it("returns undefined when nothing is found", async () => {
    ec2.on(DescribeInternetGatewaysCommand).resolves({ InternetGateways: [] });
    expect(await internetGateway.find(testContext(), { logicalId: "network.internet-gateway" })).toBeUndefined();
  });

  it("creates tagged, attaches (retrying while the new VPC is unknown) and reads back", async () => {
    ec2.on(CreateInternetGatewayCommand).resolves({ InternetGateway: { InternetGatewayId: "igw-1" } });
    ec2.on(AttachInternetGatewayCommand).rejectsOnce(ec2Error("InvalidVpcID.NotFound")).resolves({});
    ec2.on(DescribeInternetGatewaysCommand, { InternetGatewayIds: ["igw-1"] }).resolves({ InternetGateways: [gateway("vpc-1")] });

    const created = await internetGateway.create(testContext(), spec, { logicalId: "network.internet-gateway" });

    expect(created).toEqual(attrs);
    expect(ec2.commandCalls(CreateInternetGatewayCommand)[0]!.args[0].input).toEqual({
      TagSpecifications: [{ ResourceType: "internet-gateway", Tags: tagList(tags) }],
    });
    expect(ec2).toHaveReceivedCommandTimes(AttachInternetGatewayCommand, 2);
    expect(ec2).toHaveReceivedCommandWith(AttachInternetGatewayCommand, { InternetGatewayId: "igw-1", VpcId: "vpc-1" });
  });

  it("diffs the VPC and the tags as in-place changes", () => {
    const changes = internetGateway.diff({ vpcId: "vpc-2", tags: { ...tags, Team: "data" } }, attrs);
    expect(changes).toEqual([
      { field: "vpcId", from: "vpc-1", to: "vpc-2", action: "update" },
      { field: "tags", from: tags, to: { ...tags, Team: "data" }, action: "update" },
    ]);
  });

  it("moves to another VPC in place: detaches from the old one, attaches to the new one", async () => {
    ec2.on(DetachInternetGatewayCommand).resolves({});
    ec2.on(AttachInternetGatewayCommand).resolves({});
    ec2.on(DescribeInternetGatewaysCommand).resolves({ InternetGateways: [gateway("vpc-2")] });
    const want = { vpcId: "vpc-2", tags };
    const updated = await internetGateway.update!(testContext(), want, attrs, internetGateway.diff(want, attrs));
    expect(updated.vpcId).toBe("vpc-2");
    expect(ec2).toHaveReceivedCommandWith(DetachInternetGatewayCommand, { InternetGatewayId: "igw-1", VpcId: "vpc-1" });
    expect(ec2).toHaveReceivedCommandWith(AttachInternetGatewayCommand, { InternetGatewayId: "igw-1", VpcId: "vpc-2" });
    expect(ec2).not.toHaveReceivedCommand(CreateTagsCommand);
  });

  it("attaches a gateway a stopped run left detached, without a detach", async () => {
    ec2.on(AttachInternetGatewayCommand).resolves({});
    ec2.on(DescribeInternetGatewaysCommand).resolves({ InternetGateways: [gateway("vpc-1")] });
    const detached = { ...attrs, vpcId: undefined };
    await internetGateway.update!(testContext(), spec, detached, internetGateway.diff(spec, detached));
    expect(ec2).not.toHaveReceivedCommand(DetachInternetGatewayCommand);
    expect(ec2).toHaveReceivedCommandWith(AttachInternetGatewayCommand, { InternetGatewayId: "igw-1", VpcId: "vpc-1" });
  });

  it("updates tags in place", async () => {
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(DescribeInternetGatewaysCommand).resolves({ InternetGateways: [gateway("vpc-1")] });
    const want = { vpcId: "vpc-1", tags: { ...tags, Team: "data" } };
    await internetGateway.update!(testContext(), want, attrs, internetGateway.diff(want, attrs));
    expect(ec2).toHaveReceivedCommandWith(CreateTagsCommand, { Resources: ["igw-1"], Tags: [{ Key: "Team", Value: "data" }] });
    expect(ec2).not.toHaveReceivedCommand(AttachInternetGatewayCommand);
  });

  it("retries the detach while the VPC has mapped public addresses, then deletes", async () => {
    const mapped = ec2Error("DependencyViolation", "Network vpc-1 has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.");
    ec2.on(DetachInternetGatewayCommand).rejectsOnce(mapped).rejectsOnce(mapped).resolves({});
    ec2.on(DeleteInternetGatewayCommand).resolves({});
    await internetGateway.destroy(testContext(), attrs);
    expect(ec2).toHaveReceivedCommandTimes(DetachInternetGatewayCommand, 3);
    expect(ec2).toHaveReceivedCommandWith(DeleteInternetGatewayCommand, { InternetGatewayId: "igw-1" });
  });

  it("treats Gateway.NotAttached on detach and not-found on delete as done", async () => {
    ec2.on(DetachInternetGatewayCommand).rejects(ec2Error("Gateway.NotAttached"));
    ec2.on(DeleteInternetGatewayCommand).rejects(ec2Error("InvalidInternetGatewayID.NotFound"));
    await expect(internetGateway.destroy(testContext(), attrs)).resolves.toBeUndefined();
    expect(ec2).toHaveReceivedCommandTimes(DetachInternetGatewayCommand, 1);
  });

  it("treats a gateway already gone at detach as deleted", async () => {
    ec2.on(DetachInternetGatewayCommand).rejects(ec2Error("InvalidInternetGatewayID.NotFound"));
    ec2.on(DeleteInternetGatewayCommand).rejects(ec2Error("InvalidInternetGatewayID.NotFound"));
    await expect(internetGateway.destroy(testContext(), attrs)).resolves.toBeUndefined();
  });

  it("deletes a detached gateway without detaching", async () => {
    ec2.on(DeleteInternetGatewayCommand).resolves({});
    await internetGateway.destroy(testContext(), { ...attrs, vpcId: undefined });
    expect(ec2).not.toHaveReceivedCommand(DetachInternetGatewayCommand);
    expect(ec2).toHaveReceivedCommandTimes(DeleteInternetGatewayCommand, 1);
  });

  it("gives up on DependencyViolation once the time budget is spent", async () => {
    ec2.on(DetachInternetGatewayCommand).rejects(ec2Error("DependencyViolation"));
    await expect(internetGateway.destroy(testContext(), attrs)).rejects.toMatchObject({ name: "DependencyViolation" });
    expect(ec2).not.toHaveReceivedCommand(DeleteInternetGatewayCommand);
  });

  it("uses the gateway id as the physical id", () => {
    expect(internetGateway.physicalId(attrs)).toBe("igw-1");
  });
});
