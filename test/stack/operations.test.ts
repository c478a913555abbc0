import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { buildStack } from "../../src/stack/index.js";
import { UserError } from "../../src/errors.js";
import { Ref, resolveSpec, type Stack } from "../../src/stack/model.js";

const facts = { accountId: "123456789012", region: "us-east-1", availabilityZones: ["us-east-1a", "us-east-1b"] as [string, string] };

function configFrom(env: string, body: Record<string, unknown>): Config {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-ops-"));
  mkdirSync(path.join(dir, "config"));
  writeFileSync(path.join(dir, "config", `${env}.json`), JSON.stringify(body));
  return loadConfig({ env, cwd: dir }).config;
}

const spec = (stack: Stack, id: string) => stack.nodes.find((n) => n.logicalId === id)?.spec as any;
const refOf = (v: unknown) => (v instanceof Ref ? `${v.logicalId}.${v.attribute}` : v);

describe("alarms", () => {
  const stack = buildStack(configFrom("dev", { services: { containerInsights: true }, alarms: { api5xxRatePercent: 2, apiP95LatencySeconds: 0.8, dbCpuPercent: 70, dbFreeStorageGiB: 5, dbConnections: 50 } }), facts);

  it("api-5xx-rate divides target 5xx by requests of the load balancer, in percent", () => {
    const a = spec(stack, "ops.alarm.api-5xx-rate");
    expect(a.name).toBe("clinical-platform-dev-api-5xx-rate");
    expect(a.queries.map((q: any) => [q.id, q.metric?.metricName, q.metric?.stat, q.expression, q.returnData])).toEqual([
      ["errors", "HTTPCode_Target_5XX_Count", "Sum", undefined, false],
      ["requests", "RequestCount", "Sum", undefined, false],
      ["rate", undefined, undefined, "100 * FILL(errors, 0) / requests", true],
    ]);
    expect(refOf(a.queries[0].metric.dimensions.LoadBalancer)).toBe("compute.load-balancer.arn");
    expect([a.comparisonOperator, a.threshold]).toEqual(["GreaterThanThreshold", 2]);
    expect(a.alarmActions.map(refOf)).toEqual(["ops.alarm-topic.arn"]);
    expect(a.okActions.map(refOf)).toEqual(["ops.alarm-topic.arn"]);
  });

  it("api-p95-latency reads TargetResponseTime p95", () => {
    const a = spec(stack, "ops.alarm.api-p95-latency");
    expect(a.metric).toMatchObject({ namespace: "AWS/ApplicationELB", metricName: "TargetResponseTime", stat: "p95", period: 300 });
    expect([a.comparisonOperator, a.threshold]).toEqual(["GreaterThanThreshold", 0.8]);
  });

  it("api-unhealthy-targets: UnHealthyHostCount of the API target group above 0 for 3 minutes", () => {
    const a = spec(stack, "ops.alarm.api-unhealthy-targets");
    expect(a.metric).toMatchObject({ metricName: "UnHealthyHostCount", stat: "Maximum", period: 60 });
    expect(refOf(a.metric.dimensions.TargetGroup)).toBe("compute.target-group.api.arn");
    expect(refOf(a.metric.dimensions.LoadBalancer)).toBe("compute.load-balancer.arn");
    expect([a.threshold, a.evaluationPeriods, a.datapointsToAlarm]).toEqual([0, 3, 3]);
  });

  it("database alarms: CPU, free storage in bytes, connections, on the instance identifier", () => {
    const cpu = spec(stack, "ops.alarm.db-cpu");
    const storage = spec(stack, "ops.alarm.db-free-storage");
    const conns = spec(stack, "ops.alarm.db-connections");
    for (const a of [cpu, storage, conns]) {
      expect(a.metric.namespace).toBe("AWS/RDS");
      expect(refOf(a.metric.dimensions.DBInstanceIdentifier)).toBe("data.database.instance.identifier");
    }
    expect([cpu.metric.metricName, cpu.comparisonOperator, cpu.threshold]).toEqual(["CPUUtilization", "GreaterThanThreshold", 70]);
    expect([storage.metric.metricName, storage.comparisonOperator, storage.threshold]).toEqual(["FreeStorageSpace", "LessThanThreshold", 5 * 1024 ** 3]);
    expect([conns.metric.metricName, conns.comparisonOperator, conns.threshold]).toEqual(["DatabaseConnections", "GreaterThanThreshold", 50]);
  });

  it("api-running-below-desired compares Container Insights task counts of the API service", () => {
    const a = spec(stack, "ops.alarm.api-running-below-desired");
    expect(a.queries.map((q: any) => q.metric?.metricName ?? q.expression)).toEqual(["RunningTaskCount", "DesiredTaskCount", "desired - running"]);
    expect(a.queries[0].metric.namespace).toBe("ECS/ContainerInsights");
    expect(refOf(a.queries[0].metric.dimensions.ServiceName)).toBe("compute.service.api.name");
    expect(refOf(a.queries[0].metric.dimensions.ClusterName)).toBe("compute.cluster.name");
  });

  it("without Container Insights there is no running-below-desired alarm, and plan says why", () => {
    const s = buildStack(configFrom("dev", {}), facts);
    expect(spec(s, "ops.alarm.api-running-below-desired")).toBeUndefined();
    expect(s.notes?.join("\n")).toMatch(/containerInsights/);
  });

  it("email subscriptions, one per address, on the encrypted topic", () => {
    const s = buildStack(configFrom("dev", { alarms: { email: ["a@example.org", "b@example.org"] } }), facts);
    expect(spec(s, "ops.alarm-topic")).toMatchObject({ name: "clinical-platform-dev-alarms", kmsMasterKeyId: "alias/aws/sns" });
    expect(spec(s, "ops.alarm-topic.subscription.1")).toMatchObject({ protocol: "email", endpoint: "b@example.org" });
    expect(refOf(spec(s, "ops.alarm-topic.subscription.0").topicArn)).toBe("ops.alarm-topic.arn");
  });

  it("outputs the dashboard URL, the topic and the audit bucket", () => {
    expect(Object.fromEntries(Object.entries(stack.outputs).filter(([k]) => ["dashboard_url", "alarm_topic_arn", "audit_bucket"].includes(k)).map(([k, v]) => [k, refOf(v)]))).toEqual({
      dashboard_url: "ops.dashboard.url",
      alarm_topic_arn: "ops.alarm-topic.arn",
      audit_bucket: "ops.audit.bucket.name",
    });
  });
});

