import { type FakeCloud, type Tags, toTagList } from "./cloud.js";
import { type Ec2State, ec2Error, extraEc2Handlers, matchesFilters, tagsFromSpecs, withTagList } from "./ec2.js";

/**
 * The routing part of the EC2 fake: internet gateways, route tables with their routes and associations, Elastic IPs and
 * NAT gateways, in AWS's shapes, in the maps Ec2State declares for them. It models what the resource modules and the SDK
 * waiters rely on: ClientToken idempotency, the "already exists" and "in use" errors, NAT gateways that stay pending
 * (cloud.ready("natGateway")) and deleting (cloud.ready("natGatewayDelete")), deleted gateways that stay listed.
 * Not modelled: a VPC's main route table (nothing here reads it), the network interfaces NAT gateways place in their
 * subnet, and the Gateway.NotAttached failure of a public NAT gateway created before the VPC has an internet gateway.
 */
export function registerRoutingFake(): void {
  if (!extraEc2Handlers.includes(routingHandlers)) extraEc2Handlers.push(routingHandlers);
}

type Handlers = Record<string, (input: any) => unknown>;

type Igw = { InternetGatewayId: string; OwnerId: string; Attachments: { VpcId: string; State: string }[]; Tags: Tags };
type Route = { DestinationCidrBlock: string; GatewayId?: string; NatGatewayId?: string; Origin: string };
type Association = { RouteTableAssociationId: string; RouteTableId: string; SubnetId?: string; Main: boolean; AssociationState: { State: string } };
type Table = { RouteTableId: string; VpcId: string; OwnerId: string; Routes: Route[]; Associations: Association[]; Tags: Tags };
type Eip = { AllocationId: string; PublicIp: string; Domain: string; PublicIpv4Pool: string; NetworkBorderGroup: string; Tags: Tags };
type NatAddress = { AllocationId: string; PublicIp: string; PrivateIp: string; NetworkInterfaceId: string; AssociationId: string; IsPrimary: boolean; Status: string };
type Nat = {
  NatGatewayId: string;
  SubnetId: string;
  VpcId: string;
  ConnectivityType: string;
  NatGatewayAddresses: NatAddress[];
  CreateTime: Date;
  FailureCode?: string;
  FailureMessage?: string;
  Tags: Tags;
  /** Derived from the times below (an accessor); assigning it pins it, for tests that drift a gateway by hand. */
  State: string;
  createdAt: number;
  deletingSince?: number;
  pinnedState?: string;
};

/** States in which a NAT gateway still holds its Elastic IP and its place in the VPC. */
const NAT_HOLDS_ADDRESS = ["pending", "available", "deleting"];

function routingHandlers(cloud: FakeCloud, state: Ec2State): Handlers {
  return {
    ...internetGatewayHandlers(cloud, state),
    ...routeTableHandlers(cloud, state),
    ...routeHandlers(state),
    ...associationHandlers(cloud, state),
    ...addressHandlers(cloud, state),
    ...natGatewayHandlers(cloud, state),
  };
}

// ---- shared helpers ----

/** ClientTokens seen by CreateRouteTable and CreateNatGateway, per state: token → the request's parameters and the first response. */
const tokens = new WeakMap<Ec2State, Map<string, { params: string; response: unknown }>>();

/**
 * Same token and parameters: the first response again, even when its resource has since been deleted;
 * same token, other parameters: IdempotentParameterMismatch.
 */
function idempotent(state: Ec2State, token: string | undefined, params: unknown, respond: () => unknown): unknown {
  if (!token) return respond();
  let seen = tokens.get(state);
  if (!seen) tokens.set(state, (seen = new Map()));
  const json = JSON.stringify(params);
  const first = seen.get(token);
  if (first && first.params !== json) throw ec2Error("IdempotentParameterMismatch", `Client token ${token} was already used with different parameters`);
  if (first) return structuredClone(first.response);
  const response = structuredClone(respond());
  seen.set(token, { params: json, response });
  return response;
}

function getOr<T>(map: Map<string, T>, id: string | undefined, code: string, message: string): T {
  const item = id === undefined ? undefined : map.get(id);
  if (!item) throw ec2Error(code, message);
  return item;
}

