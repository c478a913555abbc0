import type { Config } from "../config/schema.js";
import { NAME_LIMITS, namePrefix, physicalName } from "../config/naming.js";
import { bucketArn, partitionOf } from "../resources/spec-helpers.js";
import { ecsCluster, ecsService, ecsTaskDefinition, iamRole, listenerRule, securityGroupRule, targetGroup } from "../resources/catalog.js";
import { type EcsServiceSpec } from "../resources/ecs-service.js";
import { type ContainerSecret, type ContainerSpec } from "../resources/ecs-task-definition.js";
import { type PolicyDocument } from "../resources/iam-role.js";
import { type SecurityGroupRuleSpec } from "../resources/security-group-rule.js";
import { secretIds } from "../secrets/catalog.js";
import type { BucketKey } from "../config/schema.js";
import type { StackBuilder } from "./builder.js";
import { dbIds } from "./database.js";
import { API_HEALTH_CHECK, isBlueGreen, lbIds, slotTargetGroup } from "./load-balancer.js";
import type { Slot } from "../state/document.js";
import { SLOTS } from "../state/releases.js";
import { ref, type Ref, refsIn, type Unresolved } from "./model.js";
import { ids as network, POSTGRES_PORT, PRIVATE_SUBNETS, PUBLIC_SUBNETS, type SecurityGroupRole } from "./network.js";
import { bucketName, execLogGroupName, type RepositoryKey, storageIds } from "./storage.js";
import { ecsExecEnabled } from "../config/protection.js";

/**
 * The compute layer: the ECS cluster, the task execution role and one least-privilege task role per workload, a task
 * definition per workload (api, dbt-runner, worker, and the monitoring stack when enabled), and the services that run
 * them (api always; worker and monitoring when enabled; dbt-runner only runs as one-off tasks). Grafana's and Marquez's
 * web UIs are routed by the load balancer (/grafana*, /marquez*) only from monitoring.uiAccessCidrs (see routedUis).
 */
export const APP_WORKLOADS = ["api", "dbt-runner", "worker"] as const satisfies readonly RepositoryKey[];
export const MONITORING_WORKLOADS = ["prometheus", "grafana", "marquez"] as const;
export type Workload = (typeof APP_WORKLOADS)[number] | (typeof MONITORING_WORKLOADS)[number];
export type UiWorkload = "grafana" | "marquez";

export const computeIds = {
  cluster: "compute.cluster",
  executionRole: "compute.role.task-execution",
  taskRole: (w: Workload) => `compute.role.task.${w}`,
  taskDefinition: (w: Workload) => `compute.task-definition.${w}`,
  service: (w: Workload) => `compute.service.${w}`,
  /** Blue-green: the API's green slot (the blue slot is service("api")). */
  greenService: "compute.service.api-green",
  targetGroup: (ui: UiWorkload) => `compute.target-group.${ui}`,
  listenerRule: (ui: UiWorkload) => `compute.listener-rule.${ui}`,
  securityGroupRule: (name: string) => `compute.security-group-rule.${name}`,
} as const;

/** The logical id of a blue-green slot's API service. */
export const slotService = (slot: Slot) => (slot === "green" ? computeIds.greenService : computeIds.service("api"));

/** Third-party images of the monitoring stack, pinned (pulled from Docker Hub over the internet: NAT gateway or public IP). */
export const MONITORING_IMAGES = {
  prometheus: "prom/prometheus:v2.54.1",
  grafana: "grafana/grafana:11.2.2",
  marquez: "marquezproject/marquez:0.50.0",
  marquezWeb: "marquezproject/marquez-web:0.50.0",
} as const;

