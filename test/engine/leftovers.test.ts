import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { DBInstanceNotFoundFault, DescribeDBInstancesCommand, RDSClient } from "@aws-sdk/client-rds";
import { DescribeClustersCommand, DescribeTaskDefinitionCommand, ECSClient } from "@aws-sdk/client-ecs";
import { finderChecks, liveByArn } from "../../src/engine/leftovers.js";
import { registryOf } from "../../src/engine/registry.js";
import type { ResourceType } from "../../src/resources/types.js";
import type { ResourceRecord } from "../../src/state/document.js";
import { testContext, testTags } from "../helpers.js";

/** A resource type whose finder answers from a table: an object (found), undefined (gone), or an error. */
const world: Record<string, unknown> = {
  "data.bucket.raw": { id: "raw-bucket", tags: testTags("data.bucket.raw") },
  "network.vpc": undefined,
  "ci.oidc-provider": { id: "token.actions.githubusercontent.com", providerTags: {} },
  "compute.role.api": new Error("AccessDenied"),
};
const fakeType: ResourceType<unknown, { id: string }> = {
  type: "test:thing",
  find: async (_ctx, { logicalId }) => {
    const answer = world[logicalId];
    if (answer instanceof Error) throw answer;
    return answer as { id: string } | undefined;
  },
  diff: () => [],
  create: async () => ({ id: "x" }),
  destroy: async () => undefined,
  physicalId: (a) => a.id,
};
const record = (): ResourceRecord => ({ type: "test:thing", physicalId: "p", attributes: {}, dependsOn: [], createdAt: "", updatedAt: "" });
const records = Object.keys(world).map((id): [string, ResourceRecord] => [id, record()]);

describe("finderChecks: the sweep after down, with the resources' finders", () => {
  const checks = finderChecks(records, registryOf([fakeType]), testContext());

  it("keeps a listed resource its finder still finds, drops one it says is gone, keeps what it cannot check", async () => {
    expect(await checks.exists!({ arn: "arn:aws:s3:::raw-bucket", logicalId: "data.bucket.raw" })).toBe(true);
    expect(await checks.exists!({ arn: "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1", logicalId: "network.vpc" })).toBe(false);
    expect(await checks.exists!({ arn: "arn:aws:iam::123456789012:role/api", logicalId: "compute.role.api" })).toBeUndefined();
    expect(await checks.exists!({ arn: "arn:aws:logs:us-east-1:123456789012:log-group:/x", logicalId: "not.recorded" })).toBeUndefined();
  });

  it("reports recorded resources the tagging API did not list that still exist and are tagged as this environment's", async () => {
    expect(await checks.unlisted!([])).toEqual([{ arn: "test:thing raw-bucket", logicalId: "data.bucket.raw", type: "test:thing", physicalId: "raw-bucket" }]);
    expect(await checks.unlisted!([{ arn: "arn:aws:s3:::raw-bucket", logicalId: "data.bucket.raw" }])).toEqual([]);
  });
});

describe("liveByArn: a listed ARN state does not record, read from its service", () => {
  const rds = mockClient(RDSClient);
  const ecsMock = mockClient(ECSClient);
  beforeEach(() => {
    rds.reset();
    ecsMock.reset();
  });

  it("a DB instance being deleted, or no longer known, is gone", async () => {
    const arn = "arn:aws:rds:us-east-1:123456789012:db:clinical-platform-dev-db";
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: "clinical-platform-dev-db", DBInstanceStatus: "deleting" }] });
    await expect(liveByArn(testContext(), arn)).resolves.toBe(false);
    rds.on(DescribeDBInstancesCommand).rejects(new DBInstanceNotFoundFault({ message: "DBInstance clinical-platform-dev-db not found.", $metadata: {} }));
    await expect(liveByArn(testContext(), arn)).resolves.toBe(false);
    expect(rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { DBInstanceIdentifier: "clinical-platform-dev-db" });
  });

  it("an INACTIVE cluster and a task definition being deleted are gone; kinds it cannot read stay undecided", async () => {
    ecsMock.on(DescribeClustersCommand).resolves({ clusters: [{ clusterName: "c", clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/c", status: "INACTIVE" }] });
    await expect(liveByArn(testContext(), "arn:aws:ecs:us-east-1:123456789012:cluster/c")).resolves.toBe(false);
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { family: "f", revision: 1, status: "DELETE_IN_PROGRESS" } });
    await expect(liveByArn(testContext(), "arn:aws:ecs:us-east-1:123456789012:task-definition/f:1")).resolves.toBe(false);
    await expect(liveByArn(testContext(), "arn:aws:sns:us-east-1:123456789012:topic")).resolves.toBeUndefined();
  });
});