function byIds<T>(map: Map<string, T>, ids: string[] | undefined, code: string, what: string): T[] {
  if (!ids?.length) return [...map.values()];
  return ids.map((id) => getOr(map, id, code, `The ${what} '${id}' does not exist`));
}

const vpcOf = (state: Ec2State, vpcId: string | undefined) => getOr(state.vpcs, vpcId, "InvalidVpcID.NotFound", `The vpc ID '${vpcId}' does not exist`);
const subnetOf = (state: Ec2State, subnetId: string | undefined) =>
  getOr(state.subnets, subnetId, "InvalidSubnetID.NotFound", `The subnet ID '${subnetId}' does not exist`);

function register<T extends { Tags: Tags }>(state: Ec2State, map: Map<string, T>, id: string, item: T): T {
  map.set(id, item);
  state.tagged.set(id, item);
  return item;
}

function unregister(state: Ec2State, map: Map<string, unknown>, id: string): void {
  map.delete(id);
  state.tagged.delete(id);
}

/** NAT gateways that still hold their address, in a VPC or using an allocation. */
function liveNats(state: Ec2State, where: (n: Nat) => boolean): Nat[] {
  return [...(state.natGateways.values() as Iterable<Nat>)].filter((n) => NAT_HOLDS_ADDRESS.includes(n.State) && where(n));
}

// ---- internet gateways ----

function internetGatewayHandlers(cloud: FakeCloud, state: Ec2State): Handlers {
  const gateways = state.internetGateways as Map<string, Igw>;
  const igwOf = (id: string | undefined) => getOr(gateways, id, "InvalidInternetGatewayID.NotFound", `The internetGateway ID '${id}' does not exist`);
  return {
    CreateInternetGateway: (input) => {
      const igw: Igw = { InternetGatewayId: cloud.id("igw"), OwnerId: cloud.accountId, Attachments: [], Tags: tagsFromSpecs(input.TagSpecifications, "internet-gateway") };
      register(state, gateways, igw.InternetGatewayId, igw);
      return { InternetGateway: withTagList(igw) };
    },
    DescribeInternetGateways: (input) => ({
      InternetGateways: byIds(gateways, input.InternetGatewayIds, "InvalidInternetGatewayID.NotFound", "internetGateway ID")
        .filter((g) =>
          matchesFilters(g, input.Filters, {
            "internet-gateway-id": (x) => x.InternetGatewayId,
            "attachment.vpc-id": (x) => x.Attachments.map((a: Igw["Attachments"][number]) => a.VpcId),
            "attachment.state": (x) => x.Attachments.map((a: Igw["Attachments"][number]) => a.State),
          }),
        )
        .map(withTagList),
    }),
    AttachInternetGateway: (input) => {
      const igw = igwOf(input.InternetGatewayId);
      vpcOf(state, input.VpcId);
      if (igw.Attachments.length) throw ec2Error("Resource.AlreadyAssociated", `resource ${igw.InternetGatewayId} is already attached to network ${igw.Attachments[0]!.VpcId}`);
      const other = [...gateways.values()].find((g) => g.Attachments.some((a) => a.VpcId === input.VpcId));
      if (other) throw ec2Error("Resource.AlreadyAssociated", `network ${input.VpcId} already has an internet gateway attached (${other.InternetGatewayId})`);
      igw.Attachments = [{ VpcId: input.VpcId, State: "available" }];
      return {};
    },
    DetachInternetGateway: (input) => {
      const igw = igwOf(input.InternetGatewayId);
      vpcOf(state, input.VpcId);
      if (!igw.Attachments.some((a) => a.VpcId === input.VpcId)) throw ec2Error("Gateway.NotAttached", `resource ${igw.InternetGatewayId} is not attached to network ${input.VpcId}`);
      if (liveNats(state, (n) => n.VpcId === input.VpcId).length) {
        throw ec2Error("DependencyViolation", `Network ${input.VpcId} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.`);
      }
      igw.Attachments = [];
      return {};
    },
    DeleteInternetGateway: (input) => {
      const igw = igwOf(input.InternetGatewayId);
      if (igw.Attachments.length) throw ec2Error("DependencyViolation", `The internetGateway '${igw.InternetGatewayId}' has dependencies and cannot be deleted.`);
      unregister(state, gateways, igw.InternetGatewayId);
      return {};
    },
  };
}

// ---- route tables ----

