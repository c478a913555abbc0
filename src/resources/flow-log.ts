import {
  CreateFlowLogsCommand,
  DeleteFlowLogsCommand,
  type DescribeFlowLogsCommandInput,
  DescribeFlowLogsCommand,
  EC2Client,
  type FlowLog,
  type UnsuccessfulItem,
} from "@aws-sdk/client-ec2";
import { errorCode, isNotFound, orUndefined } from "../aws/errors.js";
import { AwsFailure } from "../errors.js";
import { ec2TagFilters, tagRecord } from "../aws/tags.js";
import { applyEc2Tags, ec2TagSpecification } from "./ec2-tags.js";
import { single } from "./find.js";
import { retryUntil } from "../run/wait-for.js";
import { createWithClientToken } from "./idempotent-create.js";
import { compareFields, compareTags, type ResourceContext, type ResourceType } from "./types.js";

/** VPC flow logs delivered to a CloudWatch Logs group through an IAM role. */
export interface FlowLogSpec {
  /** The VPC whose traffic is logged. */
  resourceId: string;
  trafficType: "ALL" | "ACCEPT" | "REJECT";
  logGroupName: string;
  /** The role VPC Flow Logs assumes to write to the group. */
  deliverLogsPermissionArn: string;
  tags: Record<string, string>;
}

export interface FlowLogAttrs extends FlowLogSpec {
  flowLogId: string;
}

/**
 * A per-resource failure that CreateFlowLogs / DeleteFlowLogs report in `Unsuccessful` instead of throwing.
 * It carries the code AWS reported for the item as `Code`, so errorCode(), isNotFound() and retryWhile() treat it like a thrown one.
 */
export class UnsuccessfulItemError extends Error {
  override name = "UnsuccessfulItemError";
  constructor(
    readonly Code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function unsuccessfulError(items: UnsuccessfulItem[] | undefined): UnsuccessfulItemError | undefined {
  const item = items?.find((i) => i.Error);
  if (!item) return undefined;
  const code = item.Error!.Code ?? "Unsuccessful";
  return new UnsuccessfulItemError(code, `${item.ResourceId ?? "flow log"}: ${code}: ${item.Error!.Message ?? ""}`);
}

/**
 * IAM propagation: a role created seconds ago fails with InvalidParameter "Unable to assume given IAM role" (the message
 * terraform-provider-aws retries on). The code alone is too broad, so this is the one place that reads message text.
 */
function roleNotAssumableYet(err: unknown): string | undefined {
  const message = (err as Error)?.message ?? "";
  return errorCode(err) === "InvalidParameter" && /unable to assume/i.test(message) ? "the IAM role may still be propagating" : undefined;
}

async function findFlowLogs(ctx: ResourceContext, input: DescribeFlowLogsCommandInput): Promise<FlowLog[]> {
  const out = await orUndefined(ctx.aws.get(EC2Client).send(new DescribeFlowLogsCommand(input)));
  return out?.FlowLogs ?? [];
}

function toAttrs(f: FlowLog): FlowLogAttrs {
  return {
    flowLogId: f.FlowLogId!,
    resourceId: f.ResourceId!,
    trafficType: f.TrafficType as FlowLogSpec["trafficType"],
    logGroupName: f.LogGroupName!,
    deliverLogsPermissionArn: f.DeliverLogsPermissionArn!,
    tags: tagRecord(f.Tags),
  };
}

export async function findFlowLogById(ctx: ResourceContext, flowLogId: string): Promise<FlowLogAttrs | undefined> {
  const f = single(await findFlowLogs(ctx, { FlowLogIds: [flowLogId] }), `flow logs with id ${flowLogId}`);
  return f && toAttrs(f);
}

async function createFlowLog(ctx: ResourceContext, spec: FlowLogSpec, token: string): Promise<string> {
  const ec2 = ctx.aws.get(EC2Client);
  const input = {
    ResourceIds: [spec.resourceId],
    ResourceType: "VPC" as const,
    TrafficType: spec.trafficType,
    LogDestinationType: "cloud-watch-logs" as const,
    LogGroupName: spec.logGroupName,
    DeliverLogsPermissionArn: spec.deliverLogsPermissionArn,
    // The same token on every retry: an attempt that did succeed is returned, not duplicated.
    ClientToken: token,
    TagSpecifications: ec2TagSpecification("vpc-flow-log", spec.tags),
  };
  const out = await ec2.send(new CreateFlowLogsCommand(input));
  const failed = unsuccessfulError(out.Unsuccessful);
  if (failed) throw failed;
  const flowLogId = out.FlowLogIds?.[0];
  if (!flowLogId) throw new Error(`creating EC2 flow log for ${spec.resourceId}: AWS returned no flow log id`);
  return flowLogId;
}

export const flowLog: ResourceType<FlowLogSpec, FlowLogAttrs> = {
  type: "ec2:flow-log",
  createIdempotency: "token",

  async find(ctx, { logicalId, recorded }) {
    if (recorded?.flowLogId) {
      const found = await findFlowLogById(ctx, recorded.flowLogId);
      if (found) return found;
    }
    // DescribeFlowLogs names its filter list `Filter`, not `Filters`.
    const f = single(await findFlowLogs(ctx, { Filter: ec2TagFilters(ctx.identity, logicalId) }), `flow logs tagged ${logicalId}`);
    return f && toAttrs(f);
  },

  diff(spec, actual) {
    return [
      ...compareFields(spec, actual, [
        { field: "resourceId", action: "replace" },
        { field: "trafficType", action: "replace" },
        { field: "logGroupName", action: "replace" },
        { field: "deliverLogsPermissionArn", action: "replace" },
      ]),
      ...compareTags(spec.tags, actual.tags),
    ];
  },

  async create(ctx, spec, { logicalId }) {
    // A role created moments ago cannot be assumed until IAM propagates it (usually seconds).
    const create = (token: string) =>
      retryUntil({
        what: `the flow log's IAM role to be assumable`,
        attempt: () => createFlowLog(ctx, spec, token),
        pending: roleNotAssumableYet,
        budgetSeconds: 60,
        waits: ctx.waits,
        signal: ctx.signal,
        minAttempts: 3,
      }).catch((err: unknown) => {
        if (!roleNotAssumableYet(err)) throw err;
        throw new AwsFailure(`creating EC2 flow log for ${spec.resourceId}`, errorCode(err) ?? "InvalidParameter", (err as Error).message, "the IAM role may still be propagating; run up again in a minute", { cause: err });
      });
    return createWithClientToken(ctx, logicalId, spec, create, (id) => findFlowLogById(ctx, id));
  },

  async update(ctx, spec, actual) {
    // Only tags change in place.
    await applyEc2Tags(ctx, actual.flowLogId, spec.tags, actual.tags);
    return (await findFlowLogById(ctx, actual.flowLogId))!;
  },

  async destroy(ctx, actual) {
    const out = await orUndefined(ctx.aws.get(EC2Client).send(new DeleteFlowLogsCommand({ FlowLogIds: [actual.flowLogId] })));
    const failed = unsuccessfulError(out?.Unsuccessful);
    if (failed && !isNotFound(failed)) throw failed;
  },

  physicalId: (a) => a.flowLogId,
};
