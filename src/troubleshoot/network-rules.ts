import type { NetworkAclEntry, SecurityGroupRule } from "@aws-sdk/client-ec2";
import { type Cidr, cidrContains, cidrsOverlap, parseCidr } from "../config/cidr.js";

/**
 * Pure evaluation of security group rules and network ACL entries for one TCP flow, as AWS evaluates them:
 * security groups are stateful allow-lists (any rule of any group admits); network ACLs are stateless, walked in rule
 * number order, the first entry that matches a port decides it, and what no entry matches is denied (rule "*").
 * Only IPv4 is considered.
 */
export type PortRange = [number, number];

/** Linux's default ephemeral range (net.ipv4.ip_local_port_range): Fargate tasks' source ports, where replies go back to. */
export const LINUX_EPHEMERAL: PortRange = [32768, 60999];

function coversTcpPort(protocol: string | undefined, from: number | undefined, to: number | undefined, port: number): boolean {
  if (protocol === "-1") return true;
  if (protocol !== "tcp" && protocol !== "6") return false;
  return (from ?? -1) <= port && port <= (to ?? -1);
}

/** The peer: security groups it is in and/or the address ranges it sends from. */
export interface Peer {
  groupIds: string[];
  cidrs: string[];
}

/**
 * The first rule among `rules` that lets TCP `port` pass in `direction` to/from `peer`: a rule that references one
 * of the peer's groups, or an IPv4 range holding every one of the peer's ranges. Undefined when none does.
 */
export function admittingRule(rules: SecurityGroupRule[], direction: "ingress" | "egress", port: number, peer: Peer): SecurityGroupRule | undefined {
  const peerCidrs = peer.cidrs.map(parseCidr).filter((c): c is Cidr => c !== undefined);
  return rules.find((r) => {
    if (Boolean(r.IsEgress) !== (direction === "egress")) return false;
    if (!coversTcpPort(r.IpProtocol, r.FromPort, r.ToPort, port)) return false;
    if (r.ReferencedGroupInfo?.GroupId && peer.groupIds.includes(r.ReferencedGroupInfo.GroupId)) return true;
    const range = r.CidrIpv4 ? parseCidr(r.CidrIpv4) : undefined;
    return Boolean(range && peerCidrs.length && peerCidrs.every((c) => cidrContains(range, c)));
  });
}

export interface AclDecision {
  allowed: boolean;
  /** The rule that decided (the first denying one when denied); "*" for the implicit deny at the end. */
  rule: number | "*";
  /** Denied only: the ports it denied. */
  ports?: PortRange;
}

function aclEntryPorts(e: NetworkAclEntry): PortRange | undefined {
  if (e.Protocol === "-1") return [0, 65535];
  if (e.Protocol !== "6") return undefined;
  return [e.PortRange?.From ?? 0, e.PortRange?.To ?? 65535];
}

function subtract(ranges: PortRange[], cut: PortRange): PortRange[] {
  return ranges.flatMap(([a, b]) => {
    if (cut[1] < a || cut[0] > b) return [[a, b] as PortRange];
    const out: PortRange[] = [];
    if (cut[0] > a) out.push([a, cut[0] - 1]);
    if (cut[1] < b) out.push([cut[1] + 1, b]);
    return out;
  });
}

function intersect(ranges: PortRange[], other: PortRange): PortRange | undefined {
  for (const [a, b] of ranges) {
    const lo = Math.max(a, other[0]);
    const hi = Math.min(b, other[1]);
    if (lo <= hi) return [lo, hi];
  }
  return undefined;
}

/**
 * Whether the ACL lets TCP `ports` pass for traffic to/from `peerCidr` (the far end of the flow): inbound entries
 * match the source, outbound ones the destination. Conservative where a range only partly covers the peer's: an
 * allow counts only when it holds the whole peer range, a deny whenever it touches it.
 */
export function aclDecision(entries: NetworkAclEntry[], egress: boolean, peerCidr: string, ports: PortRange): AclDecision {
  const peer = parseCidr(peerCidr);
  let open: PortRange[] = [ports];
  const ordered = entries.filter((e) => Boolean(e.Egress) === egress && e.CidrBlock).sort((a, b) => (a.RuleNumber ?? 0) - (b.RuleNumber ?? 0));
  for (const e of ordered) {
    const range = parseCidr(e.CidrBlock!);
    const entryPorts = aclEntryPorts(e);
    if (!range || !peer || !entryPorts) continue;
    const deny = e.RuleAction === "deny";
    if (deny ? !cidrsOverlap(range, peer) : !cidrContains(range, peer)) continue;
    const hit = intersect(open, entryPorts);
    if (!hit) continue;
    const rule = (e.RuleNumber ?? 0) >= 32767 ? "*" : e.RuleNumber!;
    if (deny) return { allowed: false, rule, ports: hit };
    open = subtract(open, entryPorts);
    if (!open.length) return { allowed: true, rule };
  }
  return { allowed: false, rule: "*", ports: open[0] };
}

export function formatPorts([a, b]: PortRange): string {
  return a === b ? `${a}` : `${a}-${b}`;
}
