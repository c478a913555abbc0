import { EC2Client, EC2ServiceException } from "@aws-sdk/client-ec2";
import { awsError, type FakeCloud, fromTagList, type ServiceModel, type Tags, toTagList } from "./cloud.js";

/**
 * The EC2 part of the fake. Each resource kind lives in its own map, keyed by id, holding AWS's own shapes;
 * Describe* honour ids and the filters we use (tag:*, vpc-id, ...).
 */
export interface Ec2State {
  vpcs: Map<string, { VpcId: string; CidrBlock: string; State: string; Tags: Tags; EnableDnsSupport: boolean; EnableDnsHostnames: boolean }>;
  subnets: Map<string, { SubnetId: string; VpcId: string; CidrBlock: string; AvailabilityZone: string; MapPublicIpOnLaunch: boolean; State: string; Tags: Tags }>;
  /**
   * The other kinds, each in AWS's own shape with `Tags` as a record. Filled by test/fakes/ec2-routing.ts
   * (internet gateways, route tables, Elastic IPs, NAT gateways) and test/fakes/ec2-security.ts
   * (security groups and rules, network ACLs, flow logs, network interfaces).
   */
  internetGateways: Map<string, any>;
  routeTables: Map<string, any>;
  addresses: Map<string, any>;
  natGateways: Map<string, any>;
  securityGroups: Map<string, any>;
  securityGroupRules: Map<string, any>;
  networkAcls: Map<string, any>;
  flowLogs: Map<string, any>;
  networkInterfaces: Map<string, any>;
  /** Anything that can carry tags, by id, for CreateTags/DeleteTags. */
  tagged: Map<string, { Tags: Tags }>;
}

export function newEc2State(): Ec2State {
  return {
    vpcs: new Map(),
    subnets: new Map(),
    internetGateways: new Map(),
    routeTables: new Map(),
    addresses: new Map(),
    natGateways: new Map(),
    securityGroups: new Map(),
    securityGroupRules: new Map(),
    networkAcls: new Map(),
    flowLogs: new Map(),
    networkInterfaces: new Map(),
    tagged: new Map(),
  };
}

export const ec2Error = (code: string, message: string) => awsError(EC2ServiceException, code, message);

type Filter = { Name?: string; Values?: string[] };

/** Applies EC2 filters: `tag:Key`, and plain attribute filters mapped by `fields` (filter name → property). */
export function matchesFilters(item: Record<string, any>, filters: Filter[] | undefined, fields: Record<string, (item: any) => unknown> = {}): boolean {
  for (const f of filters ?? []) {
    const values = f.Values ?? [];
    if (f.Name?.startsWith("tag:")) {
      const key = f.Name.slice(4);
      if (!values.includes(item.Tags?.[key])) return false;
    } else if (f.Name === "tag-key") {
      if (!values.some((v) => v in (item.Tags ?? {}))) return false;
    } else {
      const get = fields[f.Name ?? ""];
      if (!get) throw new Error(`fake ec2: filter ${f.Name} is not modelled`);
      const v = get(item);
      const list = Array.isArray(v) ? v.map(String) : [String(v)];
      if (!values.some((x) => list.includes(x))) return false;
    }
  }
  return true;
}

