import {
  CreateLoadBalancerCommand,
  DeleteLoadBalancerCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  type DescribeLoadBalancersCommandInput,
  type LoadBalancer,
  ModifyLoadBalancerAttributesCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
  waitUntilLoadBalancerAvailable,
  waitUntilLoadBalancersDeleted,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { orUndefined } from "../aws/errors.js";
import { isOurs, TAG_LOGICAL_ID, tagList } from "../aws/tags.js";
import { AwsFailure, UserError } from "../errors.js";
import { applyElbv2Tags, assertElbv2Name, attributeList, attributeRecord, codes, elbv2, readElbv2TagsBatched } from "./elbv2-shared.js";
import { single } from "./find.js";
import { retryWhile } from "./retry.js";
import { type Change, compareFields, compareTags, knownKey, type ResourceContext, type ResourceType, waiterOptions } from "./types.js";

export interface LoadBalancerSpec {
  /** ≤ 32 letters, digits and hyphens; no hyphen first or last; not starting with "internal-". Unique per account and region. */
  name: string;
  scheme: "internet-facing" | "internal";
  /** At least two subnets in different Availability Zones (public ones for an internet-facing load balancer). */
  subnetIds: string[];
  securityGroupIds: string[];
  /** idle_timeout.timeout_seconds, 1–4000. */
  idleTimeoutSeconds: number;
  /** deletion_protection.enabled: DeleteLoadBalancer fails while it is on. */
  deletionProtection: boolean;
  /** routing.http.drop_invalid_header_fields.enabled: drop headers that are not valid HTTP header names. */
  dropInvalidHeaderFields: boolean;
  tags: Record<string, string>;
}

export interface LoadBalancerAttrs extends LoadBalancerSpec {
  arn: string;
  dnsName: string;
  canonicalHostedZoneId: string;
  /** "provisioning", "active", "active_impaired" or "failed". */
  state: string;
  vpcId: string;
}

const KIND = "ELBv2 load balancer";
/** Provisioning and deletion usually take 2–5 minutes. */
const WAIT_BUDGET_SECONDS = 10 * 60;
/** The attribute keys (ModifyLoadBalancerAttributes) behind the spec's settings. */
const ATTRIBUTE_KEYS = {
  deletionProtection: "deletion_protection.enabled",
  idleTimeoutSeconds: "idle_timeout.timeout_seconds",
  dropInvalidHeaderFields: "routing.http.drop_invalid_header_fields.enabled",
} as const;
type AttributeField = keyof typeof ATTRIBUTE_KEYS;
const ATTRIBUTE_FIELDS = Object.keys(ATTRIBUTE_KEYS) as AttributeField[];
const LB_NOT_FOUND = codes("LoadBalancerNotFound");

async function findLoadBalancers(ctx: ResourceContext, input: DescribeLoadBalancersCommandInput): Promise<LoadBalancer[]> {
  const out = await orUndefined(elbv2(ctx).send(new DescribeLoadBalancersCommand(input)));
  return out?.LoadBalancers ?? [];
}

async function describeLoadBalancer(ctx: ResourceContext, input: DescribeLoadBalancersCommandInput, what: string): Promise<LoadBalancer | undefined> {
  return single(await findLoadBalancers(ctx, input), what);
}

async function readAttrs(ctx: ResourceContext, lb: LoadBalancer): Promise<LoadBalancerAttrs | undefined> {
  const arn = lb.LoadBalancerArn!;
  const [tags, attributes] = await Promise.all([
    readElbv2TagsBatched(ctx, arn),
    orUndefined(elbv2(ctx).send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }))),
  ]);
  // Deleted between the calls.
  if (!tags || !attributes) return undefined;
  const attrs = attributeRecord(attributes.Attributes);
  return {
    arn,
    name: lb.LoadBalancerName!,
    scheme: lb.Scheme as LoadBalancerSpec["scheme"],
    subnetIds: (lb.AvailabilityZones ?? []).map((z) => z.SubnetId!).sort(),
    securityGroupIds: [...(lb.SecurityGroups ?? [])].sort(),
    idleTimeoutSeconds: Number(attrs[ATTRIBUTE_KEYS.idleTimeoutSeconds] ?? 60),
    deletionProtection: attrs[ATTRIBUTE_KEYS.deletionProtection] === "true",
    dropInvalidHeaderFields: attrs[ATTRIBUTE_KEYS.dropInvalidHeaderFields] === "true",
    tags,
    dnsName: lb.DNSName!,
    canonicalHostedZoneId: lb.CanonicalHostedZoneId!,
    state: lb.State?.Code ?? "unknown",
    vpcId: lb.VpcId!,
  };
}