/** The web UIs behind the load balancer: path pattern, listener rule priority, container port, health check path. */
export const UIS: Record<UiWorkload, { path: string; priority: number; container: string; port: number; healthCheckPath: string; targetGroupSuffix: string }> = {
  grafana: { path: "/grafana*", priority: 10, container: "grafana", port: 3000, healthCheckPath: "/grafana/api/health", targetGroupSuffix: "graf" },
  marquez: { path: "/marquez*", priority: 20, container: "marquez-web", port: 3000, healthCheckPath: "/", targetGroupSuffix: "marq" },
};
const PROMETHEUS_PORT = 9090;
const MARQUEZ_API_PORT = 5000;
const MARQUEZ_ADMIN_PORT = 5001;

/** Fixed sizes of the monitoring tasks (Marquez runs its API and web UI side by side). */
const MONITORING_SIZES: Record<(typeof MONITORING_WORKLOADS)[number], { cpu: number; memory: number }> = {
  prometheus: { cpu: 512, memory: 1024 },
  grafana: { cpu: 256, memory: 512 },
  marquez: { cpu: 512, memory: 1024 },
};

/** Seconds a new task may fail health checks while it starts (Marquez migrates its schema first). */
const GRACE_SECONDS: Partial<Record<Workload, number>> = { api: 60, grafana: 120, marquez: 180 };

/** S3 access by workload. The API ingests into raw and serves gold; the worker does the API's background jobs; dbt transforms. */
export const BUCKET_ACCESS: Partial<Record<Workload, Partial<Record<BucketKey, "read" | "write" | "read-write">>>> = {
  api: { raw: "write", gold: "read" },
  worker: { raw: "write", gold: "read" },
  "dbt-runner": { raw: "read", silver: "read-write", gold: "write", lineage: "write", artifacts: "write" },
};

const S3_READ_OBJECTS = ["s3:GetObject"];
const S3_WRITE_OBJECTS = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"];
const S3_BUCKET_READ = ["s3:ListBucket"];
const S3_BUCKET_WRITE = ["s3:ListBucket", "s3:ListBucketMultipartUploads"];

/** ECS Exec (enableExecuteCommand): the SSM agent in the task opens these channels; ssmmessages has no resource-level permissions. */
export const ECS_EXEC_ACTIONS = ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"];
/** The one action AWS allows only on "*" besides ECS Exec's. */
export const ECR_AUTH_ACTION = "ecr:GetAuthorizationToken";

const VERSION = "2012-10-17";

interface Placement {
  subnetIds: Ref[];
  assignPublicIp: boolean;
  /** Routes and associations the tasks need to reach ECR, Secrets Manager and CloudWatch Logs. */
  dependsOn: string[];
}