function routeState(state: Ec2State, table: Table, r: Route): string {
  if (r.GatewayId === "local") return "active";
  if (r.GatewayId) return (state.internetGateways.get(r.GatewayId) as Igw | undefined)?.Attachments.some((a) => a.VpcId === table.VpcId) ? "active" : "blackhole";
  return (state.natGateways.get(r.NatGatewayId!) as Nat | undefined)?.State === "available" ? "active" : "blackhole";
}

function tableOut(state: Ec2State, t: Table) {
  return {
    ...withTagList(t),
    Routes: t.Routes.map((r) => ({ ...r, State: routeState(state, t, r) })),
    Associations: t.Associations.map((a) => ({ ...a })),
    PropagatingVgws: [],
  };
}

const tableOf = (state: Ec2State, id: string | undefined) =>
  getOr(state.routeTables as Map<string, Table>, id, "InvalidRouteTableID.NotFound", `The routeTable ID '${id}' does not exist`);

function routeTableHandlers(cloud: FakeCloud, state: Ec2State): Handlers {
  const tables = state.routeTables as Map<string, Table>;
  const create = (input: any) => () => {
    const vpc = vpcOf(state, input.VpcId);
    const table: Table = {
      RouteTableId: cloud.id("rtb"),
      VpcId: vpc.VpcId,
      OwnerId: cloud.accountId,
      Routes: [{ DestinationCidrBlock: vpc.CidrBlock, GatewayId: "local", Origin: "CreateRouteTable" }],
      Associations: [],
      Tags: tagsFromSpecs(input.TagSpecifications, "route-table"),
    };
    register(state, tables, table.RouteTableId, table);
    return { RouteTable: tableOut(state, table), ...(input.ClientToken ? { ClientToken: input.ClientToken } : {}) };
  };
  return {
    CreateRouteTable: (input) => idempotent(state, input.ClientToken, { VpcId: input.VpcId, TagSpecifications: input.TagSpecifications }, create(input)),
    DescribeRouteTables: (input) => ({
      RouteTables: byIds(tables, input.RouteTableIds, "InvalidRouteTableID.NotFound", "routeTable ID")
        .filter((t) =>
          matchesFilters(t, input.Filters, {
            "vpc-id": (x: Table) => x.VpcId,
            "route-table-id": (x: Table) => x.RouteTableId,
            "association.subnet-id": (x: Table) => x.Associations.flatMap((a) => (a.SubnetId ? [a.SubnetId] : [])),
            "association.route-table-association-id": (x: Table) => x.Associations.map((a) => a.RouteTableAssociationId),
            "association.main": (x: Table) => String(x.Associations.some((a) => a.Main)),
            "route.destination-cidr-block": (x: Table) => x.Routes.map((r) => r.DestinationCidrBlock),
            "route.gateway-id": (x: Table) => x.Routes.flatMap((r) => (r.GatewayId ? [r.GatewayId] : [])),
            "route.nat-gateway-id": (x: Table) => x.Routes.flatMap((r) => (r.NatGatewayId ? [r.NatGatewayId] : [])),
          }),
        )
        .map((t) => tableOut(state, t)),
    }),
    DeleteRouteTable: (input) => {
      const table = tableOf(state, input.RouteTableId);
      if (table.Associations.length) throw ec2Error("DependencyViolation", `The routeTable '${table.RouteTableId}' has dependencies and cannot be deleted.`);
      unregister(state, tables, table.RouteTableId);
      return {};
    },
  };
}

// ---- routes ----

/** The one target of a CreateRoute/ReplaceRoute request, checked against what exists. */
function routeTarget(state: Ec2State, table: Table, input: any): Pick<Route, "GatewayId" | "NatGatewayId"> {
  const given = ["GatewayId", "NatGatewayId"].filter((k) => input[k]);
  if (given.length !== 1) throw ec2Error(given.length ? "InvalidParameterCombination" : "MissingParameter", "Exactly one route target must be specified");
  if (input.GatewayId) {
    const igw = state.internetGateways.get(input.GatewayId) as Igw | undefined;
    if (!igw) throw ec2Error("InvalidGatewayID.NotFound", `The gateway ID '${input.GatewayId}' does not exist`);
    if (!igw.Attachments.some((a) => a.VpcId === table.VpcId)) {
      throw ec2Error("InvalidParameterValue", `route table ${table.RouteTableId} and network gateway ${input.GatewayId} belong to different networks`);
    }
    return { GatewayId: input.GatewayId };
  }
  const nat = state.natGateways.get(input.NatGatewayId) as Nat | undefined;
  if (!nat || nat.State === "deleted") throw ec2Error("InvalidNatGatewayID.NotFound", `The natGateway ID '${input.NatGatewayId}' does not exist`);
  if (nat.VpcId !== table.VpcId) throw ec2Error("InvalidParameterValue", `route table ${table.RouteTableId} and NAT gateway ${nat.NatGatewayId} belong to different networks`);
  return { NatGatewayId: input.NatGatewayId };
}