export async function findLoadBalancerByName(ctx: ResourceContext, name: string): Promise<LoadBalancerAttrs | undefined> {
  const lb = await describeLoadBalancer(ctx, { Names: [name] }, `load balancers named ${name}`);
  return lb && readAttrs(ctx, lb);
}

/** Create and update end here: what AWS lists now. A new load balancer can be briefly unknown to DescribeLoadBalancers. */
async function readBack(ctx: ResourceContext, arn: string): Promise<LoadBalancerAttrs> {
  return retryWhile(ctx, LB_NOT_FOUND, 60, async () => {
    const out = await elbv2(ctx).send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }));
    const attrs = out.LoadBalancers?.[0] && (await readAttrs(ctx, out.LoadBalancers[0]));
    if (!attrs) throw new Error(`reading ${KIND} (${arn}): it disappeared while being read`);
    return attrs;
  });
}

/** What the spec means in the shape of the attributes: lists compare as sets. */
function desired(spec: LoadBalancerSpec): LoadBalancerSpec {
  return { ...spec, subnetIds: [...spec.subnetIds].sort(), securityGroupIds: [...spec.securityGroupIds].sort() };
}

function diff(spec: LoadBalancerSpec, actual: LoadBalancerAttrs): Change[] {
  return [
    ...compareFields(desired(spec), actual, [
      { field: "name", action: "replace" },
      { field: "scheme", action: "replace" },
      { field: "subnetIds" },
      { field: "securityGroupIds" },
      { field: "idleTimeoutSeconds" },
      { field: "deletionProtection" },
      { field: "dropInvalidHeaderFields" },
    ]),
    ...compareTags(spec.tags, actual.tags),
  ];
}

async function setAttributes(ctx: ResourceContext, arn: string, spec: LoadBalancerSpec, fields: AttributeField[]): Promise<void> {
  if (!fields.length) return;
  const Attributes = attributeList(Object.fromEntries(fields.map((f) => [ATTRIBUTE_KEYS[f], spec[f]])));
  // A load balancer can be briefly unknown to ModifyLoadBalancerAttributes right after CreateLoadBalancer.
  await retryWhile(ctx, LB_NOT_FOUND, 30, () => elbv2(ctx).send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: arn, Attributes })));
}

/** Waits until the load balancer is active; a failed one, or one still provisioning after the budget, is reported with AWS's reason. */
async function waitActive(ctx: ResourceContext, logicalId: string, attrs: LoadBalancerAttrs): Promise<void> {
  if (attrs.state === "active") return;
  ctx.note(logicalId, "provisioning: waiting until the load balancer is active (usually 2-5 minutes)");
  try {
    await waitUntilLoadBalancerAvailable(waiterOptions(ctx, elbv2(ctx), WAIT_BUDGET_SECONDS), { LoadBalancerArns: [attrs.arn] });
  } catch (err) {
    const lb = await describeLoadBalancer(ctx, { LoadBalancerArns: [attrs.arn] }, `load balancers with ARN ${attrs.arn}`);
    const state = lb?.State?.Code ?? "gone";
    const reason = lb?.State?.Reason ? `: ${lb.State.Reason}` : "";
    throw new AwsFailure(
      `waiting for ${KIND} (${attrs.name}) to become active`,
      state === "failed" ? "LoadBalancerFailed" : ((err as Error)?.name ?? "TimeoutError"),
      `the load balancer is ${state}${reason}`,
      state === "failed" ? "check the subnets and security groups, delete the failed load balancer and run up again" : "run up again to keep waiting",
      { cause: err },
    );
  }
}

