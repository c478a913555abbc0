import { NAME_LIMITS, namePrefix, physicalName } from "../config/naming.js";
import type { Config } from "../config/schema.js";
import { s3StateLocation } from "../state/index.js";
import { bucketArn, denyInsecureTransportPolicy, partitionOf } from "../resources/spec-helpers.js";
import { type LifecycleRuleSpec } from "../resources/bucket-settings.js";
import { type AlarmMetric, type MetricAlarmSpec } from "../resources/cloudwatch-alarm.js";
import { cloudTrail, dashboard, iamRole, metricAlarm, oidcProvider, snsSubscription, snsTopic } from "../resources/catalog.js";
import { type PolicyDocument } from "../resources/iam-role.js";
import { UserError } from "../errors.js";
import type { StackBuilder } from "./builder.js";
import { APP_WORKLOADS, computeIds, MONITORING_WORKLOADS, type Workload } from "./compute.js";
import { dbIds } from "./database.js";
import { lbIds, productionListener } from "./load-balancer.js";
import { join, ref, type Unresolved } from "./model.js";
import { addPrivateBucket, bucketName, PHI_BUCKETS, REPOSITORIES, storageIds, type BucketSettingKey } from "./storage.js";

export const opsIds = {
  alarmTopic: "ops.alarm-topic",
  subscription: (n: number) => `ops.alarm-topic.subscription.${n}`,
  alarm: (name: AlarmName) => `ops.alarm.${name}`,
  dashboard: "ops.dashboard",
  auditBucket: "ops.audit.bucket",
  auditBucketSetting: (s: BucketSettingKey) => `ops.audit.bucket.${s}`,
  trail: "ops.audit.trail",
  oidcProvider: "ops.github.oidc-provider",
  githubRole: "ops.github.role",
  biRole: "ops.bi.role",
} as const;

export const ALARMS = ["api-5xx-rate", "api-p95-latency", "api-unhealthy-targets", "db-cpu", "db-free-storage", "db-connections", "api-running-below-desired"] as const;
export type AlarmName = (typeof ALARMS)[number];

export const GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com";
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
export const STS_AUDIENCE = "sts.amazonaws.com";
/** The database user the BI role may connect as through IAM authentication (create it with GRANT rds_iam). */
export const BI_DB_USER = "bi_readonly";

const VERSION = "2012-10-17";
const GIB = 1024 ** 3;

/** Monitoring, audit trail and CI/BI access: alarms and their topic, the dashboard, CloudTrail, the GitHub and BI roles. */
export function addOperations(b: StackBuilder, config: Config): void {
  addAlarmTopic(b, config);
  addAlarms(b, config);
  addDashboard(b, config);
  if (config.audit.trail) addAuditTrail(b, config);
  if (config.github.repository) addGithubAccess(b, config, config.github.repository);
  if (config.bi.enabled) addBiRole(b, config);
}

function addAlarmTopic(b: StackBuilder, config: Config): void {
  const id = opsIds.alarmTopic;
  b.add(id, snsTopic, { name: physicalName(config, "alarms", 256), kmsMasterKeyId: "alias/aws/sns", tags: b.tags(id) });
  config.alarms.email.forEach((endpoint, n) => {
    b.add(opsIds.subscription(n), snsSubscription, { topicArn: ref(id, "arn"), protocol: "email", endpoint });
  });
  b.output("alarm_topic_arn", id, "arn");
}

const lbMetric = (metricName: string, stat: string, period = 300): Unresolved<AlarmMetric> => ({
  namespace: "AWS/ApplicationELB",
  metricName,
  dimensions: { LoadBalancer: ref(lbIds.loadBalancer, "arn") },
  stat,
  period,
});

const dbMetric = (metricName: string, stat: string): Unresolved<AlarmMetric> => ({
  namespace: "AWS/RDS",
  metricName,
  dimensions: { DBInstanceIdentifier: ref(dbIds.instance, "identifier") },
  stat,
  period: 300,
});