export function addCompute(b: StackBuilder, config: Config): void {
  const prefix = namePrefix(config);
  const placement = taskPlacement(b, config);
  if (placement.assignPublicIp) {
    b.note(
      "network.natGateway is off: ECS tasks run in the public subnets with public IPs so they can reach ECR, Secrets Manager and CloudWatch Logs " +
        "(inbound traffic is still limited by their security groups). Turn the NAT gateway on to keep them in the private subnets without public IPs.",
    );
  }

  for (const [w, image] of Object.entries(b.facts.deployedImages ?? {}).sort()) {
    b.note(`${w} keeps ${image} (rolled out by 'platform deploy') while services.imageTag stays "${config.services.imageTag}"; set another tag, or run 'platform up --env ${config.environment} --image ${config.services.imageTag}', to replace it.`);
  }

  const exec = ecsExecEnabled(config);
  b.add(
    computeIds.cluster,
    ecsCluster,
    {
      name: physicalName(config, "cluster", 255),
      containerInsights: config.services.containerInsights ? "enabled" : "disabled",
      // ECS Exec sessions are logged (and encrypted with the logs key when there is one) whenever ECS Exec is on.
      ...(exec ? { execLogging: { logGroupName: execLogGroupName(config), ...(config.logs.kmsKeyArn ? { kmsKeyArn: config.logs.kmsKeyArn } : {}) } } : {}),
      tags: b.tags(computeIds.cluster),
    },
    exec ? [storageIds.execLogGroup] : undefined,
  );

  const workloads = enabledWorkloads(config);
  const containers = new Map(workloads.map((w) => [w, containersOf(b, config, w)]));
  addExecutionRole(b, config, [...containers.values()].flat());
  for (const w of workloads) addTaskRole(b, config, w);

  for (const w of workloads) {
    const size = sizeOf(config, w);
    const id = computeIds.taskDefinition(w);
    b.add(id, ecsTaskDefinition, {
      family: `${prefix}-${w}`,
      cpu: size.cpu,
      memory: size.memory,
      executionRoleArn: ref(computeIds.executionRole, "arn"),
      taskRoleArn: ref(computeIds.taskRole(w), "arn"),
      containerDefinitions: containers.get(w)!,
      tags: b.tags(id),
    });
  }

  const lbListener = config.loadBalancer.certificateArn ? lbIds.httpsListener : lbIds.httpListener;
  for (const ui of routedUis(config)) addUi(b, config, ui, lbListener);
  addMonitoringRules(b, config);

  for (const w of workloads.filter(hasService(config))) {
    if (w === "api" && isBlueGreen(config)) for (const slot of SLOTS) addService(b, config, w, placement, lbListener, slot);
    else addService(b, config, w, placement, lbListener);
  }

  b.output("cluster_name", computeIds.cluster, "name");
  b.output("api_service_name", slotService(b.facts.liveSlots?.api ?? "blue"), "name");
  b.output("dbt_runner_task_definition", computeIds.taskDefinition("dbt-runner"), "arn");
}

/** Which workloads the config asks for: the three apps always (dbt only as a task definition), monitoring by toggle. */
export function enabledWorkloads(config: Config): Workload[] {
  const m = config.monitoring;
  return [...APP_WORKLOADS, ...(m.prometheus ? ["prometheus" as const] : []), ...(m.grafana ? ["grafana" as const] : []), ...(m.openlineage ? ["marquez" as const] : [])];
}

/**
 * The web UIs the load balancer routes: only with monitoring.uiAccessCidrs, and then only from those ranges (Marquez
 * has no login). Without them the UIs are reached privately, through an ECS Exec port-forwarding session.
 */
export function routedUis(config: Config): UiWorkload[] {
  if (!config.monitoring.uiAccessCidrs.length) return [];
  return (["grafana", "marquez"] as const).filter((ui) => enabledWorkloads(config).includes(ui));
}

const hasService = (config: Config) => (w: Workload) => w !== "dbt-runner" && (w !== "worker" || config.services.worker.enabled);

function sizeOf(config: Config, w: Workload): { cpu: number; memory: number } {
  if (w === "api") return config.services.api;
  if (w === "worker") return config.services.worker;
  if (w === "dbt-runner") return config.services.dbtRunner;
  return MONITORING_SIZES[w];
}

/**
 * With a NAT gateway, private subnets and no public IP. Without one, the private subnets have no way out, and Fargate
 * needs one to pull images and read secrets: the tasks go to the public subnets with a public IP (the trade-off is said
 * in plan; their security groups still admit only the load balancer and Prometheus).
 */
function taskPlacement(b: StackBuilder, config: Config): Placement {
  const natGateway = config.network.natGateway;
  const subnets = natGateway ? PRIVATE_SUBNETS : PUBLIC_SUBNETS;
  const routes = natGateway ? PRIVATE_SUBNETS.map((s) => `network.route.${s}-default`) : ["network.route.public-default"];
  const dependsOn = [...routes, ...subnets.map((s) => `network.route-table-association.${s}`)].filter((id) => b.has(id));
  return { subnetIds: subnets.map((s) => ref(network.subnet(s), "subnetId")), assignPublicIp: !natGateway, dependsOn };
}

// ---- containers ---------------------------------------------------------------------------------------------------

const secret = (name: string, logicalId: string, jsonKey?: string): Unresolved<ContainerSecret> => ({ name, secretArn: ref(logicalId, "arn"), ...(jsonKey ? { jsonKey } : {}) });

