import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { AwsClients } from "../../src/aws/clients.js";
import { sweepEnvironment, type TaggedResource } from "../../src/aws/sweep.js";
import { TEST_IDENTITY } from "../helpers.js";

const tagging = mockClient(ResourceGroupsTaggingAPIClient);
beforeEach(() => tagging.reset());

const mapping = (arn: string, logicalId?: string) => ({
  ResourceARN: arn,
  Tags: [{ Key: "Project", Value: "clinical-platform" }, { Key: "Environment", Value: "dev" }, ...(logicalId ? [{ Key: "platform:logical-id", Value: logicalId }] : [])],
});
const VPC = "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1";
const DB = "arn:aws:rds:us-east-1:123456789012:db:clinical-platform-dev-db";
const ORPHAN = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/extra";
const clients = () => new AwsClients({ region: "us-east-1", maxAttempts: 1 });

describe("sweepEnvironment", () => {
  it("lists every page of this environment's tagged resources, filtered on its Project and Environment", async () => {
    tagging.on(GetResourcesCommand).resolvesOnce({ ResourceTagMappingList: [mapping(VPC, "network.vpc")], PaginationToken: "p2" }).resolvesOnce({ ResourceTagMappingList: [mapping(ORPHAN)], PaginationToken: "" });
    const left = await sweepEnvironment(clients(), TEST_IDENTITY);
    expect(left).toEqual([{ arn: VPC, logicalId: "network.vpc" }, { arn: ORPHAN, logicalId: undefined }]);
    const inputs = tagging.commandCalls(GetResourcesCommand).map((c) => c.args[0].input);
    const filters = [
      { Key: "Project", Values: ["clinical-platform"] },
      { Key: "Environment", Values: ["dev"] },
    ];
    // Two pages through the SDK's paginator (which reuses one input object, so only the last token is seen here).
    expect(inputs.map((i) => i.TagFilters)).toEqual([filters, filters]);
    expect(inputs.at(-1)?.PaginationToken).toBe("p2");
  });

  it("drops what the tagging API still lists but the service says is gone, keeps what it cannot tell, and adds what it does not list", async () => {
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [mapping(VPC, "network.vpc"), mapping(DB, "data.database.instance"), mapping(ORPHAN)] });
    const asked: string[] = [];
    const left = await sweepEnvironment(clients(), TEST_IDENTITY, {
      exists: async (r: TaggedResource) => {
        asked.push(r.arn);
        if (r.logicalId === "network.vpc") return false; // deleted: the index lags
        if (r.logicalId === "data.database.instance") return true; // still deleting
        return undefined; // not recorded: cannot tell, so it stays listed
      },
      unlisted: async (listed) => {
        expect(listed.map((r) => r.logicalId)).toEqual(["network.vpc", "data.database.instance", undefined]);
        return [{ arn: "cloudwatch:dashboard clinical-platform-dev", logicalId: "ops.dashboard", type: "cloudwatch:dashboard", physicalId: "clinical-platform-dev" }];
      },
    });
    expect(asked).toEqual([VPC, DB, ORPHAN]);
    expect(left.map((r) => r.arn)).toEqual([DB, ORPHAN, "cloudwatch:dashboard clinical-platform-dev"]);
  });
});