/** The API's target groups: one, or a blue-green API's two slots. */
const apiTargetGroups = (b: StackBuilder) => [lbIds.targetGroup, ...(b.has(lbIds.greenTargetGroup) ? [lbIds.greenTargetGroup] : [])];
/** The API's services: one, or a blue-green API's two slots. */
const apiServices = (b: StackBuilder) => [computeIds.service("api"), ...(b.has(computeIds.greenService) ? [computeIds.greenService] : [])];

/** Each alarm whose subject exists in the stack, with the thresholds from config.alarms. */
export function alarmSpecs(b: StackBuilder, config: Config): Partial<Record<AlarmName, Omit<Unresolved<MetricAlarmSpec>, "name" | "alarmActions" | "okActions" | "tags">>> {
  const a = config.alarms;
  const specs: Partial<Record<AlarmName, Omit<Unresolved<MetricAlarmSpec>, "name" | "alarmActions" | "okActions" | "tags">>> = {};
  const base = { evaluationPeriods: 1, datapointsToAlarm: 1, treatMissingData: "notBreaching" as const };
  if (b.has(lbIds.loadBalancer)) {
    specs["api-5xx-rate"] = {
      ...base,
      description: `API 5xx responses above ${a.api5xxRatePercent}% of requests over 5 minutes`,
      queries: [
        { id: "errors", metric: lbMetric("HTTPCode_Target_5XX_Count", "Sum"), returnData: false },
        { id: "requests", metric: lbMetric("RequestCount", "Sum"), returnData: false },
        { id: "rate", label: "5xx rate (%)", expression: "100 * FILL(errors, 0) / requests", returnData: true },
      ],
      comparisonOperator: "GreaterThanThreshold",
      threshold: a.api5xxRatePercent,
    };
    specs["api-p95-latency"] = {
      ...base,
      description: `API p95 response time above ${a.apiP95LatencySeconds} s over 5 minutes`,
      metric: lbMetric("TargetResponseTime", "p95"),
      comparisonOperator: "GreaterThanThreshold",
      threshold: a.apiP95LatencySeconds,
    };
  }
  if (b.has(lbIds.loadBalancer) && b.has(lbIds.targetGroup)) {
    // Blue-green: both slots' target groups (the idle one has no targets), so the alarm stays put when traffic switches.
    const unhealthy = (id: string) => ({ ...lbMetric("UnHealthyHostCount", "Maximum", 60), dimensions: { TargetGroup: ref(id, "arn"), LoadBalancer: ref(lbIds.loadBalancer, "arn") } });
    const slots = apiTargetGroups(b);
    specs["api-unhealthy-targets"] = {
      ...base,
      description: "API targets failing the load balancer's health check for 3 minutes",
      ...(slots.length === 1
        ? { metric: unhealthy(slots[0]!) }
        : {
            queries: [
              ...slots.map((id, i) => ({ id: `slot${i}`, metric: unhealthy(id), returnData: false })),
              { id: "unhealthy", label: "unhealthy targets", expression: slots.map((_, i) => `FILL(slot${i}, 0)`).join(" + "), returnData: true },
            ],
          }),
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
    };
  }
  if (b.has(dbIds.instance)) {
    specs["db-cpu"] = { ...base, description: `Database CPU above ${a.dbCpuPercent}% for 15 minutes`, metric: dbMetric("CPUUtilization", "Average"), comparisonOperator: "GreaterThanThreshold", threshold: a.dbCpuPercent, evaluationPeriods: 3, datapointsToAlarm: 3 };
    specs["db-free-storage"] = {
      ...base,
      description: `Database free storage below ${a.dbFreeStorageGiB} GiB`,
      metric: dbMetric("FreeStorageSpace", "Minimum"),
      comparisonOperator: "LessThanThreshold",
      threshold: a.dbFreeStorageGiB * GIB,
    };
    specs["db-connections"] = { ...base, description: `Database connections above ${a.dbConnections} for 10 minutes`, metric: dbMetric("DatabaseConnections", "Maximum"), comparisonOperator: "GreaterThanThreshold", threshold: a.dbConnections, evaluationPeriods: 2, datapointsToAlarm: 2 };
  }
  // RunningTaskCount and DesiredTaskCount exist only in Container Insights.
  if (b.has(computeIds.service("api")) && config.services.containerInsights) {
    const ecsMetric = (service: string, metricName: string): Unresolved<AlarmMetric> => ({
      namespace: "ECS/ContainerInsights",
      metricName,
      dimensions: { ClusterName: ref(computeIds.cluster, "name"), ServiceName: ref(service, "name") },
      stat: "Average",
      period: 60,
    });
    // Blue-green: both slots' services summed, so a switch moves nothing and a bake's extra tasks count on both sides.
    const services = apiServices(b);
    // One service keeps the ids "running" and "desired"; a blue-green API numbers them per slot.
    const suffix = (i: number) => (services.length === 1 ? "" : String(i));
    const sum = (prefix: string) => services.map((_, i) => `FILL(${prefix}${i}, 0)`).join(" + ");
    specs["api-running-below-desired"] = {
      description: "API service running fewer tasks than desired for 5 minutes",
      queries: [
        ...services.flatMap((id, i) => [
          { id: `running${suffix(i)}`, metric: ecsMetric(id, "RunningTaskCount"), returnData: false },
          { id: `desired${suffix(i)}`, metric: ecsMetric(id, "DesiredTaskCount"), returnData: false },
        ]),
        { id: "missing", label: "tasks missing", expression: services.length === 1 ? "desired - running" : `(${sum("desired")}) - (${sum("running")})`, returnData: true },
      ],
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: "notBreaching",
    };
  }
  return specs;
}