function routeHandlers(state: Ec2State): Handlers {
  const routeIn = (table: Table, cidr: string) => table.Routes.find((r) => r.DestinationCidrBlock === cidr);
  const missing = (table: Table, cidr: string) =>
    ec2Error("InvalidRoute.NotFound", `no route with destination-cidr-block ${cidr} in route table ${table.RouteTableId}`);
  return {
    CreateRoute: (input) => {
      const table = tableOf(state, input.RouteTableId);
      const target = routeTarget(state, table, input);
      if (routeIn(table, input.DestinationCidrBlock)) {
        throw ec2Error("RouteAlreadyExists", `The route identified by ${input.DestinationCidrBlock} already exists.`);
      }
      table.Routes.push({ DestinationCidrBlock: input.DestinationCidrBlock, ...target, Origin: "CreateRoute" });
      return { Return: true };
    },
    ReplaceRoute: (input) => {
      const table = tableOf(state, input.RouteTableId);
      const existing = routeIn(table, input.DestinationCidrBlock);
      if (!existing) throw missing(table, input.DestinationCidrBlock);
      if (existing.GatewayId === "local") throw ec2Error("InvalidParameterValue", "cannot replace the local route");
      const target = routeTarget(state, table, input);
      table.Routes[table.Routes.indexOf(existing)] = { DestinationCidrBlock: input.DestinationCidrBlock, ...target, Origin: "CreateRoute" };
      return {};
    },
    DeleteRoute: (input) => {
      const table = tableOf(state, input.RouteTableId);
      const existing = routeIn(table, input.DestinationCidrBlock);
      if (!existing) throw missing(table, input.DestinationCidrBlock);
      if (existing.GatewayId === "local") throw ec2Error("InvalidParameterValue", `cannot remove local route ${input.DestinationCidrBlock} in route table ${table.RouteTableId}`);
      table.Routes.splice(table.Routes.indexOf(existing), 1);
      return {};
    },
  };
}

// ---- route table associations ----

function associationHandlers(cloud: FakeCloud, state: Ec2State): Handlers {
  const tables = state.routeTables as Map<string, Table>;
  const find = (associationId: string) => {
    for (const table of tables.values()) {
      const association = table.Associations.find((a) => a.RouteTableAssociationId === associationId);
      if (association) return { table, association };
    }
    throw ec2Error("InvalidAssociationID.NotFound", `The association ID '${associationId}' does not exist`);
  };
  const sameVpc = (table: Table, vpcId: string) => {
    if (table.VpcId !== vpcId) throw ec2Error("InvalidParameterValue", `route table ${table.RouteTableId} and subnet belong to different networks`);
  };
  const add = (table: Table, fields: { SubnetId?: string; Main: boolean }): Association => {
    const association = { RouteTableAssociationId: cloud.id("rtbassoc"), RouteTableId: table.RouteTableId, ...fields, AssociationState: { State: "associated" } };
    table.Associations.push(association);
    return association;
  };
  return {
    AssociateRouteTable: (input) => {
      const table = tableOf(state, input.RouteTableId);
      const subnet = subnetOf(state, input.SubnetId);
      sameVpc(table, subnet.VpcId);
      if ([...tables.values()].some((t) => t.Associations.some((a) => a.SubnetId === subnet.SubnetId))) {
        throw ec2Error("Resource.AlreadyAssociated", `the specified association for route table ${table.RouteTableId} conflicts with an existing association`);
      }
      const association = add(table, { SubnetId: subnet.SubnetId, Main: false });
      return { AssociationId: association.RouteTableAssociationId, AssociationState: { State: "associated" } };
    },
    ReplaceRouteTableAssociation: (input) => {
      const { table: from, association } = find(input.AssociationId);
      const to = tableOf(state, input.RouteTableId);
      sameVpc(to, from.VpcId);
      from.Associations.splice(from.Associations.indexOf(association), 1);
      const moved = add(to, { ...(association.SubnetId ? { SubnetId: association.SubnetId } : {}), Main: association.Main });
      return { NewAssociationId: moved.RouteTableAssociationId, AssociationState: { State: "associated" } };
    },
    DisassociateRouteTable: (input) => {
      const { table, association } = find(input.AssociationId);
      if (association.Main) throw ec2Error("InvalidParameterValue", `cannot disassociate the main route table association ${association.RouteTableAssociationId}`);
      table.Associations.splice(table.Associations.indexOf(association), 1);
      return {};
    },
  };
}