describe("audit trail", () => {
  it("management events only by default, into the audit bucket with CloudTrail's policy and long retention", () => {
    const s = buildStack(configFrom("dev", {}), facts);
    expect(spec(s, "ops.audit.trail")).toMatchObject({ name: "clinical-platform-dev-audit", dataEventBuckets: [] });
    expect(spec(s, "ops.audit.bucket").name).toBe("clinical-platform-dev-audit-123456789012");
    const policy = spec(s, "ops.audit.bucket.policy").policy;
    const trailArn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/clinical-platform-dev-audit";
    expect(policy.Statement.map((x: any) => x.Sid)).toEqual(["AWSCloudTrailAclCheck", "AWSCloudTrailWrite", "DenyInsecureTransport"]);
    expect(policy.Statement[1]).toMatchObject({
      Principal: { Service: "cloudtrail.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: "arn:aws:s3:::clinical-platform-dev-audit-123456789012/AWSLogs/123456789012/*",
      Condition: { StringEquals: { "aws:SourceArn": trailArn, "s3:x-amz-acl": "bucket-owner-full-control" } },
    });
    expect(policy.Statement[0].Condition.StringEquals["aws:SourceArn"]).toBe(trailArn);
    expect(spec(s, "ops.audit.bucket.versioning").enabled).toBe(true);
    expect(spec(s, "ops.audit.bucket.lifecycle").rules[0]).toMatchObject({ Expiration: { Days: 2557 }, NoncurrentVersionExpiration: { NoncurrentDays: 2557 } });
    expect(spec(s, "ops.audit.bucket.public-access-block")).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
  });

  it("data events on the PHI buckets when audit.dataEvents; no trail when audit.trail is false", () => {
    const s = buildStack(configFrom("dev", { audit: { dataEvents: true } }), facts);
    expect(spec(s, "ops.audit.trail").dataEventBuckets).toEqual(["raw", "silver", "gold"].map((k) => `clinical-platform-dev-${k}-123456789012`));
    expect(spec(buildStack(configFrom("dev", { audit: { trail: false } }), facts), "ops.audit.trail")).toBeUndefined();
  });
});

describe("GitHub Actions role", () => {
  const github = { repository: "acme/clinical", branches: ["main", "release/1"], environments: ["production"] };

  it("exists only when github.repository is set", () => {
    const s = buildStack(configFrom("dev", {}), facts);
    expect(spec(s, "ops.github.role")).toBeUndefined();
    expect(spec(s, "ops.github.oidc-provider")).toBeUndefined();
  });

  it("trusts only jobs of the deploy workflow, on the configured branches, running in the configured GitHub environment", () => {
    const s = buildStack(configFrom("dev", { github }), facts);
    expect(spec(s, "ops.github.oidc-provider")).toEqual({ url: "https://token.actions.githubusercontent.com", clientIds: ["sts.amazonaws.com"] });
    const role = spec(s, "ops.github.role");
    expect(role.name).toBe("clinical-platform-dev-github-actions");
    const [st] = role.assumeRolePolicy.Statement;
    expect(refOf(st.Principal.Federated)).toBe("ops.github.oidc-provider.arn");
    expect(st.Action).toBe("sts:AssumeRoleWithWebIdentity");
    expect(st.Condition).toEqual({
      StringEquals: {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": ["repo:acme/clinical:environment:production"],
        "token.actions.githubusercontent.com:job_workflow_ref": [
          "acme/clinical/.github/workflows/deploy-dev.yml@refs/heads/main",
          "acme/clinical/.github/workflows/deploy-dev.yml@refs/heads/release/1",
        ],
      },
    });
    expect((s.notes ?? []).join("\n")).not.toMatch(/allowAnyWorkflowOnBranch/);
  });

  it("defaults the GitHub environment to the environment's name and honours github.workflow", () => {
    const role = spec(buildStack(configFrom("staging", { github: { repository: "acme/clinical", workflow: ".github/workflows/release.yaml" } }), facts), "ops.github.role");
    expect(role.assumeRolePolicy.Statement[0].Condition.StringEquals).toMatchObject({
      "token.actions.githubusercontent.com:sub": ["repo:acme/clinical:environment:staging"],
      "token.actions.githubusercontent.com:job_workflow_ref": ["acme/clinical/.github/workflows/release.yaml@refs/heads/main"],
    });
  });

  it("github.allowAnyWorkflowOnBranch trusts every workflow run on the branches, and the plan reports it as a finding", () => {
    const s = buildStack(configFrom("dev", { github: { ...github, allowAnyWorkflowOnBranch: true } }), facts);
    const [st] = spec(s, "ops.github.role").assumeRolePolicy.Statement;
    expect(st.Condition.StringEquals).toEqual({ "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" });
    expect(st.Condition.StringLike).toEqual({
      "token.actions.githubusercontent.com:sub": ["repo:acme/clinical:ref:refs/heads/main", "repo:acme/clinical:ref:refs/heads/release/1", "repo:acme/clinical:environment:production"],
    });
    expect((s.notes ?? []).join("\n")).toMatch(/finding: github.allowAnyWorkflowOnBranch is true: every workflow run on main, release\/1 of acme\/clinical may assume the deploy role/);
  });

  it("refuses a workflow outside .github/workflows", () => {
    expect(() => configFrom("dev", { github: { ...github, workflow: "../evil.yml" } })).toThrow(/github.workflow: a workflow file such as/);
  });

  it("may push to the three repositories, roll the stack's services and pass only its task roles to ECS tasks", () => {
    const role = spec(buildStack(configFrom("dev", { github }), facts), "ops.github.role");
    const st = Object.fromEntries(role.inlinePolicies.deploy.Statement.map((x: any) => [x.Sid, x]));
    expect(st.RegistryLogin).toMatchObject({ Action: "ecr:GetAuthorizationToken", Resource: "*" });
    expect(st.PushImages.Resource.map(refOf)).toEqual(["data.ecr.api.arn", "data.ecr.dbt-runner.arn", "data.ecr.worker.arn"]);
    expect(st.PushImages.Action).toContain("ecr:PutImage");
    expect(st.RollServices.Resource.map(refOf)).toEqual(["compute.service.api.arn"]);
    expect(st.RollServices.Action).toEqual(["ecs:DescribeServices", "ecs:UpdateService"]);
    expect(st.PassTaskRoles.Condition).toEqual({ StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } });
    expect(st.PassTaskRoles.Resource.map(refOf)).toEqual(expect.arrayContaining(["compute.role.task-execution.arn", "compute.role.task.api.arn"]));
    // Nothing but ECR login, the task definition calls and reading target health (which take no resource) is allowed on "*".
    const wildcard = role.inlinePolicies.deploy.Statement.filter((x: any) => x.Resource === "*").map((x: any) => x.Sid);
    expect(wildcard).toEqual(["RegistryLogin", "TaskDefinitions", "WatchRelease"]);
    expect(st.WatchRelease.Action).toEqual(["elasticloadbalancing:DescribeTargetHealth"]);
    expect(st.SwitchListeners).toBeUndefined();
    expect(st.StateObjects).toBeUndefined();
  });

  it("blue-green: may roll both slots, switch exactly the production and test listeners, and read listeners, load balancer, tags and alarms", () => {
    const role = spec(buildStack(configFrom("dev", { github, services: { api: { deployment: { strategy: "blue-green", testListenerCidrs: ["203.0.113.0/24"] } } } }), facts), "ops.github.role");
    const st = Object.fromEntries(role.inlinePolicies.deploy.Statement.map((x: any) => [x.Sid, x]));
    expect(st.RollServices.Resource.map(refOf)).toEqual(["compute.service.api.arn", "compute.service.api-green.arn"]);
    expect(st.SwitchListeners).toEqual({ Sid: "SwitchListeners", Effect: "Allow", Action: "elasticloadbalancing:ModifyListener", Resource: expect.any(Array) });
    expect(st.SwitchListeners.Resource.map(refOf)).toEqual(["compute.listener.http.arn", "compute.listener.test.arn"]);
    // Everything the deploy reads: findListener reads the listener, its load balancer (for the URL) and its tags.
    expect(st.WatchRelease.Action).toEqual([
      "elasticloadbalancing:DescribeTargetHealth",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeTags",
      "cloudwatch:DescribeAlarms",
    ]);
  });

  it("with S3 state, may read and write the state object and its lock, nothing else in the bucket", () => {
    const role = spec(buildStack(configFrom("dev", { github, state: { backend: "s3", bucket: "acme-state" } }), facts), "ops.github.role");
    const st = Object.fromEntries(role.inlinePolicies.deploy.Statement.map((x: any) => [x.Sid, x]));
    expect(st.StateObjects.Resource).toEqual(["arn:aws:s3:::acme-state/clinical-platform/dev.json", "arn:aws:s3:::acme-state/clinical-platform/dev.json.lock"]);
  });
});

describe("BI role", () => {
  it("reads the gold bucket only; rds-db:connect as bi_readonly when databaseIamAuth", () => {
    const principal = "arn:aws:iam::123456789012:role/analytics";
    const role = spec(buildStack(configFrom("dev", { bi: { enabled: true, principalArns: [principal], databaseIamAuth: true } }), facts), "ops.bi.role");
    expect(role.assumeRolePolicy.Statement[0]).toMatchObject({ Principal: { AWS: [principal] }, Action: "sts:AssumeRole" });
    const st = Object.fromEntries(role.inlinePolicies["read-gold"].Statement.map((x: any) => [x.Sid, x]));
    expect(st.ReadGoldObjects).toEqual({ Sid: "ReadGoldObjects", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::clinical-platform-dev-gold-123456789012/*" });
    // this stack's instance only, by its resource id, resolved once the instance exists
    expect(String(st.ConnectAsBiUser.Resource)).toBe("arn:aws:rds-db:us-east-1:123456789012:dbuser:${data.database.instance.resourceId}/bi_readonly");
    expect(resolveSpec(st.ConnectAsBiUser.Resource, (id) => (id === "data.database.instance" ? { resourceId: "db-ABC123" } : undefined))).toBe("arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABC123/bi_readonly");
    expect(role.assumeRolePolicy.Statement[0].Condition).toBeUndefined();
    expect(Object.keys(st)).toEqual(["ReadGoldObjects", "ListGold", "ConnectAsBiUser"]);
  });

  it("refuses a principal of another account without bi.externalId, naming the principal and the fix", () => {
    const foreign = "arn:aws:iam::999999999999:role/vendor-bi";
    const build = () => buildStack(configFrom("dev", { bi: { enabled: true, principalArns: [foreign] } }), facts);
    expect(build).toThrow(UserError);
    expect(build).toThrow(/bi.principalArns: arn:aws:iam::999999999999:role\/vendor-bi is in another account than 123456789012; set bi.externalId/);
  });

  it("with bi.externalId, the role is assumable only with that sts:ExternalId", () => {
    const foreign = "arn:aws:iam::999999999999:role/vendor-bi";
    const role = spec(buildStack(configFrom("dev", { bi: { enabled: true, principalArns: [foreign], externalId: "acme-clinical-7f3a" } }), facts), "ops.bi.role");
    expect(role.assumeRolePolicy.Statement[0].Condition).toEqual({ StringEquals: { "sts:ExternalId": "acme-clinical-7f3a" } });
  });

  it("bi.enabled without principals is a config error", () => {
    expect(() => configFrom("dev", { bi: { enabled: true } })).toThrow(/principalArns/);
  });
});