function addAlarms(b: StackBuilder, config: Config): void {
  const specs = alarmSpecs(b, config);
  const topic = ref(opsIds.alarmTopic, "arn");
  for (const name of ALARMS) {
    const spec = specs[name];
    if (!spec) continue;
    const id = opsIds.alarm(name);
    b.add(id, metricAlarm, { ...spec, name: physicalName(config, name, 255), alarmActions: [topic], okActions: [topic], tags: b.tags(id) } as Unresolved<MetricAlarmSpec>);
  }
  if (b.has(computeIds.service("api")) && !config.services.containerInsights) {
    b.note("no api-running-below-desired alarm: it reads Container Insights metrics; set services.containerInsights to true to get it");
  }
}

function metricWidget(b: StackBuilder, title: string, metrics: unknown[][], extra: Record<string, unknown> = {}) {
  return { type: "metric", width: 12, height: 6, properties: { title, region: b.region, view: "timeSeries", period: 300, metrics, ...extra } };
}

function addDashboard(b: StackBuilder, config: Config): void {
  const widgets: Record<string, unknown>[] = [];
  const lb = ref(lbIds.loadBalancer, "arn");
  if (b.has(lbIds.loadBalancer)) {
    widgets.push(
      metricWidget(b, "API requests and 5xx", [
        ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb, { stat: "Sum" }],
        ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, { stat: "Sum" }],
      ]),
      metricWidget(b, "API p95 latency (s)", [["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb, { stat: "p95" }]]),
    );
    if (b.has(lbIds.targetGroup)) {
      const lines = apiTargetGroups(b).flatMap((id) => {
        const tg = ref(id, "arn");
        return [
          ["AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", tg, "LoadBalancer", lb, { stat: "Minimum" }],
          ["AWS/ApplicationELB", "UnHealthyHostCount", "TargetGroup", tg, "LoadBalancer", lb, { stat: "Maximum" }],
        ];
      });
      widgets.push(metricWidget(b, "API targets", lines));
    }
  }
  if (b.has(dbIds.instance)) {
    const db = ref(dbIds.instance, "identifier");
    widgets.push(
      metricWidget(b, "Database CPU (%)", [["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", db]]),
      metricWidget(b, "Database free storage (bytes)", [["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", db, { stat: "Minimum" }]]),
      metricWidget(b, "Database connections", [["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", db, { stat: "Maximum" }]]),
    );
  }
  const services = ([...APP_WORKLOADS, ...MONITORING_WORKLOADS] as Workload[]).filter((w) => b.has(computeIds.service(w)));
  if (services.length) {
    const cluster = ref(computeIds.cluster, "name");
    const serviceIds = [...services.map((w) => computeIds.service(w)), ...(b.has(computeIds.greenService) ? [computeIds.greenService] : [])];
    const lines = (metric: string) => serviceIds.map((id) => ["AWS/ECS", metric, "ClusterName", cluster, "ServiceName", ref(id, "name")]);
    widgets.push(metricWidget(b, "ECS CPU (%)", lines("CPUUtilization")), metricWidget(b, "ECS memory (%)", lines("MemoryUtilization")));
  }
  if (b.has(storageIds.ecsLogGroup)) {
    // dbt runs as one-off tasks, which publish no duration metric: each task writes one log stream (dbt-runner/...),
    // whose first and last event bound the run.
    const query =
      `SOURCE '/ecs/${namePrefix(config)}' | filter @logStream like /^dbt-runner\\// ` +
      "| stats (max(@timestamp) - min(@timestamp)) / 1000 as durationSeconds, min(@timestamp) as started by @logStream | sort started desc | limit 20";
    widgets.push({ type: "log", width: 24, height: 6, properties: { title: "dbt task durations (s)", region: b.region, query, view: "table" } });
  }
  let y = 2; // below the ownership widget the resource adds
  widgets.forEach((w, i) => {
    const width = Number(w.width);
    Object.assign(w, { x: width === 24 ? 0 : (i % 2) * 12, y });
    if (width === 24 || i % 2 === 1) y += 6;
  });
  b.add(opsIds.dashboard, dashboard, { name: namePrefix(config), body: { widgets } } as never, b.has(lbIds.loadBalancer) ? [lbIds.loadBalancer] : undefined);
  b.output("dashboard_url", opsIds.dashboard, "url");
}

export function auditBucketName(config: Config, accountId: string): string {
  return physicalName(config, `audit-${accountId}`, NAME_LIMITS.bucket);
}

export function trailName(config: Config): string {
  return physicalName(config, "audit", 128);
}

/** CloudTrail's bucket policy (AWS CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail"), limited to our trail, plus TLS only. */
export function auditBucketPolicy(b: StackBuilder, config: Config, name: string): PolicyDocument {
  const arn = bucketArn(name, b.region);
  const trailArn = `arn:${partitionOf(b.region)}:cloudtrail:${b.region}:${b.accountId}:trail/${trailName(config)}`;
  const tls = denyInsecureTransportPolicy(arn);
  return {
    Version: VERSION,
    Statement: [
      { Sid: "AWSCloudTrailAclCheck", Effect: "Allow", Principal: { Service: "cloudtrail.amazonaws.com" }, Action: "s3:GetBucketAcl", Resource: arn, Condition: { StringEquals: { "aws:SourceArn": trailArn } } },
      {
        Sid: "AWSCloudTrailWrite",
        Effect: "Allow",
        Principal: { Service: "cloudtrail.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: `${arn}/AWSLogs/${b.accountId}/*`,
        Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn } },
      },
      ...tls.Statement,
    ],
  };
}

