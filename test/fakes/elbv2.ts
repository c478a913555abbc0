import { ElasticLoadBalancingV2Client, ElasticLoadBalancingV2ServiceException } from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsError, type FakeCloud, fromTagList, type ServiceModel, type Tags, toTagList } from "./cloud.js";
import type { Ec2State } from "./ec2.js";
import type { TagSource } from "./tagging.js";

/**
 * The Elastic Load Balancing v2 part of the fake: Application Load Balancers (provisioning → active, deletion that takes
 * a moment, attributes, subnets, security groups), target groups with health checks and attributes, listeners with
 * forward and redirect actions, and tags on all three. Errors are thrown with the names SDK v3 gives them
 * ("LoadBalancerNotFoundException", ...), which is what the SDK's waiters match.
 *
 * Given the EC2 fake's state, subnets, security groups and VPCs are checked against it, an internet-facing load balancer
 * needs an attached internet gateway, and each load balancer holds one network interface per subnet with its security
 * groups (so deleting those groups fails with DependencyViolation) until a little after it is deleted.
 *
 * Delays (FakeTimings.provisioningMs): "loadBalancer" (provisioning → active), "loadBalancerDelete" (still listed after
 * DeleteLoadBalancer), "eniDrain" (its network interfaces linger after that).
 */
export interface FakeLoadBalancer {
  LoadBalancerArn: string;
  LoadBalancerName: string;
  DNSName: string;
  CanonicalHostedZoneId: string;
  CreatedTime: Date;
  Scheme: string;
  VpcId: string;
  Type: string;
  IpAddressType: string;
  Subnets: string[];
  SecurityGroups: string[];
  State: "provisioning" | "active";
  /** cloud.elapsed() at creation and, once deleted, at DeleteLoadBalancer. */
  createdAt: number;
  deletedAt?: number;
  attributes: Record<string, string>;
  tags: Tags;
  /** subnet id → network interface id. */
  enis: Map<string, string>;
}

export interface FakeTargetGroup {
  TargetGroupArn: string;
  TargetGroupName: string;
  Protocol: string;
  ProtocolVersion: string;
  Port: number;
  VpcId: string;
  TargetType: string;
  IpAddressType: string;
  HealthCheckEnabled: boolean;
  HealthCheckProtocol: string;
  HealthCheckPort: string;
  HealthCheckPath: string;
  HealthCheckIntervalSeconds: number;
  HealthCheckTimeoutSeconds: number;
  HealthyThresholdCount: number;
  UnhealthyThresholdCount: number;
  Matcher: { HttpCode: string };
  attributes: Record<string, string>;
  tags: Tags;
}

type Action = Record<string, any> & { Type: string };

export interface FakeListener {
  ListenerArn: string;
  LoadBalancerArn: string;
  Port: number;
  Protocol: string;
  SslPolicy?: string;
  Certificates?: { CertificateArn: string }[];
  DefaultActions: Action[];
  tags: Tags;
}

/** A listener rule (CreateRule): path conditions and one forward action. */
export interface FakeRule {
  RuleArn: string;
  ListenerArn: string;
  Priority: number;
  Conditions: { Field: string; Values: string[]; PathPatternConfig?: { Values: string[] }; SourceIpConfig?: { Values: string[] } }[];
  Actions: Action[];
  tags: Tags;
}

export interface Elbv2State {
  loadBalancers: Map<string, FakeLoadBalancer>;
  targetGroups: Map<string, FakeTargetGroup>;
  listeners: Map<string, FakeListener>;
  /** Listener rules by ARN. */
  rules?: Map<string, FakeRule>;
  /** DescribeTargetHealth's answer by target group ARN: the ECS fake registers its tasks here. */
  targetHealth?: Map<string, any[]>;
}

export function newElbv2State(): Elbv2State {
  return { loadBalancers: new Map(), targetGroups: new Map(), listeners: new Map(), rules: new Map(), targetHealth: new Map() };
}

/** The model to install, its state, and what it lists to the tagging fake; the object is itself the model. */
export interface Elbv2Fake extends ServiceModel {
  model: ServiceModel;
  state: Elbv2State;
  taggingSources: TagSource[];
}

const fail = (code: string, message: string) => awsError(ElasticLoadBalancingV2ServiceException, code, message);
const validation = (message: string) => fail("ValidationError", message);
const lbNotFound = (what: string) => fail("LoadBalancerNotFoundException", `Load balancers '${what}' not found`);
const tgNotFound = (what: string) => fail("TargetGroupNotFoundException", `Target groups '${what}' not found`);
const listenerNotFound = (what: string) => fail("ListenerNotFoundException", `Listeners '${what}' not found`);
const invalidConfig = (message: string) => fail("InvalidConfigurationRequestException", message);

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;
/** The SSL policies a listener may name (a subset of DescribeSSLPolicies). */
export const SSL_POLICIES = ["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-2-2017-01"];
const CERTIFICATE_ARN = /^arn:aws[\w-]*:(acm|iam):[\w-]*:\d{12}:(certificate|server-certificate)\/.+$/;
/** Application Load Balancer attributes with their defaults (DescribeLoadBalancerAttributes on a new ALB). */
const LB_ATTRIBUTE_DEFAULTS: Record<string, string> = {
  "access_logs.s3.enabled": "false",
  "access_logs.s3.bucket": "",
  "access_logs.s3.prefix": "",
  "deletion_protection.enabled": "false",
  "idle_timeout.timeout_seconds": "60",
  "client_keep_alive.seconds": "3600",
  "load_balancing.cross_zone.enabled": "true",
  "routing.http.desync_mitigation_mode": "defensive",
  "routing.http.drop_invalid_header_fields.enabled": "false",
  "routing.http.preserve_host_header.enabled": "false",
  "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
  "routing.http.xff_client_port.enabled": "false",
  "routing.http.xff_header_processing.mode": "append",
  "routing.http2.enabled": "true",
  "waf.fail_open.enabled": "false",
};
const TG_ATTRIBUTE_DEFAULTS: Record<string, string> = {
  "deregistration_delay.timeout_seconds": "300",
  "stickiness.enabled": "false",
  "stickiness.type": "lb_cookie",
  "stickiness.lb_cookie.duration_seconds": "86400",
  "slow_start.duration_seconds": "0",
  "load_balancing.algorithm.type": "round_robin",
  "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
};
const BOOLEAN_ATTRIBUTES = /\.enabled$/;