async function applyChanges(ctx: ResourceContext, spec: LoadBalancerSpec, actual: LoadBalancerAttrs, changes: Change[]): Promise<LoadBalancerAttrs> {
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  const elb = elbv2(ctx);
  if (fields.has("subnetIds")) await elb.send(new SetSubnetsCommand({ LoadBalancerArn: actual.arn, Subnets: spec.subnetIds }));
  if (fields.has("securityGroupIds")) await elb.send(new SetSecurityGroupsCommand({ LoadBalancerArn: actual.arn, SecurityGroups: spec.securityGroupIds }));
  await setAttributes(ctx, actual.arn, spec, ATTRIBUTE_FIELDS.filter((f) => fields.has(f)));
  if (fields.has("tags")) await applyElbv2Tags(ctx, actual.arn, spec.tags, actual.tags);
  return readBack(ctx, actual.arn);
}

export const loadBalancer: ResourceType<LoadBalancerSpec, LoadBalancerAttrs> = {
  type: "elbv2:load-balancer",

  // The name is the key. A recorded load balancer not tagged as ours is never returned (down leaves it alone); without a
  // record, the one that has the name create would use is returned whoever owns it, and the engine decides.
  async find(ctx, { logicalId, recorded, wanted }) {
    if (!recorded?.name) {
      const name = knownKey(undefined, wanted?.name);
      return name ? findLoadBalancerByName(ctx, name) : undefined;
    }
    const found = await findLoadBalancerByName(ctx, recorded.name);
    return found && isOurs(found.tags, ctx.identity, logicalId) ? found : undefined;
  },

  diff,

  async create(ctx, spec, { logicalId }) {
    assertElbv2Name(spec.name, "load balancer");
    const out = await elbv2(ctx).send(
      new CreateLoadBalancerCommand({
        Name: spec.name,
        Type: "application",
        Scheme: spec.scheme,
        IpAddressType: "ipv4",
        Subnets: spec.subnetIds,
        SecurityGroups: spec.securityGroupIds,
        Tags: tagList(spec.tags),
      }),
    );
    const attrs = await readBack(ctx, out.LoadBalancers![0]!.LoadBalancerArn!);
    // CreateLoadBalancer hands back an existing load balancer of that name and settings, whoever's: the engine refuses one not ours.
    if (!isOurs(attrs.tags, ctx.identity, logicalId)) return attrs;
    // CreateLoadBalancer takes no attributes: they are set right after, while AWS provisions.
    await setAttributes(ctx, attrs.arn, spec, ATTRIBUTE_FIELDS);
    await waitActive(ctx, logicalId, attrs);
    return readBack(ctx, attrs.arn);
  },

  update: applyChanges,

  async destroy(ctx, actual) {
    const elb = elbv2(ctx);
    if (actual.deletionProtection) {
      if (!ctx.flags.disableDeletionProtection) {
        throw new UserError(
          `not deleting load balancer ${actual.name}: deletion protection is on. Run down again with --disable-deletion-protection to turn it off and delete it (or set loadBalancer.deletionProtection to false and run up first)`,
        );
      }
      ctx.note(actual.tags[TAG_LOGICAL_ID] ?? actual.name, "turning deletion protection off");
      await orUndefined(
        elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: actual.arn, Attributes: attributeList({ [ATTRIBUTE_KEYS.deletionProtection]: false }) })),
      );
    }
    // DeleteLoadBalancer also deletes the listeners; it succeeds for a load balancer that is already gone.
    await orUndefined(elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: actual.arn })));
    try {
      await waitUntilLoadBalancersDeleted(waiterOptions(ctx, elb, WAIT_BUDGET_SECONDS), { LoadBalancerArns: [actual.arn] });
    } catch (err) {
      throw new AwsFailure(`waiting for ${KIND} (${actual.name}) delete`, (err as Error)?.name ?? "TimeoutError", "the load balancer is still listed", "run down again to keep waiting", { cause: err });
    }
  },

  physicalId: (a) => a.name,

  async details(_ctx, a) {
    return `${a.state}, ${a.dnsName}`;
  },
};