function addAuditTrail(b: StackBuilder, config: Config): void {
  const id = opsIds.auditBucket;
  const name = auditBucketName(config, b.accountId);
  const on = ref(id, "name");
  const setting = opsIds.auditBucketSetting;
  const days = config.audit.retentionDays;
  const rule = {
    ID: "platform-audit-retention",
    Status: "Enabled",
    Filter: { Prefix: "" },
    Expiration: { Days: days },
    NoncurrentVersionExpiration: { NoncurrentDays: days },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
  } as LifecycleRuleSpec;
  addPrivateBucket(b, {
    id,
    name,
    dataClassification: "Audit",
    setting,
    // SSE-S3: CloudTrail writes into a bucket whose default key is S3's without a KMS key policy to maintain.
    encryption: { algorithm: "AES256" },
    policy: auditBucketPolicy(b, config, name) as Record<string, never>,
    versioning: true,
    rules: [rule],
  });
  b.output("audit_bucket", id, "name");
  if (config.audit.allowDeletingAuditLogs) {
    b.note(`finding: audit.allowDeletingAuditLogs is true: down --delete-data may delete ${name} and its audit logs before their ${days}-day retention ends`);
  }

  const dataEventBuckets = config.audit.dataEvents ? PHI_BUCKETS.map((k) => bucketName(config, b.accountId, k)) : [];
  b.add(
    opsIds.trail,
    cloudTrail,
    { name: trailName(config), bucket: on, dataEventBuckets, tags: b.tags(opsIds.trail) },
    [setting("policy"), setting("public-access-block"), setting("ownership-controls")],
  );
}

