import { type Cluster, type ClusterConfiguration, CreateClusterCommand, DeleteClusterCommand, DescribeClustersCommand, UpdateClusterCommand, UpdateClusterSettingsCommand } from "@aws-sdk/client-ecs";
import { orUndefined } from "../aws/errors.js";
import { TAG_LOGICAL_ID } from "../aws/tags.js";
import { applyEcsTags, assertOnlyMissing, ecs, ecsTagList, ecsTagRecord } from "./ecs-shared.js";
import { single } from "./find.js";
import { retryWhileIamPropagates } from "./iam-propagation.js";
import { retryWhile } from "./retry.js";
import { type Change, compareFields, compareTags, knownKey, readAfterCreate, type ResourceContext, type ResourceType } from "./types.js";

export type ContainerInsights = "enabled" | "disabled";

export interface EcsClusterSpec {
  /** `<project>-<env>-cluster`: up to 255 letters, digits, hyphens and underscores. */
  name: string;
  containerInsights: ContainerInsights;
  /**
   * ECS Exec sessions logged to this CloudWatch Logs group (execute-command configuration, logging OVERRIDE); with
   * kmsKeyArn, session data is encrypted with it and cloudWatchEncryptionEnabled is on (the group is encrypted with it).
   * Absent: the DEFAULT configuration (the awslogs settings of the task definition, no session log of its own).
   */
  execLogging?: { logGroupName: string; kmsKeyArn?: string };
  tags: Record<string, string>;
}

export interface EcsClusterAttrs {
  name: string;
  arn: string;
  /** As AWS reports it; "enhanced" (set outside platform) shows as drift. */
  containerInsights: string;
  /** The execute-command configuration's CloudWatch Logs group when it logs there (OVERRIDE); "" otherwise. */
  execLogGroup: string;
  /** The execute-command configuration's KMS key; "" when none. */
  execKmsKeyArn: string;
  tags: Record<string, string>;
}

const KIND = "ECS cluster";
const CONTAINER_INSIGHTS = "containerInsights";
/** DeleteCluster refuses while services (even draining ones) or tasks remain; they go within minutes of DeleteService. */
const STILL_IN_USE = ["ClusterContainsServicesException", "ClusterContainsTasksException", "UpdateInProgressException"];
const IN_USE_BUDGET_SECONDS = 10 * 60;
const NAME = /^[A-Za-z0-9_-]{1,255}$/;

async function describeCluster(ctx: ResourceContext, name: string): Promise<Cluster | undefined> {
  const out = await orUndefined(ecs(ctx).send(new DescribeClustersCommand({ clusters: [name], include: ["CONFIGURATIONS", "SETTINGS", "TAGS"] })));
  assertOnlyMissing(out?.failures, `${KIND} ${name}`);
  // A deleted cluster stays listed as INACTIVE for a while: that is gone.
  return single(
    (out?.clusters ?? []).filter((c) => c.status !== "INACTIVE"),
    `${KIND}s named ${name}`,
  );
}

function toAttrs(c: Cluster): EcsClusterAttrs {
  return {
    name: c.clusterName!,
    arn: c.clusterArn!,
    containerInsights: c.settings?.find((s) => s.name === CONTAINER_INSIGHTS)?.value ?? "disabled",
    ...execOf(c),
    tags: ecsTagRecord(c.tags),
  };
}

function execOf(c: Cluster): { execLogGroup: string; execKmsKeyArn: string } {
  const exec = c.configuration?.executeCommandConfiguration;
  const cw = exec?.logging === "OVERRIDE" ? exec.logConfiguration?.cloudWatchLogGroupName : undefined;
  return { execLogGroup: cw ?? "", execKmsKeyArn: exec?.kmsKeyId ?? "" };
}