// ---- Elastic IPs ----

/** A documentation-range public address derived from the allocation id's counter, so each is distinct. */
function publicIpFor(allocationId: string): string {
  const n = parseInt(allocationId.slice(-4), 16);
  return `198.51.${(n >> 8) & 0xff}.${n & 0xff}`;
}

function addressHandlers(cloud: FakeCloud, state: Ec2State): Handlers {
  const addresses = state.addresses as Map<string, Eip>;
  const addressOut = (a: Eip) => {
    const holder = liveNats(state, (n) => n.NatGatewayAddresses.some((x) => x.AllocationId === a.AllocationId))[0];
    const held = holder?.NatGatewayAddresses.find((x) => x.AllocationId === a.AllocationId);
    const association = held ? { AssociationId: held.AssociationId, NetworkInterfaceId: held.NetworkInterfaceId, PrivateIpAddress: held.PrivateIp } : {};
    return { ...withTagList(a), ...association };
  };
  return {
    AllocateAddress: (input) => {
      if (input.Domain !== "vpc") throw ec2Error("InvalidParameterValue", `Domain ${input.Domain} is not supported; use vpc`);
      const AllocationId = cloud.id("eipalloc");
      const eip: Eip = { AllocationId, PublicIp: publicIpFor(AllocationId), Domain: "vpc", PublicIpv4Pool: "amazon", NetworkBorderGroup: cloud.region, Tags: tagsFromSpecs(input.TagSpecifications, "elastic-ip") };
      register(state, addresses, AllocationId, eip);
      return { AllocationId, PublicIp: eip.PublicIp, Domain: "vpc", PublicIpv4Pool: "amazon", NetworkBorderGroup: cloud.region };
    },
    DescribeAddresses: (input) => ({
      Addresses: byIds(addresses, input.AllocationIds, "InvalidAllocationID.NotFound", "allocation ID")
        .filter((a) => matchesFilters(a, input.Filters, { "allocation-id": (x) => x.AllocationId, "public-ip": (x) => x.PublicIp, domain: (x) => x.Domain }))
        .map(addressOut),
    }),
    ReleaseAddress: (input) => {
      const eip = getOr(addresses, input.AllocationId, "InvalidAllocationID.NotFound", `The allocation ID '${input.AllocationId}' does not exist`);
      if (liveNats(state, (n) => n.NatGatewayAddresses.some((x) => x.AllocationId === eip.AllocationId)).length) {
        throw ec2Error("InvalidIPAddress.InUse", `Address ${eip.PublicIp} is in use.`);
      }
      unregister(state, addresses, eip.AllocationId);
      return {};
    },
  };
}

// ---- NAT gateways ----

/** The state a gateway is in now: deletion wins, then a pinned state (failed, or set by a test), then provisioning time. */
function natState(cloud: FakeCloud, n: Nat): string {
  if (n.deletingSince !== undefined) return cloud.ready("natGatewayDelete", n.deletingSince) ? "deleted" : "deleting";
  if (n.pinnedState) return n.pinnedState;
  return cloud.ready("natGateway", n.createdAt) ? "available" : "pending";
}

function newNat(cloud: FakeCloud, fields: Omit<Nat, "State" | "createdAt" | "deletingSince" | "pinnedState">): Nat {
  return defineNatState(cloud, { ...fields, createdAt: cloud.elapsed() } as Nat);
}

function defineNatState(cloud: FakeCloud, nat: Nat): Nat {
  Object.defineProperty(nat, "State", {
    enumerable: true,
    configurable: true,
    get: () => natState(cloud, nat),
    set: (value: string) => {
      nat.pinnedState = value;
    },
  });
  return nat;
}