/** The workflow file the deploy role trusts: github.workflow, or the one `platform ci init` writes. */
export function githubWorkflowPath(config: Config): string {
  return config.github.workflow ?? `.github/workflows/deploy-${config.environment}.yml`;
}

/** The GitHub environments whose jobs may assume the deploy role: github.environments, or one named like this environment. */
export function githubEnvironments(config: Config): string[] {
  return config.github.environments.length ? config.github.environments : [config.environment];
}

/**
 * Who may assume the GitHub role: jobs of the deploy workflow (job_workflow_ref, on the configured branches) that run
 * in one of the configured GitHub environments (sub), through GitHub's OIDC tokens. AWS STS evaluates GitHub's
 * job_workflow_ref claim as a condition key in role trust policies since 2026-01. With
 * github.allowAnyWorkflowOnBranch, any workflow run on the branches (sub by ref) or in the environments.
 */
export function githubTrustPolicy(providerArn: unknown, repository: string, config: Config): Unresolved<PolicyDocument> {
  const { branches, allowAnyWorkflowOnBranch } = config.github;
  const environments = githubEnvironments(config);
  const workflow = githubWorkflowPath(config);
  const environmentSubjects = environments.map((e) => `repo:${repository}:environment:${e}`);
  const condition = allowAnyWorkflowOnBranch
    ? {
        StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: STS_AUDIENCE },
        StringLike: { [`${GITHUB_OIDC_HOST}:sub`]: [...branches.map((br) => `repo:${repository}:ref:refs/heads/${br}`), ...environmentSubjects] },
      }
    : {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: STS_AUDIENCE,
          [`${GITHUB_OIDC_HOST}:sub`]: environmentSubjects,
          [`${GITHUB_OIDC_HOST}:job_workflow_ref`]: branches.map((br) => `${repository}/${workflow}@refs/heads/${br}`),
        },
      };
  return {
    Version: VERSION,
    Statement: [{ Sid: "GitHubActionsOidc", Effect: "Allow", Principal: { Federated: providerArn }, Action: "sts:AssumeRoleWithWebIdentity", Condition: condition }],
  } as Unresolved<PolicyDocument>;
}

