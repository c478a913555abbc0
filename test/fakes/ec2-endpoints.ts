import type { FakeCloud, Tags } from "./cloud.js";
import { type Ec2State, ec2Error, extraEc2Handlers, matchesFilters, tagsFromSpecs, withTagList } from "./ec2.js";

/**
 * The VPC endpoint part of the EC2 fake: gateway endpoints (S3, DynamoDB), available at once, and interface endpoints
 * (any other service), pending until cloud.ready("vpcEndpoint") and deleting until cloud.ready("vpcEndpointDelete");
 * deleted endpoints stay listed as "deleted" for a while, as in AWS. ClientToken idempotency as EC2 has it (same token
 * and parameters: the first response; other parameters: IdempotentParameterMismatch). Not modelled: the endpoints'
 * network interfaces and prefix-list routes, policies, and the tagging API listing them.
 */
export function registerEndpointsFake(): void {
  if (!extraEc2Handlers.includes(endpointHandlers)) extraEc2Handlers.push(endpointHandlers);
}

type Endpoint = {
  VpcEndpointId: string;
  VpcEndpointType: "Gateway" | "Interface";
  VpcId: string;
  ServiceName: string;
  RouteTableIds: string[];
  SubnetIds: string[];
  Groups: { GroupId: string; GroupName: string }[];
  PrivateDnsEnabled: boolean;
  CreationTimestamp: Date;
  Tags: Tags;
  createdAt: number;
  deletingSince?: number;
  /** Set by tests to drift an endpoint by hand. */
  pinnedState?: string;
};

const GATEWAY_SERVICES = /^com\.amazonaws\.[a-z0-9-]+\.(s3|dynamodb)$/;
const SERVICE_NAME = /^com\.amazonaws\.[a-z0-9-]+\.[a-z0-9.-]+$/;

const endpointsOf = new WeakMap<Ec2State, Map<string, Endpoint>>();
const tokensOf = new WeakMap<Ec2State, Map<string, { params: string; response: unknown }>>();

/** The fake's endpoints of an EC2 state (for tests that read or drift them). */
export function vpcEndpoints(state: Ec2State): Map<string, Endpoint> {
  let map = endpointsOf.get(state);
  if (!map) endpointsOf.set(state, (map = new Map()));
  return map;
}

