import { mockClient } from "aws-sdk-client-mock";
import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException as LogsNotFound } from "@aws-sdk/client-cloudwatch-logs";
import {
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  EC2Client,
  type NetworkAcl,
  type RouteTable,
  type SecurityGroupRule,
  type Subnet,
} from "@aws-sdk/client-ec2";
import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
  type TaskDefinition,
} from "@aws-sdk/client-ecs";
import { IAMClient, SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { KMSClient } from "@aws-sdk/client-kms";
import { type DBInstance, DescribeDBInstancesCommand, DescribeDBParametersCommand, DBInstanceNotFoundFault, RDSClient } from "@aws-sdk/client-rds";
import { DescribeSecretCommand, GetSecretValueCommand, ResourceNotFoundException as SecretNotFound, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { StateDocument } from "../../src/state/document.js";

/**
 * A healthy dev environment as AWS would describe it, held in one mutable object: each test breaks one thing
 * (removes a rule, stops the database) and the stubs, which read the object on every call, answer accordingly.
 * Shaped like the stack builds it: private subnets a/b under one network ACL, the API and dbt groups admitted by
 * the database group, the credentials secret read by the task execution role.
 */
export const ACCOUNT = "123456789012";
export const ENDPOINT = "clinical-platform-dev-db.abc123.us-east-1.rds.amazonaws.com";
export const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:clinical-platform-dev/database/credentials-AbCdEf`;
export const EXECUTION_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/clinical-platform-dev-task-execution`;
export const API_TASK_DEFINITION = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/clinical-platform-dev-api:3`;
export const PROBE_TASK_DEFINITION = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/clinical-platform-dev-db-probe:1`;
export const PROBE_TASK = `arn:aws:ecs:us-east-1:${ACCOUNT}:task/clinical-platform-dev/0123456789abcdef`;
export const PASSWORD = "s3cret-Passw0rd-never-printed";

export interface World {
  db: DBInstance | undefined;
  forceSsl: string;
  subnets: Subnet[];
  rules: SecurityGroupRule[];
  acls: NetworkAcl[];
  routeTables: RouteTable[];
  dns: { support: boolean; hostnames: boolean };
  secret: Record<string, unknown> | undefined;
  secretKmsKeyId?: string;
  /** IAM decision per action. */
  decisions: Record<string, string>;
  apiService: boolean;
  taskDefinition: TaskDefinition;
  /** What DescribeTasks answers for the probe task, call after call (the last repeats). */
  probeTasks: Task[];
  probeLog: string[] | undefined;
}

const rule = (id: string, groupId: string, egress: boolean, port: number, to: { group?: string; cidr?: string }, protocol = "tcp"): SecurityGroupRule => ({
  SecurityGroupRuleId: id,
  GroupId: groupId,
  IsEgress: egress,
  IpProtocol: protocol,
  FromPort: port,
  ToPort: port,
  ...(to.group ? { ReferencedGroupInfo: { GroupId: to.group } } : {}),
  ...(to.cidr ? { CidrIpv4: to.cidr } : {}),
});

const entry = (RuleNumber: number, Egress: boolean, CidrBlock: string, RuleAction: "allow" | "deny", ports?: [number, number]) => ({
  RuleNumber,
  Egress,
  CidrBlock,
  RuleAction,
  Protocol: ports ? "6" : "-1",
  ...(ports ? { PortRange: { From: ports[0], To: ports[1] } } : {}),
});

export function stoppedProbe(exitCode: number | undefined, extra: Partial<Task> = {}): Task {
  return {
    taskArn: PROBE_TASK,
    lastStatus: "STOPPED",
    stopCode: "EssentialContainerExited",
    containers: [{ name: "probe", ...(exitCode !== undefined ? { exitCode } : {}) }],
    ...extra,
  };
}

export function healthyWorld(): World {
  return {
    db: {
      DBInstanceIdentifier: "clinical-platform-dev-db",
      DBInstanceStatus: "available",
      Engine: "postgres",
      EngineVersion: "16.4",
      DBInstanceClass: "db.t3.micro",
      MasterUsername: "platform_admin",
      DBName: "clinical",
      Endpoint: { Address: ENDPOINT, Port: 5432 },
      DBSubnetGroup: {
        DBSubnetGroupName: "clinical-platform-dev-db",
        VpcId: "vpc-1",
        SubnetGroupStatus: "Complete",
        Subnets: [
          { SubnetIdentifier: "subnet-pa", SubnetAvailabilityZone: { Name: "us-east-1a" }, SubnetStatus: "Active" },
          { SubnetIdentifier: "subnet-pb", SubnetAvailabilityZone: { Name: "us-east-1b" }, SubnetStatus: "Active" },
        ],
      },
      VpcSecurityGroups: [{ VpcSecurityGroupId: "sg-db", Status: "active" }],
      DBParameterGroups: [{ DBParameterGroupName: "clinical-platform-dev-postgres16", ParameterApplyStatus: "in-sync" }],
      PendingModifiedValues: {},
    },
    forceSsl: "1",
    subnets: [
      { SubnetId: "subnet-pa", VpcId: "vpc-1", CidrBlock: "10.0.2.0/24", AvailabilityZone: "us-east-1a" },
      { SubnetId: "subnet-pb", VpcId: "vpc-1", CidrBlock: "10.0.3.0/24", AvailabilityZone: "us-east-1b" },
      { SubnetId: "subnet-pua", VpcId: "vpc-1", CidrBlock: "10.0.0.0/24", AvailabilityZone: "us-east-1a" },
    ],
    rules: [
      rule("sgr-db-api", "sg-db", false, 5432, { group: "sg-api" }),
      rule("sgr-db-dbt", "sg-db", false, 5432, { group: "sg-dbt" }),
      rule("sgr-api-db", "sg-api", true, 5432, { group: "sg-db" }),
      rule("sgr-api-https", "sg-api", true, 443, { cidr: "0.0.0.0/0" }),
    ],
    acls: [
      {
        NetworkAclId: "acl-private",
        VpcId: "vpc-1",
        Associations: [{ SubnetId: "subnet-pa" }, { SubnetId: "subnet-pb" }],
        Entries: [
          entry(100, false, "10.0.0.0/16", "allow"),
          entry(110, false, "0.0.0.0/0", "allow", [1024, 65535]),
          entry(32767, false, "0.0.0.0/0", "deny"),
          entry(100, true, "0.0.0.0/0", "allow"),
          entry(32767, true, "0.0.0.0/0", "deny"),
        ],
      },
    ],
    routeTables: [
      { RouteTableId: "rtb-main", VpcId: "vpc-1", Associations: [{ Main: true }], Routes: [{ DestinationCidrBlock: "10.0.0.0/16", GatewayId: "local" }] },
      { RouteTableId: "rtb-private-a", VpcId: "vpc-1", Associations: [{ SubnetId: "subnet-pa" }], Routes: [{ DestinationCidrBlock: "10.0.0.0/16", GatewayId: "local" }] },
      { RouteTableId: "rtb-private-b", VpcId: "vpc-1", Associations: [{ SubnetId: "subnet-pb" }], Routes: [{ DestinationCidrBlock: "10.0.0.0/16", GatewayId: "local" }] },
      {
        RouteTableId: "rtb-public",
        VpcId: "vpc-1",
        Associations: [{ SubnetId: "subnet-pua" }],
        Routes: [{ DestinationCidrBlock: "10.0.0.0/16", GatewayId: "local" }, { DestinationCidrBlock: "0.0.0.0/0", GatewayId: "igw-1" }],
      },
    ],
    dns: { support: true, hostnames: true },
    secret: { username: "platform_admin", password: PASSWORD, host: ENDPOINT, port: 5432, dbname: "clinical", engine: "postgres" },
    decisions: { "secretsmanager:GetSecretValue": "allowed", "kms:Decrypt": "allowed" },
    apiService: true,
    taskDefinition: {
      taskDefinitionArn: API_TASK_DEFINITION,
      family: "clinical-platform-dev-api",
      executionRoleArn: EXECUTION_ROLE_ARN,
      containerDefinitions: [
        {
          name: "api",
          image: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev-api:latest`,
          secrets: [{ name: "DB_PASSWORD", valueFrom: `${SECRET_ARN}:password::` }],
          logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/clinical-platform-dev", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "api" } },
        },
      ],
    },
    probeTasks: [stoppedProbe(0)],
    probeLog: [`${ENDPOINT} (10.0.3.17:5432) open`],
  };
}

/** What state records for that environment. */
export function worldState(): StateDocument {
  const now = "2026-01-01T00:00:00.000Z";
  const r = (type: string, physicalId: string, attributes: Record<string, unknown>) => ({ type, physicalId, attributes, dependsOn: [], createdAt: now, updatedAt: now });
  return {
    version: 1,
    lineage: "11111111-2222-3333-4444-555555555555",
    serial: 40,
    project: "clinical-platform",
    environment: "dev",
    region: "us-east-1",
    accountId: ACCOUNT,
    outputs: {},
    resources: {
      "network.vpc": r("ec2:vpc", "vpc-1", { vpcId: "vpc-1" }),
      "network.subnet.private-a": r("ec2:subnet", "subnet-pa", { subnetId: "subnet-pa" }),
      "network.subnet.private-b": r("ec2:subnet", "subnet-pb", { subnetId: "subnet-pb" }),
      "network.security-group.api": r("ec2:security-group", "sg-api", { groupId: "sg-api" }),
      "network.security-group.dbt": r("ec2:security-group", "sg-dbt", { groupId: "sg-dbt" }),
      "network.security-group.db": r("ec2:security-group", "sg-db", { groupId: "sg-db" }),
      "network.network-acl.private": r("ec2:network-acl", "acl-private", { networkAclId: "acl-private" }),
      "data.database.instance": r("rds:db-instance", "clinical-platform-dev-db", { identifier: "clinical-platform-dev-db" }),
      "secrets.database-credentials": r("secretsmanager:secret", SECRET_ARN, { arn: SECRET_ARN, name: "clinical-platform-dev/database/credentials" }),
      "compute.role.task-execution": r("iam:role", "clinical-platform-dev-task-execution", { name: "clinical-platform-dev-task-execution", arn: EXECUTION_ROLE_ARN }),
      "compute.service.api": r("ecs:service", "clinical-platform-dev-api", {
        cluster: "clinical-platform-dev",
        name: "clinical-platform-dev-api",
        arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/clinical-platform-dev/clinical-platform-dev-api`,
      }),
    },
  };
}

export const mocks = {
  ec2: mockClient(EC2Client),
  rds: mockClient(RDSClient),
  secrets: mockClient(SecretsManagerClient),
  iam: mockClient(IAMClient),
  kms: mockClient(KMSClient),
  ecs: mockClient(ECSClient),
  logs: mockClient(CloudWatchLogsClient),
  sts: mockClient(STSClient),
};

const filterValues = (input: { Filters?: { Name?: string; Values?: string[] }[] }, name: string) => input.Filters?.find((f) => f.Name === name)?.Values ?? [];

/** Resets every mock and answers from `w`, read at call time. */
export function stubWorld(w: World): void {
  for (const m of Object.values(mocks)) m.reset();
  mocks.sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/dev`, UserId: "AIDA" });

  mocks.rds.on(DescribeDBInstancesCommand).callsFake(() => {
    if (!w.db) throw new DBInstanceNotFoundFault({ message: "DBInstance clinical-platform-dev-db not found.", $metadata: {} });
    return { DBInstances: [w.db] };
  });
  mocks.rds.on(DescribeDBParametersCommand).callsFake(() => ({ Parameters: [{ ParameterName: "rds.force_ssl", ParameterValue: w.forceSsl, ApplyType: "dynamic" }] }));

  mocks.ec2.on(DescribeSubnetsCommand).callsFake((input) => ({ Subnets: w.subnets.filter((s) => filterValues(input, "subnet-id").includes(s.SubnetId!)) }));
  mocks.ec2.on(DescribeSecurityGroupRulesCommand).callsFake((input) => ({ SecurityGroupRules: w.rules.filter((r) => filterValues(input, "group-id").includes(r.GroupId!)) }));
  mocks.ec2
    .on(DescribeNetworkAclsCommand)
    .callsFake((input) => ({ NetworkAcls: w.acls.filter((a) => a.Associations?.some((x) => filterValues(input, "association.subnet-id").includes(x.SubnetId!))) }));
  mocks.ec2.on(DescribeRouteTablesCommand).callsFake((input) => ({ RouteTables: w.routeTables.filter((t) => filterValues(input, "vpc-id").includes(t.VpcId!)) }));
  mocks.ec2.on(DescribeVpcAttributeCommand).callsFake((input) =>
    input.Attribute === "enableDnsSupport" ? { VpcId: input.VpcId, EnableDnsSupport: { Value: w.dns.support } } : { VpcId: input.VpcId, EnableDnsHostnames: { Value: w.dns.hostnames } },
  );

  mocks.secrets.on(GetSecretValueCommand).callsFake(() => {
    if (!w.secret) throw new SecretNotFound({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
    return { ARN: SECRET_ARN, SecretString: JSON.stringify(w.secret) };
  });
  mocks.secrets.on(DescribeSecretCommand).callsFake(() => {
    if (!w.secret) throw new SecretNotFound({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
    return { ARN: SECRET_ARN, Name: "clinical-platform-dev/database/credentials", VersionIdsToStages: { v1: ["AWSCURRENT"] }, ...(w.secretKmsKeyId ? { KmsKeyId: w.secretKmsKeyId } : {}) };
  });
  mocks.iam.on(SimulatePrincipalPolicyCommand).callsFake((input) => ({
    EvaluationResults: (input.ActionNames ?? []).map((a: string) => ({ EvalActionName: a, EvalResourceName: input.ResourceArns?.[0], EvalDecision: w.decisions[a] ?? "implicitDeny" })),
  }));

  mocks.ecs.on(DescribeServicesCommand).callsFake(() =>
    w.apiService
      ? {
          services: [
            {
              serviceName: "clinical-platform-dev-api",
              serviceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/clinical-platform-dev/clinical-platform-dev-api`,
              status: "ACTIVE",
              launchType: "FARGATE",
              taskDefinition: API_TASK_DEFINITION,
              networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-pa", "subnet-pb"], securityGroups: ["sg-api"], assignPublicIp: "DISABLED" } },
              events: [],
            },
          ],
          failures: [],
        }
      : { services: [], failures: [{ arn: "clinical-platform-dev-api", reason: "MISSING" }] },
  );
  mocks.ecs.on(DescribeTaskDefinitionCommand).callsFake(() => ({ taskDefinition: w.taskDefinition }));
  mocks.ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: PROBE_TASK_DEFINITION } });
  mocks.ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: PROBE_TASK, lastStatus: "PROVISIONING" }], failures: [] });
  let describeCalls = 0;
  mocks.ecs.on(DescribeTasksCommand).callsFake(() => ({ tasks: [w.probeTasks[Math.min(describeCalls++, w.probeTasks.length - 1)]], failures: [] }));
  mocks.ecs.on(StopTaskCommand).callsFake(() => ({ task: { taskArn: PROBE_TASK, lastStatus: "RUNNING", desiredStatus: "STOPPED" } }));
  mocks.ecs.on(DeregisterTaskDefinitionCommand).resolves({});
  mocks.ecs.on(DeleteTaskDefinitionsCommand).resolves({ taskDefinitions: [], failures: [] });
  mocks.logs.on(GetLogEventsCommand).callsFake(() => {
    if (!w.probeLog) throw new LogsNotFound({ message: "The specified log stream does not exist.", $metadata: {} });
    return { events: w.probeLog.map((message, i) => ({ timestamp: 1_700_000_000_000 + i, message })) };
  });
}

export function restoreMocks(): void {
  for (const m of Object.values(mocks)) m.restore();
}
