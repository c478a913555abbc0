import {
  CreateNatGatewayCommand,
  DeleteNatGatewayCommand,
  DescribeNatGatewaysCommand,
  type DescribeNatGatewaysCommandInput,
  EC2Client,
  type NatGateway,
  waitUntilNatGatewayAvailable,
  waitUntilNatGatewayDeleted,
} from "@aws-sdk/client-ec2";
import { orUndefined } from "../aws/errors.js";
import { ec2TagFilters, TAG_LOGICAL_ID, tagRecord } from "../aws/tags.js";
import { applyEc2Tags, ec2TagSpecification } from "./ec2-tags.js";
import { single } from "./find.js";
import { retryWhile } from "./retry.js";
import { retryUntil } from "../run/wait-for.js";
import { type Change, clientToken, compareFields, compareTags, type ResourceContext, type ResourceType, waiterOptions } from "./types.js";

export interface NatGatewaySpec {
  /** A public subnet: the gateway sends traffic out through the VPC's internet gateway. */
  subnetId: string;
  /** The Elastic IP it uses as its public address. */
  allocationId: string;
  tags: Record<string, string>;
}

export interface NatGatewayAttrs extends NatGatewaySpec {
  natGatewayId: string;
  /** "available", or "pending" when a run stopped while AWS was still provisioning it. */
  state: string;
}

/** States of a gateway that exists for our purposes; failed, deleting and deleted ones stay listed for about an hour and are ignored. */
const LIVE_STATES = ["pending", "available"];
/** Provisioning and deletion take 1–5 minutes, rarely more. */
const WAIT_BUDGET_SECONDS = 15 * 60;

/** A gateway that did not become available: AWS's FailureCode and FailureMessage when it failed, else what became of it. */
export class NatGatewayFailed extends Error {
  override name = "NatGatewayFailed";
  constructor(
    readonly natGatewayId: string,
    message: string,
    /** The gateway's FailureCode as DescribeNatGateways reports it, when it ended "failed". */
    readonly failureCode?: string,
    /** The client token replayed a gateway that an earlier attempt left failed or deleted. */
    readonly stale = false,
  ) {
    super(`NAT gateway ${natGatewayId}: ${failureCode ? `${failureCode}: ` : ""}${message}`);
  }
}

/**
 * Failures a new gateway (under a new token) can cure: a stale replay, and Gateway.NotAttached, which a public NAT gateway
 * fails with when it is created before the VPC's internet gateway is attached.
 */
function curedByNewGateway(err: unknown): string | undefined {
  if (!(err instanceof NatGatewayFailed)) return undefined;
  if (err.stale) return "the client token replayed a gateway of an earlier attempt";
  return err.failureCode === "Gateway.NotAttached" ? "the internet gateway was not attached yet" : undefined;
}
/** Each failed attempt leaves a failed gateway behind (harmless, listed for an hour); stop asking after this long. */
const RECREATE_BUDGET_SECONDS = 5 * 60;

async function findNatGateways(ctx: ResourceContext, input: DescribeNatGatewaysCommandInput): Promise<NatGateway[]> {
  const out = await orUndefined(ctx.aws.get(EC2Client).send(new DescribeNatGatewaysCommand(input)));
  return out?.NatGateways ?? [];
}

function toAttrs(g: NatGateway): NatGatewayAttrs {
  const primary = g.NatGatewayAddresses?.find((a) => a.IsPrimary) ?? g.NatGatewayAddresses?.[0];
  return { natGatewayId: g.NatGatewayId!, subnetId: g.SubnetId!, allocationId: primary?.AllocationId ?? "", state: g.State!, tags: tagRecord(g.Tags) };
}

/** The gateway if it is pending or available; undefined when it is failed, deleting, deleted or unknown. */
export async function findNatGatewayById(ctx: ResourceContext, natGatewayId: string): Promise<NatGatewayAttrs | undefined> {
  const live = await findNatGateways(ctx, { NatGatewayIds: [natGatewayId], Filter: [{ Name: "state", Values: LIVE_STATES }] });
  const g = single(live, `NAT gateways with id ${natGatewayId}`);
  return g && toAttrs(g);
}

/** The gateway in whatever state AWS still lists it. */
async function describeNatGateway(ctx: ResourceContext, natGatewayId: string): Promise<NatGateway | undefined> {
  return single(await findNatGateways(ctx, { NatGatewayIds: [natGatewayId] }), `NAT gateways with id ${natGatewayId}`);
}

/** What a gateway that did not become available ended as, if it ended. */
async function failureOf(ctx: ResourceContext, natGatewayId: string): Promise<NatGatewayFailed | undefined> {
  const g = await describeNatGateway(ctx, natGatewayId);
  if (g?.State === "failed") return new NatGatewayFailed(natGatewayId, g.FailureMessage ?? "failed to become available", g.FailureCode);
  if (g?.State === "deleting" || g?.State === "deleted") return new NatGatewayFailed(natGatewayId, `was ${g.State} before it became available`);
  return undefined;
}

async function waitAvailable(ctx: ResourceContext, logicalId: string, natGatewayId: string): Promise<void> {
  ctx.note(logicalId, "waiting for the NAT gateway to become available");
  try {
    await waitUntilNatGatewayAvailable(waiterOptions(ctx, ctx.aws.get(EC2Client), WAIT_BUDGET_SECONDS), { NatGatewayIds: [natGatewayId] });
  } catch (err) {
    throw (await failureOf(ctx, natGatewayId)) ?? err;
  }
}

