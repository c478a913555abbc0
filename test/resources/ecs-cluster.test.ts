import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  type Cluster,
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  ECSClient,
  ECSServiceException,
  UpdateClusterCommand,
  UpdateClusterSettingsCommand,
} from "@aws-sdk/client-ecs";
import { ecsCluster, type EcsClusterAttrs } from "../../src/resources/ecs-cluster.js";
import { testContext, testTags } from "../helpers.js";

const ecs = mockClient(ECSClient);
const ecsError = (name: string, message = name) => new ECSServiceException({ name, message, $fault: "client", $metadata: {} });
const ID = "compute.cluster";
const tags = testTags(ID);
const NAME = "clinical-platform-dev-cluster";
const ARN = `arn:aws:ecs:us-east-1:123456789012:cluster/${NAME}`;
const spec = { name: NAME, containerInsights: "enabled" as const, tags };
const attrs: EcsClusterAttrs = { name: NAME, arn: ARN, containerInsights: "enabled", execLogGroup: "", execKmsKeyArn: "", tags };

const cluster = (over: Partial<Cluster> = {}): Cluster => ({
  clusterName: NAME,
  clusterArn: ARN,
  status: "ACTIVE",
  settings: [{ name: "containerInsights", value: "enabled" }],
  tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
  ...over,
});

beforeEach(() => ecs.reset());

describe("ecs:cluster", () => {
  it("finds by recorded name with its settings and tags", async () => {
    ecs.on(DescribeClustersCommand, { clusters: [NAME], include: ["CONFIGURATIONS", "SETTINGS", "TAGS"] }).resolves({ clusters: [cluster()], failures: [] });
    await expect(ecsCluster.find(testContext(), { logicalId: ID, recorded: attrs })).resolves.toEqual(attrs);
  });

  it.each([
    ["a MISSING failure", { clusters: [], failures: [{ arn: ARN, reason: "MISSING" }] }],
    ["an INACTIVE (deleted) cluster", { clusters: [cluster({ status: "INACTIVE" })], failures: [] }],
  ])("returns undefined for %s", async (_what, out) => {
    ecs.on(DescribeClustersCommand).resolves(out);
    await expect(ecsCluster.find(testContext(), { logicalId: ID, recorded: attrs })).resolves.toBeUndefined();
  });

  it("creates with Container Insights and tags, after checking the name is free", async () => {
    ecs.on(DescribeClustersCommand).resolvesOnce({ clusters: [], failures: [{ arn: ARN, reason: "MISSING" }] }).resolves({ clusters: [cluster()] });
    ecs.on(CreateClusterCommand).resolves({ cluster: cluster() });
    await expect(ecsCluster.create(testContext(), spec, { logicalId: ID })).resolves.toEqual(attrs);
    expect(ecs).toHaveReceivedCommandWith(CreateClusterCommand, {
      clusterName: NAME,
      settings: [{ name: "containerInsights", value: "enabled" }],
      tags: expect.arrayContaining([{ key: "platform:logical-id", value: ID }, { key: "ManagedBy", value: "platform" }]),
    });
  });

  it("logs ECS Exec sessions to the encrypted log group: configuration on create, UpdateCluster when it drifts", async () => {
    const KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const GROUP = "/ecs/clinical-platform-dev/exec";
    const logged = { ...spec, execLogging: { logGroupName: GROUP, kmsKeyArn: KEY } };
    const exec = { executeCommandConfiguration: { kmsKeyId: KEY, logging: "OVERRIDE" as const, logConfiguration: { cloudWatchLogGroupName: GROUP, cloudWatchEncryptionEnabled: true } } };
    ecs.on(DescribeClustersCommand).resolvesOnce({ clusters: [], failures: [{ arn: ARN, reason: "MISSING" }] }).resolves({ clusters: [cluster({ configuration: exec })] });
    ecs.on(CreateClusterCommand).resolves({ cluster: cluster({ configuration: exec }) });
    const created = await ecsCluster.create(testContext(), logged, { logicalId: ID });
    expect(created).toEqual({ ...attrs, execLogGroup: GROUP, execKmsKeyArn: KEY });
    expect(ecs).toHaveReceivedCommandWith(CreateClusterCommand, { clusterName: NAME, configuration: exec });
    // Someone set logging back to DEFAULT: diff shows it, update restores the configuration.
    const drifted = { ...attrs };
    expect(ecsCluster.diff(logged, drifted).map((c) => c.field)).toEqual(["execLogGroup", "execKmsKeyArn"]);
    ecs.on(UpdateClusterCommand).resolves({});
    await ecsCluster.update!(testContext(), logged, drifted, ecsCluster.diff(logged, drifted));
    expect(ecs).toHaveReceivedCommandWith(UpdateClusterCommand, { cluster: NAME, configuration: exec });
    // Without execLogging (ECS Exec off) the configuration is DEFAULT.
    expect(ecsCluster.diff(spec, created).map((c) => c.field)).toEqual(["execLogGroup", "execKmsKeyArn"]);
  });

  it("retries CreateCluster while ECS's service-linked role is not assumable yet", async () => {
    ecs.on(DescribeClustersCommand).resolvesOnce({ clusters: [], failures: [{ arn: ARN, reason: "MISSING" }] }).resolves({ clusters: [cluster()] });
    ecs.on(CreateClusterCommand)
      .rejectsOnce(ecsError("InvalidParameterException", "Unable to assume the service linked role. Please verify that the ECS service linked role exists."))
      .resolves({ cluster: cluster() });
    await ecsCluster.create(testContext(), spec, { logicalId: ID });
    expect(ecs).toHaveReceivedCommandTimes(CreateClusterCommand, 2);
  });

  it("turns Container Insights off in place", () => {
    expect(ecsCluster.diff({ ...spec, containerInsights: "disabled" }, attrs)).toEqual([{ field: "containerInsights", from: "enabled", to: "disabled", action: "update" }]);
  });

  it("retries DeleteCluster while services or tasks drain, then succeeds", async () => {
    ecs.on(DeleteClusterCommand)
      .rejectsOnce(ecsError("ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active."))
      .rejectsOnce(ecsError("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active."))
      .resolves({ cluster: cluster({ status: "INACTIVE" }) });
    const ctx = testContext();
    await ecsCluster.destroy(ctx, attrs);
    expect(ecs).toHaveReceivedCommandTimes(DeleteClusterCommand, 3);
    expect(ctx.notes.join(" ")).toMatch(/draining/);
  });

  it("treats a cluster already gone as deleted, and gives up once the budget is spent", async () => {
    ecs.on(DeleteClusterCommand).rejects(ecsError("ClusterNotFoundException", "Cluster not found."));
    await expect(ecsCluster.destroy(testContext(), attrs)).resolves.toBeUndefined();
    ecs.reset();
    ecs.on(DeleteClusterCommand).rejects(ecsError("ClusterContainsServicesException"));
    await expect(ecsCluster.destroy(testContext(), attrs)).rejects.toMatchObject({ name: "ClusterContainsServicesException" });
  });
});
