import type { Config } from "../config/schema.js";
import { NAME_LIMITS, namePrefix, physicalName } from "../config/naming.js";
import { elasticIp, flowLog, iamRole, internetGateway, logGroup, natGateway, networkAcl, route, routeTable, routeTableAssociation, securityGroup, securityGroupRule, subnet, vpc, vpcEndpoint } from "../resources/catalog.js";
import { type SecurityGroupRuleSpec } from "../resources/security-group-rule.js";
import { vpcEndpointsEnabled } from "../config/protection.js";
import { ref, type StackNode, type Unresolved } from "./model.js";
import type { StackBuilder } from "./builder.js";

export const ANYWHERE = "0.0.0.0/0";
export const POSTGRES_PORT = 5432;

/**
 * Security groups, by role. The database admits only the API (and worker), dbt and Marquez (lineage, its own group:
 * Grafana and Prometheus, in monitoring, are not admitted); nothing is open to the internet but the load balancer.
 */
export const SECURITY_GROUPS = ["alb", "api", "dbt", "db", "monitoring", "lineage"] as const;
export type SecurityGroupRole = (typeof SECURITY_GROUPS)[number];

export const ids = {
  vpc: "network.vpc",
  subnet: (name: string) => `network.subnet.${name}`,
  igw: "network.internet-gateway",
  routeTable: (name: string) => `network.route-table.${name}`,
  sg: (role: SecurityGroupRole) => `network.security-group.${role}`,
  natGateway: "network.nat-gateway",
} as const;

export const PUBLIC_SUBNETS = ["public-a", "public-b"] as const;
export const PRIVATE_SUBNETS = ["private-a", "private-b"] as const;

/** VPC, subnets over two AZs, routing, optional NAT gateway, security groups and rules, network ACLs, flow logs. */
export function addNetwork(b: StackBuilder, config: Config, availabilityZones: [string, string]): void {
  const vpcId = ref(ids.vpc, "vpcId");
  b.add(ids.vpc, vpc, { cidrBlock: config.network.cidr, enableDnsSupport: true, enableDnsHostnames: true, tags: b.tags(ids.vpc, "vpc") });

  const subnets = [
    ...PUBLIC_SUBNETS.map((name, i) => ({ name, cidr: config.network.publicSubnets![i]!, az: availabilityZones[i]!, public: true })),
    ...PRIVATE_SUBNETS.map((name, i) => ({ name, cidr: config.network.privateSubnets![i]!, az: availabilityZones[i]!, public: false })),
  ];
  for (const s of subnets) {
    const id = ids.subnet(s.name);
    b.add(id, subnet, { vpcId, cidrBlock: s.cidr, availabilityZone: s.az, mapPublicIpOnLaunch: s.public, tags: b.tags(id, s.name) });
  }

  b.add(ids.igw, internetGateway, { vpcId, tags: b.tags(ids.igw, "igw") });
  addRouteTable(b, "public", PUBLIC_SUBNETS, { gatewayId: ref(ids.igw, "internetGatewayId") });

  if (config.network.natGateway) {
    b.add("network.elastic-ip.nat", elasticIp, { tags: b.tags("network.elastic-ip.nat", "nat") });
    b.add(ids.natGateway, natGateway, {
      subnetId: ref(ids.subnet("public-a"), "subnetId"),
      allocationId: ref("network.elastic-ip.nat", "allocationId"),
      tags: b.tags(ids.natGateway, "nat"),
    }, [ids.igw]); // a public NAT gateway created before the VPC's internet gateway is attached fails with Gateway.NotAttached
  }
  for (const name of PRIVATE_SUBNETS) {
    addRouteTable(b, name, [name], config.network.natGateway ? { natGatewayId: ref(ids.natGateway, "natGatewayId") } : undefined);
  }

  addSecurityGroups(b, config);
  addNetworkAcls(b, config);
  addVpcEndpoints(b, config);
  if (config.network.flowLogs.enabled) addFlowLogs(b, config);
  b.output("vpc_id", ids.vpc, "vpcId");
  PUBLIC_SUBNETS.forEach((name) => b.output(`public_subnet_${name.slice(-1)}_id`, ids.subnet(name), "subnetId"));
  PRIVATE_SUBNETS.forEach((name) => b.output(`private_subnet_${name.slice(-1)}_id`, ids.subnet(name), "subnetId"));
  if (config.network.natGateway) b.output("nat_public_ip", "network.elastic-ip.nat", "publicIp");
}

