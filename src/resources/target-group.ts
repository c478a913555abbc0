import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  type DescribeTargetGroupsCommandInput,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { hasCode, orUndefined } from "../aws/errors.js";
import { isOurs, TAG_LOGICAL_ID, tagList } from "../aws/tags.js";
import { AwsFailure, UserError } from "../errors.js";
import { applyElbv2Tags, assertElbv2Name, attributeList, attributeRecord, codes, elbv2, readElbv2TagsBatched } from "./elbv2-shared.js";
import { single } from "./find.js";
import { retryWhile } from "./retry.js";
import { type Change, compareFields, compareTags, knownKey, type ResourceContext, type ResourceType } from "./types.js";

export interface HealthCheck {
  /** The ping path, starting with "/". */
  path: string;
  /** 5–300 seconds, more than timeoutSeconds. */
  intervalSeconds: number;
  /** 2–120 seconds. */
  timeoutSeconds: number;
  /** Consecutive successes before a target is healthy, 2–10. */
  healthyThreshold: number;
  /** Consecutive failures before a target is unhealthy, 2–10. */
  unhealthyThreshold: number;
  /** HTTP codes that mean healthy: "200", "200,302", "200-399". */
  matcher: string;
}

export interface TargetGroupSpec {
  /** ≤ 32 letters, digits and hyphens; no hyphen first or last. Unique per account and region. */
  name: string;
  protocol: "HTTP";
  /** The port targets receive traffic on unless a registration says otherwise (ECS registers the container port). */
  port: number;
  vpcId: string;
  /** "ip": Fargate tasks register their private addresses. */
  targetType: "ip";
  healthCheck: HealthCheck;
  /** deregistration_delay.timeout_seconds, 0–3600: how long draining targets keep their in-flight requests. */
  deregistrationDelaySeconds: number;
  tags: Record<string, string>;
}

export interface TargetGroupAttrs extends TargetGroupSpec {
  arn: string;
}

const KIND = "ELBv2 target group";
const DEREGISTRATION_DELAY = "deregistration_delay.timeout_seconds";
const TG_NOT_FOUND = codes("TargetGroupNotFound");

async function findTargetGroups(ctx: ResourceContext, input: DescribeTargetGroupsCommandInput): Promise<TargetGroup[]> {
  const out = await orUndefined(elbv2(ctx).send(new DescribeTargetGroupsCommand(input)));
  return out?.TargetGroups ?? [];
}

async function readAttrs(ctx: ResourceContext, tg: TargetGroup): Promise<TargetGroupAttrs | undefined> {
  const arn = tg.TargetGroupArn!;
  const [tags, attributes] = await Promise.all([
    readElbv2TagsBatched(ctx, arn),
    orUndefined(elbv2(ctx).send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }))),
  ]);
  if (!tags || !attributes) return undefined;
  return {
    arn,
    name: tg.TargetGroupName!,
    protocol: tg.Protocol as TargetGroupSpec["protocol"],
    port: tg.Port!,
    vpcId: tg.VpcId!,
    targetType: tg.TargetType as TargetGroupSpec["targetType"],
    healthCheck: {
      path: tg.HealthCheckPath ?? "/",
      intervalSeconds: tg.HealthCheckIntervalSeconds!,
      timeoutSeconds: tg.HealthCheckTimeoutSeconds!,
      healthyThreshold: tg.HealthyThresholdCount!,
      unhealthyThreshold: tg.UnhealthyThresholdCount!,
      matcher: tg.Matcher?.HttpCode ?? "",
    },
    deregistrationDelaySeconds: Number(attributeRecord(attributes.Attributes)[DEREGISTRATION_DELAY] ?? 300),
    tags,
  };
}

export async function findTargetGroupByName(ctx: ResourceContext, name: string): Promise<TargetGroupAttrs | undefined> {
  const tg = single(await findTargetGroups(ctx, { Names: [name] }), `target groups named ${name}`);
  return tg && readAttrs(ctx, tg);
}

/** Create and update end here: what AWS lists now. A new target group can be briefly unknown to DescribeTargetGroups. */
async function readBack(ctx: ResourceContext, arn: string): Promise<TargetGroupAttrs> {
  return retryWhile(ctx, TG_NOT_FOUND, 60, async () => {
    const out = await elbv2(ctx).send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }));
    const attrs = out.TargetGroups?.[0] && (await readAttrs(ctx, out.TargetGroups[0]));
    if (!attrs) throw new Error(`reading ${KIND} (${arn}): it disappeared while being read`);
    return attrs;
  });
}

function assertHealthCheck(name: string, hc: HealthCheck): void {
  if (hc.timeoutSeconds >= hc.intervalSeconds) {
    throw new UserError(`target group ${name}: the health check timeout (${hc.timeoutSeconds}s) must be shorter than its interval (${hc.intervalSeconds}s)`);
  }
}

