import {
  type Action,
  CreateListenerCommand,
  DeleteListenerCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  type Listener,
  ModifyListenerCommand,
  type ModifyListenerCommandInput,
  paginateDescribeListeners,
  type RedirectActionConfig,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { orUndefined } from "../aws/errors.js";
import { isOurs, tagList } from "../aws/tags.js";
import { UserError } from "../errors.js";
import { applyElbv2Tags, codes, elbv2, readElbv2TagsBatched } from "./elbv2-shared.js";
import { retryWhile } from "./retry.js";
import { type Change, compareFields, compareTags, type ResourceContext, type ResourceType, knownKey } from "./types.js";
import { DEFAULT_SSL_POLICY } from "./spec-helpers.js";
export { DEFAULT_SSL_POLICY };

export type ListenerAction =
  | { type: "forward"; targetGroupArn: string }
  | { type: "redirect"; port: "443"; protocol: "HTTPS"; statusCode: "HTTP_301" };

export interface ListenerSpec {
  loadBalancerArn: string;
  port: number;
  protocol: "HTTP" | "HTTPS";
  /** HTTPS only: the ACM certificate served by default. */
  certificateArn?: string;
  /** HTTPS only; DEFAULT_SSL_POLICY when absent. */
  sslPolicy?: string;
  defaultAction: ListenerAction;
  tags: Record<string, string>;
}

/** A default action as read from AWS: ours, or whatever someone set by hand (then it differs from every spec). */
export type ObservedAction = ListenerAction | { type: string; [key: string]: unknown };

export interface ListenerAttrs extends Omit<ListenerSpec, "defaultAction"> {
  arn: string;
  defaultAction: ObservedAction;
  /** Where the listener answers: `<protocol>://<load balancer DNS name>[:port]`, read from the load balancer (the `api_url` output). */
  url: string;
}

const KIND = "ELBv2 listener";
const LISTENER_NOT_FOUND = codes("ListenerNotFound");
/** DescribeListeners fills these into a redirect the caller left them out of. */
const REDIRECT_DEFAULTS = { Host: "#{host}", Path: "/#{path}", Query: "#{query}" } as const;

export function listenerUrl(protocol: string, port: number, dnsName: string): string {
  const scheme = protocol.toLowerCase();
  const standard = (scheme === "http" && port === 80) || (scheme === "https" && port === 443);
  return `${scheme}://${dnsName}${standard ? "" : `:${port}`}`;
}

/** DescribeListeners answers a forward with both TargetGroupArn and ForwardConfig; one target group is what we manage. */
function observedAction(actions: Action[] | undefined): ObservedAction {
  const list = [...(actions ?? [])].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0));
  const only = list.length === 1 ? list[0]! : undefined;
  if (!only) return { type: list.map((a) => a.Type).join("+") || "none" };
  if (only.Type === "forward") {
    const groups = only.ForwardConfig?.TargetGroups ?? [];
    if (groups.length > 1) return { type: "forward", targetGroupArns: groups.map((g) => g.TargetGroupArn) };
    const targetGroupArn = only.TargetGroupArn ?? groups[0]?.TargetGroupArn;
    return { type: "forward", targetGroupArn: targetGroupArn ?? "" };
  }
  if (only.Type === "redirect") {
    const r: RedirectActionConfig = only.RedirectConfig ?? { StatusCode: undefined };
    const extra = Object.fromEntries(
      (["Host", "Path", "Query"] as const).filter((k) => r[k] !== undefined && r[k] !== REDIRECT_DEFAULTS[k]).map((k) => [k.toLowerCase(), r[k]]),
    );
    return { type: "redirect", port: r.Port, protocol: r.Protocol, statusCode: r.StatusCode, ...extra } as ObservedAction;
  }
  return { type: only.Type ?? "unknown" };
}

function actionInput(action: ListenerAction): Action[] {
  if (action.type === "forward") return [{ Type: "forward", TargetGroupArn: action.targetGroupArn }];
  return [{ Type: "redirect", RedirectConfig: { Protocol: action.protocol, Port: action.port, StatusCode: action.statusCode } }];
}