/** The database's user and password, as fields of the credentials secret; never plain environment values. */
const DB_SECRETS = [secret("DB_USER", secretIds.databaseCredentials, "username"), secret("DB_PASSWORD", secretIds.databaseCredentials, "password")];

function databaseEnvironment(b: StackBuilder, config: Config): Record<string, string | Ref> {
  if (!b.has(dbIds.instance)) return {};
  return { DB_HOST: ref(dbIds.instance, "endpointAddress"), DB_PORT: ref(dbIds.instance, "port"), DB_NAME: config.database.dbName };
}

function bucketEnvironment(w: Workload): Record<string, Ref> {
  const access = BUCKET_ACCESS[w] ?? {};
  return Object.fromEntries(Object.keys(access).map((k) => [`BUCKET_${k.toUpperCase()}`, ref(storageIds.bucket(k as BucketKey), "name")]));
}

/** awslogs into the environment's ECS log group; streams read `<workload>/<container>/<task id>` (api/api/<task id>). */
function logTo(b: StackBuilder, w: Workload) {
  return { group: ref(storageIds.ecsLogGroup, "name"), region: b.region, streamPrefix: w };
}

/** The config's tag in the workload's repository, unless `platform deploy` rolled out an image that still holds. */
function appImage(b: StackBuilder, config: Config, w: RepositoryKey) {
  return b.facts.deployedImages?.[w] ?? { repositoryUri: ref(storageIds.repository(w), "uri"), tag: config.services.imageTag };
}

export function containersOf(b: StackBuilder, config: Config, w: Workload): Unresolved<ContainerSpec>[] {
  const base = { ENVIRONMENT: config.environment };
  const log = logTo(b, w);
  switch (w) {
    case "api":
      return [
        {
          name: "api",
          image: appImage(b, config, "api"),
          portMappings: [{ containerPort: config.network.appPort }],
          environment: { ...base, PORT: String(config.network.appPort), ...databaseEnvironment(b, config), ...bucketEnvironment(w) },
          secrets: [...DB_SECRETS, secret("APP_SECRET_KEY", secretIds.appSecretKey), secret("JWT_SIGNING_KEY", secretIds.jwtSigningKey)],
          log,
        },
      ];
    case "worker":
      return [
        {
          name: "worker",
          image: appImage(b, config, "worker"),
          environment: { ...base, ...databaseEnvironment(b, config), ...bucketEnvironment(w) },
          secrets: [...DB_SECRETS, secret("APP_SECRET_KEY", secretIds.appSecretKey)],
          log,
        },
      ];
    case "dbt-runner":
      return [
        {
          name: "dbt-runner",
          image: appImage(b, config, "dbt-runner"),
          environment: { ...base, ...databaseEnvironment(b, config), ...bucketEnvironment(w) },
          secrets: DB_SECRETS,
          log,
        },
      ];
    case "prometheus":
      return [{ name: "prometheus", image: MONITORING_IMAGES.prometheus, portMappings: [{ containerPort: PROMETHEUS_PORT }], log }];
    case "grafana":
      return [
        {
          name: "grafana",
          image: MONITORING_IMAGES.grafana,
          portMappings: [{ containerPort: UIS.grafana.port }],
          environment: {
            GF_SERVER_DOMAIN: ref(lbIds.loadBalancer, "dnsName"),
            GF_SERVER_ROOT_URL: "%(protocol)s://%(domain)s/grafana/",
            GF_SERVER_SERVE_FROM_SUB_PATH: "true",
            GF_SECURITY_ADMIN_USER: "admin",
            GF_USERS_ALLOW_SIGN_UP: "false",
          },
          secrets: [secret("GF_SECURITY_ADMIN_PASSWORD", secretIds.grafanaAdmin)],
          log,
        },
      ];
    case "marquez":
      // Lineage is stored in the environment's PostgreSQL (its own tables in the configured database).
      return [
        {
          name: "marquez",
          image: MONITORING_IMAGES.marquez,
          portMappings: [{ containerPort: MARQUEZ_API_PORT }, { containerPort: MARQUEZ_ADMIN_PORT }],
          environment: {
            MARQUEZ_PORT: String(MARQUEZ_API_PORT),
            MARQUEZ_ADMIN_PORT: String(MARQUEZ_ADMIN_PORT),
            ...(b.has(dbIds.instance) ? { POSTGRES_HOST: ref(dbIds.instance, "endpointAddress"), POSTGRES_PORT: ref(dbIds.instance, "port"), POSTGRES_DB: config.database.dbName } : {}),
          },
          secrets: [secret("POSTGRES_USER", secretIds.databaseCredentials, "username"), secret("POSTGRES_PASSWORD", secretIds.databaseCredentials, "password")],
          log,
        },
        {
          name: "marquez-web",
          image: MONITORING_IMAGES.marquezWeb,
          portMappings: [{ containerPort: UIS.marquez.port }],
          // awsvpc: the containers of a task share localhost.
          environment: { MARQUEZ_HOST: "localhost", MARQUEZ_PORT: String(MARQUEZ_API_PORT), WEB_PORT: String(UIS.marquez.port) },
          log,
        },
      ];
  }
}