const sameSet = (a: string[] = [], b: string[] = []) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

function validateTags(list: { Key?: string; Value?: string }[] | undefined, existing: Tags = {}): Tags {
  const keys = (list ?? []).map((t) => t.Key ?? "");
  if (new Set(keys).size !== keys.length) throw fail("DuplicateTagKeysException", "A tag key was specified more than once");
  for (const k of keys) if (!k || k.length > 128 || k.startsWith("aws:")) throw validation(`Invalid tag key '${k}'`);
  const tags = { ...existing, ...fromTagList(list) };
  if (Object.keys(tags).length > 50) throw fail("TooManyTagsException", "You've reached the limit on the number of tags for this resource");
  return tags;
}

export function elbv2Model(cloud: FakeCloud, ec2?: Ec2State, state: Elbv2State = newElbv2State()): Elbv2Fake {
  const arn = (resource: string) => `arn:aws:elasticloadbalancing:${cloud.region}:${cloud.accountId}:${resource}`;
  const hex = () => cloud.id("x").slice(-16);
  const rules: Map<string, FakeRule> = (state.rules ??= new Map());
  const targetHealth: Map<string, any[]> = (state.targetHealth ??= new Map());
  /** Network interfaces of deleted load balancers and when they go: { eni ids, cloud time }. */
  const draining: { enis: string[]; at: number }[] = [];

  const delay = (kind: string) => cloud.timings.provisioningMs[kind] ?? 0;

  const dropEnis = (enis: string[]) => {
    for (const id of enis) ec2?.networkInterfaces.delete(id);
  };

  /** Provisioning finishes, deletions complete and network interfaces drain as time passes. */
  const settle = () => {
    for (const lb of state.loadBalancers.values()) {
      if (lb.deletedAt !== undefined) {
        if (cloud.ready("loadBalancerDelete", lb.deletedAt)) state.loadBalancers.delete(lb.LoadBalancerArn);
      } else if (lb.State === "provisioning" && cloud.ready("loadBalancer", lb.createdAt)) {
        lb.State = "active";
      }
    }
    for (const d of [...draining]) {
      if (cloud.elapsed() >= d.at) {
        dropEnis(d.enis);
        draining.splice(draining.indexOf(d), 1);
      }
    }
  };

  // ---- EC2 side: subnets, groups, network interfaces -------------------------------------------------------------

  const subnetInfo = (subnetIds: string[]) => {
    if (!ec2) return subnetIds.map((id, i) => ({ SubnetId: id, VpcId: "vpc-unknown", AvailabilityZone: `${cloud.region}${"abcdef"[i % 6]}` }));
    return subnetIds.map((id) => {
      const s = ec2.subnets.get(id);
      if (!s) throw fail("SubnetNotFoundException", `The subnet ID '${id}' is not valid`);
      return s;
    });
  };

  const checkSubnets = (subnetIds: string[] | undefined, scheme: string): string => {
    const subnets = subnetInfo(subnetIds ?? []);
    if (new Set(subnets.map((s) => s.AvailabilityZone)).size < 2 || subnets.length !== new Set(subnetIds).size) {
      throw invalidConfig("At least two subnets in two different Availability Zones must be specified");
    }
    const vpcs = new Set(subnets.map((s) => s.VpcId));
    if (vpcs.size > 1) throw invalidConfig("The subnets must all be in the same VPC");
    const vpcId = subnets[0]!.VpcId;
    if (ec2 && scheme === "internet-facing") {
      const igw = [...ec2.internetGateways.values()].some((g) => g.Attachments?.some((a: any) => a.VpcId === vpcId && a.State !== "detaching" && a.State !== "detached"));
      if (!igw) throw fail("InvalidSubnetException", `VPC ${vpcId} has no internet gateway`);
    }
    return vpcId;
  };

  const checkGroups = (groupIds: string[] | undefined, vpcId: string) => {
    for (const id of groupIds ?? []) {
      const g = ec2?.securityGroups.get(id);
      if (ec2 && (!g || g.VpcId !== vpcId)) throw fail("InvalidSecurityGroupException", `One or more security groups are invalid: ${id}`);
    }
  };

  const groupsOf = (lb: FakeLoadBalancer) => lb.SecurityGroups.map((GroupId) => ({ GroupId, GroupName: ec2?.securityGroups.get(GroupId)?.GroupName ?? GroupId }));

  /** One network interface per subnet, with the load balancer's security groups, as ELB makes them. */
  const syncEnis = (lb: FakeLoadBalancer) => {
    if (!ec2) return;
    for (const [subnetId, eniId] of [...lb.enis]) {
      if (!lb.Subnets.includes(subnetId)) {
        ec2.networkInterfaces.delete(eniId);
        lb.enis.delete(subnetId);
      }
    }
    const lbId = lb.LoadBalancerArn.split("/").at(-1);
    for (const subnetId of lb.Subnets) {
      const subnet = ec2.subnets.get(subnetId)!;
      const eniId = lb.enis.get(subnetId) ?? cloud.id("eni");
      lb.enis.set(subnetId, eniId);
      ec2.networkInterfaces.set(eniId, {
        NetworkInterfaceId: eniId,
        SubnetId: subnetId,
        VpcId: lb.VpcId,
        AvailabilityZone: subnet.AvailabilityZone,
        Description: `ELB app/${lb.LoadBalancerName}/${lbId}`,
        InterfaceType: "interface",
        RequesterId: "amazon-elb",
        RequesterManaged: true,
        Status: "in-use",
        Groups: groupsOf(lb),
        Tags: {},
      });
    }
  };

  // ---- lookups ---------------------------------------------------------------------------------------------------

  const lbByArn = (lbArn: string, includeDeleted = false): FakeLoadBalancer => {
    const lb = state.loadBalancers.get(lbArn);
    if (!lb || (lb.deletedAt !== undefined && !includeDeleted)) throw lbNotFound(lbArn);
    return lb;
  };
  const tgByArn = (tgArn: string): FakeTargetGroup => {
    const tg = state.targetGroups.get(tgArn);
    if (!tg) throw tgNotFound(tgArn);
    return tg;
  };
  const listenerByArn = (listenerArn: string): FakeListener => {
    const l = state.listeners.get(listenerArn);
    if (!l) throw listenerNotFound(listenerArn);
    return l;
  };
  const liveLbs = () => [...state.loadBalancers.values()].filter((lb) => lb.deletedAt === undefined);

  /** Tags live on all three kinds; the ARN says which. */
  const taggable = (resourceArn: string): { tags: Tags } => {
    if (resourceArn.includes(":loadbalancer/")) return lbByArn(resourceArn, true);
    if (resourceArn.includes(":targetgroup/")) return tgByArn(resourceArn);
    if (resourceArn.includes(":listener/")) return listenerByArn(resourceArn);
    if (resourceArn.includes(":listener-rule/")) return ruleByArn(resourceArn);
    throw validation(`'${resourceArn}' is not a valid resource ARN`);
  };

  const describeLb = (lb: FakeLoadBalancer) => ({
    LoadBalancerArn: lb.LoadBalancerArn,
    DNSName: lb.DNSName,
    CanonicalHostedZoneId: lb.CanonicalHostedZoneId,
    CreatedTime: lb.CreatedTime,
    LoadBalancerName: lb.LoadBalancerName,
    Scheme: lb.Scheme,
    VpcId: lb.VpcId,
    State: { Code: lb.State },
    Type: lb.Type,
    AvailabilityZones: subnetInfo(lb.Subnets).map((s) => ({ ZoneName: s.AvailabilityZone, SubnetId: s.SubnetId, LoadBalancerAddresses: [] })),
    SecurityGroups: [...lb.SecurityGroups],
    IpAddressType: lb.IpAddressType,
  });

  const lbArnsOf = (tg: FakeTargetGroup) =>
    [
      ...new Set([
        ...[...state.listeners.values()].filter((l) => l.DefaultActions.some((a) => forwardsTo(a, tg.TargetGroupArn))).map((l) => l.LoadBalancerArn),
        ...[...rules.values()].filter((r) => r.Actions.some((a) => forwardsTo(a, tg.TargetGroupArn))).flatMap((r) => state.listeners.get(r.ListenerArn)?.LoadBalancerArn ?? []),
      ]),
    ];
  const ruleByArn = (ruleArn: string): FakeRule => {
    const r = rules.get(ruleArn);
    if (!r) throw fail("RuleNotFoundException", `One or more rules not found`);
    return r;
  };

  const describeTg = (tg: FakeTargetGroup) => {
    const { attributes: _a, tags: _t, ...shape } = tg;
    return { ...structuredClone(shape), LoadBalancerArns: lbArnsOf(tg) };
  };

  const describeListener = (l: FakeListener) => {
    const { tags: _t, ...shape } = l;
    return structuredClone(shape);
  };

  // ---- validation of the parts -----------------------------------------------------------------------------------

  const checkName = (name: string | undefined, kind: "load balancer" | "target group") => {
    if (!name || !NAME.test(name)) throw validation(`The ${kind} name '${name}' is not valid: at most 32 alphanumeric characters or hyphens, not beginning or ending with a hyphen`);
    if (kind === "load balancer" && name.startsWith("internal-")) throw validation(`Load balancer names cannot begin with 'internal-'`);
  };

  const checkAttributes = (list: { Key?: string; Value?: string }[] | undefined, defaults: Record<string, string>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const { Key, Value } of list ?? []) {
      if (!Key || !(Key in defaults)) throw validation(`Attribute key '${Key}' is not recognized`);
      const v = Value ?? "";
      if (BOOLEAN_ATTRIBUTES.test(Key) && Key !== "load_balancing.cross_zone.enabled" && v !== "true" && v !== "false") throw validation(`'${v}' is not a valid value for '${Key}': true or false`);
      const range: Record<string, [number, number]> = {
        "idle_timeout.timeout_seconds": [1, 4000],
        "deregistration_delay.timeout_seconds": [0, 3600],
        "client_keep_alive.seconds": [60, 604800],
      };
      const r = range[Key];
      if (r && !(/^\d+$/.test(v) && Number(v) >= r[0] && Number(v) <= r[1])) throw validation(`'${v}' is not a valid value for '${Key}': ${r[0]}-${r[1]}`);
      out[Key] = v;
    }
    return out;
  };

  const HEALTH_CHECK_FIELDS = [
    "HealthCheckEnabled",
    "HealthCheckProtocol",
    "HealthCheckPort",
    "HealthCheckPath",
    "HealthCheckIntervalSeconds",
    "HealthCheckTimeoutSeconds",
    "HealthyThresholdCount",
    "UnhealthyThresholdCount",
    "Matcher",
  ] as const;

  const checkHealthCheck = (tg: FakeTargetGroup) => {
    const within = (v: number, lo: number, hi: number, what: string) => {
      if (!Number.isInteger(v) || v < lo || v > hi) throw validation(`${what} must be between ${lo} and ${hi}`);
    };
    within(tg.HealthCheckIntervalSeconds, 5, 300, "Health check interval");
    within(tg.HealthCheckTimeoutSeconds, 2, 120, "Health check timeout");
    within(tg.HealthyThresholdCount, 2, 10, "Healthy threshold count");
    within(tg.UnhealthyThresholdCount, 2, 10, "Unhealthy threshold count");
    if (tg.HealthCheckTimeoutSeconds >= tg.HealthCheckIntervalSeconds) throw invalidConfig("Health check interval must be greater than the timeout.");
    if (!tg.HealthCheckPath.startsWith("/") || tg.HealthCheckPath.length > 1024) throw validation("Health check path must begin with a '/' character, and can be at most 1024 characters in length");
    if (!/^\d{3}([,-]\d{3})*$/.test(tg.Matcher.HttpCode)) throw validation(`'${tg.Matcher.HttpCode}' is not a valid matcher HTTP code`);
  };

  const forwardsTo = (a: Action, tgArn: string) => a.Type === "forward" && (a.TargetGroupArn === tgArn || a.ForwardConfig?.TargetGroups?.some((t: any) => t.TargetGroupArn === tgArn));

  /** Actions in the shape DescribeListeners returns them: forward with ForwardConfig, redirect with its defaults. */
  const expandActions = (lb: FakeLoadBalancer, actions: Action[] | undefined): Action[] => {
    if (!actions?.length) throw validation("A listener must have at least one default action");
    if (actions.length > 1) throw new Error("fake elbv2: more than one default action is not modelled");
    const a = actions[0]!;
    if (a.Type === "forward") {
      const tgArn = a.TargetGroupArn ?? a.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
      const tg = tgByArn(tgArn);
      if (tg.VpcId !== lb.VpcId) throw invalidConfig(`The target group '${tgArn}' is in a different VPC than the load balancer`);
      const ownerLbs = lbArnsOf(tg).filter((x) => x !== lb.LoadBalancerArn);
      if (ownerLbs.length) throw fail("TargetGroupAssociationLimitException", `The target group '${tgArn}' is already associated with a different load balancer`);
      return [{ Type: "forward", Order: 1, TargetGroupArn: tgArn, ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgArn, Weight: 1 }], TargetGroupStickinessConfig: { Enabled: false } } }];
    }
    if (a.Type === "redirect") {
      const r = a.RedirectConfig ?? {};
      if (r.StatusCode !== "HTTP_301" && r.StatusCode !== "HTTP_302") throw validation("A redirect action needs StatusCode HTTP_301 or HTTP_302");
      return [{ Type: "redirect", Order: 1, RedirectConfig: { Protocol: r.Protocol ?? "#{protocol}", Port: r.Port ?? "#{port}", Host: r.Host ?? "#{host}", Path: r.Path ?? "/#{path}", Query: r.Query ?? "#{query}", StatusCode: r.StatusCode } }];
    }
    throw new Error(`fake elbv2: action type ${a.Type} is not modelled`);
  };

  /** Protocol, certificates and policy of a listener as they end up; HTTPS needs a certificate, HTTP takes none. */
  const tls = (protocol: string, certificates: { CertificateArn?: string }[] | undefined, sslPolicy: string | undefined, previous?: FakeListener) => {
    if (protocol !== "HTTP" && protocol !== "HTTPS") throw fail("UnsupportedProtocolException", `Protocol '${protocol}' is not supported by Application Load Balancers`);
    if (protocol === "HTTP") {
      if (certificates?.length || sslPolicy) throw validation("Certificates and an SSL policy can be specified only for HTTPS listeners");
      return {};
    }
    const certs = certificates ?? previous?.Certificates;
    if (!certs?.length) throw validation("A certificate must be specified for HTTPS listeners");
    for (const c of certs) if (!CERTIFICATE_ARN.test(c.CertificateArn ?? "")) throw fail("CertificateNotFoundException", `Certificate '${c.CertificateArn}' not found`);
    const policy = sslPolicy ?? previous?.SslPolicy ?? "ELBSecurityPolicy-2016-08";
    if (!SSL_POLICIES.includes(policy)) throw fail("SSLPolicyNotFoundException", `SSL policy '${policy}' not found`);
    return { SslPolicy: policy, Certificates: certs.map((c) => ({ CertificateArn: c.CertificateArn! })) };
  };

  const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

  const deleteListener = (l: FakeListener) => {
    for (const r of [...rules.values()]) if (r.ListenerArn === l.ListenerArn) rules.delete(r.RuleArn);
    state.listeners.delete(l.ListenerArn);
  };

  /**
   * Path-pattern conditions, as DescribeRules returns them (Values and PathPatternConfig both), and source-ip conditions
   * (SourceIpConfig only: Values is for host-header and path-pattern); the only fields modelled.
   */
  const ruleConditions = (conditions: any[] | undefined) => {
    if (!conditions?.length) throw validation("A rule must have at least one condition");
    const out = conditions.map((c) => {
      if (c.Field === "source-ip") {
        const cidrs: string[] = c.SourceIpConfig?.Values ?? [];
        if (!cidrs.length || cidrs.some((v) => !/^[0-9.]+\/\d+$|^[0-9a-f:]+\/\d+$/i.test(v))) throw validation("Source IP values must be CIDR blocks");
        return { Field: "source-ip", Values: [] as string[], SourceIpConfig: { Values: [...cidrs] }, count: cidrs.length };
      }
      if (c.Field !== "path-pattern") throw new Error(`fake elbv2: condition field ${c.Field} is not modelled`);
      const values: string[] = c.PathPatternConfig?.Values ?? c.Values ?? [];
      if (!values.length || values.some((v) => !v || v.length > 128)) throw validation("Path patterns must be 1 to 128 characters");
      return { Field: "path-pattern", Values: [...values], PathPatternConfig: { Values: [...values] }, count: values.length };
    });
    if (new Set(out.map((c) => c.Field)).size !== out.length) throw validation("A rule can have only one condition of each field");
    if (out.reduce((n, c) => n + c.count, 0) > 5) throw validation("A rule can have at most 5 condition values");
    return out.map(({ count: _count, ...c }) => c);
  };
  const checkPriority = (listenerArn: string, priority: unknown, except?: string) => {
    if (!Number.isInteger(priority) || (priority as number) < 1 || (priority as number) > 50000) throw validation("Priority must be between 1 and 50000");
    if ([...rules.values()].some((r) => r.ListenerArn === listenerArn && r.Priority === priority && r.RuleArn !== except)) throw fail("PriorityInUseException", `Priority '${priority}' is currently in use`);
  };
  const describeRule = (r: FakeRule) => ({ RuleArn: r.RuleArn, Priority: String(r.Priority), Conditions: structuredClone(r.Conditions), Actions: structuredClone(r.Actions), IsDefault: false });

  const handlers: Record<string, (input: any) => unknown> = {
    // ---- load balancers ----
    CreateLoadBalancer: (input) => {
      checkName(input.Name, "load balancer");
      if ((input.Type ?? "application") !== "application") throw new Error(`fake elbv2: load balancer type ${input.Type} is not modelled`);
      if (input.SubnetMappings) throw new Error("fake elbv2: SubnetMappings is not modelled");
      const scheme = input.Scheme ?? "internet-facing";
      const ipAddressType = input.IpAddressType ?? "ipv4";
      if (ipAddressType !== "ipv4") throw new Error(`fake elbv2: IpAddressType ${ipAddressType} is not modelled`);
      const existing = liveLbs().find((lb) => lb.LoadBalancerName === input.Name);
      if (existing) {
        // Idempotent: the same settings return the existing load balancer.
        const same = existing.Scheme === scheme && sameSet(existing.Subnets, input.Subnets) && sameSet(existing.SecurityGroups, input.SecurityGroups) && existing.IpAddressType === ipAddressType;
        if (!same) throw fail("DuplicateLoadBalancerNameException", `A load balancer with the same name '${input.Name}' exists, but with different settings`);
        return { LoadBalancers: [describeLb(existing)] };
      }
      const vpcId = checkSubnets(input.Subnets, scheme);
      checkGroups(input.SecurityGroups, vpcId);
      const tags = validateTags(input.Tags);
      const id = hex();
      const lb: FakeLoadBalancer = {
        LoadBalancerArn: arn(`loadbalancer/app/${input.Name}/${id}`),
        LoadBalancerName: input.Name,
        DNSName: `${scheme === "internal" ? "internal-" : ""}${input.Name}-${parseInt(id.slice(-8), 16)}.${cloud.region}.elb.amazonaws.com`,
        CanonicalHostedZoneId: "Z35SXDOTRQ7X7K",
        CreatedTime: new Date(),
        Scheme: scheme,
        VpcId: vpcId,
        Type: "application",
        IpAddressType: ipAddressType,
        Subnets: [...input.Subnets],
        // Without SecurityGroups, AWS uses the VPC's default group; the fake wants them given.
        SecurityGroups: [...(input.SecurityGroups ?? [])],
        State: "provisioning",
        createdAt: cloud.elapsed(),
        attributes: { ...LB_ATTRIBUTE_DEFAULTS },
        tags,
        enis: new Map(),
      };
      state.loadBalancers.set(lb.LoadBalancerArn, lb);
      syncEnis(lb);
      return { LoadBalancers: [describeLb(lb)] };
    },
    DescribeLoadBalancers: (input) => {
      settle();
      if (input.Names?.length && input.LoadBalancerArns?.length) throw validation("Load balancer names and load balancer ARNs cannot be specified at the same time");
      if (input.Names?.length) {
        return {
          LoadBalancers: input.Names.map((name: string) => {
            const lb = [...state.loadBalancers.values()].find((x) => x.LoadBalancerName === name);
            if (!lb) throw lbNotFound(name);
            return describeLb(lb);
          }),
        };
      }
      if (input.LoadBalancerArns?.length) return { LoadBalancers: input.LoadBalancerArns.map((a: string) => describeLb(lbByArn(a, true))) };
      return { LoadBalancers: [...state.loadBalancers.values()].map(describeLb) };
    },
    DescribeLoadBalancerAttributes: (input) => {
      settle();
      const lb = lbByArn(input.LoadBalancerArn, true);
      return { Attributes: Object.entries(lb.attributes).map(([Key, Value]) => ({ Key, Value })) };
    },
    ModifyLoadBalancerAttributes: (input) => {
      settle();
      const lb = lbByArn(input.LoadBalancerArn);
      Object.assign(lb.attributes, checkAttributes(input.Attributes, LB_ATTRIBUTE_DEFAULTS));
      return { Attributes: Object.entries(lb.attributes).map(([Key, Value]) => ({ Key, Value })) };
    },
    SetSubnets: (input) => {
      settle();
      const lb = lbByArn(input.LoadBalancerArn);
      if (input.SubnetMappings) throw new Error("fake elbv2: SubnetMappings is not modelled");
      const vpcId = checkSubnets(input.Subnets, lb.Scheme);
      if (ec2 && vpcId !== lb.VpcId) throw invalidConfig("The subnets must be in the load balancer's VPC");
      lb.Subnets = [...input.Subnets];
      syncEnis(lb);
      return { AvailabilityZones: describeLb(lb).AvailabilityZones, IpAddressType: lb.IpAddressType };
    },
    SetSecurityGroups: (input) => {
      settle();
      const lb = lbByArn(input.LoadBalancerArn);
      checkGroups(input.SecurityGroups, lb.VpcId);
      lb.SecurityGroups = [...(input.SecurityGroups ?? [])];
      syncEnis(lb);
      return { SecurityGroupIds: [...lb.SecurityGroups] };
    },
    DeleteLoadBalancer: (input) => {
      settle();
      const lb = state.loadBalancers.get(input.LoadBalancerArn);
      // "If the load balancer does not exist or has already been deleted, the call succeeds." (API reference)
      if (!lb || lb.deletedAt !== undefined) return {};
      if (lb.attributes["deletion_protection.enabled"] === "true") {
        throw fail("OperationNotPermittedException", `Load balancer '${lb.LoadBalancerArn}' cannot be deleted because deletion protection is enabled`);
      }
      for (const l of [...state.listeners.values()]) if (l.LoadBalancerArn === lb.LoadBalancerArn) deleteListener(l);
      lb.deletedAt = cloud.elapsed();
      const enis = [...lb.enis.values()];
      const after = delay("loadBalancerDelete") + delay("eniDrain");
      if (after <= 0) dropEnis(enis);
      else {
        const entry = { enis, at: lb.deletedAt + after };
        draining.push(entry);
        // Nothing in the ELBv2 fake may be called again: the interfaces drain on their own, as AWS's do. The timer drops
        // them itself: a timer may fire a millisecond before the clock settle() compares against says they are due.
        setTimeout(() => {
          dropEnis(entry.enis);
          if (draining.includes(entry)) draining.splice(draining.indexOf(entry), 1);
        }, after).unref();
      }
      settle();
      return {};
    },

    // ---- target groups ----
    CreateTargetGroup: (input) => {
      checkName(input.Name, "target group");
      const targetType = input.TargetType ?? "instance";
      if (targetType !== "ip" && targetType !== "instance") throw new Error(`fake elbv2: target type ${targetType} is not modelled`);
      if (input.Protocol !== "HTTP" && input.Protocol !== "HTTPS") throw validation("A protocol (HTTP or HTTPS) must be specified for this target group type");
      if (!Number.isInteger(input.Port) || input.Port < 1 || input.Port > 65535) throw validation("A port between 1 and 65535 must be specified for this target group type");
      if (!input.VpcId) throw validation("A VPC ID must be specified for this target group type");
      if (ec2 && !ec2.vpcs.has(input.VpcId)) throw validation(`The VPC ID '${input.VpcId}' is not found`);
      const tg: FakeTargetGroup = {
        TargetGroupArn: arn(`targetgroup/${input.Name}/${hex()}`),
        TargetGroupName: input.Name,
        Protocol: input.Protocol,
        ProtocolVersion: input.ProtocolVersion ?? "HTTP1",
        Port: input.Port,
        VpcId: input.VpcId,
        TargetType: targetType,
        IpAddressType: input.IpAddressType ?? "ipv4",
        HealthCheckEnabled: input.HealthCheckEnabled ?? true,
        HealthCheckProtocol: input.HealthCheckProtocol ?? input.Protocol,
        HealthCheckPort: input.HealthCheckPort ?? "traffic-port",
        HealthCheckPath: input.HealthCheckPath ?? "/",
        HealthCheckIntervalSeconds: input.HealthCheckIntervalSeconds ?? 30,
        HealthCheckTimeoutSeconds: input.HealthCheckTimeoutSeconds ?? 5,
        HealthyThresholdCount: input.HealthyThresholdCount ?? 5,
        UnhealthyThresholdCount: input.UnhealthyThresholdCount ?? 2,
        Matcher: { HttpCode: input.Matcher?.HttpCode ?? "200" },
        attributes: { ...TG_ATTRIBUTE_DEFAULTS },
        tags: validateTags(input.Tags),
      };
      checkHealthCheck(tg);
      const existing = [...state.targetGroups.values()].find((x) => x.TargetGroupName === input.Name);
      if (existing) {
        const settings = (x: FakeTargetGroup) => [x.Protocol, x.Port, x.VpcId, x.TargetType, ...HEALTH_CHECK_FIELDS.map((f) => x[f])];
        if (!sameJson(settings(existing), settings(tg))) throw fail("DuplicateTargetGroupNameException", `A target group with the same name '${input.Name}' exists, but with different settings`);
        return { TargetGroups: [describeTg(existing)] };
      }
      state.targetGroups.set(tg.TargetGroupArn, tg);
      return { TargetGroups: [describeTg(tg)] };
    },
    DescribeTargetGroups: (input) => {
      settle();
      const given = [input.Names?.length, input.TargetGroupArns?.length, input.LoadBalancerArn].filter(Boolean).length;
      if (given > 1) throw validation("Specify at most one of target group names, target group ARNs and a load balancer ARN");
      if (input.Names?.length) {
        return {
          TargetGroups: input.Names.map((name: string) => {
            const tg = [...state.targetGroups.values()].find((x) => x.TargetGroupName === name);
            if (!tg) throw tgNotFound(name);
            return describeTg(tg);
          }),
        };
      }
      if (input.TargetGroupArns?.length) return { TargetGroups: input.TargetGroupArns.map((a: string) => describeTg(tgByArn(a))) };
      const all = [...state.targetGroups.values()];
      if (input.LoadBalancerArn) {
        lbByArn(input.LoadBalancerArn, true);
        return { TargetGroups: all.filter((tg) => lbArnsOf(tg).includes(input.LoadBalancerArn)).map(describeTg) };
      }
      return { TargetGroups: all.map(describeTg) };
    },
    ModifyTargetGroup: (input) => {
      const tg = tgByArn(input.TargetGroupArn);
      const next = { ...tg, Matcher: { ...tg.Matcher } };
      for (const f of HEALTH_CHECK_FIELDS) if (input[f] !== undefined) (next as any)[f] = f === "Matcher" ? { HttpCode: input.Matcher.HttpCode } : input[f];
      checkHealthCheck(next);
      Object.assign(tg, next);
      return { TargetGroups: [describeTg(tg)] };
    },
    DescribeTargetGroupAttributes: (input) => ({ Attributes: Object.entries(tgByArn(input.TargetGroupArn).attributes).map(([Key, Value]) => ({ Key, Value })) }),
    ModifyTargetGroupAttributes: (input) => {
      const tg = tgByArn(input.TargetGroupArn);
      Object.assign(tg.attributes, checkAttributes(input.Attributes, TG_ATTRIBUTE_DEFAULTS));
      return { Attributes: Object.entries(tg.attributes).map(([Key, Value]) => ({ Key, Value })) };
    },
    DeleteTargetGroup: (input) => {
      const tg = tgByArn(input.TargetGroupArn);
      if (
        [...state.listeners.values()].some((l) => l.DefaultActions.some((a) => forwardsTo(a, tg.TargetGroupArn))) ||
        [...rules.values()].some((r) => r.Actions.some((a) => forwardsTo(a, tg.TargetGroupArn)))
      ) {
        throw fail("ResourceInUseException", `Target group '${tg.TargetGroupArn}' is currently in use by a listener or a rule`);
      }
      state.targetGroups.delete(tg.TargetGroupArn);
      return {};
    },
    DescribeTargetHealth: (input) => {
      tgByArn(input.TargetGroupArn);
      return { TargetHealthDescriptions: structuredClone(targetHealth.get(input.TargetGroupArn) ?? []) };
    },

    // ---- listeners ----
    CreateListener: (input) => {
      settle();
      const lb = lbByArn(input.LoadBalancerArn);
      if (!Number.isInteger(input.Port) || input.Port < 1 || input.Port > 65535) throw validation("A listener port between 1 and 65535 must be specified");
      const listener: FakeListener = {
        ListenerArn: arn(`listener/app/${lb.LoadBalancerName}/${lb.LoadBalancerArn.split("/").at(-1)}/${hex()}`),
        LoadBalancerArn: lb.LoadBalancerArn,
        Port: input.Port,
        Protocol: input.Protocol,
        ...tls(input.Protocol, input.Certificates, input.SslPolicy),
        DefaultActions: expandActions(lb, input.DefaultActions),
        tags: validateTags(input.Tags),
      };
      const onPort = [...state.listeners.values()].find((l) => l.LoadBalancerArn === lb.LoadBalancerArn && l.Port === input.Port);
      if (onPort) {
        // Idempotent: the same settings on the same port return the existing listener.
        if (!sameJson(describeListener({ ...onPort, ListenerArn: "" }), describeListener({ ...listener, ListenerArn: "" }))) {
          throw fail("DuplicateListenerException", `A listener already exists on this port for this load balancer '${lb.LoadBalancerArn}'`);
        }
        return { Listeners: [describeListener(onPort)] };
      }
      state.listeners.set(listener.ListenerArn, listener);
      return { Listeners: [describeListener(listener)] };
    },
    DescribeListeners: (input) => {
      settle();
      if (input.ListenerArns?.length && input.LoadBalancerArn) throw validation("Listener ARNs and a load balancer ARN cannot be specified at the same time");
      if (input.ListenerArns?.length) return { Listeners: input.ListenerArns.map((a: string) => describeListener(listenerByArn(a))) };
      if (!input.LoadBalancerArn) throw validation("You must specify either listener ARNs or a load balancer ARN");
      lbByArn(input.LoadBalancerArn, true);
      return { Listeners: [...state.listeners.values()].filter((l) => l.LoadBalancerArn === input.LoadBalancerArn).map(describeListener) };
    },
    ModifyListener: (input) => {
      settle();
      const l = listenerByArn(input.ListenerArn);
      const lb = lbByArn(l.LoadBalancerArn);
      const port = input.Port ?? l.Port;
      if (port !== l.Port && [...state.listeners.values()].some((x) => x.LoadBalancerArn === l.LoadBalancerArn && x.Port === port)) {
        throw fail("DuplicateListenerException", `A listener already exists on this port for this load balancer '${l.LoadBalancerArn}'`);
      }
      const protocol = input.Protocol ?? l.Protocol;
      // Switching to HTTP drops the certificates and policy; staying on HTTPS keeps those not given.
      const nextTls = protocol === "HTTP" ? tls("HTTP", input.Certificates, input.SslPolicy) : tls(protocol, input.Certificates, input.SslPolicy, l);
      const actions = input.DefaultActions ? expandActions(lb, input.DefaultActions) : l.DefaultActions;
      delete l.Certificates;
      delete l.SslPolicy;
      Object.assign(l, { Port: port, Protocol: protocol, ...nextTls, DefaultActions: actions });
      return { Listeners: [describeListener(l)] };
    },
    DeleteListener: (input) => {
      deleteListener(listenerByArn(input.ListenerArn));
      return {};
    },

    // ---- listener rules ----
    CreateRule: (input) => {
      settle();
      const l = listenerByArn(input.ListenerArn);
      checkPriority(l.ListenerArn, input.Priority);
      const rule: FakeRule = {
        RuleArn: `${l.ListenerArn.replace(":listener/", ":listener-rule/")}/${hex()}`,
        ListenerArn: l.ListenerArn,
        Priority: input.Priority,
        Conditions: ruleConditions(input.Conditions),
        Actions: expandActions(lbByArn(l.LoadBalancerArn), input.Actions),
        tags: validateTags(input.Tags),
      };
      rules.set(rule.RuleArn, rule);
      return { Rules: [describeRule(rule)] };
    },
    DescribeRules: (input) => {
      settle();
      if (input.ListenerArn && input.RuleArns?.length) throw validation("Listener ARN and rule ARNs cannot be specified at the same time");
      if (input.RuleArns?.length) return { Rules: input.RuleArns.map((a: string) => describeRule(ruleByArn(a))) };
      const l = listenerByArn(input.ListenerArn);
      const own = [...rules.values()].filter((r) => r.ListenerArn === l.ListenerArn).sort((a, b) => a.Priority - b.Priority).map(describeRule);
      return { Rules: [...own, { RuleArn: `${l.ListenerArn.replace(":listener/", ":listener-rule/")}/default`, Priority: "default", Conditions: [], Actions: structuredClone(l.DefaultActions), IsDefault: true }] };
    },
    ModifyRule: (input) => {
      settle();
      const r = ruleByArn(input.RuleArn);
      const lb = lbByArn(state.listeners.get(r.ListenerArn)!.LoadBalancerArn);
      if (input.Conditions) r.Conditions = ruleConditions(input.Conditions);
      if (input.Actions) r.Actions = expandActions(lb, input.Actions);
      return { Rules: [describeRule(r)] };
    },
    SetRulePriorities: (input) => {
      for (const p of input.RulePriorities ?? []) {
        const r = ruleByArn(p.RuleArn);
        checkPriority(r.ListenerArn, p.Priority, r.RuleArn);
        r.Priority = p.Priority;
      }
      return { Rules: (input.RulePriorities ?? []).map((p: any) => describeRule(ruleByArn(p.RuleArn))) };
    },
    DeleteRule: (input) => {
      ruleByArn(input.RuleArn);
      rules.delete(input.RuleArn);
      return {};
    },

    // ---- tags ----
    DescribeTags: (input) => {
      settle();
      const arns: string[] = input.ResourceArns ?? [];
      if (!arns.length || arns.length > 20) throw validation("Between 1 and 20 resource ARNs must be specified");
      return { TagDescriptions: arns.map((a) => ({ ResourceArn: a, Tags: toTagList(taggable(a).tags) })) };
    },
    AddTags: (input) => {
      settle();
      for (const a of input.ResourceArns ?? []) {
        const item = taggable(a);
        item.tags = validateTags(input.Tags, item.tags);
      }
      return {};
    },
    RemoveTags: (input) => {
      settle();
      for (const a of input.ResourceArns ?? []) {
        const item = taggable(a);
        for (const k of input.TagKeys ?? []) delete item.tags[k];
      }
      return {};
    },
  };

  const model: ServiceModel = { service: "elbv2", client: ElasticLoadBalancingV2Client, handlers };
  const taggingSources: TagSource[] = [
    () => liveLbs().map((lb) => ({ arn: lb.LoadBalancerArn, tags: { ...lb.tags } })),
    () => [...state.targetGroups.values()].map((tg) => ({ arn: tg.TargetGroupArn, tags: { ...tg.tags } })),
    () => [...state.listeners.values()].map((l) => ({ arn: l.ListenerArn, tags: { ...l.tags } })),
    () => [...rules.values()].map((r) => ({ arn: r.RuleArn, tags: { ...r.tags } })),
  ];
  return { ...model, model, state, taggingSources };
}
