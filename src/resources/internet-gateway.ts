import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  DeleteInternetGatewayCommand,
  DescribeInternetGatewaysCommand,
  type DescribeInternetGatewaysCommandInput,
  DetachInternetGatewayCommand,
  EC2Client,
  type InternetGateway,
} from "@aws-sdk/client-ec2";
import { hasCode, orUndefined } from "../aws/errors.js";
import { ec2TagFilters, tagRecord } from "../aws/tags.js";
import { applyEc2Tags, ec2TagSpecification } from "./ec2-tags.js";
import { single } from "./find.js";
import { retryWhile } from "./retry.js";
import { compareFields, compareTags, readAfterCreate, type ResourceContext, type ResourceType } from "./types.js";

export interface InternetGatewaySpec {
  /** The VPC it is attached to. */
  vpcId: string;
  tags: Record<string, string>;
}

export interface InternetGatewayAttrs {
  internetGatewayId: string;
  /** The attached VPC; undefined while detached (a run that stopped between create and attach). */
  vpcId: string | undefined;
  tags: Record<string, string>;
}

/** DetachInternetGateway answers DependencyViolation ("has some mapped public address(es)") while Elastic IPs or public ENIs remain in the VPC. */
const DETACH_BUDGET_SECONDS = 20 * 60;

async function findGateways(ctx: ResourceContext, input: DescribeInternetGatewaysCommandInput): Promise<InternetGateway[]> {
  const out = await orUndefined(ctx.aws.get(EC2Client).send(new DescribeInternetGatewaysCommand(input)));
  return out?.InternetGateways ?? [];
}

function toAttrs(g: InternetGateway): InternetGatewayAttrs {
  // An attached gateway's attachment reports State "available"; one being detached is on its way out.
  const attachment = g.Attachments?.find((a) => a.State !== "detaching" && a.State !== "detached");
  return { internetGatewayId: g.InternetGatewayId!, vpcId: attachment?.VpcId, tags: tagRecord(g.Tags) };
}

export async function findInternetGatewayById(ctx: ResourceContext, internetGatewayId: string): Promise<InternetGatewayAttrs | undefined> {
  const g = single(await findGateways(ctx, { InternetGatewayIds: [internetGatewayId] }), `internet gateways with id ${internetGatewayId}`);
  return g && toAttrs(g);
}

async function attach(ctx: ResourceContext, internetGatewayId: string, vpcId: string): Promise<void> {
  // Either id can be briefly unknown to AttachInternetGateway right after creation.
  await retryWhile(ctx, ["InvalidVpcID.NotFound", "InvalidInternetGatewayID.NotFound"], 60, () =>
    ctx.aws.get(EC2Client).send(new AttachInternetGatewayCommand({ InternetGatewayId: internetGatewayId, VpcId: vpcId })),
  );
}

async function detach(ctx: ResourceContext, internetGatewayId: string, vpcId: string): Promise<void> {
  const ec2 = ctx.aws.get(EC2Client);
  try {
    await retryWhile(ctx, ["DependencyViolation"], DETACH_BUDGET_SECONDS, () =>
      orUndefined(ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: internetGatewayId, VpcId: vpcId }))),
    );
  } catch (err) {
    // Not attached to that VPC (any more): the detach we wanted has happened.
    if (!hasCode(err, "Gateway.NotAttached")) throw err;
  }
}

export const internetGateway: ResourceType<InternetGatewaySpec, InternetGatewayAttrs> = {
  type: "ec2:internet-gateway",
  createIdempotency: "tags",

  async find(ctx, { logicalId, recorded }) {
    if (recorded?.internetGatewayId) {
      const found = await findInternetGatewayById(ctx, recorded.internetGatewayId);
      if (found) return found;
    }
    const g = single(await findGateways(ctx, { Filters: ec2TagFilters(ctx.identity, logicalId) }), `internet gateways tagged ${logicalId}`);
    return g && toAttrs(g);
  },

  diff(spec, actual) {
    return [...compareFields(spec, actual, [{ field: "vpcId" }]), ...compareTags(spec.tags, actual.tags)];
  },

  async create(ctx, spec) {
    // CreateInternetGateway takes no ClientToken: tags on create make a crashed run's gateway adoptable (then attached by update).
    // Sent once (AwsClients.once): a replay after a lost answer would make a second gateway; the engine looks up by the tags.
    const out = await ctx.aws.once(EC2Client).send(new CreateInternetGatewayCommand({ TagSpecifications: ec2TagSpecification("internet-gateway", spec.tags) }));
    const internetGatewayId = out.InternetGateway!.InternetGatewayId!;
    await attach(ctx, internetGatewayId, spec.vpcId);
    return readAfterCreate(ctx, `internet gateway ${internetGatewayId}`, () => findInternetGatewayById(ctx, internetGatewayId));
  },

  async update(ctx, spec, actual, changes) {
    const fields = new Set(changes.map((c) => c.field));
    if (fields.has("vpcId")) {
      if (actual.vpcId) await detach(ctx, actual.internetGatewayId, actual.vpcId);
      await attach(ctx, actual.internetGatewayId, spec.vpcId);
    }
    if (fields.has("tags")) await applyEc2Tags(ctx, actual.internetGatewayId, spec.tags, actual.tags);
    return (await findInternetGatewayById(ctx, actual.internetGatewayId))!;
  },

  async destroy(ctx, actual) {
    if (actual.vpcId) await detach(ctx, actual.internetGatewayId, actual.vpcId);
    await retryWhile(ctx, ["DependencyViolation"], 5 * 60, async () => {
      await orUndefined(ctx.aws.get(EC2Client).send(new DeleteInternetGatewayCommand({ InternetGatewayId: actual.internetGatewayId })));
    });
  },

  physicalId: (a) => a.internetGatewayId,
};