function addRouteTable(b: StackBuilder, name: string, subnetNames: readonly string[], defaultRoute?: { gatewayId?: unknown; natGatewayId?: unknown }): void {
  const rt = ids.routeTable(name);
  b.add(rt, routeTable, { vpcId: ref(ids.vpc, "vpcId"), tags: b.tags(rt, `${name}-rt`) });
  if (defaultRoute) {
    b.add(`network.route.${name}-default`, route, {
      routeTableId: ref(rt, "routeTableId"),
      destinationCidrBlock: ANYWHERE,
      ...(defaultRoute as Record<string, never>),
    });
  }
  for (const s of subnetNames) {
    b.add(`network.route-table-association.${s}`, routeTableAssociation, { routeTableId: ref(rt, "routeTableId"), subnetId: ref(ids.subnet(s), "subnetId") });
  }
}

type RuleSpec = Omit<Unresolved<SecurityGroupRuleSpec>, "groupId" | "tags">;

function securityGroupRules(config: Config): [SecurityGroupRole, string, RuleSpec][] {
  const port = config.network.appPort;
  const sg = (role: SecurityGroupRole) => ref(ids.sg(role), "groupId");
  const tcp = (fromPort: number, toPort = fromPort) => ({ protocol: "tcp" as const, fromPort, toPort });
  const monitoring = config.monitoring.prometheus || config.monitoring.grafana;
  const rules: [SecurityGroupRole, string, RuleSpec][] = [
    ["alb", "http-in", { direction: "ingress", ...tcp(80), cidrIpv4: ANYWHERE, description: "HTTP from the internet" }],
    ["alb", "https-in", { direction: "ingress", ...tcp(443), cidrIpv4: ANYWHERE, description: "HTTPS from the internet" }],
    ["alb", "api-out", { direction: "egress", ...tcp(port), referencedGroupId: sg("api"), description: "to the API tasks" }],
    ["api", "alb-in", { direction: "ingress", ...tcp(port), referencedGroupId: sg("alb"), description: "from the load balancer" }],
    ["api", "https-out", { direction: "egress", ...tcp(443), cidrIpv4: ANYWHERE, description: "AWS APIs: ECR, Secrets Manager, S3, CloudWatch Logs" }],
    ["api", "db-out", { direction: "egress", ...tcp(POSTGRES_PORT), referencedGroupId: sg("db"), description: "to the database" }],
    ["dbt", "https-out", { direction: "egress", ...tcp(443), cidrIpv4: ANYWHERE, description: "AWS APIs: ECR, Secrets Manager, S3, CloudWatch Logs" }],
    ["dbt", "db-out", { direction: "egress", ...tcp(POSTGRES_PORT), referencedGroupId: sg("db"), description: "to the database" }],
    ["db", "api-in", { direction: "ingress", ...tcp(POSTGRES_PORT), referencedGroupId: sg("api"), description: "PostgreSQL from the API" }],
    ["db", "dbt-in", { direction: "ingress", ...tcp(POSTGRES_PORT), referencedGroupId: sg("dbt"), description: "PostgreSQL from dbt" }],
  ];
  if (monitoring) {
    rules.push(
      ["monitoring", "https-out", { direction: "egress", ...tcp(443), cidrIpv4: ANYWHERE, description: "AWS APIs and image pulls" }],
      ["monitoring", "api-scrape-out", { direction: "egress", ...tcp(port), referencedGroupId: sg("api"), description: "Prometheus scrapes the API" }],
      ["api", "monitoring-in", { direction: "ingress", ...tcp(port), referencedGroupId: sg("monitoring"), description: "scrapes from Prometheus" }],
    );
  }
  if (config.monitoring.openlineage) rules.push(["lineage", "https-out", { direction: "egress", ...tcp(443), cidrIpv4: ANYWHERE, description: "AWS APIs and image pulls" }]);
  return rules;
}

