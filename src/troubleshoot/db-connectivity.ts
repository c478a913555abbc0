import {
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  EC2Client,
  paginateDescribeSecurityGroupRules,
  type RouteTable,
  type SecurityGroupRule,
  type Subnet,
} from "@aws-sdk/client-ec2";
import { type DBInstance, DescribeDBInstancesCommand, DescribeDBParametersCommand, RDSClient } from "@aws-sdk/client-rds";
import { orUndefined } from "../aws/errors.js";
import { readSecretJson } from "../aws/secret-value.js";
import { namePrefix } from "../config/naming.js";
import { standardTags } from "../aws/tags.js";
import type { ResourceContext } from "../resources/types.js";
import { secretIds } from "../secrets/catalog.js";
import { DATABASE_PARAMETERS, dbIds } from "../stack/database.js";
import { ids, POSTGRES_PORT, PRIVATE_SUBNETS } from "../stack/network.js";
import type { StateDocument } from "../state/document.js";
import { type Check, type CheckResult, combine, failed, once, passed, recorded, recordedString, skipped } from "./checks.js";
import { aclDecision, admittingRule, formatPorts, LINUX_EPHEMERAL, type PortRange } from "./network-rules.js";
import { DEFAULT_PROBE_BUDGET_SECONDS, DEFAULT_PROBE_IMAGE, runEcsProbe } from "./probe-ecs.js";
import { probeLocal, type TlsMode } from "./probe-local.js";
import { roleMayRead, secretKmsKeyId, TASK_EXECUTION_ROLE_ID } from "./secrets-access.js";
import { findService, serviceRef, type ServiceView } from "./services.js";

/**
 * `platform troubleshoot db-connectivity`: seven checks of the path from the API's tasks to the database, each a
 * small function that reads AWS (by the ids state records) and returns passed / failed / skipped with its evidence.
 * They diagnose what exists, not what the config wants. Lookups several checks need are read once (DbFacts).
 */
export type ProbeKind = "ecs" | "local" | "none";

export interface DbConnectivityOptions {
  probe: ProbeKind;
  /** Real-world seconds: the ECS probe's budget (default 300), or the local probe's per-step timeout (default 10). */
  probeTimeoutSeconds?: number;
  probeImage?: string;
  /** iamUser: log in as this database user (granted rds_iam) with a short-lived IAM token instead of the master password. */
  local?: { host?: string; port?: number; tls: TlsMode; caFile?: string; iamUser?: string };
}

export interface DbContext {
  ctx: ResourceContext;
  state: StateDocument;
  options: DbConnectivityOptions;
  facts: DbFacts;
}

export const API_SERVICE_ID = "compute.service.api";
export const DEFAULT_LOCAL_TIMEOUT_SECONDS = 10;

/** Likelihoods (0-100) that a failure is the root cause of "the API cannot reach the database". */
const L = { database: 100, waitDatabase: 95, sgIngress: 90, sgEgress: 85, acl: 80, aclReturn: 75, dns: 75, credentials: 70, subnets: 60, dbt: 50, tls: 45, probe: 40, probeInconclusive: 30 };

// ---------------------------------------------------------------------------------------------------------------
// Facts: what state records and AWS says, read once

export interface ApiNetwork {
  subnets: string[];
  securityGroups: string[];
  /** Where they came from: the running service, or (not deployed) the network layer's API group and private subnets. */
  source: "service" | "state";
}

export interface DbFacts {
  identifier?: string;
  instance(): Promise<DBInstance | undefined>;
  api(): Promise<ServiceView | undefined>;
  apiNetwork(): Promise<ApiNetwork>;
  /** The database's and the API's subnets, by id. */
  subnets(): Promise<Map<string, Subnet>>;
  /** The credentials secret's JSON (never printed), or why it could not be read. */
  credentials(): Promise<{ arn?: string; value?: Record<string, unknown>; error?: unknown }>;
}