async function describeListener(ctx: ResourceContext, arn: string): Promise<Listener | undefined> {
  const out = await orUndefined(elbv2(ctx).send(new DescribeListenersCommand({ ListenerArns: [arn] })));
  return out?.Listeners?.[0];
}

/** The load balancer's listener on `port` (a port takes one listener); undefined when there is none or the load balancer is gone. */
export async function listenerOnPort(ctx: ResourceContext, loadBalancerArn: string, port: number): Promise<Listener | undefined> {
  const search = async () => {
    for await (const page of paginateDescribeListeners({ client: elbv2(ctx) }, { LoadBalancerArn: loadBalancerArn })) {
      const hit = page.Listeners?.find((l) => l.Port === port);
      if (hit) return hit;
    }
    return undefined;
  };
  return orUndefined(search());
}

async function readAttrs(ctx: ResourceContext, l: Listener): Promise<ListenerAttrs | undefined> {
  const [tags, lbs] = await Promise.all([
    readElbv2TagsBatched(ctx, l.ListenerArn!),
    orUndefined(elbv2(ctx).send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [l.LoadBalancerArn!] }))),
  ]);
  if (!tags) return undefined;
  const protocol = l.Protocol as ListenerSpec["protocol"];
  return {
    arn: l.ListenerArn!,
    loadBalancerArn: l.LoadBalancerArn!,
    port: l.Port!,
    protocol,
    ...(l.Certificates?.length ? { certificateArn: l.Certificates.find((c) => c.IsDefault !== false)?.CertificateArn ?? l.Certificates[0]!.CertificateArn } : {}),
    ...(l.SslPolicy ? { sslPolicy: l.SslPolicy } : {}),
    defaultAction: observedAction(l.DefaultActions),
    tags,
    url: listenerUrl(protocol, l.Port!, lbs?.LoadBalancers?.[0]?.DNSName ?? ""),
  };
}

/** A listener by ARN as state records it; undefined when it (or its load balancer) is gone. */
export async function findListener(ctx: ResourceContext, arn: string): Promise<ListenerAttrs | undefined> {
  const l = await describeListener(ctx, arn);
  return l && readAttrs(ctx, l);
}

/** The target group a listener's default action forwards to; undefined for any other action. */
export function forwardTarget(attrs: Pick<ListenerAttrs, "defaultAction">): string | undefined {
  const action = attrs.defaultAction as { type: string; targetGroupArn?: unknown };
  return action.type === "forward" && typeof action.targetGroupArn === "string" && action.targetGroupArn ? action.targetGroupArn : undefined;
}

/**
 * Points a listener's default action at one target group (a blue-green switch): one ModifyListener, effective for new
 * requests at once. Returns the listener as AWS lists it afterwards.
 */
export async function forwardTo(ctx: ResourceContext, listenerArn: string, targetGroupArn: string): Promise<ListenerAttrs> {
  await elbv2(ctx).send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: actionInput({ type: "forward", targetGroupArn }) }));
  return readBack(ctx, listenerArn);
}

/** Create and update end here: what AWS lists now. */
async function readBack(ctx: ResourceContext, arn: string): Promise<ListenerAttrs> {
  return retryWhile(ctx, LISTENER_NOT_FOUND, 60, async () => {
    const out = await elbv2(ctx).send(new DescribeListenersCommand({ ListenerArns: [arn] }));
    const attrs = out.Listeners?.[0] && (await readAttrs(ctx, out.Listeners[0]));
    if (!attrs) throw new Error(`reading ${KIND} (${arn}): it disappeared while being read`);
    return attrs;
  });
}

/** The spec with HTTPS defaults filled in; certificate and policy mean nothing for HTTP. */
function desired(spec: ListenerSpec): ListenerSpec {
  if (spec.protocol !== "HTTPS") return { ...spec, certificateArn: undefined, sslPolicy: undefined };
  return { ...spec, sslPolicy: spec.sslPolicy ?? DEFAULT_SSL_POLICY };
}

function assertSpec(spec: ListenerSpec): void {
  if (spec.protocol === "HTTPS" && !spec.certificateArn) throw new UserError(`an HTTPS listener on port ${spec.port} needs a certificate: set loadBalancer.certificateArn`);
  if (spec.protocol === "HTTP" && spec.certificateArn) throw new UserError(`an HTTP listener on port ${spec.port} takes no certificate`);
}

