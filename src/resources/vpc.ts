import {
  CreateVpcCommand,
  DeleteVpcCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
  type DescribeVpcsCommandInput,
  type Vpc,
  waitUntilVpcAvailable,
} from "@aws-sdk/client-ec2";
import { orUndefined } from "../aws/errors.js";
import { ec2TagFilters, TAG_LOGICAL_ID, tagRecord } from "../aws/tags.js";
import { single } from "./find.js";
import { applyEc2Tags, ec2TagSpecification } from "./ec2-tags.js";
import { retryWhileInterfacesDrain } from "./network-interfaces.js";
import { retryWhile } from "./retry.js";
import { compareFields, compareTags, waiterOptions, type Identity, type ResourceContext, type ResourceType } from "./types.js";

export interface VpcSpec {
  cidrBlock: string;
  enableDnsSupport: boolean;
  enableDnsHostnames: boolean;
  tags: Record<string, string>;
}

export interface VpcAttrs extends VpcSpec {
  vpcId: string;
}

async function findVpcs(ctx: ResourceContext, input: DescribeVpcsCommandInput): Promise<Vpc[]> {
  const out = await orUndefined(ctx.aws.get(EC2Client).send(new DescribeVpcsCommand(input)));
  return out?.Vpcs ?? [];
}

async function readAttrs(ctx: ResourceContext, vpc: Vpc): Promise<VpcAttrs> {
  const ec2 = ctx.aws.get(EC2Client);
  const [support, hostnames] = await Promise.all([
    ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: "enableDnsSupport" })),
    ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: "enableDnsHostnames" })),
  ]);
  return {
    vpcId: vpc.VpcId!,
    cidrBlock: vpc.CidrBlock!,
    enableDnsSupport: support.EnableDnsSupport?.Value ?? false,
    enableDnsHostnames: hostnames.EnableDnsHostnames?.Value ?? false,
    tags: tagRecord(vpc.Tags),
  };
}

export async function findVpcById(ctx: ResourceContext, vpcId: string): Promise<VpcAttrs | undefined> {
  const vpc = single(await findVpcs(ctx, { VpcIds: [vpcId] }), `VPCs with id ${vpcId}`);
  return vpc ? readAttrs(ctx, vpc) : undefined;
}

async function setDns(ctx: ResourceContext, vpcId: string, spec: Pick<VpcSpec, "enableDnsSupport" | "enableDnsHostnames">, only?: Set<string>) {
  const ec2 = ctx.aws.get(EC2Client);
  // ModifyVpcAttribute takes one attribute per call.
  if (!only || only.has("enableDnsSupport")) await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: spec.enableDnsSupport } }));
  if (!only || only.has("enableDnsHostnames")) await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: spec.enableDnsHostnames } }));
}

export const vpc: ResourceType<VpcSpec, VpcAttrs> = {
  type: "ec2:vpc",
  createIdempotency: "tags",

  async find(ctx, { logicalId, recorded }: Identity<VpcAttrs>) {
    if (recorded?.vpcId) {
      const found = await findVpcById(ctx, recorded.vpcId);
      if (found) return found;
    }
    const tagged = single(await findVpcs(ctx, { Filters: ec2TagFilters(ctx.identity, logicalId) }), `VPCs tagged ${logicalId}`);
    return tagged ? readAttrs(ctx, tagged) : undefined;
  },

  diff(spec, actual) {
    return [
      ...compareFields(spec, actual, [{ field: "cidrBlock", action: "replace" }, { field: "enableDnsSupport" }, { field: "enableDnsHostnames" }]),
      ...compareTags(spec.tags, actual.tags),
    ];
  },

  async create(ctx, spec) {
    const ec2 = ctx.aws.get(EC2Client);
    // CreateVpc takes no ClientToken: the tags on create let a crashed run's VPC be found and adopted.
    // Sent once (AwsClients.once): a replay after a lost answer would make a second VPC; the engine looks up by the tags.
    const out = await ctx.aws.once(EC2Client).send(new CreateVpcCommand({ CidrBlock: spec.cidrBlock, TagSpecifications: ec2TagSpecification("vpc", spec.tags) }));
    const vpcId = out.Vpc!.VpcId!;
    await waitUntilVpcAvailable(waiterOptions(ctx, ec2, 120), { VpcIds: [vpcId] });
    // A VPC id can be briefly unknown to ModifyVpcAttribute right after creation.
    await retryWhile(ctx, ["InvalidVpcID.NotFound"], 60, () => setDns(ctx, vpcId, spec));
    return (await findVpcById(ctx, vpcId))!;
  },

  async update(ctx, spec, actual, changes) {
    const fields = new Set(changes.map((c) => c.field));
    if (fields.has("enableDnsSupport") || fields.has("enableDnsHostnames")) await setDns(ctx, actual.vpcId, spec, fields);
    if (fields.has("tags")) await applyEc2Tags(ctx, actual.vpcId, spec.tags, actual.tags);
    return (await findVpcById(ctx, actual.vpcId))!;
  },

  async destroy(ctx, actual) {
    // DependencyViolation while network interfaces left by RDS, the load balancer or Fargate drain.
    await retryWhileInterfacesDrain(ctx, actual.tags[TAG_LOGICAL_ID] ?? actual.vpcId, { filter: "vpc-id", id: actual.vpcId }, async () => {
      await orUndefined(ctx.aws.get(EC2Client).send(new DeleteVpcCommand({ VpcId: actual.vpcId })));
    });
  },

  physicalId: (a) => a.vpcId,
};
