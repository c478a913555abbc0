import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { findTaggedResources } from "../../src/aws/sweep.js";
import { testContext, testTags } from "../helpers.js";
import { FakeCloud } from "./cloud.js";
import { resourceTypeOf, taggingModel, type TaggedItem } from "./tagging.js";

const ours = (logicalId: string) => testTags(logicalId);
const vpcs: TaggedItem[] = [
  { arn: "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1", tags: ours("network.vpc") },
  { arn: "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-2", tags: { ...ours("network.vpc"), Environment: "prod" } },
];
const groups: TaggedItem[] = [{ arn: "arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flow-logs", tags: ours("network.flow-logs.log-group") }];
const roles: TaggedItem[] = [{ arn: "arn:aws:iam::123456789012:role/service/flow-logs", tags: { Project: "other" } }];

let cloud: FakeCloud;
let extra: TaggedItem[];

beforeEach(() => {
  cloud = new FakeCloud();
  extra = [];
  cloud.install([taggingModel(cloud, [() => vpcs, () => groups, () => roles, () => extra])]);
});

afterEach(() => cloud.restore());

const client = () => testContext().aws.get(ResourceGroupsTaggingAPIClient);
const arns = (out: { ResourceTagMappingList?: { ResourceARN?: string }[] }) => out.ResourceTagMappingList?.map((r) => r.ResourceARN);

describe("tagging fake: GetResources", () => {
  it("ANDs tag filters and ORs the values of one filter", async () => {
    const both = await client().send(new GetResourcesCommand({ TagFilters: [{ Key: "Project", Values: ["clinical-platform"] }, { Key: "Environment", Values: ["dev"] }] }));
    expect(arns(both)).toEqual([vpcs[0]!.arn, groups[0]!.arn]);
    const either = await client().send(new GetResourcesCommand({ TagFilters: [{ Key: "Environment", Values: ["dev", "prod"] }] }));
    expect(arns(either)).toHaveLength(3);
  });

  it("matches any value when a filter names only a key", async () => {
    const out = await client().send(new GetResourcesCommand({ TagFilters: [{ Key: "Project" }] }));
    expect(arns(out)).toHaveLength(4);
  });

  it("filters by resource type, returns tags as a list, and reads sources on every call", async () => {
    const out = await client().send(new GetResourcesCommand({ ResourceTypeFilters: ["logs:log-group", "iam"] }));
    expect(arns(out)).toEqual([roles[0]!.arn, groups[0]!.arn]);
    expect(out.ResourceTagMappingList?.[0]?.Tags).toEqual([{ Key: "Project", Value: "other" }]);
    extra.push({ arn: "arn:aws:s3:::bucket-1", tags: ours("data.bucket") });
    expect(arns(await client().send(new GetResourcesCommand({ ResourceTypeFilters: ["s3"] })))).toEqual(["arn:aws:s3:::bucket-1"]);
  });

  it("pages with PaginationToken, ending with an empty token", async () => {
    for (let i = 0; i < 7; i++) extra.push({ arn: `arn:aws:ec2:us-east-1:123456789012:subnet/subnet-${i}`, tags: ours(`network.subnet.${i}`) });
    const first = await client().send(new GetResourcesCommand({ ResourceTypeFilters: ["ec2:subnet"], ResourcesPerPage: 5 }));
    expect(arns(first)).toHaveLength(5);
    const second = await client().send(new GetResourcesCommand({ ResourceTypeFilters: ["ec2:subnet"], ResourcesPerPage: 5, PaginationToken: first.PaginationToken }));
    expect(arns(second)).toHaveLength(2);
    expect(second.PaginationToken).toBe("");
  });

  it("serves the sweep's paginated listing of this environment", async () => {
    for (let i = 0; i < 60; i++) extra.push({ arn: `arn:aws:ec2:us-east-1:123456789012:security-group/sg-${i}`, tags: ours(`sg.${i}`) });
    const found = await findTaggedResources(testContext().aws, { project: "clinical-platform", environment: "dev" });
    expect(found).toHaveLength(62);
    expect(found).toContainEqual({ arn: groups[0]!.arn, logicalId: "network.flow-logs.log-group" });
  });

  it("rejects what the API rejects", async () => {
    await expect(client().send(new GetResourcesCommand({ TagFilters: [{ Key: "Project" }], ResourceARNList: [vpcs[0]!.arn] }))).rejects.toMatchObject({ name: "InvalidParameterException" });
    await expect(client().send(new GetResourcesCommand({ ResourcesPerPage: 101 }))).rejects.toMatchObject({ name: "InvalidParameterException" });
    await expect(client().send(new GetResourcesCommand({ PaginationToken: "garbage" }))).rejects.toMatchObject({ name: "PaginationTokenExpiredException" });
  });

  it.each([
    ["arn:aws:ec2:us-east-1:1:vpc/vpc-1", "ec2:vpc"],
    ["arn:aws:logs:us-east-1:1:log-group:/a/b", "logs:log-group"],
    ["arn:aws:iam::1:role/path/name", "iam:role"],
    ["arn:aws:s3:::bucket", "s3"],
  ])("derives the resource type of %s as %s", (arn, type) => {
    expect(resourceTypeOf(arn)).toBe(type);
  });
});