// ---- IAM ------------------------------------------------------------------------------------------------------------

/** ECS tasks of this account and region may assume the role (with the confused-deputy conditions AWS recommends). */
function ecsTasksTrust(b: StackBuilder): Unresolved<PolicyDocument> {
  return {
    Version: VERSION,
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "ecs-tasks.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          ArnLike: { "aws:SourceArn": `arn:${partitionOf(b.region)}:ecs:${b.region}:${b.accountId}:*` },
          StringEquals: { "aws:SourceAccount": b.accountId },
        },
      },
    ],
  };
}

/** A KMS key's ARN for a key ARN or id; aliases are matched by condition instead (a policy cannot name a key by alias). */
function kmsStatement(b: StackBuilder, keyId: string, actions: string[], viaService: string): Record<string, unknown> {
  const partition = partitionOf(b.region);
  const via = { "kms:ViaService": `${viaService}.${b.region}.amazonaws.com` };
  if (keyId.startsWith("arn:") && keyId.includes(":key/")) return { Effect: "Allow", Action: actions, Resource: keyId, Condition: { StringEquals: via } };
  const alias = keyId.startsWith("arn:") ? keyId.slice(keyId.indexOf(":alias/") + 1) : keyId.startsWith("alias/") ? keyId : undefined;
  if (!alias) return { Effect: "Allow", Action: actions, Resource: `arn:${partition}:kms:${b.region}:${b.accountId}:key/${keyId}`, Condition: { StringEquals: via } };
  return {
    Effect: "Allow",
    Action: actions,
    Resource: `arn:${partition}:kms:${b.region}:${b.accountId}:key/*`,
    Condition: { StringEquals: via, "ForAnyValue:StringEquals": { "kms:ResourceAliases": alias } },
  };
}

/**
 * What ECS itself needs to start the tasks: pull the stack's images, write to the stack's log group, read exactly the
 * secrets the task definitions name. ecr:GetAuthorizationToken has no resource: it is the one "*".
 */