export function dbFacts(ctx: ResourceContext, state: StateDocument): DbFacts {
  const identifier = recordedString(state, dbIds.instance, "identifier") ?? recorded(state, dbIds.instance)?.physicalId;
  const instance = once(async () => {
    if (!identifier) return undefined;
    const out = await orUndefined(ctx.aws.get(RDSClient).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier })));
    return out?.DBInstances?.[0];
  });
  const api = once(async () => {
    const ref = serviceRef(state, API_SERVICE_ID);
    return ref ? findService(ctx, ref) : undefined;
  });
  const apiNetwork = once(async (): Promise<ApiNetwork> => {
    const service = await api();
    if (service?.subnets.length) return { subnets: service.subnets, securityGroups: service.securityGroups, source: "service" };
    const subnets = PRIVATE_SUBNETS.map((n) => recordedString(state, ids.subnet(n), "subnetId")).filter((s): s is string => Boolean(s));
    const group = recordedString(state, ids.sg("api"), "groupId");
    return { subnets, securityGroups: group ? [group] : [], source: "state" };
  });
  const subnets = once(async () => {
    const db = await instance();
    const wanted = new Set([...dbSubnetIds(db), ...(await apiNetwork()).subnets]);
    if (!wanted.size) return new Map<string, Subnet>();
    // A filter rather than SubnetIds: a subnet that is gone is left out instead of failing the whole call.
    const out = await ctx.aws.get(EC2Client).send(new DescribeSubnetsCommand({ Filters: [{ Name: "subnet-id", Values: [...wanted] }] }));
    return new Map((out.Subnets ?? []).map((s) => [s.SubnetId!, s]));
  });
  const credentials = once(async () => {
    const arn = recordedString(state, secretIds.databaseCredentials, "arn");
    if (!arn) return {};
    try {
      return { arn, value: await readSecretJson(ctx, arn) };
    } catch (err) {
      return { arn, error: err };
    }
  });
  return { ...(identifier ? { identifier } : {}), instance, api, apiNetwork, subnets, credentials };
}

const dbSubnetIds = (db: DBInstance | undefined) => (db?.DBSubnetGroup?.Subnets ?? []).map((s) => s.SubnetIdentifier!).filter(Boolean);
const dbGroupIds = (db: DBInstance) => (db.VpcSecurityGroups ?? []).filter((g) => g.Status !== "removing").map((g) => g.VpcSecurityGroupId!);
const portOf = (db: DBInstance) => db.Endpoint?.Port ?? POSTGRES_PORT;

/** "sg-123 (network.security-group.db)": the physical id with the logical id state records for it, when there is one. */
export function named(state: StateDocument, physicalId: string): string {
  const hit = Object.entries(state.resources).find(([, r]) => r.physicalId === physicalId);
  return hit ? `${physicalId} (${hit[0]})` : physicalId;
}

const NO_DATABASE = "the database does not exist (see the first check)";

/** The facts a check needs first: the instance, or a skip saying why there is nothing to check. */
async function needInstance(dc: DbContext): Promise<DBInstance | CheckResult> {
  const db = await dc.facts.instance();
  return db ?? skipped(NO_DATABASE);
}
const isResult = (x: unknown): x is CheckResult => Boolean(x && typeof x === "object" && "status" in x && "evidence" in x);

// ---------------------------------------------------------------------------------------------------------------
// 1. The database

/** Statuses in which the instance accepts connections. */
const SERVING = new Set([
  "available",
  "backing-up",
  "modifying",
  "maintenance",
  "resetting-master-credentials",
  "storage-optimization",
  "storage-config-upgrade",
  "configuring-enhanced-monitoring",
  "configuring-iam-database-auth",
  "configuring-log-exports",
]);

/** Statuses that pass by themselves: waiting is the fix. */
const TRANSIENT = new Set(["creating", "starting", "rebooting", "upgrading", "renaming", "stopping", "moving-to-vpc", "converting-to-vpc"]);

function statusFix(id: string, status: string): { fix: string; likelihood: number } {
  if (TRANSIENT.has(status) && status !== "stopping") return { fix: `wait until it is available (aws rds wait db-instance-available --db-instance-identifier ${id}), then run again`, likelihood: L.waitDatabase };
  switch (status) {
    case "stopped":
    case "stopping":
      return { fix: `start it: aws rds start-db-instance --db-instance-identifier ${id} (RDS also starts a stopped instance by itself after 7 days)`, likelihood: L.database };
    case "incompatible-network":
      return { fix: "RDS cannot place the instance in its subnets (no free addresses, or a subnet or zone is gone): free addresses in the DB subnet group's subnets, then start it; otherwise restore a snapshot into a working subnet group", likelihood: L.database };
    case "incompatible-parameters":
      return { fix: "its parameter group holds values it cannot start with: run 'platform up' to restore the group, then reboot the instance", likelihood: L.database };
    case "storage-full":
      return { fix: "raise database.allocatedStorage (or set maxAllocatedStorage for autoscaling) and run 'platform up --apply-immediately'", likelihood: L.database };
    case "inaccessible-encryption-credentials":
    case "inaccessible-encryption-credentials-recoverable":
      return { fix: "the KMS key that encrypts the storage is disabled or its grant was revoked: enable the key, then start the instance", likelihood: L.database };
    default:
      return { fix: `see the RDS console's events for ${id} (aws rds describe-events --source-type db-instance --source-identifier ${id})`, likelihood: L.database };
  }
}

