import { inBatches, type SweepChecks } from "../aws/sweep.js";
import { isOurs } from "../aws/tags.js";
import { findClusterByName } from "../resources/ecs-cluster.js";
import { findService } from "../resources/ecs-service.js";
import { DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { ecs } from "../resources/ecs-shared.js";
import { isTaskDefinitionMissing } from "../resources/ecs-task-definition.js";
import { findDbInstanceById } from "../resources/db-instance.js";
import { findLoadBalancerByName } from "../resources/load-balancer.js";
import { findTargetGroupByName } from "../resources/target-group.js";
import { findLogGroupByName } from "../resources/log-group.js";
import { findRoleByName } from "../resources/iam-role.js";
import { findVpcById } from "../resources/vpc.js";
import { findNatGatewayById } from "../resources/nat-gateway.js";
import type { ResourceContext } from "../resources/types.js";
import type { ResourceRecord } from "../state/document.js";
import type { Registry } from "./registry.js";

/**
 * The checks a sweep after `down` makes with the resources' own finders, for the logical ids state recorded before it:
 * - a resource the tagging API still lists is dropped when its finder says it is gone (the API's index lags deletions);
 * - a recorded resource the tagging API does not list is looked up with its finder, and reported when it still exists
 *   and its tags prove it is this environment's (the tagging API does not cover every service and partition). A shared
 *   resource down leaves on purpose (an OIDC provider another environment uses) carries no environment's tags.
 * A listed ARN state does not record (a second `down` after a partial one: state forgot what it deleted, the tagging
 * API still lists it) is read by its ARN (`liveByArn`). A finder that fails leaves the tagging API's word standing.
 */
export function finderChecks(records: [string, ResourceRecord][], registry: Registry, ctx: ResourceContext): SweepChecks {
  const recorded = new Map(records);
  /** undefined when gone, "unknown" when it cannot be checked, else what the finder found. */
  const find = async (logicalId: string | undefined) => {
    const record = logicalId ? recorded.get(logicalId) : undefined;
    const type = record && registry.get(record.type);
    if (!record || !type) return "unknown" as const;
    try {
      const actual = (await type.find(ctx, { logicalId: logicalId!, recorded: record.attributes })) as { tags?: Record<string, string> } | undefined;
      if (actual === undefined) return undefined;
      return { type: type.type, physicalId: type.physicalId(actual), ours: Boolean(actual.tags && isOurs(actual.tags, ctx.identity)) };
    } catch {
      return "unknown" as const;
    }
  };
  return {
    exists: async (r) => {
      const found = await find(r.logicalId);
      if (found !== "unknown") return found !== undefined;
      return liveByArn(ctx, r.arn).catch(() => undefined);
    },
    unlisted: async (listed) => {
      const seen = new Set(listed.map((r) => r.logicalId));
      const ids = [...recorded.keys()].filter((id) => !seen.has(id));
      const found = await inBatches(ids, async (logicalId) => ({ logicalId, found: await find(logicalId) }));
      return found.flatMap(({ logicalId, found: f }) => (f && f !== "unknown" && f.ours ? [{ arn: `${f.type} ${f.physicalId}`, logicalId, type: f.type, physicalId: f.physicalId }] : []));
    },
  };
}

/**
 * Whether the resource an ARN names still exists, read from its service whatever state says: an INACTIVE ECS cluster or
 * service (deleted, still described for an hour), a task definition being deleted, a DB instance being deleted, a load
 * balancer, target group, log group, role or VPC that is gone. undefined for kinds it cannot read (the ARN stays a
 * leftover; secrets in their recovery window are judged apart, src/secrets/scheduled.ts).
 */
export async function liveByArn(ctx: ResourceContext, arn: string): Promise<boolean | undefined> {
  const m = /^arn:aws[a-z-]*:([a-z0-9-]+):[^:]*:[^:]*:(.+)$/.exec(arn);
  if (!m) return undefined;
  const [, service, resource] = m as unknown as [string, string, string];
  const exists = (found: unknown) => found !== undefined;
  const after = (prefix: string) => (resource.startsWith(prefix) ? resource.slice(prefix.length) : undefined);
  switch (service) {
    case "ecs": {
      const cluster = after("cluster/");
      if (cluster) return exists(await findClusterByName(ctx, cluster));
      const service = after("service/");
      if (service) {
        const [clusterName, name] = service.split("/");
        // findService: only an ACTIVE service is there (DRAINING and INACTIVE ones are deleted).
        return clusterName && name ? exists(await findService(ctx, clusterName, name)) : undefined;
      }
      if (after("task-definition/")) {
        // A revision DeleteTaskDefinitions accepted is DELETE_IN_PROGRESS until ECS forgets it: gone.
        try {
          const out = await ecs(ctx).send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
          return out.taskDefinition !== undefined && out.taskDefinition.status !== "DELETE_IN_PROGRESS";
        } catch (err) {
          if (isTaskDefinitionMissing(err)) return false;
          throw err;
        }
      }
      return undefined;
    }
    case "rds": {
      // findDbInstanceById: an instance being deleted is gone.
      const db = after("db:");
      return db ? exists(await findDbInstanceById(ctx, db)) : undefined;
    }
    case "elasticloadbalancing": {
      const lb = after("loadbalancer/app/") ?? after("loadbalancer/net/");
      if (lb) return exists(await findLoadBalancerByName(ctx, lb.split("/")[0]!));
      const tg = after("targetgroup/");
      return tg ? exists(await findTargetGroupByName(ctx, tg.split("/")[0]!)) : undefined;
    }
    case "logs": {
      const group = after("log-group:");
      return group ? exists(await findLogGroupByName(ctx, group.replace(/:\*$/, ""))) : undefined;
    }
    case "iam": {
      const role = after("role/");
      return role ? exists(await findRoleByName(ctx, role.split("/").at(-1)!)) : undefined;
    }
    case "ec2": {
      const vpc = after("vpc/");
      if (vpc) return exists(await findVpcById(ctx, vpc));
      // findNatGatewayById: only a pending or available gateway is there (a deleted one stays listed for about an hour).
      const nat = after("natgateway/");
      return nat ? exists(await findNatGatewayById(ctx, nat)) : undefined;
    }
    default:
      return undefined;
  }
}
