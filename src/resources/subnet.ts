import {
  CreateSubnetCommand,
  DeleteSubnetCommand,
  DescribeSubnetsCommand,
  type DescribeSubnetsCommandInput,
  EC2Client,
  ModifySubnetAttributeCommand,
  type Subnet,
} from "@aws-sdk/client-ec2";
import { orUndefined } from "../aws/errors.js";
import { ec2TagFilters, TAG_LOGICAL_ID, tagRecord } from "../aws/tags.js";
import { applyEc2Tags, ec2TagSpecification } from "./ec2-tags.js";
import { single } from "./find.js";
import { retryWhileInterfacesDrain } from "./network-interfaces.js";
import { retryWhile } from "./retry.js";
import { compareFields, compareTags, type ResourceContext, type ResourceType } from "./types.js";

export interface SubnetSpec {
  vpcId: string;
  cidrBlock: string;
  availabilityZone: string;
  /** True for public subnets: instances there get a public address. */
  mapPublicIpOnLaunch: boolean;
  tags: Record<string, string>;
}

export interface SubnetAttrs extends SubnetSpec {
  subnetId: string;
}

async function findSubnets(ctx: ResourceContext, input: DescribeSubnetsCommandInput): Promise<Subnet[]> {
  const out = await orUndefined(ctx.aws.get(EC2Client).send(new DescribeSubnetsCommand(input)));
  return out?.Subnets ?? [];
}

function toAttrs(s: Subnet): SubnetAttrs {
  return {
    subnetId: s.SubnetId!,
    vpcId: s.VpcId!,
    cidrBlock: s.CidrBlock!,
    availabilityZone: s.AvailabilityZone!,
    mapPublicIpOnLaunch: s.MapPublicIpOnLaunch ?? false,
    tags: tagRecord(s.Tags),
  };
}

export async function findSubnetById(ctx: ResourceContext, subnetId: string): Promise<SubnetAttrs | undefined> {
  const s = single(await findSubnets(ctx, { SubnetIds: [subnetId] }), `subnets with id ${subnetId}`);
  return s && toAttrs(s);
}

export const subnet: ResourceType<SubnetSpec, SubnetAttrs> = {
  type: "ec2:subnet",

  async find(ctx, { logicalId, recorded }) {
    if (recorded?.subnetId) {
      const found = await findSubnetById(ctx, recorded.subnetId);
      if (found) return found;
    }
    const s = single(await findSubnets(ctx, { Filters: ec2TagFilters(ctx.identity, logicalId) }), `subnets tagged ${logicalId}`);
    return s && toAttrs(s);
  },

  diff(spec, actual) {
    return [
      ...compareFields(spec, actual, [
        { field: "vpcId", action: "replace" },
        { field: "cidrBlock", action: "replace" },
        { field: "availabilityZone", action: "replace" },
        { field: "mapPublicIpOnLaunch" },
      ]),
      ...compareTags(spec.tags, actual.tags),
    ];
  },

  async create(ctx, spec) {
    const ec2 = ctx.aws.get(EC2Client);
    // CreateSubnet takes no ClientToken: tags on create make a crashed run's subnet adoptable.
    const out = await retryWhile(ctx, ["InvalidVpcID.NotFound"], 60, () =>
      ec2.send(
        new CreateSubnetCommand({
          VpcId: spec.vpcId,
          CidrBlock: spec.cidrBlock,
          AvailabilityZone: spec.availabilityZone,
          TagSpecifications: ec2TagSpecification("subnet", spec.tags),
        }),
      ),
    );
    const subnetId = out.Subnet!.SubnetId!;
    // A subnet id can be briefly unknown to ModifySubnetAttribute right after creation (EC2 eventual consistency).
    if (spec.mapPublicIpOnLaunch) {
      await retryWhile(ctx, ["InvalidSubnetID.NotFound"], 60, () => ec2.send(new ModifySubnetAttributeCommand({ SubnetId: subnetId, MapPublicIpOnLaunch: { Value: true } })));
    }
    return (await findSubnetById(ctx, subnetId)) ?? { ...spec, subnetId };
  },

  async update(ctx, spec, actual, changes) {
    const fields = new Set(changes.map((c) => c.field));
    if (fields.has("mapPublicIpOnLaunch")) {
      await ctx.aws.get(EC2Client).send(new ModifySubnetAttributeCommand({ SubnetId: actual.subnetId, MapPublicIpOnLaunch: { Value: spec.mapPublicIpOnLaunch } }));
    }
    if (fields.has("tags")) await applyEc2Tags(ctx, actual.subnetId, spec.tags, actual.tags);
    return (await findSubnetById(ctx, actual.subnetId))!;
  },

  async destroy(ctx, actual) {
    // Network interfaces of Fargate tasks, RDS and the load balancer keep a subnet busy for minutes after they go.
    await retryWhileInterfacesDrain(ctx, actual.tags[TAG_LOGICAL_ID] ?? actual.subnetId, { filter: "subnet-id", id: actual.subnetId }, async () => {
      await orUndefined(ctx.aws.get(EC2Client).send(new DeleteSubnetCommand({ SubnetId: actual.subnetId })));
    });
  },

  physicalId: (a) => a.subnetId,
};