/** Tags from TagSpecifications for one resource type. */
export function tagsFromSpecs(specs: { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[] | undefined, type: string): Tags {
  return fromTagList(specs?.find((s) => s.ResourceType === type)?.Tags);
}

export function withTagList<T extends { Tags: Tags }>(item: T): Omit<T, "Tags"> & { Tags: { Key: string; Value: string }[] } {
  return { ...item, Tags: toTagList(item.Tags) };
}

export const AVAILABILITY_ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"];

function byIds<T>(map: Map<string, T>, ids: string[] | undefined, notFound: string, what: string): T[] {
  if (!ids?.length) return [...map.values()];
  return ids.map((id) => {
    const item = map.get(id);
    if (!item) throw ec2Error(notFound, `The ${what} ID '${id}' does not exist`);
    return item;
  });
}

export function ec2Model(cloud: FakeCloud, state: Ec2State): ServiceModel {
  const handlers: Record<string, (input: any) => unknown> = {
    DescribeAvailabilityZones: () => ({
      AvailabilityZones: AVAILABILITY_ZONES.map((ZoneName, i) => ({ ZoneName, ZoneId: `use1-az${i + 1}`, State: "available", OptInStatus: "opt-in-not-required", ZoneType: "availability-zone" })),
    }),

    CreateVpc: (input) => {
      const vpc = { VpcId: cloud.id("vpc"), CidrBlock: input.CidrBlock, State: "available", Tags: tagsFromSpecs(input.TagSpecifications, "vpc"), EnableDnsSupport: true, EnableDnsHostnames: false };
      state.vpcs.set(vpc.VpcId, vpc);
      state.tagged.set(vpc.VpcId, vpc);
      return { Vpc: withTagList(pick(vpc, ["VpcId", "CidrBlock", "State", "Tags"])) };
    },
    DescribeVpcs: (input) => ({
      Vpcs: byIds(state.vpcs, input.VpcIds, "InvalidVpcID.NotFound", "vpc")
        .filter((v) => matchesFilters(v, input.Filters, { "vpc-id": (x) => x.VpcId, "cidr-block": (x) => x.CidrBlock }))
        .map((v) => withTagList(pick(v, ["VpcId", "CidrBlock", "State", "Tags"]))),
    }),
    DescribeVpcAttribute: (input) => {
      const vpc = state.vpcs.get(input.VpcId);
      if (!vpc) throw ec2Error("InvalidVpcID.NotFound", `The vpc ID '${input.VpcId}' does not exist`);
      if (input.Attribute === "enableDnsSupport") return { VpcId: vpc.VpcId, EnableDnsSupport: { Value: vpc.EnableDnsSupport } };
      if (input.Attribute === "enableDnsHostnames") return { VpcId: vpc.VpcId, EnableDnsHostnames: { Value: vpc.EnableDnsHostnames } };
      throw new Error(`fake ec2: attribute ${input.Attribute} is not modelled`);
    },
    ModifyVpcAttribute: (input) => {
      const vpc = state.vpcs.get(input.VpcId);
      if (!vpc) throw ec2Error("InvalidVpcID.NotFound", `The vpc ID '${input.VpcId}' does not exist`);
      const set = [input.EnableDnsSupport, input.EnableDnsHostnames].filter(Boolean);
      if (set.length !== 1) throw ec2Error("InvalidParameterCombination", "Exactly one attribute may be modified at a time");
      if (input.EnableDnsSupport) vpc.EnableDnsSupport = input.EnableDnsSupport.Value;
      if (input.EnableDnsHostnames) {
        if (input.EnableDnsHostnames.Value && !vpc.EnableDnsSupport) throw ec2Error("InvalidParameterValue", "DNS hostnames require DNS support");
        vpc.EnableDnsHostnames = input.EnableDnsHostnames.Value;
      }
      return {};
    },
    DeleteVpc: (input) => {
      if (!state.vpcs.has(input.VpcId)) throw ec2Error("InvalidVpcID.NotFound", `The vpc ID '${input.VpcId}' does not exist`);
      const dependents = dependentsOfVpc(state, input.VpcId);
      if (dependents.length) throw ec2Error("DependencyViolation", `The vpc '${input.VpcId}' has dependencies and cannot be deleted: ${dependents.join(", ")}`);
      state.vpcs.delete(input.VpcId);
      state.tagged.delete(input.VpcId);
      return {};
    },

    CreateSubnet: (input) => {
      const vpc = state.vpcs.get(input.VpcId);
      if (!vpc) throw ec2Error("InvalidVpcID.NotFound", `The vpc ID '${input.VpcId}' does not exist`);
      if (!AVAILABILITY_ZONES.includes(input.AvailabilityZone)) throw ec2Error("InvalidParameterValue", `Value (${input.AvailabilityZone}) for parameter availabilityZone is invalid`);
      for (const s of state.subnets.values()) {
        if (s.VpcId === input.VpcId && s.CidrBlock === input.CidrBlock) throw ec2Error("InvalidSubnet.Conflict", `The CIDR '${input.CidrBlock}' conflicts with another subnet`);
      }
      const subnet = { SubnetId: cloud.id("subnet"), VpcId: input.VpcId, CidrBlock: input.CidrBlock, AvailabilityZone: input.AvailabilityZone, MapPublicIpOnLaunch: false, State: "available", Tags: tagsFromSpecs(input.TagSpecifications, "subnet") };
      state.subnets.set(subnet.SubnetId, subnet);
      state.tagged.set(subnet.SubnetId, subnet);
      return { Subnet: withTagList(subnet) };
    },
    DescribeSubnets: (input) => ({
      Subnets: byIds(state.subnets, input.SubnetIds, "InvalidSubnetID.NotFound", "subnet")
        .filter((s) => matchesFilters(s, input.Filters, { "vpc-id": (x) => x.VpcId, "subnet-id": (x) => x.SubnetId }))
        .map(withTagList),
    }),
    ModifySubnetAttribute: (input) => {
      const subnet = state.subnets.get(input.SubnetId);
      if (!subnet) throw ec2Error("InvalidSubnetID.NotFound", `The subnet ID '${input.SubnetId}' does not exist`);
      if (input.MapPublicIpOnLaunch) subnet.MapPublicIpOnLaunch = input.MapPublicIpOnLaunch.Value;
      return {};
    },
    DeleteSubnet: (input) => {
      if (!state.subnets.has(input.SubnetId)) throw ec2Error("InvalidSubnetID.NotFound", `The subnet ID '${input.SubnetId}' does not exist`);
      state.subnets.delete(input.SubnetId);
      state.tagged.delete(input.SubnetId);
      return {};
    },

    CreateTags: (input) => {
      for (const id of input.Resources ?? []) {
        const item = state.tagged.get(id);
        if (!item) throw ec2Error("InvalidID", `The ID '${id}' is not valid`);
        Object.assign(item.Tags, fromTagList(input.Tags));
      }
      return {};
    },
    DeleteTags: (input) => {
      for (const id of input.Resources ?? []) {
        const item = state.tagged.get(id);
        if (!item) throw ec2Error("InvalidID", `The ID '${id}' is not valid`);
        for (const t of input.Tags ?? []) delete item.Tags[t.Key];
      }
      return {};
    },
  };
  return { service: "ec2", client: EC2Client, handlers: { ...handlers, ...extraEc2Handlers.flatMap((h) => Object.entries(h(cloud, state))).reduce((acc, [k, v]) => ({ ...acc, [k]: v }), {}) } };
}

/** Handler sets for the other EC2 kinds, registered by their files (ec2-routing.ts, ec2-security.ts). */
export const extraEc2Handlers: ((cloud: FakeCloud, state: Ec2State) => Record<string, (input: any) => unknown>)[] = [];

/** What still lives in a VPC; DeleteVpc fails with DependencyViolation while any of it exists. */
export function dependentsOfVpc(state: Ec2State, vpcId: string): string[] {
  const inVpc = (m: Map<string, any>, idKey: string, isDefault?: (x: any) => boolean) =>
    [...m.values()].filter((x) => x.VpcId === vpcId && !isDefault?.(x)).map((x) => x[idKey] as string);
  return [
    ...inVpc(state.subnets, "SubnetId"),
    ...[...state.internetGateways.values()].filter((g) => g.Attachments?.some((a: any) => a.VpcId === vpcId)).map((g) => g.InternetGatewayId),
    ...inVpc(state.routeTables, "RouteTableId", (rt) => rt.Associations?.some((a: any) => a.Main)),
    ...inVpc(state.securityGroups, "GroupId", (g) => g.GroupName === "default"),
    ...inVpc(state.networkAcls, "NetworkAclId", (n) => n.IsDefault),
    ...inVpc(state.networkInterfaces, "NetworkInterfaceId"),
  ];
}

export function pick<T extends object, K extends keyof T>(item: T, keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, item[k]])) as Pick<T, K>;
}