function addSecurityGroups(b: StackBuilder, config: Config): void {
  const descriptions: Record<SecurityGroupRole, string> = {
    alb: "Load balancer: HTTP and HTTPS from the internet",
    api: "API tasks: app port from the load balancer only",
    dbt: "dbt runner tasks",
    db: "PostgreSQL: from the API and dbt only",
    monitoring: "Monitoring: Prometheus and Grafana (no database access)",
    lineage: "Lineage: Marquez (the database admits it)",
  };
  for (const role of SECURITY_GROUPS) {
    const id = ids.sg(role);
    b.add(id, securityGroup, {
      vpcId: ref(ids.vpc, "vpcId"),
      groupName: physicalName(config, role, NAME_LIMITS.securityGroup),
      description: descriptions[role],
      tags: b.tags(id, `${role}-sg`),
    });
  }
  for (const [role, name, rule] of securityGroupRules(config)) {
    const id = `network.security-group-rule.${role}-${name}`;
    b.add(id, securityGroupRule, { ...rule, groupId: ref(ids.sg(role), "groupId"), tags: b.tags(id) } as Unresolved<SecurityGroupRuleSpec>);
  }
}

/** Network ACLs are stateless: each allows the traffic its subnets serve, plus the ephemeral ports that replies come back on. */
function addNetworkAcls(b: StackBuilder, config: Config): void {
  const vpcCidr = config.network.cidr;
  const allow = (ruleNumber: number, egress: boolean, cidrBlock: string, ports?: [number, number]) => ({
    ruleNumber,
    egress,
    protocol: ports ? ("6" as const) : ("-1" as const),
    ruleAction: "allow" as const,
    cidrBlock,
    ...(ports ? { fromPort: ports[0], toPort: ports[1] } : {}),
  });
  const acls = {
    public: {
      subnets: PUBLIC_SUBNETS,
      entries: [
        allow(100, false, ANYWHERE, [80, 80]),
        allow(110, false, ANYWHERE, [443, 443]),
        allow(120, false, ANYWHERE, [1024, 65535]),
        allow(130, false, vpcCidr),
        allow(100, true, ANYWHERE),
      ],
    },
    private: {
      subnets: PRIVATE_SUBNETS,
      entries: [allow(100, false, vpcCidr), allow(110, false, ANYWHERE, [1024, 65535]), allow(100, true, ANYWHERE)],
    },
  };
  for (const [name, acl] of Object.entries(acls)) {
    const id = `network.network-acl.${name}`;
    b.add(id, networkAcl, {
      vpcId: ref(ids.vpc, "vpcId"),
      subnetIds: acl.subnets.map((s) => ref(ids.subnet(s), "subnetId")),
      entries: acl.entries,
      tags: b.tags(id, `${name}-nacl`),
    });
  }
}

/** The AWS services the tasks call: S3 through a gateway endpoint, the rest through interface endpoints. */
export const INTERFACE_ENDPOINTS = ["ecr.api", "ecr.dkr", "secretsmanager", "logs"] as const;
export const endpointIds = {
  securityGroup: "network.security-group.endpoints",
  ingress: "network.security-group-rule.endpoints-https-in",
  endpoint: (service: string) => `network.vpc-endpoint.${service.replace(/\./g, "-")}`,
} as const;

/**
 * network.vpcEndpoints (on by default in protected environments): the tasks reach S3, ECR, Secrets Manager and
 * CloudWatch Logs inside the VPC. Interface endpoints sit in the subnets the tasks run in (private with a NAT gateway,
 * else public) behind a group admitting 443 from the VPC; private DNS makes the usual host names resolve to them.
 */