/** What `platform deploy` does, and only that: push images, register task definitions, roll services, keep state. */
export function githubPermissions(b: StackBuilder, config: Config): Unresolved<PolicyDocument> {
  const partition = partitionOf(b.region);
  const workloads = ([...APP_WORKLOADS, ...MONITORING_WORKLOADS] as Workload[]).filter((w) => b.has(computeIds.taskDefinition(w)));
  const services = workloads.filter((w) => b.has(computeIds.service(w)));
  const roles = [...(b.has(computeIds.executionRole) ? [computeIds.executionRole] : []), ...workloads.map((w) => computeIds.taskRole(w)).filter((id) => b.has(id))];
  const statements: Record<string, unknown>[] = [
    { Sid: "RegistryLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    {
      Sid: "PushImages",
      Effect: "Allow",
      Action: [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:DescribeImages",
        "ecr:GetDownloadUrlForLayer",
        "ecr:InitiateLayerUpload",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
      ],
      Resource: REPOSITORIES.map((r) => ref(storageIds.repository(r), "arn")),
    },
    // RegisterTaskDefinition, DescribeTaskDefinition and DeregisterTaskDefinition take no resource-level permissions.
    { Sid: "TaskDefinitions", Effect: "Allow", Action: ["ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"], Resource: "*" },
    {
      Sid: "TagTaskDefinitions",
      Effect: "Allow",
      Action: "ecs:TagResource",
      Resource: `arn:${partition}:ecs:${b.region}:${b.accountId}:task-definition/${namePrefix(config)}-*:*`,
      Condition: { StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" } },
    },
  ];
  if (services.length) {
    const serviceIds = [...services.map((w) => computeIds.service(w)), ...(b.has(computeIds.greenService) ? [computeIds.greenService] : [])];
    statements.push({ Sid: "RollServices", Effect: "Allow", Action: ["ecs:DescribeServices", "ecs:UpdateService"], Resource: serviceIds.map((id) => ref(id, "arn")) });
    statements.push({ Sid: "WatchTasks", Effect: "Allow", Action: "ecs:DescribeTasks", Resource: `arn:${partition}:ecs:${b.region}:${b.accountId}:task/${physicalName(config, "cluster", 255)}/*` });
  }
  if (b.has(lbIds.loadBalancer)) {
    // Deploys wait for healthy targets; a blue-green deploy also reads the listeners (with their load balancer and tags)
    // and the alarms. ELBv2 Describe* and CloudWatch DescribeAlarms take no resource-level permissions.
    const reads = ["elasticloadbalancing:DescribeTargetHealth", ...(b.has(lbIds.testListener) ? ["elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags", "cloudwatch:DescribeAlarms"] : [])];
    statements.push({ Sid: "WatchRelease", Effect: "Allow", Action: reads, Resource: "*" });
  }
  if (b.has(lbIds.testListener)) {
    // A blue-green deploy switches the production and test listeners, and nothing else of the load balancer.
    statements.push({ Sid: "SwitchListeners", Effect: "Allow", Action: "elasticloadbalancing:ModifyListener", Resource: [productionListener(config), lbIds.testListener].map((id) => ref(id, "arn")) });
  }
  if (roles.length) {
    statements.push({
      Sid: "PassTaskRoles",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: roles.map((id) => ref(id, "arn")),
      Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    });
  }
  const state = config.state.backend === "s3" ? s3StateLocation(config) : undefined;
  if (state) {
    const arn = `arn:${partitionOf(state.region)}:s3:::${state.bucket}`;
    statements.push(
      { Sid: "StateObjects", Effect: "Allow", Action: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], Resource: [`${arn}/${state.key}`, `${arn}/${state.key}.lock`] },
      { Sid: "StateListing", Effect: "Allow", Action: "s3:ListBucket", Resource: arn, Condition: { StringLike: { "s3:prefix": [`${state.key}*`] } } },
    );
  }
  return { Version: VERSION, Statement: statements } as Unresolved<PolicyDocument>;
}

function addGithubAccess(b: StackBuilder, config: Config, repository: string): void {
  b.add(opsIds.oidcProvider, oidcProvider, { url: GITHUB_OIDC_URL, clientIds: [STS_AUDIENCE] });
  const id = opsIds.githubRole;
  b.add(id, iamRole, {
    name: physicalName(config, "github-actions", NAME_LIMITS.iamRole),
    description: `GitHub Actions of ${repository}: push images and run platform deploy for ${namePrefix(config)}`,
    assumeRolePolicy: githubTrustPolicy(ref(opsIds.oidcProvider, "arn"), repository, config),
    inlinePolicies: { deploy: githubPermissions(b, config) },
    managedPolicyArns: [],
    tags: b.tags(id),
  } as Unresolved<Parameters<typeof iamRole.create>[1]>);
  b.output("github_actions_role_arn", id, "arn");
  if (config.github.allowAnyWorkflowOnBranch) {
    b.note(`finding: github.allowAnyWorkflowOnBranch is true: every workflow run on ${config.github.branches.join(", ")} of ${repository} may assume the deploy role, not only ${githubWorkflowPath(config)} in GitHub environment ${githubEnvironments(config).join(", ")}`);
  }
  if (config.state.backend !== "s3") b.note("github.repository is set but state is local: CI runs of platform deploy need state.backend \"s3\" to read this environment's state");
}

