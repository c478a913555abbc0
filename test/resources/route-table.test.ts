import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { CreateRouteTableCommand, CreateTagsCommand, DeleteRouteTableCommand, DeleteTagsCommand, DescribeRouteTablesCommand, EC2Client, EC2ServiceException } from "@aws-sdk/client-ec2";
import { routeTable } from "../../src/resources/route-table.js";
import { clientToken } from "../../src/resources/types.js";
import { tagList } from "../../src/aws/tags.js";
import { testContext, testTags } from "../helpers.js";

const ec2 = mockClient(EC2Client);
const logicalId = "network.route-table.public";
const tags = testTags(logicalId);
const spec = { vpcId: "vpc-1", tags };
const attrs = { ...spec, routeTableId: "rtb-1" };
const ec2Error = (name: string) => new EC2ServiceException({ name, message: name, $fault: "client", $metadata: {} });
const table = { RouteTableId: "rtb-1", VpcId: "vpc-1", Routes: [{ DestinationCidrBlock: "10.0.0.0/16", GatewayId: "local" }], Associations: [], Tags: tagList(tags) };

beforeEach(() => ec2.reset());

describe("ec2:route-table", () => {
  it("finds by recorded id", async () => {
    ec2.on(DescribeRouteTablesCommand, { RouteTableIds: ["rtb-1"] }).resolves({ RouteTables: [table] });
    expect(await routeTable.find(testContext(), { logicalId, recorded: attrs })).toEqual(attrs);
  });

  it("finds by tags when the recorded id is gone", async () => {
    ec2.on(DescribeRouteTablesCommand).resolves({ RouteTables: [table] });
    ec2.on(DescribeRouteTablesCommand, { RouteTableIds: ["rtb-gone"] }).rejects(ec2Error("InvalidRouteTableID.NotFound"));
    const found = await routeTable.find(testContext(), { logicalId, recorded: { ...attrs, routeTableId: "rtb-gone" } });
    expect(found).toEqual(attrs);
    expect(ec2.commandCalls(DescribeRouteTablesCommand)[1]!.args[0].input).toEqual({
      Filters: [
        { Name: "tag:platform:logical-id", Values: [logicalId] },
        { Name: "tag:Project", Values: ["clinical-platform"] },
        { Name: "tag:Environment", Values: ["dev"] },
      ],
    });
  });

  it("returns undefined when nothing is found", async () => {
    ec2.on(DescribeRouteTablesCommand).resolves({ RouteTables: [] });
    expect(await routeTable.find(testContext(), { logicalId })).toBeUndefined();
  });

  it("creates with tags and a deterministic client token, retrying while the new VPC is unknown", async () => {
    ec2.on(CreateRouteTableCommand).rejectsOnce(ec2Error("InvalidVpcID.NotFound")).resolves({ RouteTable: { RouteTableId: "rtb-1" } });
    ec2.on(DescribeRouteTablesCommand, { RouteTableIds: ["rtb-1"] }).resolves({ RouteTables: [table] });

    const created = await routeTable.create(testContext(), spec, { logicalId });

    expect(created).toEqual(attrs);
    const [first, second] = ec2.commandCalls(CreateRouteTableCommand).map((c) => c.args[0].input);
    expect(first).toEqual({
      VpcId: "vpc-1",
      ClientToken: clientToken(testContext(), logicalId, spec),
      TagSpecifications: [{ ResourceType: "route-table", Tags: tagList(tags) }],
    });
    expect(second).toEqual(first);
    expect(first!.ClientToken).toMatch(/^platform-[0-9a-f]{48}$/);
  });

  it("asks again under a derived token when the token replays a table deleted since", async () => {
    ec2.on(CreateRouteTableCommand).resolvesOnce({ RouteTable: { RouteTableId: "rtb-old" } }).resolves({ RouteTable: { RouteTableId: "rtb-1" } });
    ec2.on(DescribeRouteTablesCommand, { RouteTableIds: ["rtb-old"] }).rejects(ec2Error("InvalidRouteTableID.NotFound"));
    ec2.on(DescribeRouteTablesCommand, { RouteTableIds: ["rtb-1"] }).resolves({ RouteTables: [table] });

    expect(await routeTable.create(testContext(), spec, { logicalId })).toEqual(attrs);

    const tokens = ec2.commandCalls(CreateRouteTableCommand).map((c) => c.args[0].input.ClientToken);
    expect(tokens).toEqual([clientToken(testContext(), logicalId, spec), clientToken(testContext(), logicalId, { ...spec, replacing: "rtb-old" })]);
  });

  it("derives a different client token for another logical id or spec", () => {
    const token = clientToken(testContext(), logicalId, spec);
    expect(clientToken(testContext(), "network.route-table.private-a", spec)).not.toBe(token);
    expect(clientToken(testContext(), logicalId, { ...spec, vpcId: "vpc-2" })).not.toBe(token);
    expect(clientToken(testContext(), logicalId, spec)).toBe(token);
  });

  it("diffs the VPC as a replacement and tags in place", () => {
    expect(routeTable.diff({ vpcId: "vpc-2", tags }, attrs)).toEqual([{ field: "vpcId", from: "vpc-1", to: "vpc-2", action: "replace" }]);
    expect(routeTable.diff({ vpcId: "vpc-1", tags: { ...tags, Team: "data" } }, attrs)).toEqual([
      { field: "tags", from: tags, to: { ...tags, Team: "data" }, action: "update" },
    ]);
  });

  it("updates tags in place", async () => {
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(DeleteTagsCommand).resolves({});
    ec2.on(DescribeRouteTablesCommand).resolves({ RouteTables: [table] });
    const have = { ...attrs, tags: { ...tags, Old: "x" } };
    await routeTable.update!(testContext(), spec, have, routeTable.diff(spec, have));
    expect(ec2).toHaveReceivedCommandWith(DeleteTagsCommand, { Resources: ["rtb-1"], Tags: [{ Key: "Old" }] });
    expect(ec2).not.toHaveReceivedCommand(CreateTagsCommand);
  });

  it("retries DependencyViolation while a subnet is still associated, then deletes", async () => {
    ec2.on(DeleteRouteTableCommand).rejectsOnce(ec2Error("DependencyViolation")).resolves({});
    await routeTable.destroy(testContext(), attrs);
    expect(ec2).toHaveReceivedCommandTimes(DeleteRouteTableCommand, 2);
    expect(ec2).toHaveReceivedCommandWith(DeleteRouteTableCommand, { RouteTableId: "rtb-1" });
  });

  it("treats an already deleted table as deleted", async () => {
    ec2.on(DeleteRouteTableCommand).rejects(ec2Error("InvalidRouteTableID.NotFound"));
    await expect(routeTable.destroy(testContext(), attrs)).resolves.toBeUndefined();
  });

  it("uses the table id as the physical id", () => {
    expect(routeTable.physicalId(attrs)).toBe("rtb-1");
  });
});
