import { type Address, AllocateAddressCommand, DescribeAddressesCommand, type DescribeAddressesCommandInput, EC2Client, ReleaseAddressCommand } from "@aws-sdk/client-ec2";
import { hasCode, orUndefined } from "../aws/errors.js";
import { ec2TagFilters, tagRecord } from "../aws/tags.js";
import { applyEc2Tags, ec2TagSpecification } from "./ec2-tags.js";
import { single } from "./find.js";
import { retryWhile } from "./retry.js";
import { compareTags, readAfterCreate, type ResourceContext, type ResourceType } from "./types.js";

export interface ElasticIpSpec {
  tags: Record<string, string>;
}

export interface ElasticIpAttrs extends ElasticIpSpec {
  allocationId: string;
  publicIp: string;
}

/**
 * ReleaseAddress fails while the NAT gateway that held the address is still deleting: InvalidIPAddress.InUse, or a
 * misleading AuthFailure. The NAT gateway's own delete waits until it is gone, so this budget covers AWS's lag after that.
 */
const RELEASE_RETRY_CODES = ["AuthFailure", "InvalidIPAddress.InUse"];
const RELEASE_BUDGET_SECONDS = 10 * 60;

async function findAddresses(ctx: ResourceContext, input: DescribeAddressesCommandInput): Promise<Address[]> {
  const out = await orUndefined(ctx.aws.get(EC2Client).send(new DescribeAddressesCommand(input)));
  return out?.Addresses ?? [];
}

function toAttrs(a: Address): ElasticIpAttrs {
  return { allocationId: a.AllocationId!, publicIp: a.PublicIp!, tags: tagRecord(a.Tags) };
}

export async function findElasticIpById(ctx: ResourceContext, allocationId: string): Promise<ElasticIpAttrs | undefined> {
  const a = single(await findAddresses(ctx, { AllocationIds: [allocationId] }), `Elastic IPs with allocation id ${allocationId}`);
  return a && toAttrs(a);
}

/** One ReleaseAddress. AuthFailure also means "released already and now someone else's": if the address is gone, that is success. */
async function release(ctx: ResourceContext, allocationId: string): Promise<void> {
  try {
    await orUndefined(ctx.aws.get(EC2Client).send(new ReleaseAddressCommand({ AllocationId: allocationId })));
  } catch (err) {
    if (hasCode(err, "AuthFailure") && !(await findElasticIpById(ctx, allocationId))) return;
    throw err;
  }
}

export const elasticIp: ResourceType<ElasticIpSpec, ElasticIpAttrs> = {
  type: "ec2:eip",
  createIdempotency: "tags",

  async find(ctx, { logicalId, recorded }) {
    if (recorded?.allocationId) {
      const found = await findElasticIpById(ctx, recorded.allocationId);
      if (found) return found;
    }
    const a = single(await findAddresses(ctx, { Filters: ec2TagFilters(ctx.identity, logicalId) }), `Elastic IPs tagged ${logicalId}`);
    return a && toAttrs(a);
  },

  diff(spec, actual) {
    return compareTags(spec.tags, actual.tags);
  },

  async create(ctx, spec) {
    // AllocateAddress takes no ClientToken: tags on create make a crashed run's address adoptable.
    // Sent once (AwsClients.once): a replay after a lost answer would allocate a second address; the engine looks up by the tags.
    const out = await ctx.aws.once(EC2Client).send(new AllocateAddressCommand({ Domain: "vpc", TagSpecifications: ec2TagSpecification("elastic-ip", spec.tags) }));
    const allocationId = out.AllocationId!;
    return readAfterCreate(ctx, `Elastic IP ${allocationId}`, () => findElasticIpById(ctx, allocationId));
  },

  async update(ctx, spec, actual) {
    await applyEc2Tags(ctx, actual.allocationId, spec.tags, actual.tags);
    return (await findElasticIpById(ctx, actual.allocationId))!;
  },

  async destroy(ctx, actual) {
    await retryWhile(ctx, RELEASE_RETRY_CODES, RELEASE_BUDGET_SECONDS, () => release(ctx, actual.allocationId));
  },

  physicalId: (a) => a.allocationId,
};