function endpointHandlers(cloud: FakeCloud, state: Ec2State): Record<string, (input: any) => unknown> {
  const endpoints = vpcEndpoints(state);
  const stateOf = (e: Endpoint) => {
    if (e.pinnedState) return e.pinnedState;
    if (e.deletingSince !== undefined) return cloud.ready("vpcEndpointDelete", e.deletingSince) ? "deleted" : "deleting";
    if (e.VpcEndpointType === "Gateway") return "available";
    return cloud.ready("vpcEndpoint", e.createdAt) ? "available" : "pending";
  };
  const out = (e: Endpoint) => {
    const { createdAt: _c, deletingSince: _d, pinnedState: _p, ...rest } = e;
    return withTagList({ ...structuredClone(rest), State: stateOf(e) });
  };
  const check = (input: any) => {
    if (!state.vpcs.has(input.VpcId)) throw ec2Error("InvalidVpcID.NotFound", `The vpc ID '${input.VpcId}' does not exist`);
    for (const s of input.SubnetIds ?? []) if (!state.subnets.has(s)) throw ec2Error("InvalidSubnetID.NotFound", `The subnet ID '${s}' does not exist`);
    for (const g of input.SecurityGroupIds ?? input.AddSecurityGroupIds ?? []) if (!state.securityGroups.has(g)) throw ec2Error("InvalidGroup.NotFound", `The security group '${g}' does not exist`);
    for (const r of input.RouteTableIds ?? input.AddRouteTableIds ?? []) if (!state.routeTables.has(r)) throw ec2Error("InvalidRouteTableId.NotFound", `The routeTable ID '${r}' does not exist`);
  };
  const groupsOf = (ids: string[]) => ids.map((id) => ({ GroupId: id, GroupName: state.securityGroups.get(id)?.GroupName ?? id }));
  return {
    CreateVpcEndpoint: (input) => {
      const type = input.VpcEndpointType ?? "Gateway";
      if (!SERVICE_NAME.test(input.ServiceName ?? "")) throw ec2Error("InvalidServiceName", `The Vpc Endpoint Service '${input.ServiceName}' does not exist`);
      if (type === "Gateway" && !GATEWAY_SERVICES.test(input.ServiceName)) throw ec2Error("InvalidParameter", `The Vpc Endpoint Service '${input.ServiceName}' does not support the endpoint type Gateway`);
      if (type === "Gateway" && (input.SubnetIds?.length || input.SecurityGroupIds?.length)) throw ec2Error("InvalidParameter", "Subnets and security groups are for interface endpoints");
      if (type === "Interface" && input.RouteTableIds?.length) throw ec2Error("InvalidParameter", "Route tables are for gateway endpoints");
      if (type === "Interface" && !input.SubnetIds?.length) throw ec2Error("InvalidParameter", "An interface endpoint needs at least one subnet");
      const subnetAzs = (input.SubnetIds ?? []).map((s: string) => state.subnets.get(s)?.AvailabilityZone);
      if (new Set(subnetAzs).size !== subnetAzs.length) throw ec2Error("DuplicateSubnetsInSameZone", "Found another VPC endpoint subnet in the availability zone");
      check(input);
      const params = JSON.stringify({ ...input, ClientToken: undefined });
      let tokens = tokensOf.get(state);
      if (!tokens) tokensOf.set(state, (tokens = new Map()));
      const first = input.ClientToken ? tokens.get(input.ClientToken) : undefined;
      if (first && first.params !== params) throw ec2Error("IdempotentParameterMismatch", `Client token ${input.ClientToken} was already used with different parameters`);
      if (first) return structuredClone(first.response);
      if (type === "Interface" && input.PrivateDnsEnabled) {
        const clash = [...endpoints.values()].find((e) => e.VpcId === input.VpcId && e.ServiceName === input.ServiceName && e.PrivateDnsEnabled && !["deleted", "deleting"].includes(stateOf(e)));
        if (clash) throw ec2Error("InvalidParameter", `private-dns-enabled cannot be set because there is already a conflicting DNS domain for ${input.ServiceName} in the VPC ${input.VpcId}`);
      }
      const e: Endpoint = {
        VpcEndpointId: cloud.id("vpce"),
        VpcEndpointType: type,
        VpcId: input.VpcId,
        ServiceName: input.ServiceName,
        RouteTableIds: [...(input.RouteTableIds ?? [])],
        SubnetIds: [...(input.SubnetIds ?? [])],
        Groups: groupsOf(input.SecurityGroupIds ?? []),
        PrivateDnsEnabled: type === "Interface" ? (input.PrivateDnsEnabled ?? true) : false,
        CreationTimestamp: new Date(),
        Tags: tagsFromSpecs(input.TagSpecifications, "vpc-endpoint"),
        createdAt: cloud.elapsed(),
      };
      endpoints.set(e.VpcEndpointId, e);
      state.tagged.set(e.VpcEndpointId, e);
      const response = { VpcEndpoint: out(e), ...(input.ClientToken ? { ClientToken: input.ClientToken } : {}) };
      if (input.ClientToken) tokens.set(input.ClientToken, { params, response: structuredClone(response) });
      return response;
    },
    DescribeVpcEndpoints: (input) => {
      for (const id of input.VpcEndpointIds ?? []) {
        if (!endpoints.has(id)) throw ec2Error("InvalidVpcEndpointId.NotFound", `The Vpc Endpoint Id '${id}' does not exist`);
      }
      const listed = input.VpcEndpointIds?.length ? input.VpcEndpointIds.map((id: string) => endpoints.get(id)!) : [...endpoints.values()];
      return {
        VpcEndpoints: listed
          .filter((e: Endpoint) =>
            matchesFilters(e, input.Filters, {
              "vpc-endpoint-id": (x: Endpoint) => x.VpcEndpointId,
              "vpc-id": (x: Endpoint) => x.VpcId,
              "service-name": (x: Endpoint) => x.ServiceName,
              "vpc-endpoint-state": (x: Endpoint) => stateOf(x),
              "vpc-endpoint-type": (x: Endpoint) => x.VpcEndpointType,
            }),
          )
          .map(out),
      };
    },
    ModifyVpcEndpoint: (input) => {
      const e = endpoints.get(input.VpcEndpointId);
      if (!e || ["deleted", "deleting"].includes(stateOf(e))) throw ec2Error("InvalidVpcEndpointId.NotFound", `The Vpc Endpoint Id '${input.VpcEndpointId}' does not exist`);
      check({ ...input, VpcId: e.VpcId });
      const gateway = e.VpcEndpointType === "Gateway";
      if (gateway && (input.AddSubnetIds?.length || input.AddSecurityGroupIds?.length)) throw ec2Error("InvalidParameter", "Subnets and security groups are for interface endpoints");
      if (!gateway && input.AddRouteTableIds?.length) throw ec2Error("InvalidParameter", "Route tables are for gateway endpoints");
      const edit = (list: string[], add: string[] = [], remove: string[] = []) => [...list.filter((x) => !remove.includes(x)), ...add.filter((x) => !list.includes(x))];
      e.RouteTableIds = edit(e.RouteTableIds, input.AddRouteTableIds, input.RemoveRouteTableIds);
      e.SubnetIds = edit(e.SubnetIds, input.AddSubnetIds, input.RemoveSubnetIds);
      e.Groups = groupsOf(edit(e.Groups.map((g) => g.GroupId), input.AddSecurityGroupIds, input.RemoveSecurityGroupIds));
      if (!gateway && e.Groups.length === 0) throw ec2Error("InvalidParameter", "An interface endpoint needs at least one security group");
      if (input.PrivateDnsEnabled !== undefined) e.PrivateDnsEnabled = input.PrivateDnsEnabled;
      return { Return: true };
    },
    DeleteVpcEndpoints: (input) => {
      const Unsuccessful: unknown[] = [];
      for (const id of input.VpcEndpointIds ?? []) {
        const e = endpoints.get(id);
        if (!e || stateOf(e) === "deleted") {
          Unsuccessful.push({ ResourceId: id, Error: { Code: "InvalidVpcEndpoint.NotFound", Message: `The VPC endpoint '${id}' does not exist` } });
          continue;
        }
        if (e.deletingSince === undefined) e.deletingSince = cloud.elapsed();
        state.tagged.delete(id);
      }
      return { Unsuccessful };
    },
  };
}