/**
 * A copy of the state (v8.serialize, as the benchmark makes to hand the fake from one process to the next) keeps each
 * NAT gateway's State as the value it had; this gives the gateways of a restored Ec2State their derived State back.
 */
export function reviveNatGateways(cloud: FakeCloud, state: Ec2State): void {
  for (const nat of state.natGateways.values() as Iterable<Nat>) {
    delete (nat as Partial<Nat>).State;
    defineNatState(cloud, nat);
  }
}

function natOut(n: Nat) {
  return {
    NatGatewayId: n.NatGatewayId,
    SubnetId: n.SubnetId,
    VpcId: n.VpcId,
    State: n.State,
    ConnectivityType: n.ConnectivityType,
    NatGatewayAddresses: n.NatGatewayAddresses.map((a) => ({ ...a })),
    CreateTime: n.CreateTime,
    ...(n.FailureCode ? { FailureCode: n.FailureCode, FailureMessage: n.FailureMessage } : {}),
    Tags: toTagList(n.Tags),
  };
}

function natGatewayHandlers(cloud: FakeCloud, state: Ec2State): Handlers {
  const nats = state.natGateways as Map<string, Nat>;
  const create = (input: any) => () => {
    const subnet = subnetOf(state, input.SubnetId);
    const eip = getOr(state.addresses as Map<string, Eip>, input.AllocationId, "InvalidAllocationID.NotFound", `The allocation ID '${input.AllocationId}' does not exist`);
    const holder = liveNats(state, (n) => n.NatGatewayAddresses.some((a) => a.AllocationId === eip.AllocationId))[0];
    const nat = newNat(cloud, {
      NatGatewayId: cloud.id("nat"),
      SubnetId: subnet.SubnetId,
      VpcId: subnet.VpcId,
      ConnectivityType: "public",
      NatGatewayAddresses: [
        { AllocationId: eip.AllocationId, PublicIp: eip.PublicIp, PrivateIp: "10.0.0.10", NetworkInterfaceId: cloud.id("eni"), AssociationId: cloud.id("eipassoc"), IsPrimary: true, Status: "succeeded" },
      ],
      CreateTime: new Date(),
      Tags: tagsFromSpecs(input.TagSpecifications, "natgateway"),
    });
    // AWS accepts the request and fails the gateway afterwards when the address is taken.
    if (holder) Object.assign(nat, { State: "failed", FailureCode: "Resource.AlreadyAssociated", FailureMessage: `Elastic IP address [${eip.AllocationId}] is already associated` });
    register(state, nats, nat.NatGatewayId, nat);
    return { NatGateway: natOut(nat), ...(input.ClientToken ? { ClientToken: input.ClientToken } : {}) };
  };
  return {
    CreateNatGateway: (input) => {
      if ((input.ConnectivityType ?? "public") !== "public") throw ec2Error("InvalidParameterValue", "the fake models public NAT gateways only");
      if (!input.AllocationId) throw ec2Error("MissingParameter", "A public NAT gateway needs an AllocationId");
      const params = { SubnetId: input.SubnetId, AllocationId: input.AllocationId, TagSpecifications: input.TagSpecifications };
      return idempotent(state, input.ClientToken, params, create(input));
    },
    // Note the request's singular `Filter`. Deleted gateways stay listed (AWS keeps them for about an hour).
    DescribeNatGateways: (input) => ({
      NatGateways: byIds(nats, input.NatGatewayIds, "NatGatewayNotFound", "NAT gateway")
        .filter((n) =>
          matchesFilters(n, input.Filter, {
            "nat-gateway-id": (x: Nat) => x.NatGatewayId,
            state: (x: Nat) => x.State,
            "subnet-id": (x: Nat) => x.SubnetId,
            "vpc-id": (x: Nat) => x.VpcId,
          }),
        )
        .map(natOut),
    }),
    DeleteNatGateway: (input) => {
      const nat = getOr(nats, input.NatGatewayId, "NatGatewayNotFound", `The Nat Gateway ${input.NatGatewayId} was not found`);
      if (nat.deletingSince === undefined) nat.deletingSince = cloud.elapsed();
      return { NatGatewayId: nat.NatGatewayId };
    },
  };
}