export function biPermissions(b: StackBuilder, config: Config): Unresolved<PolicyDocument> {
  const gold = bucketArn(bucketName(config, b.accountId, "gold"), b.region);
  const statements: Record<string, unknown>[] = [
    { Sid: "ReadGoldObjects", Effect: "Allow", Action: "s3:GetObject", Resource: `${gold}/*` },
    { Sid: "ListGold", Effect: "Allow", Action: ["s3:GetBucketLocation", "s3:ListBucket"], Resource: gold },
  ];
  const kms = config.buckets.encryption.kmsKeyArn;
  if (kms) statements.push({ Sid: "DecryptGold", Effect: "Allow", Action: "kms:Decrypt", Resource: kms, Condition: { StringEquals: { "kms:ViaService": `s3.${b.region}.amazonaws.com` } } });
  if (config.bi.databaseIamAuth && b.has(dbIds.instance)) {
    // The dbuser ARN names the instance by its resource id (DbiResourceId, db-XXXX): this stack's instance, one user.
    statements.push({ Sid: "ConnectAsBiUser", Effect: "Allow", Action: "rds-db:connect", Resource: dbUserArn(b, BI_DB_USER) });
  }
  return { Version: VERSION, Statement: statements };
}

/** rds-db:connect's resource for `user` on this stack's instance: arn:PARTITION:rds-db:REGION:ACCOUNT:dbuser:DbiResourceId/USER. */
export function dbUserArn(b: StackBuilder, user: string) {
  return join(`arn:${partitionOf(b.region)}:rds-db:${b.region}:${b.accountId}:dbuser:`, ref(dbIds.instance, "resourceId"), `/${user}`);
}

/** The account id an IAM principal ARN names. */
export const accountOfPrincipal = (arn: string) => arn.split(":")[4];

/**
 * Who may assume the BI role: the configured principals; when any is in another account, only with bi.externalId
 * (sts:ExternalId), so a third party's tool cannot be used by its other customers to reach this account's data.
 */
export function biTrustPolicy(config: Config, accountId: string): PolicyDocument {
  const foreign = config.bi.principalArns.filter((arn) => accountOfPrincipal(arn) !== accountId);
  if (foreign.length && !config.bi.externalId) {
    throw new UserError(
      `config/${config.environment}.json: bi.principalArns: ${foreign.join(", ")} ${foreign.length > 1 ? "are" : "is"} in another account than ${accountId}; set bi.externalId (the sts:ExternalId that account must send) or trust a principal of this account`,
    );
  }
  const statement: Record<string, unknown> = { Sid: "BiPrincipals", Effect: "Allow", Principal: { AWS: config.bi.principalArns }, Action: "sts:AssumeRole" };
  if (config.bi.externalId) statement.Condition = { StringEquals: { "sts:ExternalId": config.bi.externalId } };
  return { Version: VERSION, Statement: [statement] };
}

function addBiRole(b: StackBuilder, config: Config): void {
  const id = opsIds.biRole;
  b.add(id, iamRole, {
    name: physicalName(config, "bi-readonly", NAME_LIMITS.iamRole),
    description: `Read-only analytics access to the gold data of ${namePrefix(config)}`,
    assumeRolePolicy: biTrustPolicy(config, b.accountId),
    inlinePolicies: { "read-gold": biPermissions(b, config) },
    managedPolicyArns: [],
    tags: b.tags(id),
  } as Unresolved<Parameters<typeof iamRole.create>[1]>);
  b.output("bi_role_arn", id, "arn");
}
