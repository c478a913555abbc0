import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  AddTagsToResourceCommand,
  CreateDBSubnetGroupCommand,
  DeleteDBSubnetGroupCommand,
  DescribeDBSubnetGroupsCommand,
  ListTagsForResourceCommand,
  ModifyDBSubnetGroupCommand,
  RDSClient,
  RDSServiceException,
  RemoveTagsFromResourceCommand,
} from "@aws-sdk/client-rds";
import { tagList } from "../../src/aws/tags.js";
import { dbSubnetGroup, type DbSubnetGroupAttrs } from "../../src/resources/db-subnet-group.js";
import { testContext, testTags } from "../helpers.js";

const rds = mockClient(RDSClient);
const logicalId = "data.database.subnet-group";
const tags = testTags(logicalId);
const ARN = "arn:aws:rds:us-east-1:123456789012:subgrp:clinical-platform-dev-db";
const spec = { name: "clinical-platform-dev-db", description: "Private subnets", subnetIds: ["subnet-b", "subnet-a"], tags };
const attrs: DbSubnetGroupAttrs = { ...spec, subnetIds: ["subnet-a", "subnet-b"], arn: ARN, vpcId: "vpc-1", status: "Complete" };
const rdsError = (name: string) => new RDSServiceException({ name, message: name, $fault: "client", $metadata: {} });

function group(subnets = ["subnet-a", "subnet-b"], description = "Private subnets") {
  return {
    DBSubnetGroups: [
      {
        DBSubnetGroupName: "clinical-platform-dev-db",
        DBSubnetGroupDescription: description,
        DBSubnetGroupArn: ARN,
        VpcId: "vpc-1",
        SubnetGroupStatus: "Complete",
        Subnets: subnets.map((SubnetIdentifier) => ({ SubnetIdentifier })),
      },
    ],
  };
}

beforeEach(() => rds.reset());

describe("rds:db-subnet-group", () => {
  it("finds the recorded group by name, with its subnets sorted and its tags", async () => {
    rds.on(DescribeDBSubnetGroupsCommand, { DBSubnetGroupName: "clinical-platform-dev-db" }).resolves(group(["subnet-b", "subnet-a"]));
    rds.on(ListTagsForResourceCommand, { ResourceName: ARN }).resolves({ TagList: tagList(tags) });
    expect(await dbSubnetGroup.find(testContext(), { logicalId, recorded: attrs })).toEqual(attrs);
  });

  it("is absent when the recorded group is gone, and without a record asks nothing", async () => {
    rds.on(DescribeDBSubnetGroupsCommand).rejects(rdsError("DBSubnetGroupNotFoundFault"));
    expect(await dbSubnetGroup.find(testContext(), { logicalId, recorded: attrs })).toBeUndefined();
    expect(await dbSubnetGroup.find(testContext(), { logicalId })).toBeUndefined();
    expect(rds).toHaveReceivedCommandTimes(DescribeDBSubnetGroupsCommand, 1);
  });

  it("creates the group over the given subnets with tags, and reads it back", async () => {
    rds.on(CreateDBSubnetGroupCommand).resolves({});
    rds.on(DescribeDBSubnetGroupsCommand).resolves(group());
    rds.on(ListTagsForResourceCommand).resolves({ TagList: tagList(tags) });
    const created = await dbSubnetGroup.create(testContext(), spec, { logicalId });
    expect(rds).toHaveReceivedCommandWith(CreateDBSubnetGroupCommand, {
      DBSubnetGroupName: "clinical-platform-dev-db",
      DBSubnetGroupDescription: "Private subnets",
      SubnetIds: ["subnet-b", "subnet-a"],
      Tags: expect.arrayContaining([{ Key: "platform:logical-id", Value: logicalId }, { Key: "ManagedBy", Value: "platform" }]),
    });
    expect(created).toEqual(attrs);
  });

  it("diffs subnets as a set: order is no change, another subnet is an in-place update; a new name is a replacement", () => {
    expect(dbSubnetGroup.diff({ ...spec, subnetIds: ["subnet-a", "subnet-b"] }, attrs)).toEqual([]);
    const changes = dbSubnetGroup.diff({ ...spec, name: "other", subnetIds: ["subnet-a", "subnet-c"] }, attrs);
    expect(changes.map((c) => [c.field, c.action])).toEqual([
      ["name", "replace"],
      ["subnetIds", "update"],
    ]);
  });

  it("updates subnets and tags in place", async () => {
    rds.on(ModifyDBSubnetGroupCommand).resolves({});
    rds.on(AddTagsToResourceCommand).resolves({});
    rds.on(RemoveTagsFromResourceCommand).resolves({});
    rds.on(DescribeDBSubnetGroupsCommand).resolves(group(["subnet-a", "subnet-c"]));
    rds.on(ListTagsForResourceCommand).resolves({ TagList: tagList(tags) });
    const want = { ...spec, subnetIds: ["subnet-a", "subnet-c"] };
    const actual = { ...attrs, tags: { ...tags, Stale: "x" } };
    await dbSubnetGroup.update!(testContext(), want, actual, dbSubnetGroup.diff(want, actual));
    expect(rds).toHaveReceivedCommandWith(ModifyDBSubnetGroupCommand, { DBSubnetGroupName: "clinical-platform-dev-db", DBSubnetGroupDescription: "Private subnets", SubnetIds: ["subnet-a", "subnet-c"] });
    expect(rds).toHaveReceivedCommandWith(RemoveTagsFromResourceCommand, { ResourceName: ARN, TagKeys: ["Stale"] });
    expect(rds).not.toHaveReceivedCommand(AddTagsToResourceCommand);
  });

  it("deletes, retrying while the instance that used it is still being deleted", async () => {
    rds.on(DeleteDBSubnetGroupCommand).rejectsOnce(rdsError("InvalidDBSubnetGroupStateFault")).resolves({});
    await dbSubnetGroup.destroy(testContext(), attrs);
    expect(rds).toHaveReceivedCommandTimes(DeleteDBSubnetGroupCommand, 2);
  });

  it("treats a group that is already gone as deleted", async () => {
    rds.on(DeleteDBSubnetGroupCommand).rejects(rdsError("DBSubnetGroupNotFoundFault"));
    await expect(dbSubnetGroup.destroy(testContext(), attrs)).resolves.toBeUndefined();
  });
});