async function waitDeleted(ctx: ResourceContext, logicalId: string, natGatewayId: string): Promise<void> {
  ctx.note(logicalId, "waiting for the NAT gateway to be deleted");
  // By id, without a state filter: the waiter needs to see the gateway reach "deleted" (or NatGatewayNotFound).
  await waitUntilNatGatewayDeleted(waiterOptions(ctx, ctx.aws.get(EC2Client), WAIT_BUDGET_SECONDS), { NatGatewayIds: [natGatewayId] });
}

async function sendCreate(ctx: ResourceContext, spec: NatGatewaySpec, token: string): Promise<string> {
  // The subnet or a just-allocated address can be briefly unknown to CreateNatGateway.
  const out = await retryWhile(ctx, ["InvalidSubnetID.NotFound", "InvalidAllocationID.NotFound"], 60, () =>
    ctx.aws.get(EC2Client).send(
      new CreateNatGatewayCommand({
        SubnetId: spec.subnetId,
        AllocationId: spec.allocationId,
        ConnectivityType: "public",
        ClientToken: token,
        TagSpecifications: ec2TagSpecification("natgateway", spec.tags),
      }),
    ),
  );
  return out.NatGateway!.NatGatewayId!;
}

/** A token replays its first gateway whatever became of it; a dead one means this token is spent. */
async function assertFresh(ctx: ResourceContext, natGatewayId: string): Promise<void> {
  const g = await describeNatGateway(ctx, natGatewayId);
  if (g && !LIVE_STATES.includes(g.State ?? "")) {
    throw new NatGatewayFailed(natGatewayId, `the client token returned this ${g.State} gateway from an earlier attempt`, undefined, true);
  }
}

/**
 * Creates the gateway and waits until it is available. The first token is deterministic, so a run that stopped mid-create
 * gets its gateway back; each retry derives the next token from the gateway it gives up on, so it stays deterministic too.
 */
async function createAvailable(ctx: ResourceContext, spec: NatGatewaySpec, logicalId: string): Promise<string> {
  let token = clientToken(ctx, logicalId, spec);
  return retryUntil({
    what: `NAT gateway ${logicalId} to become available`,
    attempt: async () => {
      const natGatewayId = await sendCreate(ctx, spec, token);
      token = clientToken(ctx, logicalId, { ...spec, replacing: natGatewayId });
      await assertFresh(ctx, natGatewayId);
      await waitAvailable(ctx, logicalId, natGatewayId);
      return natGatewayId;
    },
    pending: curedByNewGateway,
    budgetSeconds: RECREATE_BUDGET_SECONDS,
    waits: ctx.waits,
    signal: ctx.signal,
    minAttempts: 3,
  });
}

/** A gateway found pending (a run stopped while it was provisioning) is brought to available by update. */
function pendingChange(actual: NatGatewayAttrs): Change[] {
  if (actual.state === "available") return [];
  return [{ field: "state", from: actual.state, to: "available", action: "update", note: "still provisioning: waits until it is available" }];
}

const logicalIdOf = (a: NatGatewayAttrs) => a.tags[TAG_LOGICAL_ID] ?? a.natGatewayId;

export const natGateway: ResourceType<NatGatewaySpec, NatGatewayAttrs> = {
  type: "ec2:nat-gateway",
  createIdempotency: "token",

  async find(ctx, { logicalId, recorded }) {
    if (recorded?.natGatewayId) {
      const found = await findNatGatewayById(ctx, recorded.natGatewayId);
      if (found) return found;
    }
    const filters = [...ec2TagFilters(ctx.identity, logicalId), { Name: "state", Values: LIVE_STATES }];
    const g = single(await findNatGateways(ctx, { Filter: filters }), `NAT gateways tagged ${logicalId}`);
    return g && toAttrs(g);
  },

  diff(spec, actual) {
    return [
      ...compareFields(spec, actual, [
        { field: "subnetId", action: "replace" },
        { field: "allocationId", action: "replace" },
      ]),
      ...pendingChange(actual),
      ...compareTags(spec.tags, actual.tags),
    ];
  },

  async create(ctx, spec, { logicalId }) {
    const natGatewayId = await createAvailable(ctx, spec, logicalId);
    return (await findNatGatewayById(ctx, natGatewayId)) ?? { ...spec, natGatewayId, state: "available" };
  },

  async update(ctx, spec, actual, changes) {
    const fields = new Set(changes.map((c) => c.field));
    if (fields.has("state")) await waitAvailable(ctx, logicalIdOf(actual), actual.natGatewayId);
    if (fields.has("tags")) await applyEc2Tags(ctx, actual.natGatewayId, spec.tags, actual.tags);
    return (await findNatGatewayById(ctx, actual.natGatewayId))!;
  },

  async destroy(ctx, actual) {
    const out = await orUndefined(ctx.aws.get(EC2Client).send(new DeleteNatGatewayCommand({ NatGatewayId: actual.natGatewayId })));
    // NatGatewayNotFound: already gone. Otherwise the Elastic IP and the subnet stay in use until it is deleted.
    if (out) await waitDeleted(ctx, logicalIdOf(actual), actual.natGatewayId);
  },

  physicalId: (a) => a.natGatewayId,
};