/** The health check as CreateTargetGroup and ModifyTargetGroup take it; the port is the traffic port (the default). */
function healthCheckInput(hc: HealthCheck) {
  return {
    HealthCheckEnabled: true,
    HealthCheckProtocol: "HTTP" as const,
    HealthCheckPath: hc.path,
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
    Matcher: { HttpCode: hc.matcher },
  };
}

function diff(spec: TargetGroupSpec, actual: TargetGroupAttrs): Change[] {
  return [
    ...compareFields(spec, actual, [
      { field: "name", action: "replace" },
      { field: "protocol", action: "replace" },
      { field: "port", action: "replace" },
      { field: "vpcId", action: "replace" },
      { field: "targetType", action: "replace" },
      { field: "healthCheck" },
      { field: "deregistrationDelaySeconds" },
    ]),
    ...compareTags(spec.tags, actual.tags),
  ];
}

async function setDeregistrationDelay(ctx: ResourceContext, arn: string, seconds: number): Promise<void> {
  const Attributes = attributeList({ [DEREGISTRATION_DELAY]: seconds });
  // A target group can be briefly unknown right after CreateTargetGroup.
  await retryWhile(ctx, TG_NOT_FOUND, 30, () => elbv2(ctx).send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes })));
}

async function applyChanges(ctx: ResourceContext, spec: TargetGroupSpec, actual: TargetGroupAttrs, changes: Change[]): Promise<TargetGroupAttrs> {
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  if (fields.has("healthCheck")) {
    assertHealthCheck(spec.name, spec.healthCheck);
    await elbv2(ctx).send(new ModifyTargetGroupCommand({ TargetGroupArn: actual.arn, ...healthCheckInput(spec.healthCheck) }));
  }
  if (fields.has("deregistrationDelaySeconds")) await setDeregistrationDelay(ctx, actual.arn, spec.deregistrationDelaySeconds);
  if (fields.has("tags")) await applyElbv2Tags(ctx, actual.arn, spec.tags, actual.tags);
  return readBack(ctx, actual.arn);
}

/** Listeners that forwarded to the group can take a moment to let go after they are deleted. */
const IN_USE_BUDGET_SECONDS = 3 * 60;

export const targetGroup: ResourceType<TargetGroupSpec, TargetGroupAttrs> = {
  type: "elbv2:target-group",

  // The name is the key. A recorded group not tagged as ours is never returned (down leaves it alone); without a record,
  // the group that has the name create would use is returned whoever owns it, and the engine decides.
  async find(ctx, { logicalId, recorded, wanted }) {
    if (!recorded?.name) {
      const name = knownKey(undefined, wanted?.name);
      return name ? findTargetGroupByName(ctx, name) : undefined;
    }
    const found = await findTargetGroupByName(ctx, recorded.name);
    return found && isOurs(found.tags, ctx.identity, logicalId) ? found : undefined;
  },

  diff,

  async create(ctx, spec, { logicalId }) {
    assertElbv2Name(spec.name, "target group");
    assertHealthCheck(spec.name, spec.healthCheck);
    const out = await elbv2(ctx).send(
      new CreateTargetGroupCommand({
        Name: spec.name,
        Protocol: spec.protocol,
        Port: spec.port,
        VpcId: spec.vpcId,
        TargetType: spec.targetType,
        ...healthCheckInput(spec.healthCheck),
        Tags: tagList(spec.tags),
      }),
    );
    const attrs = await readBack(ctx, out.TargetGroups![0]!.TargetGroupArn!);
    // CreateTargetGroup hands back an existing group of that name and settings, whoever's: the engine refuses one not ours.
    if (!isOurs(attrs.tags, ctx.identity, logicalId)) return attrs;
    // CreateTargetGroup takes no attributes; the deregistration delay (default 300 s) is set right after.
    await setDeregistrationDelay(ctx, attrs.arn, spec.deregistrationDelaySeconds);
    return readBack(ctx, attrs.arn);
  },

  update: applyChanges,

  async destroy(ctx, actual) {
    const logicalId = actual.tags[TAG_LOGICAL_ID] ?? actual.name;
    try {
      await retryWhile(
        ctx,
        codes("ResourceInUse"),
        IN_USE_BUDGET_SECONDS,
        async () => {
          await orUndefined(elbv2(ctx).send(new DeleteTargetGroupCommand({ TargetGroupArn: actual.arn })));
        },
        () => ctx.note(logicalId, "still in use by a listener or rule; waiting for it to let go"),
      );
    } catch (err) {
      if (!hasCode(err, ...codes("ResourceInUse"))) throw err;
      throw new AwsFailure(
        `deleting ${KIND} (${actual.name})`,
        "ResourceInUse",
        (err as Error).message,
        "a listener or listener rule still forwards to it; delete that first (replacing the group needs its listener replaced too)",
        { cause: err },
      );
    }
  },

  physicalId: (a) => a.name,
};