function addVpcEndpoints(b: StackBuilder, config: Config): void {
  const natGateway = config.network.natGateway;
  if (!vpcEndpointsEnabled(config)) {
    if (!natGateway) b.note("no NAT gateway and no network.vpcEndpoints: the tasks reach ECR, Secrets Manager, S3 and CloudWatch Logs over the internet (443 egress to 0.0.0.0/0 from public IPs)");
    return;
  }
  const vpcId = ref(ids.vpc, "vpcId");
  b.add(endpointIds.securityGroup, securityGroup, {
    vpcId,
    groupName: physicalName(config, "endpoints", NAME_LIMITS.securityGroup),
    description: "VPC endpoints: HTTPS from the VPC",
    tags: b.tags(endpointIds.securityGroup, "endpoints-sg"),
  });
  b.add(endpointIds.ingress, securityGroupRule, {
    groupId: ref(endpointIds.securityGroup, "groupId"),
    direction: "ingress",
    protocol: "tcp",
    fromPort: 443,
    toPort: 443,
    cidrIpv4: config.network.cidr,
    description: "HTTPS from the VPC to the AWS APIs",
    tags: b.tags(endpointIds.ingress),
  });
  const s3 = endpointIds.endpoint("s3");
  b.add(s3, vpcEndpoint, {
    vpcId,
    serviceName: `com.amazonaws.${b.region}.s3`,
    type: "Gateway",
    routeTableIds: ["public", ...PRIVATE_SUBNETS].map((t) => ref(ids.routeTable(t), "routeTableId")),
    subnetIds: [],
    securityGroupIds: [],
    privateDnsEnabled: false,
    tags: b.tags(s3, "s3-endpoint"),
  });
  const taskSubnets = natGateway ? PRIVATE_SUBNETS : PUBLIC_SUBNETS;
  for (const service of INTERFACE_ENDPOINTS) {
    const id = endpointIds.endpoint(service);
    b.add(id, vpcEndpoint, {
      vpcId,
      serviceName: `com.amazonaws.${b.region}.${service}`,
      type: "Interface",
      routeTableIds: [],
      subnetIds: taskSubnets.map((s) => ref(ids.subnet(s), "subnetId")),
      securityGroupIds: [ref(endpointIds.securityGroup, "groupId")],
      privateDnsEnabled: true,
      tags: b.tags(id, `${service.replace(/\./g, "-")}-endpoint`),
    }, [endpointIds.ingress]);
  }
  b.note(
    `network.vpcEndpoints: S3 (gateway, free) and ${INTERFACE_ENDPOINTS.join(", ")} (interface, about $7.30/month each per AZ: ~$${(INTERFACE_ENDPOINTS.length * 2 * 7.3).toFixed(0)}/month) keep the tasks' AWS traffic in the VPC; ` +
      "task egress still allows 443 to the internet (the monitoring images come from Docker Hub)",
  );
}

function addFlowLogs(b: StackBuilder, config: Config): void {
  const groupName = `/vpc/${namePrefix(config)}/flow-logs`;
  b.add("network.flow-logs.log-group", logGroup, { name: groupName, retentionDays: config.logs.retentionDays, ...(config.logs.kmsKeyArn ? { kmsKeyArn: config.logs.kmsKeyArn } : {}), tags: b.tags("network.flow-logs.log-group") });
  const roleId = "network.flow-logs.role";
  b.add(roleId, iamRole, {
    name: physicalName(config, "vpc-flow-logs", NAME_LIMITS.iamRole),
    description: "Lets VPC Flow Logs write to the environment's flow-log group",
    assumeRolePolicy: b.serviceTrust("vpc-flow-logs.amazonaws.com"),
    inlinePolicies: {
      "write-flow-logs": {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resource: [ref("network.flow-logs.log-group", "arn"), `arn:aws:logs:${b.region}:${b.accountId}:log-group:${groupName}:*`],
          },
        ],
      },
    },
    managedPolicyArns: [],
    tags: b.tags(roleId),
  });
  b.add("network.flow-log", flowLog, {
    resourceId: ref(ids.vpc, "vpcId"),
    trafficType: config.network.flowLogs.trafficType,
    logGroupName: groupName,
    deliverLogsPermissionArn: ref(roleId, "arn"),
    tags: b.tags("network.flow-log", "flow-log"),
  });
}

export type { StackNode };