function addExecutionRole(b: StackBuilder, config: Config, containers: Unresolved<ContainerSpec>[]): void {
  const id = computeIds.executionRole;
  const partition = partitionOf(b.region);
  const logGroupName = `/ecs/${namePrefix(config)}`;
  // Exactly the secrets the task definitions hand to containers.
  const secretLogicalIds = [...refsIn(containers.map((c) => (c as { secrets?: unknown }).secrets))].sort();
  const readSecrets: Record<string, unknown>[] = [{ Sid: "ReadStackSecrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secretLogicalIds.map((s) => ref(s, "arn")) }];
  if (config.secrets.kmsKeyId) readSecrets.push({ Sid: "DecryptStackSecrets", ...kmsStatement(b, config.secrets.kmsKeyId, ["kms:Decrypt"], "secretsmanager") });
  b.add(id, iamRole, {
    name: physicalName(config, "ecs-task-execution", NAME_LIMITS.iamRole),
    description: `Lets ECS start ${namePrefix(config)} tasks: pull its images, write its logs, read its secrets`,
    assumeRolePolicy: ecsTasksTrust(b),
    inlinePolicies: {
      "pull-images": {
        Version: VERSION,
        Statement: [
          { Sid: "RegistryLogin", Effect: "Allow", Action: ECR_AUTH_ACTION, Resource: "*" },
          {
            Sid: "PullStackImages",
            Effect: "Allow",
            Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            Resource: APP_WORKLOADS.map((w) => ref(storageIds.repository(w), "arn")),
          },
        ],
      },
      "write-logs": {
        Version: VERSION,
        Statement: [
          {
            Sid: "WriteTaskLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: [ref(storageIds.ecsLogGroup, "arn"), `arn:${partition}:logs:${b.region}:${b.accountId}:log-group:${logGroupName}:log-stream:*`],
          },
        ],
      },
      "read-secrets": { Version: VERSION, Statement: readSecrets },
    },
    managedPolicyArns: [],
    tags: b.tags(id),
  });
}

function s3Statements(b: StackBuilder, config: Config, w: Workload): Record<string, unknown>[] {
  const access = Object.entries(BUCKET_ACCESS[w] ?? {}) as [BucketKey, "read" | "write" | "read-write"][];
  if (!access.length) return [];
  const arnOf = (k: BucketKey) => bucketArn(bucketName(config, b.accountId, k), b.region);
  const reads = access.filter(([, a]) => a !== "write").map(([k]) => k);
  const writes = access.filter(([, a]) => a !== "read").map(([k]) => k);
  const statements: Record<string, unknown>[] = [];
  if (reads.length) statements.push({ Sid: "ReadObjects", Effect: "Allow", Action: S3_READ_OBJECTS, Resource: reads.map((k) => `${arnOf(k)}/*`) });
  if (writes.length) statements.push({ Sid: "WriteObjects", Effect: "Allow", Action: S3_WRITE_OBJECTS, Resource: writes.map((k) => `${arnOf(k)}/*`) });
  if (reads.length) statements.push({ Sid: "ListReadBuckets", Effect: "Allow", Action: S3_BUCKET_READ, Resource: reads.map(arnOf) });
  if (writes.length) statements.push({ Sid: "ListWriteBuckets", Effect: "Allow", Action: S3_BUCKET_WRITE, Resource: writes.map(arnOf) });
  const kms = config.buckets.encryption.kmsKeyArn;
  if (kms) {
    const actions = [...(reads.length ? ["kms:Decrypt"] : []), ...(writes.length ? ["kms:Decrypt", "kms:GenerateDataKey"] : [])];
    statements.push({ Sid: "BucketKey", ...kmsStatement(b, kms, [...new Set(actions)], "s3") });
  }
  return statements;
}

/** What the workload's own code may do: its buckets, and ECS Exec for services (whose channels have no resource to name). */
function addTaskRole(b: StackBuilder, config: Config, w: Workload): void {
  const id = computeIds.taskRole(w);
  const inlinePolicies: Record<string, Unresolved<PolicyDocument>> = {};
  const s3 = s3Statements(b, config, w);
  if (s3.length) inlinePolicies["data-lake"] = { Version: VERSION, Statement: s3 };
  if (w !== "dbt-runner" && ecsExecEnabled(config)) inlinePolicies["ecs-exec"] = { Version: VERSION, Statement: ecsExecStatements(b, config) };
  b.add(id, iamRole, {
    name: physicalName(config, `${w}-task`, NAME_LIMITS.iamRole),
    description: `The ${w} tasks of ${namePrefix(config)}: only what their code calls`,
    assumeRolePolicy: ecsTasksTrust(b),
    inlinePolicies,
    managedPolicyArns: [],
    tags: b.tags(id),
  });
}

/** The SSM agent's channels, and the session log it writes (and decrypts with the logs key) under the task role. */
function ecsExecStatements(b: StackBuilder, config: Config): Record<string, unknown>[] {
  const partition = partitionOf(b.region);
  const group = `arn:${partition}:logs:${b.region}:${b.accountId}:log-group:${execLogGroupName(config)}`;
  return [
    { Sid: "EcsExecChannels", Effect: "Allow", Action: ECS_EXEC_ACTIONS, Resource: "*" },
    // The agent checks the group exists and is encrypted before a session starts; DescribeLogGroups has no resource.
    { Sid: "EcsExecFindLogGroup", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
    { Sid: "EcsExecSessionLog", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"], Resource: [`${group}:*`] },
    ...(config.logs.kmsKeyArn ? [{ Sid: "EcsExecSessionKey", Effect: "Allow", Action: "kms:Decrypt", Resource: config.logs.kmsKeyArn }] : []),
  ];
}

// ---- load balancer and network rules --------------------------------------------------------------------------------

function addUi(b: StackBuilder, config: Config, ui: UiWorkload, listenerId: string): void {
  const settings = UIS[ui];
  const tg = computeIds.targetGroup(ui);
  b.add(tg, targetGroup, {
    name: physicalName(config, settings.targetGroupSuffix, NAME_LIMITS.targetGroup),
    protocol: "HTTP",
    port: settings.port,
    vpcId: ref(network.vpc, "vpcId"),
    targetType: "ip",
    healthCheck: { ...API_HEALTH_CHECK, path: settings.healthCheckPath },
    deregistrationDelaySeconds: config.loadBalancer.deregistrationDelaySeconds,
    tags: b.tags(tg, settings.targetGroupSuffix),
  });
  const rule = computeIds.listenerRule(ui);
  b.add(rule, listenerRule, {
    listenerArn: ref(listenerId, "arn"),
    priority: settings.priority,
    pathPatterns: [settings.path],
    sourceIpCidrs: config.monitoring.uiAccessCidrs,
    targetGroupArn: ref(tg, "arn"),
    tags: b.tags(rule),
  });
}

type RuleSpec = Omit<Unresolved<SecurityGroupRuleSpec>, "tags">;

/**
 * The monitoring and lineage groups' own rules: the load balancer reaches a routed UI (Grafana in monitoring, Marquez
 * in lineage); only Marquez (lineage) reaches the database, never Grafana or Prometheus.
 */
function addMonitoringRules(b: StackBuilder, config: Config): void {
  const sg = (role: SecurityGroupRole) => ref(network.sg(role), "groupId");
  const port = UIS.grafana.port;
  const rules: [string, RuleSpec][] = [];
  for (const ui of routedUis(config)) {
    const group = serviceGroup(ui);
    rules.push(
      [`alb-${group}-ui-out`, { groupId: sg("alb"), direction: "egress", protocol: "tcp", fromPort: port, toPort: port, referencedGroupId: sg(group), description: `to the ${ui} UI` }],
      [`${group}-alb-ui-in`, { groupId: sg(group), direction: "ingress", protocol: "tcp", fromPort: port, toPort: port, referencedGroupId: sg("alb"), description: "UI from the load balancer" }],
    );
  }
  if (config.monitoring.openlineage) {
    rules.push(
      ["lineage-db-out", { groupId: sg("lineage"), direction: "egress", protocol: "tcp", fromPort: POSTGRES_PORT, toPort: POSTGRES_PORT, referencedGroupId: sg("db"), description: "Marquez to the database" }],
      ["db-lineage-in", { groupId: sg("db"), direction: "ingress", protocol: "tcp", fromPort: POSTGRES_PORT, toPort: POSTGRES_PORT, referencedGroupId: sg("lineage"), description: "PostgreSQL from Marquez" }],
    );
  }
  for (const [name, rule] of rules) {
    const id = computeIds.securityGroupRule(name);
    b.add(id, securityGroupRule, { ...rule, tags: b.tags(id) } as Unresolved<SecurityGroupRuleSpec>);
  }
}

// ---- services -------------------------------------------------------------------------------------------------------

function serviceGroup(w: Workload): SecurityGroupRole {
  // The worker has the API's group: the database admits it, and nothing else reaches it but the load balancer's port.
  // Marquez has a group of its own, which the database admits; Grafana and Prometheus share one it does not.
  if (w === "api" || w === "worker") return "api";
  return w === "marquez" ? "lineage" : w === "dbt-runner" ? "dbt" : "monitoring";
}

/**
 * A workload's ECS service. A blue-green API has two, one per slot: blue is the service a rolling API has (`api`), green
 * is `api-green` behind its own target group; the live slot runs the config's count, the idle one none (deploy scales it
 * up for a release, and keeps the old one running through the bake time).
 */
function addService(b: StackBuilder, config: Config, w: Workload, placement: Placement, lbListener: string, slot?: Slot): void {
  const id = slot === "green" ? computeIds.greenService : computeIds.service(w);
  const group = serviceGroup(w);
  const ui = (w === "grafana" || w === "marquez") && routedUis(config).includes(w) ? w : undefined;
  const loadBalancers =
    w === "api"
      ? [{ targetGroupArn: ref(slot ? slotTargetGroup(slot) : lbIds.targetGroup, "arn"), containerName: "api", containerPort: config.network.appPort }]
      : ui
        ? [{ targetGroupArn: ref(computeIds.targetGroup(ui), "arn"), containerName: UIS[ui].container, containerPort: UIS[ui].port }]
        : [];
  const idle = slot !== undefined && slot !== (b.facts.liveSlots?.[w] ?? "blue");
  const desiredCount = idle ? 0 : w === "api" ? config.services.api.desiredCount : w === "worker" ? config.services.worker.desiredCount : 1;
  // A target group is usable by a service only once a listener (or rule) forwards to it; tasks need their network rules.
  const after = [
    ...placement.dependsOn,
    ...(w === "api" ? [lbListener, ...(slot ? [lbIds.testListener] : [])] : ui ? [computeIds.listenerRule(ui)] : []),
    ...[`network.security-group-rule.${group}-https-out`, ...(w === "api" ? ["network.security-group-rule.api-alb-in", "network.security-group-rule.alb-api-out"] : [])],
    ...(ui ? [computeIds.securityGroupRule(`${group}-alb-ui-in`), computeIds.securityGroupRule(`alb-${group}-ui-out`)] : []),
    ...(w === "marquez" ? [computeIds.securityGroupRule("lineage-db-out"), computeIds.securityGroupRule("db-lineage-in")] : []),
  ].filter((dep) => b.has(dep));
  const spec: Unresolved<EcsServiceSpec> = {
    cluster: ref(computeIds.cluster, "name"),
    name: slot === "green" ? `${w}-green` : w,
    taskDefinitionArn: ref(computeIds.taskDefinition(w), "arn"),
    desiredCount,
    ...(idle ? { idle: true } : {}),
    subnetIds: placement.subnetIds,
    securityGroupIds: [ref(network.sg(group), "groupId")],
    assignPublicIp: placement.assignPublicIp,
    loadBalancers,
    ...(loadBalancers.length && GRACE_SECONDS[w] !== undefined ? { healthCheckGracePeriodSeconds: GRACE_SECONDS[w] } : {}),
    enableExecuteCommand: ecsExecEnabled(config),
    tags: { ...b.tags(id), ...(slot ? { Slot: slot } : {}) },
  };
  b.add(id, ecsService, spec, after);
}