/** The cluster configuration for a spec: ECS Exec sessions into the encrypted log group, or the DEFAULT logging. */
function configurationOf(spec: EcsClusterSpec): ClusterConfiguration {
  const l = spec.execLogging;
  if (!l) return { executeCommandConfiguration: { logging: "DEFAULT" } };
  return {
    executeCommandConfiguration: {
      ...(l.kmsKeyArn ? { kmsKeyId: l.kmsKeyArn } : {}),
      logging: "OVERRIDE",
      logConfiguration: { cloudWatchLogGroupName: l.logGroupName, cloudWatchEncryptionEnabled: Boolean(l.kmsKeyArn) },
    },
  };
}

/** The spec's execute-command settings in the attributes' terms, for diff. */
const execWanted = (spec: EcsClusterSpec) => ({ execLogGroup: spec.execLogging?.logGroupName ?? "", execKmsKeyArn: spec.execLogging?.kmsKeyArn ?? "" });

export async function findClusterByName(ctx: ResourceContext, name: string): Promise<EcsClusterAttrs | undefined> {
  const c = await describeCluster(ctx, name);
  return c && toAttrs(c);
}

async function readBack(ctx: ResourceContext, name: string): Promise<EcsClusterAttrs> {
  return readAfterCreate(ctx, `${KIND} ${name}`, () => findClusterByName(ctx, name));
}

function diff(spec: EcsClusterSpec, actual: EcsClusterAttrs): Change[] {
  return [
    ...compareFields({ ...spec, ...execWanted(spec) }, actual, [{ field: "name", action: "replace" }, { field: "containerInsights" }, { field: "execLogGroup" }, { field: "execKmsKeyArn" }]),
    ...compareTags(spec.tags, actual.tags),
  ];
}

async function applyChanges(ctx: ResourceContext, spec: EcsClusterSpec, actual: EcsClusterAttrs, changes: Change[]): Promise<EcsClusterAttrs> {
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  if (fields.has("containerInsights")) {
    await ecs(ctx).send(new UpdateClusterSettingsCommand({ cluster: actual.name, settings: [{ name: CONTAINER_INSIGHTS, value: spec.containerInsights }] }));
  }
  if (fields.has("execLogGroup") || fields.has("execKmsKeyArn")) await ecs(ctx).send(new UpdateClusterCommand({ cluster: actual.name, configuration: configurationOf(spec) }));
  if (fields.has("tags")) await applyEcsTags(ctx, actual.arn, spec.tags, actual.tags);
  return readBack(ctx, actual.name);
}

export const ecsCluster: ResourceType<EcsClusterSpec, EcsClusterAttrs> = {
  type: "ecs:cluster",

  // The name is the key: the recorded one, else the one create would use.
  async find(ctx, { recorded, wanted }) {
    const name = knownKey(recorded?.name, wanted?.name);
    return name ? findClusterByName(ctx, name) : undefined;
  },

  diff,

  async create(ctx, spec) {
    if (!NAME.test(spec.name)) throw new Error(`internal: ${KIND} name ${spec.name} is not 1-255 letters, digits, hyphens or underscores`);
    // CreateCluster returns an ACTIVE cluster of the same name as it is (someone else's too): what it returns is read back,
    // and the engine refuses a result whose tags are not ours.
    // The first cluster of an account creates ECS's service-linked role, which can take a moment to be assumable.
    await retryWhileIamPropagates(ctx, () =>
      ecs(ctx).send(
        new CreateClusterCommand({
          clusterName: spec.name,
          settings: [{ name: CONTAINER_INSIGHTS, value: spec.containerInsights }],
          configuration: configurationOf(spec),
          tags: ecsTagList(spec.tags),
        }),
      ),
    );
    return readBack(ctx, spec.name);
  },

  update: applyChanges,

  async destroy(ctx, actual) {
    await retryWhile(
      ctx,
      STILL_IN_USE,
      IN_USE_BUDGET_SECONDS,
      async () => {
        await orUndefined(ecs(ctx).send(new DeleteClusterCommand({ cluster: actual.name })));
      },
      (err) => ctx.note(actual.tags[TAG_LOGICAL_ID] ?? actual.name, `services or tasks still draining (${(err as Error).name}); waiting`),
    );
  },

  physicalId: (a) => a.name,
};