export async function checkDatabase(dc: DbContext): Promise<CheckResult> {
  const id = dc.facts.identifier;
  if (!id) return failed(["state records no data.database.instance"], "the environment has no database", `run 'platform up --env ${dc.ctx.identity.environment}' to create it`, L.database);
  const db = await dc.facts.instance();
  if (!db) {
    return failed([`${id}: not found (DescribeDBInstances)`], `database ${id} does not exist`, "it was deleted outside platform: run 'platform up' to create it again (or restore a snapshot)", L.database);
  }
  const status = db.DBInstanceStatus ?? "unknown";
  const group = db.DBParameterGroups?.[0];
  const pending = Object.entries(db.PendingModifiedValues ?? {}).filter(([, v]) => v !== undefined && !(typeof v === "object" && !Object.keys(v ?? {}).length));
  const evidence = [
    `${id}: ${status}, ${db.Engine ?? "postgres"} ${db.EngineVersion ?? ""}, ${db.DBInstanceClass ?? ""}`.trim(),
    db.Endpoint?.Address ? `endpoint ${db.Endpoint.Address}:${portOf(db)}` : "no endpoint yet",
    ...(group ? [`parameter group ${group.DBParameterGroupName}: ${group.ParameterApplyStatus}${group.ParameterApplyStatus === "pending-reboot" ? ` (static parameter changes wait for a reboot: aws rds reboot-db-instance --db-instance-identifier ${id})` : ""}`] : []),
    ...(pending.length ? [`pending modifications: ${pending.map(([k]) => k).join(", ")}`] : []),
  ];
  if (!SERVING.has(status)) {
    const { fix, likelihood } = statusFix(id, status);
    return failed(evidence, `database ${id} is ${status}, not accepting connections`, fix, likelihood);
  }
  if (!db.Endpoint?.Address) return failed(evidence, `database ${id} has no endpoint`, "wait until RDS reports an endpoint, then run again", L.waitDatabase);
  return passed(evidence);
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Security groups

async function rulesOf(ctx: ResourceContext, groupIds: string[]): Promise<SecurityGroupRule[]> {
  const rules: SecurityGroupRule[] = [];
  if (!groupIds.length) return rules;
  for await (const page of paginateDescribeSecurityGroupRules({ client: ctx.aws.get(EC2Client) }, { Filters: [{ Name: "group-id", Values: groupIds }] })) {
    rules.push(...(page.SecurityGroupRules ?? []));
  }
  return rules;
}

function cidrsOf(subnets: Map<string, Subnet>, ids: string[]): string[] {
  return ids.map((id) => subnets.get(id)?.CidrBlock).filter((c): c is string => Boolean(c));
}

interface RuleQuestion {
  label: string;
  rules: SecurityGroupRule[];
  direction: "ingress" | "egress";
  groups: string[];
  peer: { groupIds: string[]; cidrs: string[] };
  peerLabel: string;
  likelihood: number;
  fix: string;
}

function askRule(state: StateDocument, port: number, q: RuleQuestion): CheckResult {
  const rule = admittingRule(q.rules, q.direction, port, q.peer);
  const verb = q.direction === "ingress" ? "admits" : "lets out";
  const where = q.direction === "ingress" ? "from" : "to";
  if (rule) {
    const via = rule.ReferencedGroupInfo?.GroupId ?? rule.CidrIpv4;
    return passed([`${q.label} ${q.groups.map((g) => named(state, g)).join(", ")} ${verb} tcp ${port} ${where} ${q.peerLabel} (rule ${rule.SecurityGroupRuleId}: ${via})`]);
  }
  return failed(
    [`${q.label} ${q.groups.map((g) => named(state, g)).join(", ")}: no ${q.direction} rule ${verb.replace("lets out", "allows")} tcp ${port} ${where} ${q.peerLabel}`],
    `the ${q.label} has no ${q.direction} rule for tcp ${port} ${where} ${q.peerLabel}`,
    q.fix,
    q.likelihood,
  );
}

export async function checkSecurityGroups(dc: DbContext): Promise<CheckResult> {
  const db = await needInstance(dc);
  if (isResult(db)) return db;
  const port = portOf(db);
  const dbGroups = dbGroupIds(db);
  const api = await dc.facts.apiNetwork();
  const dbtGroup = recordedString(dc.state, ids.sg("dbt"), "groupId");
  const subnets = await dc.facts.subnets();
  const rules = await rulesOf(dc.ctx, [...new Set([...dbGroups, ...api.securityGroups, ...(dbtGroup ? [dbtGroup] : [])])]);
  const of = (groups: string[]) => rules.filter((r) => groups.includes(r.GroupId!));
  const env = dc.ctx.identity.environment;
  const dbPeer = { groupIds: dbGroups, cidrs: cidrsOf(subnets, dbSubnetIds(db)) };
  const parts: CheckResult[] = [];
  if (!api.securityGroups.length) {
    parts.push(skipped("no API security group is recorded: the API's rules were not checked"));
  } else {
    const apiPeer = { groupIds: api.securityGroups, cidrs: cidrsOf(subnets, api.subnets) };
    const apiLabel = `the API (${api.securityGroups.join(", ")})`;
    parts.push(
      askRule(dc.state, port, {
        label: "database security group", rules: of(dbGroups), direction: "ingress", groups: dbGroups, peer: apiPeer, peerLabel: apiLabel, likelihood: L.sgIngress,
        fix: `run 'platform up --env ${env}' to restore network.security-group-rule.db-api-in, or: aws ec2 authorize-security-group-ingress --group-id ${dbGroups[0]} --protocol tcp --port ${port} --source-group ${api.securityGroups[0]}`,
      }),
      askRule(dc.state, port, {
        label: "API security group", rules: of(api.securityGroups), direction: "egress", groups: api.securityGroups, peer: dbPeer, peerLabel: `the database (${dbGroups.join(", ")})`, likelihood: L.sgEgress,
        fix: `run 'platform up --env ${env}' to restore network.security-group-rule.api-db-out, or: aws ec2 authorize-security-group-egress --group-id ${api.securityGroups[0]} --ip-permissions 'IpProtocol=tcp,FromPort=${port},ToPort=${port},UserIdGroupPairs=[{GroupId=${dbGroups[0]}}]'`,
      }),
    );
  }
  if (dbtGroup) {
    parts.push(
      askRule(dc.state, port, {
        label: "database security group", rules: of(dbGroups), direction: "ingress", groups: dbGroups, peer: { groupIds: [dbtGroup], cidrs: [] }, peerLabel: `dbt (${dbtGroup})`, likelihood: L.dbt,
        fix: `run 'platform up --env ${env}' to restore network.security-group-rule.db-dbt-in, or: aws ec2 authorize-security-group-ingress --group-id ${dbGroups[0]} --protocol tcp --port ${port} --source-group ${dbtGroup}`,
      }),
    );
  }
  if (api.source === "state") parts.push(passed(["the API service is not deployed: checked the network layer's API security group"]));
  return combine(parts);
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Network ACLs

/** The four legs of a PostgreSQL connection through stateless ACLs: the request and the replies, at each end. */
const LEGS = [
  { side: "db", egress: false, reply: false, what: "PostgreSQL into the database's subnets", likelihood: L.acl },
  { side: "db", egress: true, reply: true, what: "replies from the database to the API's ephemeral ports", likelihood: L.aclReturn },
  { side: "api", egress: true, reply: false, what: "PostgreSQL out of the API's subnets", likelihood: L.acl },
  { side: "api", egress: false, reply: true, what: "replies into the API's subnets", likelihood: L.aclReturn },
] as const;

type Leg = (typeof LEGS)[number];

/** One ACL's verdict on one leg, for every peer range it was asked about with the same outcome. */
interface AclFinding {
  acl: string;
  leg: Leg;
  ports: PortRange;
  allowed: boolean;
  peers: string[];
  rules: string[];
  /** Denied only: the first ports denied. */
  denied?: PortRange;
}

function aclResult(state: StateDocument, f: AclFinding, env: string): CheckResult {
  const dir = `${f.leg.egress ? "outbound to" : "inbound from"} ${f.peers.join(", ")}`;
  const head = `${named(state, f.acl)}: ${f.leg.what}: ${dir} tcp ${formatPorts(f.ports)}`;
  if (f.allowed) return passed([`${head} allowed (rule ${f.rules.join(", ")})`]);
  const rule = f.rules[0]!;
  const by = rule === "*" ? "the final deny-all rule * (no allow rule matches)" : `deny rule ${rule}`;
  return failed(
    [`${head} denied by ${by}${f.denied ? ` for ports ${formatPorts(f.denied)}` : ""}`],
    `network ACL ${f.acl} denies ${f.leg.what} (${dir}, tcp ${formatPorts(f.ports)})`,
    `run 'platform up --env ${env}' to restore the ACL's entries, or add an allow entry numbered below ${rule === "*" ? "32767" : rule}${f.peers.length > 1 ? " for each of those ranges" : ""}: aws ec2 create-network-acl-entry --network-acl-id ${f.acl} ${f.leg.egress ? "--egress" : "--ingress"} --rule-number <n> --protocol tcp --port-range From=${f.ports[0]},To=${f.ports[1]} --cidr-block ${f.peers[0]} --rule-action allow`,
    f.leg.likelihood,
  );
}

/**
 * For every pair of an API subnet and a database subnet, the four legs through each end's ACL, evaluated per peer
 * range and reported once per ACL, leg and outcome.
 */
export async function checkNetworkAcls(dc: DbContext): Promise<CheckResult> {
  const db = await needInstance(dc);
  if (isResult(db)) return db;
  const port = portOf(db);
  const api = await dc.facts.apiNetwork();
  const dbSubnets = dbSubnetIds(db);
  if (!api.subnets.length) return skipped("no API subnets are known: the ACLs between the API and the database were not checked");
  const subnets = await dc.facts.subnets();
  const all = [...new Set([...dbSubnets, ...api.subnets])];
  const out = await dc.ctx.aws.get(EC2Client).send(new DescribeNetworkAclsCommand({ Filters: [{ Name: "association.subnet-id", Values: all }] }));
  const aclOf = (subnetId: string) => (out.NetworkAcls ?? []).find((a) => a.Associations?.some((x) => x.SubnetId === subnetId));
  const missing = all.filter((id) => !aclOf(id) || !subnets.get(id)?.CidrBlock);
  const findings = new Map<string, AclFinding>();
  for (const d of dbSubnets.filter((id) => !missing.includes(id))) {
    for (const a of api.subnets.filter((id) => !missing.includes(id))) {
      for (const leg of LEGS) {
        const acl = aclOf(leg.side === "db" ? d : a)!;
        const peer = subnets.get(leg.side === "db" ? a : d)!.CidrBlock!;
        const ports: PortRange = leg.reply ? LINUX_EPHEMERAL : [port, port];
        const decision = aclDecision(acl.Entries ?? [], leg.egress, peer, ports);
        const key = `${acl.NetworkAclId}|${leg.what}|${decision.allowed ? "allowed" : decision.rule}`;
        const f = findings.get(key) ?? { acl: acl.NetworkAclId!, leg, ports, allowed: decision.allowed, peers: [], rules: [], ...(decision.ports ? { denied: decision.ports } : {}) };
        if (!f.peers.includes(peer)) f.peers.push(peer);
        if (!f.rules.includes(String(decision.rule))) f.rules.push(String(decision.rule));
        findings.set(key, f);
      }
    }
  }
  const env = dc.ctx.identity.environment;
  const parts = [...findings.values()].sort((x, y) => Number(x.allowed) - Number(y.allowed)).map((f) => aclResult(dc.state, f, env));
  if (missing.length) parts.unshift(skipped(`subnets ${missing.join(", ")}: not found, or no network ACL is associated with them`));
  if (api.source === "state") parts.push(passed(["the API service is not deployed: checked from the private subnets, where the network layer puts it"]));
  return combine(parts);
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Subnets and routes

/** True when the subnet's route table (its own, else the VPC's main one) sends traffic to an internet gateway. */
function isPublic(subnetId: string, tables: RouteTable[]): boolean {
  const table = tables.find((t) => t.Associations?.some((a) => a.SubnetId === subnetId)) ?? tables.find((t) => t.Associations?.some((a) => a.Main));
  return Boolean(table?.Routes?.some((r) => r.GatewayId?.startsWith("igw-") && (r.DestinationCidrBlock === "0.0.0.0/0" || r.DestinationIpv6CidrBlock === "::/0")));
}

export async function checkSubnets(dc: DbContext): Promise<CheckResult> {
  const db = await needInstance(dc);
  if (isResult(db)) return db;
  const group = db.DBSubnetGroup;
  const vpcId = group?.VpcId;
  if (!group || !vpcId) return failed(["the instance reports no DB subnet group"], "the database has no subnet group", "see the RDS console", L.subnets);
  const env = dc.ctx.identity.environment;
  const parts: CheckResult[] = [];
  const stateVpc = recordedString(dc.state, ids.vpc, "vpcId");
  const subnetRows = group.Subnets ?? [];
  const zones = [...new Set(subnetRows.map((s) => s.SubnetAvailabilityZone?.Name).filter(Boolean))];
  parts.push(passed([`DB subnet group ${group.DBSubnetGroupName} (${group.SubnetGroupStatus ?? "?"}) in ${named(dc.state, vpcId)}: ${subnetRows.map((s) => `${named(dc.state, s.SubnetIdentifier!)} ${s.SubnetAvailabilityZone?.Name ?? "?"} ${s.SubnetStatus ?? ""}`.trim()).join("; ")}`]));
  if (stateVpc && stateVpc !== vpcId) {
    parts.push(failed([`the environment's VPC is ${stateVpc}`], `the database's subnets are in ${vpcId}, not the environment's VPC ${stateVpc}`, `recreate the subnet group in ${stateVpc}'s private subnets ('platform up --env ${env}')`, L.subnets));
  }
  if (zones.length < 2) parts.push(failed([`zones: ${zones.join(", ") || "none"}`], "the DB subnet group spans fewer than two availability zones", "RDS needs subnets in two zones: run 'platform up' to restore the group over both private subnets", L.subnets));
  const inactive = subnetRows.filter((s) => s.SubnetStatus && s.SubnetStatus !== "Active").map((s) => s.SubnetIdentifier!);
  if (inactive.length) parts.push(failed([], `subnets ${inactive.join(", ")} of the DB subnet group are not active`, "run 'platform up' to restore the subnets, or replace them in the subnet group", L.subnets));
  const tables = (await dc.ctx.aws.get(EC2Client).send(new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }))).RouteTables ?? [];
  const publicOnes = subnetRows.map((s) => s.SubnetIdentifier!).filter((id) => isPublic(id, tables));
  if (publicOnes.length) {
    parts.push(failed([`public (routed to an internet gateway): ${publicOnes.join(", ")}`], `the DB subnet group includes public subnets (${publicOnes.join(", ")})`, "the database belongs in the private subnets only: run 'platform up' to restore the subnet group", L.subnets));
  } else {
    parts.push(passed(["every DB subnet is private (no route to an internet gateway); within the VPC, traffic uses its local route"]));
  }
  const api = await dc.facts.apiNetwork();
  if (api.source !== "service") {
    parts.push(passed(["the API service is not deployed: where its tasks run was not checked"]));
  } else {
    const subnets = await dc.facts.subnets();
    const elsewhere = api.subnets.filter((id) => subnets.get(id)?.VpcId !== vpcId);
    parts.push(
      elsewhere.length
        ? failed([`API task subnets outside ${vpcId}: ${elsewhere.map((id) => `${id} (${subnets.get(id)?.VpcId ?? "not found"})`).join(", ")}`], `the API's tasks run in subnets outside the database's VPC`, "the service's network configuration must use this VPC's private subnets: run 'platform up'", L.subnets + 10)
        : passed([`the API's tasks run in ${api.subnets.map((id) => named(dc.state, id)).join(", ")}, in the same VPC`]),
    );
  }
  return combine(parts);
}

// ---------------------------------------------------------------------------------------------------------------
// 5. DNS

export async function checkDns(dc: DbContext): Promise<CheckResult> {
  const db = await needInstance(dc);
  if (isResult(db)) return db;
  const vpcId = db.DBSubnetGroup?.VpcId;
  if (!vpcId) return skipped("the database's VPC is not known");
  const ec2 = dc.ctx.aws.get(EC2Client);
  const [support, hostnames] = await Promise.all([
    ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: "enableDnsSupport" })),
    ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: "enableDnsHostnames" })),
  ]);
  const on = { support: support.EnableDnsSupport?.Value ?? false, hostnames: hostnames.EnableDnsHostnames?.Value ?? false };
  const evidence = [`${named(dc.state, vpcId)}: DNS support ${on.support ? "on" : "off"}, DNS hostnames ${on.hostnames ? "on" : "off"}`];
  if (on.support && on.hostnames) return passed(evidence);
  const off = [!on.support && "enable-dns-support", !on.hostnames && "enable-dns-hostnames"].filter(Boolean) as string[];
  return failed(
    evidence,
    `the VPC has ${off.map((o) => o.replace("enable-", "").replace("-", " ")).join(" and ")} off, so the endpoint may not resolve inside it`,
    `run 'platform up --env ${dc.ctx.identity.environment}' (the config turns both on), or: ${off.map((o) => `aws ec2 modify-vpc-attribute --vpc-id ${vpcId} --${o}`).join(" && ")}`,
    L.dns,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// 6. TLS and credentials

/** rds.force_ssl of the instance's parameter group; undefined when the group or the parameter is not set. */
export async function forceSslValue(ctx: ResourceContext, db: DBInstance): Promise<{ group?: string; value?: string }> {
  const group = db.DBParameterGroups?.[0]?.DBParameterGroupName;
  if (!group) return {};
  const out = await ctx.aws.get(RDSClient).send(new DescribeDBParametersCommand({ DBParameterGroupName: group, Filters: [{ Name: "parameter-name", Values: ["rds.force_ssl"] }] }));
  return { group, value: out.Parameters?.find((p) => p.ParameterName === "rds.force_ssl")?.ParameterValue };
}

async function forceSsl(dc: DbContext, db: DBInstance): Promise<CheckResult> {
  const { group, value } = await forceSslValue(dc.ctx, db);
  if (!group) return skipped("the instance reports no parameter group: rds.force_ssl not checked");
  const want = DATABASE_PARAMETERS["rds.force_ssl"];
  const meaning = value === "1" ? "clients must connect with TLS (sslmode=require or stronger)" : "clients may connect without TLS";
  const evidence = [`rds.force_ssl = ${value ?? "unset"} in ${group}: ${meaning}`];
  if (value === want) return passed(evidence);
  return failed(evidence, `rds.force_ssl is ${value ?? "unset"}, not ${want} as configured`, `run 'platform up --env ${dc.ctx.identity.environment}' to restore the parameter group`, L.tls);
}

function credentialsMatch(db: DBInstance, arn: string, value: Record<string, unknown>): CheckResult {
  const parts: CheckResult[] = [];
  const host = db.Endpoint?.Address;
  const port = portOf(db);
  const hasPassword = typeof value.password === "string" && value.password.length > 0;
  parts.push(passed([`secret ${arn}: username ${String(value.username ?? "(none)")}, host ${String(value.host ?? "(none)")}, port ${String(value.port ?? "(none)")}, password ${hasPassword ? "present (not shown)" : "missing"}`]));
  if (!hasPassword) parts.push(failed([], "the credentials secret holds no password", "run 'platform bootstrap-secrets' to generate one (it also sets it on the database)", L.credentials));
  if (value.username !== db.MasterUsername) {
    parts.push(
      failed(
        [`the instance's master username is ${db.MasterUsername}`],
        `the secret's username ${String(value.username ?? "(none)")} is not the instance's master username ${db.MasterUsername}`,
        `put "username": "${db.MasterUsername}" in the secret (the master username of an instance cannot change), e.g. with the console or aws secretsmanager put-secret-value, keeping the other fields`,
        L.credentials,
      ),
    );
  }
  if (host && (value.host !== host || Number(value.port) !== port)) {
    parts.push(
      failed(
        [`the instance's endpoint is ${host}:${port}`],
        `the secret's host and port (${String(value.host ?? "none")}:${String(value.port ?? "none")}) are not the endpoint ${host}:${port}`,
        "run 'platform up' to write the endpoint into the secret (secrets.database-credentials.connection)",
        L.credentials,
      ),
    );
  }
  return combine(parts);
}

async function executionRoleArn(dc: DbContext): Promise<string | undefined> {
  return (await dc.facts.api())?.taskDefinition?.executionRoleArn ?? recordedString(dc.state, TASK_EXECUTION_ROLE_ID, "arn");
}

export async function checkTlsAndCredentials(dc: DbContext): Promise<CheckResult> {
  const db = await needInstance(dc);
  if (isResult(db)) return db;
  const parts: CheckResult[] = [await forceSsl(dc, db)];
  const creds = await dc.facts.credentials();
  const env = dc.ctx.identity.environment;
  if (!creds.arn) {
    parts.push(failed(["state records no secrets.database-credentials"], "the credentials secret is not recorded", `run 'platform up --env ${env}'`, L.credentials));
  } else if (creds.error) {
    const code = (creds.error as { name?: string }).name;
    const missing = code === "ResourceNotFoundException";
    parts.push(
      failed(
        [`secret ${creds.arn}: ${missing ? "not found" : `could not be read (${code}: ${(creds.error as Error).message})`}`],
        missing ? "the credentials secret does not exist" : "the credentials secret could not be read",
        missing ? `run 'platform up --env ${env}' (or bootstrap-secrets) to create it` : "check your permission to read it (secretsmanager:GetSecretValue) and that it holds a JSON object",
        L.credentials,
      ),
    );
  } else {
    parts.push(credentialsMatch(db, creds.arn, creds.value!));
    const role = await executionRoleArn(dc);
    if (!role) parts.push(passed(["no task execution role is deployed yet (compute layer): whether it may read the secret was not checked"]));
    else parts.push(await roleMayRead(dc.ctx, role, creds.arn, await secretKmsKeyId(dc.ctx, creds.arn)));
  }
  return combine(parts);
}

// ---------------------------------------------------------------------------------------------------------------
// 7. Live probe

async function ecsProbe(dc: DbContext, db: DBInstance): Promise<CheckResult> {
  const api = await dc.facts.api();
  if (!api) return skipped("the API service is not deployed, so there is nowhere to run the ECS probe from: use --probe local (through a VPN or tunnel) or --probe none");
  const container = api.taskDefinition?.containers.find((c) => c.logGroup) ?? api.taskDefinition?.containers[0];
  const budgetSeconds = dc.options.probeTimeoutSeconds ?? DEFAULT_PROBE_BUDGET_SECONDS;
  const identity = dc.ctx.identity;
  const outcome = await runEcsProbe(dc.ctx, {
    cluster: api.cluster,
    subnets: api.subnets,
    securityGroups: api.securityGroups,
    assignPublicIp: api.assignPublicIp,
    ...(api.raw.capacityProviderStrategy?.length ? { capacityProviderStrategy: api.raw.capacityProviderStrategy } : {}),
    ...(api.taskDefinition?.executionRoleArn ? { executionRoleArn: api.taskDefinition.executionRoleArn } : {}),
    ...(container?.logGroup ? { logGroup: container.logGroup } : {}),
    region: container?.logRegion ?? dc.ctx.region,
    family: `${namePrefix(identity)}-db-probe`,
    image: dc.options.probeImage ?? DEFAULT_PROBE_IMAGE,
    host: db.Endpoint!.Address!,
    port: portOf(db),
    budgetSeconds,
    tags: standardTags(identity, "troubleshoot.db-probe"),
  });
  if (outcome.ok) return passed(outcome.evidence);
  const f = outcome.failure!;
  const inconclusive = f.kind === "image-pull" || f.kind === "task-init" || f.kind === "start" || f.kind === "no-nc";
  return failed(outcome.evidence, f.cause, f.fix, inconclusive ? L.probeInconclusive : L.probe);
}

/** A short-lived (15 minutes) IAM authentication token for `user` on the instance's endpoint, signed with the run's credentials. */
async function iamToken(dc: DbContext, db: DBInstance, user: string): Promise<string> {
  const { Signer } = await import("@aws-sdk/rds-signer");
  const settings = dc.ctx.aws.settings;
  return new Signer({ hostname: db.Endpoint!.Address!, port: portOf(db), username: user, region: settings.region, ...(settings.profile ? { profile: settings.profile } : {}) }).getAuthToken();
}

async function localProbe(dc: DbContext, db: DBInstance): Promise<CheckResult> {
  const local = dc.options.local ?? { tls: "verify" as const };
  const creds = await dc.facts.credentials();
  const endpoint = db.Endpoint!.Address!;
  const host = local.host ?? endpoint;
  const database = typeof creds.value?.dbname === "string" ? creds.value.dbname : db.DBName ?? "postgres";
  let login: { user: string; password: string; credential: "password" | "iam-token" };
  if (local.iamUser) {
    if (!db.IAMDatabaseAuthenticationEnabled) return failed([`${db.DBInstanceIdentifier}: IAM database authentication off`], "--iam-user needs IAM database authentication on the instance", `run 'platform up --env ${dc.ctx.identity.environment}' (it turns IAM authentication on)`, L.probe);
    login = { user: local.iamUser, password: await iamToken(dc, db, local.iamUser), credential: "iam-token" };
  } else {
    const password = creds.value?.password;
    if (typeof password !== "string" || !password) return skipped("the credentials secret could not be read or has no password (see the TLS and credentials check): nothing to log in with");
    login = { user: typeof creds.value!.username === "string" ? creds.value!.username : db.MasterUsername ?? "", password, credential: "password" };
  }
  const result = await probeLocal({
    host,
    port: local.port ?? portOf(db),
    ...login,
    database,
    tls: local.tls,
    ...(local.caFile ? { caFile: local.caFile } : {}),
    ...(local.host && local.host !== endpoint ? { verifyHostname: endpoint } : {}),
    timeoutMs: (dc.options.probeTimeoutSeconds ?? DEFAULT_LOCAL_TIMEOUT_SECONDS) * 1000,
  });
  const evidence = [`from this machine to ${host}:${local.port ?? portOf(db)}`, ...result.evidence];
  if (result.ok) return passed(evidence);
  const likelihood = result.diagnosis === "authentication" ? L.credentials : result.diagnosis === "network" ? L.probeInconclusive : L.probe;
  return failed(evidence, `${result.cause} (${result.diagnosis})`, result.fix!, likelihood);
}

export async function checkProbe(dc: DbContext): Promise<CheckResult> {
  if (dc.options.probe === "none") return skipped("--probe none");
  const db = await needInstance(dc);
  if (isResult(db)) return db;
  if (!db.Endpoint?.Address) return skipped("the database has no endpoint yet");
  return dc.options.probe === "local" ? localProbe(dc, db) : ecsProbe(dc, db);
}

export const DB_CONNECTIVITY_CHECKS: Check<DbContext>[] = [
  { id: "database", title: "Database exists and is available", run: checkDatabase },
  { id: "security-groups", title: "Security groups admit PostgreSQL", run: checkSecurityGroups },
  { id: "network-acls", title: "Network ACLs allow PostgreSQL and its replies", run: checkNetworkAcls },
  { id: "subnets", title: "Subnets and routes", run: checkSubnets },
  { id: "dns", title: "VPC DNS support and hostnames", run: checkDns },
  { id: "tls-credentials", title: "TLS and credentials", run: checkTlsAndCredentials },
  { id: "probe", title: "Live connection probe", run: checkProbe },
];
