import { describe, expect, it } from "vitest";
import { finderChecks } from "../../src/engine/leftovers.js";
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

describe("finderChecks: ARNs no record describes (a second down, or one after a killed run)", () => {
  it("drops INACTIVE ECS clusters and services and deleted NAT gateways the tagging API still lists; keeps live ones", async () => {
    const { mockClient } = await import("aws-sdk-client-mock");
    const { ECSClient, DescribeClustersCommand, DescribeServicesCommand } = await import("@aws-sdk/client-ecs");
    const { EC2Client, DescribeNatGatewaysCommand } = await import("@aws-sdk/client-ec2");
    const ecs = mockClient(ECSClient);
    const ec2 = mockClient(EC2Client);
    try {
      ecs.on(DescribeClustersCommand, { clusters: ["arn:aws:ecs:us-east-1:123456789012:cluster/gone"] }).resolves({ clusters: [{ status: "INACTIVE" }] });
      ecs.on(DescribeClustersCommand, { clusters: ["arn:aws:ecs:us-east-1:123456789012:cluster/live"] }).resolves({ clusters: [{ status: "ACTIVE" }] });
      ecs.on(DescribeServicesCommand, { cluster: "c", services: ["arn:aws:ecs:us-east-1:123456789012:service/c/api"] }).resolves({ services: [{ status: "INACTIVE" }] });
      ec2.on(DescribeNatGatewaysCommand, { NatGatewayIds: ["nat-1"] }).resolves({ NatGateways: [{ State: "deleted" }] });
      ec2.on(DescribeNatGatewaysCommand, { NatGatewayIds: ["nat-2"] }).rejects(Object.assign(new Error("throttled"), { name: "Throttling" }));
      const checks = finderChecks([], registryOf([fakeType]), testContext());
      expect(await checks.exists!({ arn: "arn:aws:ecs:us-east-1:123456789012:cluster/gone", logicalId: "compute.cluster" })).toBe(false);
      expect(await checks.exists!({ arn: "arn:aws:ecs:us-east-1:123456789012:cluster/live", logicalId: "compute.cluster" })).toBeUndefined();
      expect(await checks.exists!({ arn: "arn:aws:ecs:us-east-1:123456789012:service/c/api", logicalId: "compute.service.api" })).toBe(false);
      expect(await checks.exists!({ arn: "arn:aws:ec2:us-east-1:123456789012:natgateway/nat-1", logicalId: "network.nat-gateway" })).toBe(false);
      expect(await checks.exists!({ arn: "arn:aws:ec2:us-east-1:123456789012:natgateway/nat-2", logicalId: "network.nat-gateway" })).toBeUndefined();
      expect(await checks.exists!({ arn: "arn:aws:s3:::some-bucket", logicalId: "data.bucket.raw2" })).toBeUndefined();
    } finally {
      ecs.restore();
      ec2.restore();
    }
  });
});