function tlsInput(want: ListenerSpec) {
  return want.protocol === "HTTPS" ? { Certificates: [{ CertificateArn: want.certificateArn! }], SslPolicy: want.sslPolicy } : {};
}

function diff(spec: ListenerSpec, actual: ListenerAttrs): Change[] {
  return [
    ...compareFields(desired(spec), actual, [
      { field: "loadBalancerArn", action: "replace" },
      { field: "port" },
      { field: "protocol" },
      { field: "certificateArn" },
      { field: "sslPolicy" },
      { field: "defaultAction" },
    ]),
    ...compareTags(spec.tags, actual.tags),
  ];
}

async function applyChanges(ctx: ResourceContext, spec: ListenerSpec, actual: ListenerAttrs, changes: Change[]): Promise<ListenerAttrs> {
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  const want = desired(spec);
  assertSpec(want);
  const input: ModifyListenerCommandInput = { ListenerArn: actual.arn };
  if (fields.has("port")) input.Port = want.port;
  if (fields.has("protocol")) input.Protocol = want.protocol;
  // Certificates and policy go together, and with a switch to HTTPS.
  if (["protocol", "certificateArn", "sslPolicy"].some((f) => fields.has(f))) Object.assign(input, tlsInput(want));
  if (fields.has("defaultAction")) input.DefaultActions = actionInput(want.defaultAction);
  if (Object.keys(input).length > 1) await elbv2(ctx).send(new ModifyListenerCommand(input));
  if (fields.has("tags")) await applyElbv2Tags(ctx, actual.arn, spec.tags, actual.tags);
  return readBack(ctx, actual.arn);
}

export const listener: ResourceType<ListenerSpec, ListenerAttrs> = {
  type: "elbv2:listener",

  // By the recorded ARN; else the recorded load balancer's listener on the recorded port, if its tags prove it ours.
  // Without a record: the listener on the port of the load balancer create would use, whoever's (the engine decides).
  async find(ctx, { logicalId, recorded, wanted }) {
    if (!recorded) {
      const loadBalancerArn = knownKey(undefined, wanted?.loadBalancerArn);
      const port = knownKey(undefined, wanted?.port);
      const l = loadBalancerArn && port ? await listenerOnPort(ctx, loadBalancerArn, port) : undefined;
      return l && readAttrs(ctx, l);
    }
    if (recorded.arn) {
      const l = await describeListener(ctx, recorded.arn);
      if (l) return readAttrs(ctx, l);
    }
    if (recorded.loadBalancerArn && recorded.port) {
      const l = await listenerOnPort(ctx, recorded.loadBalancerArn, recorded.port);
      const attrs = l && (await readAttrs(ctx, l));
      if (attrs && isOurs(attrs.tags, ctx.identity, logicalId)) return attrs;
    }
    return undefined;
  },

  diff,

  // CreateListener is idempotent (same settings on the same port return the existing listener, whoever's: the engine
  // refuses one whose tags are not ours); a port taken with other settings fails with DuplicateListener, and the engine
  // looks the listener up.
  async create(ctx, spec) {
    const want = desired(spec);
    assertSpec(want);
    // A target group made a moment ago can be briefly unknown to CreateListener.
    const out = await retryWhile(ctx, codes("TargetGroupNotFound"), 30, () =>
      elbv2(ctx).send(
        new CreateListenerCommand({
          LoadBalancerArn: want.loadBalancerArn,
          Port: want.port,
          Protocol: want.protocol,
          ...tlsInput(want),
          DefaultActions: actionInput(want.defaultAction),
          Tags: tagList(want.tags),
        }),
      ),
    );
    return readBack(ctx, out.Listeners![0]!.ListenerArn!);
  },

  update: applyChanges,

  async destroy(ctx, actual) {
    // Deleting the load balancer deletes its listeners too: ListenerNotFound is success.
    await orUndefined(elbv2(ctx).send(new DeleteListenerCommand({ ListenerArn: actual.arn })));
  },

  physicalId: (a) => a.arn,
};
