import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { fargateSizeProblem, type Config } from "../../src/config/schema.js";
import { canonicalContainer, containerInput } from "../../src/resources/ecs-task-definition.js";
import type { StackFacts } from "../../src/stack/builder.js";
import { computeIds, ECR_AUTH_ACTION, ECS_EXEC_ACTIONS } from "../../src/stack/compute.js";
import { buildStack } from "../../src/stack/index.js";
import { dependenciesOf, Ref, resolveSpec, type Stack, type StackNode } from "../../src/stack/model.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const facts: StackFacts = { accountId: "123456789012", region: "us-east-1", availabilityZones: ["us-east-1a", "us-east-1b"] };
const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";

function configFrom(env: string, body: Record<string, unknown>): Config {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-compute-"));
  mkdirSync(path.join(dir, "config"));
  writeFileSync(path.join(dir, "config", `${env}.json`), JSON.stringify(body));
  return loadConfig({ env, cwd: dir }).config;
}

const dev = (extra: Record<string, unknown> = {}) => configFrom("dev", { project: "clinical-platform", ...extra });
const node = (stack: Stack, id: string) => stack.nodes.find((n) => n.logicalId === id) as StackNode<any> | undefined;
const refOf = (v: unknown) => (v instanceof Ref ? `${v.logicalId}.${v.attribute}` : v);
const ids = (stack: Stack) => stack.nodes.map((n) => n.logicalId);

/** Every Resource of every statement of a role's inline policies, with the statement's actions. */
function statements(stack: Stack, roleId: string): { actions: string[]; resources: unknown[] }[] {
  const role = node(stack, roleId)!;
  return Object.values(role.spec.inlinePolicies as Record<string, { Statement: Record<string, unknown>[] }>).flatMap((doc) =>
    doc.Statement.map((s) => ({ actions: [s.Action].flat() as string[], resources: [s.Resource].flat() })),
  );
}

/** A stand-in attribute for every ref, so specs can be inspected as the engine resolves them. */
const fakeAttrs = (logicalId: string): Record<string, unknown> =>
  new Proxy({}, { get: (_t, attr) => (attr === "port" ? 5432 : `<${logicalId}.${String(attr)}>`) }) as Record<string, unknown>;

describe("compute layer: what it adds", () => {
  it("adds the cluster, the roles, a task definition per workload and services for api (and worker when enabled), wired to existing resources", () => {
    const stack = buildStack(dev(), facts);
    const all = new Set(ids(stack));
    const computeOnly = ids(stack).filter((id) => id.startsWith("compute.") && !id.startsWith("compute.load-balancer") && !id.startsWith("compute.listener.") && id !== "compute.target-group.api");
    expect(computeOnly.sort()).toEqual(
      [
        "compute.cluster",
        "compute.role.task-execution",
        "compute.role.task.api",
        "compute.role.task.dbt-runner",
        "compute.role.task.worker",
        "compute.task-definition.api",
        "compute.task-definition.dbt-runner",
        "compute.task-definition.worker",
        "compute.service.api",
      ].sort(),
    );
    for (const id of computeOnly) for (const dep of dependenciesOf(node(stack, id)!)) expect(all.has(dep), `${id} → ${dep}`).toBe(true);
    expect(refOf(stack.outputs.cluster_name)).toBe("compute.cluster.name");
    expect(refOf(stack.outputs.api_service_name)).toBe("compute.service.api.name");

    const withWorker = buildStack(dev({ services: { worker: { enabled: true, desiredCount: 2 } } }), facts);
    expect(node(withWorker, computeIds.service("worker"))!.spec.desiredCount).toBe(2);
  });

  it("names the cluster <project>-<env>-cluster with Container Insights from the config (on in prod)", () => {
    expect(node(buildStack(dev(), facts), computeIds.cluster)!.spec).toMatchObject({ name: "clinical-platform-dev-cluster", containerInsights: "disabled" });
    const prod = loadConfig({ env: "prod", cwd: repoRoot }).config;
    expect(node(buildStack(prod, facts), computeIds.cluster)!.spec).toMatchObject({ name: "clinical-platform-prod-cluster", containerInsights: "enabled" });
  });

  it("sizes task definitions from the config and runs Fargate revisions from the stack's ECR repositories with the configured tag", () => {
    const stack = buildStack(dev({ services: { imageTag: "v1.2.3", api: { cpu: 512, memory: 2048 } } }), facts);
    const api = node(stack, computeIds.taskDefinition("api"))!;
    expect(api.spec).toMatchObject({ family: "clinical-platform-dev-api", cpu: 512, memory: 2048 });
    expect(refOf(api.spec.executionRoleArn)).toBe("compute.role.task-execution.arn");
    expect(refOf(api.spec.taskRoleArn)).toBe("compute.role.task.api.arn");
    const [container] = api.spec.containerDefinitions;
    expect(refOf(container.image.repositoryUri)).toBe("data.ecr.api.uri");
    expect(container.image.tag).toBe("v1.2.3");
    expect(container.portMappings).toEqual([{ containerPort: 8000 }]);
    expect(node(stack, computeIds.taskDefinition("dbt-runner"))!.spec).toMatchObject({ cpu: 512, memory: 1024 });
    expect(refOf(node(stack, computeIds.taskDefinition("dbt-runner"))!.spec.containerDefinitions[0].image.repositoryUri)).toBe("data.ecr.dbt-runner.uri");
  });

  it("logs every workload to /ecs/<project>-<env> with the workload as stream prefix (streams read api/api/<task id>)", () => {
    const stack = buildStack(dev({ monitoring: { prometheus: true, grafana: true, openlineage: true } }), facts);
    for (const w of ["api", "dbt-runner", "worker", "prometheus", "grafana", "marquez"] as const) {
      for (const c of node(stack, computeIds.taskDefinition(w))!.spec.containerDefinitions) {
        expect(refOf(c.log.group)).toBe("data.log-group.ecs.name");
        expect(c.log.streamPrefix).toBe(w);
        expect(c.log.region).toBe("us-east-1");
      }
    }
    const registered = containerInput(resolveSpec(node(stack, computeIds.taskDefinition("api"))!.spec.containerDefinitions[0], (id) => (id === "data.log-group.ecs" ? { name: "/ecs/clinical-platform-dev" } : fakeAttrs(id))));
    expect(registered.logConfiguration).toEqual({
      logDriver: "awslogs",
      options: { "awslogs-group": "/ecs/clinical-platform-dev", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "api" },
    });
  });
});

describe("compute layer: secrets", () => {
  const stack = buildStack(dev({ monitoring: { grafana: true, openlineage: true } }), facts);
  const tds = stack.nodes.filter((n) => n.logicalId.startsWith("compute.task-definition.")) as StackNode<any>[];

  it("hands secrets to containers by ARN (JSON fields as <arn>:<key>::), never as environment values", () => {
    const api = node(stack, computeIds.taskDefinition("api"))!.spec.containerDefinitions[0];
    expect(api.secrets.map((s: any) => [s.name, refOf(s.secretArn), s.jsonKey])).toEqual([
      ["DB_USER", "secrets.database-credentials.arn", "username"],
      ["DB_PASSWORD", "secrets.database-credentials.arn", "password"],
      ["APP_SECRET_KEY", "secrets.app-secret-key.arn", undefined],
      ["JWT_SIGNING_KEY", "secrets.jwt-signing-key.arn", undefined],
    ]);
    const registered = containerInput(resolveSpec(api, (id) => (id.startsWith("secrets.") ? { arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-AbCdEf` } : fakeAttrs(id))));
    expect(registered.secrets).toContainEqual({ name: "DB_PASSWORD", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:secrets.database-credentials-AbCdEf:password::" });
    expect(registered.secrets).toContainEqual({ name: "APP_SECRET_KEY", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:secrets.app-secret-key-AbCdEf" });
    const grafana = node(stack, computeIds.taskDefinition("grafana"))!.spec.containerDefinitions[0];
    expect(grafana.secrets.map((s: any) => [s.name, refOf(s.secretArn)])).toEqual([["GF_SECURITY_ADMIN_PASSWORD", "secrets.grafana-admin.arn"]]);
  });

  it("puts no secret into plain environment values: no secret refs there, and no name that looks like a secret", () => {
    for (const td of tds) {
      for (const c of td.spec.containerDefinitions) {
        for (const [name, value] of Object.entries(c.environment ?? {})) {
          expect(name).not.toMatch(/PASSWORD|SECRET|TOKEN|KEY$/);
          if (value instanceof Ref) expect(value.logicalId, `${td.logicalId} ${name}`).not.toMatch(/^secrets\./);
        }
      }
    }
    // Nothing in the whole stack carries a secret value: secrets are created with generated values inside the resource.
    expect(JSON.stringify(stack.nodes.map((n) => n.spec))).not.toMatch(/"(password|SecretString|secretValue)"\s*:/i);
  });

  it("lets the execution role read exactly the secrets the task definitions name", () => {
    const read = statements(stack, computeIds.executionRole).find((s) => s.actions.includes("secretsmanager:GetSecretValue"))!;
    expect(read.resources.map(refOf).sort()).toEqual(["secrets.app-secret-key.arn", "secrets.database-credentials.arn", "secrets.grafana-admin.arn", "secrets.jwt-signing-key.arn"]);
    const withoutGrafana = buildStack(dev(), facts);
    const narrower = statements(withoutGrafana, computeIds.executionRole).find((s) => s.actions.includes("secretsmanager:GetSecretValue"))!;
    expect(narrower.resources.map(refOf)).not.toContain("secrets.grafana-admin.arn");
  });
});

describe("compute layer: IAM scoped to the stack's ARNs", () => {
  const config = dev({ monitoring: { prometheus: true, grafana: true, openlineage: true }, services: { worker: { enabled: true } } });
  const stack = buildStack(config, facts);
  const roles = stack.nodes.filter((n) => n.logicalId.startsWith("compute.role.")).map((n) => n.logicalId);

  it('uses "*" only for ecr:GetAuthorizationToken and ECS Exec\'s channels, which have no resource to name', () => {
    expect(roles.length).toBe(7);
    for (const role of roles) {
      for (const s of statements(stack, role)) {
        if (!s.resources.includes("*")) continue;
        expect(s.resources, role).toEqual(["*"]);
        expect([[ECR_AUTH_ACTION], ECS_EXEC_ACTIONS, ["logs:DescribeLogGroups"]], `${role}: ${s.actions.join(",")}`).toContainEqual(s.actions);
      }
    }
  });

  it("pulls only from the stack's repositories and writes only to the stack's log group", () => {
    const exec = statements(stack, computeIds.executionRole);
    const pull = exec.find((s) => s.actions.includes("ecr:BatchGetImage"))!;
    expect(pull.resources.map(refOf)).toEqual(["data.ecr.api.arn", "data.ecr.dbt-runner.arn", "data.ecr.worker.arn"]);
    const logs = exec.find((s) => s.actions.includes("logs:PutLogEvents"))!;
    expect(logs.resources.map(refOf)).toEqual(["data.log-group.ecs.arn", "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/clinical-platform-dev:log-stream:*"]);
  });

  it("gives dbt read on raw and silver and write on silver, gold, lineage and artifacts, and the API only raw (write) and gold (read)", () => {
    const bucket = (k: string) => `arn:aws:s3:::clinical-platform-dev-${k}-123456789012`;
    const of = (role: string, action: string) => statements(stack, role).filter((s) => s.actions.includes(action)).flatMap((s) => s.resources).sort();
    expect(of(computeIds.taskRole("dbt-runner"), "s3:GetObject")).toEqual([`${bucket("raw")}/*`, `${bucket("silver")}/*`]);
    expect(of(computeIds.taskRole("dbt-runner"), "s3:PutObject")).toEqual(["artifacts", "gold", "lineage", "silver"].map((k) => `${bucket(k)}/*`));
    expect(of(computeIds.taskRole("api"), "s3:GetObject")).toEqual([`${bucket("gold")}/*`]);
    expect(of(computeIds.taskRole("api"), "s3:PutObject")).toEqual([`${bucket("raw")}/*`]);
    expect(of(computeIds.taskRole("api"), "s3:ListBucket")).toEqual([bucket("gold"), bucket("raw")]);
    expect(statements(stack, computeIds.taskRole("grafana")).flatMap((s) => s.actions).filter((a) => a.startsWith("s3:"))).toEqual([]);
    // Only services get ECS Exec; dbt runs one-off tasks.
    expect(statements(stack, computeIds.taskRole("dbt-runner")).flatMap((s) => s.actions)).not.toContain("ssmmessages:OpenDataChannel");
  });

  it("trusts ECS tasks of this account and region only", () => {
    const trust = node(stack, computeIds.executionRole)!.spec.assumeRolePolicy.Statement[0];
    expect(trust).toMatchObject({
      Principal: { Service: "ecs-tasks.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: { ArnLike: { "aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*" }, StringEquals: { "aws:SourceAccount": "123456789012" } },
    });
    for (const role of roles) expect(node(stack, role)!.spec.name.length).toBeLessThanOrEqual(64);
  });

  it("adds KMS permissions for the configured keys, scoped to the key and the service using it", () => {
    const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const kms = buildStack(dev({ buckets: { encryption: { kmsKeyArn: key } }, secrets: { kmsKeyId: "alias/platform" } }), facts);
    const bucketKey = statements(kms, computeIds.taskRole("dbt-runner")).find((s) => s.actions.includes("kms:GenerateDataKey"))!;
    expect(bucketKey.resources).toEqual([key]);
    const secretKey = node(kms, computeIds.executionRole)!.spec.inlinePolicies["read-secrets"].Statement.find((s: any) => s.Sid === "DecryptStackSecrets");
    expect(secretKey).toMatchObject({ Resource: "arn:aws:kms:us-east-1:123456789012:key/*", Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/platform" } } });
  });
});

describe("compute layer: placement", () => {
  it("without a NAT gateway: tasks in the public subnets with a public IP, and plan says why", () => {
    const stack = buildStack(dev({ network: { natGateway: false } }), facts);
    const api = node(stack, computeIds.service("api"))!;
    expect(api.spec.assignPublicIp).toBe(true);
    expect(api.spec.subnetIds.map(refOf)).toEqual(["network.subnet.public-a.subnetId", "network.subnet.public-b.subnetId"]);
    expect(dependenciesOf(api)).toEqual(expect.arrayContaining(["network.route.public-default", "network.route-table-association.public-a"]));
    expect(stack.notes?.join(" ")).toMatch(/natGateway is off: ECS tasks run in the public subnets with public IPs/);
  });

  it("with a NAT gateway: private subnets, no public IP, after the private routes exist, and no note", () => {
    const stack = buildStack(dev({ network: { natGateway: true } }), facts);
    const api = node(stack, computeIds.service("api"))!;
    expect(api.spec.assignPublicIp).toBe(false);
    expect(api.spec.subnetIds.map(refOf)).toEqual(["network.subnet.private-a.subnetId", "network.subnet.private-b.subnetId"]);
    expect(dependenciesOf(api)).toEqual(expect.arrayContaining(["network.route.private-a-default", "network.route.private-b-default"]));
    expect((stack.notes ?? []).filter((n) => /public IP|public subnets/.test(n))).toEqual([]);
  });

  it("puts the API behind its target group with the API security group, circuit breaker settings live in the resource", () => {
    const stack = buildStack(dev(), facts);
    const api = node(stack, computeIds.service("api"))!;
    expect(api.spec.loadBalancers.map((l: any) => [refOf(l.targetGroupArn), l.containerName, l.containerPort])).toEqual([["compute.target-group.api.arn", "api", 8000]]);
    expect(api.spec.securityGroupIds.map(refOf)).toEqual(["network.security-group.api.groupId"]);
    expect(api.spec).toMatchObject({ name: "api", desiredCount: 1, enableExecuteCommand: true, healthCheckGracePeriodSeconds: 60 });
    expect(refOf(api.spec.taskDefinitionArn)).toBe("compute.task-definition.api.arn");
    expect(dependenciesOf(api)).toContain("compute.listener.http");
    const https = buildStack(dev({ loadBalancer: { certificateArn: CERT } }), facts);
    expect(dependenciesOf(node(https, computeIds.service("api"))!)).toContain("compute.listener.https");
  });
});

describe("compute layer: monitoring toggles", () => {
  it("adds Prometheus, Grafana and Marquez services, the UIs' target groups and listener rules (from monitoring.uiAccessCidrs only), and their network rules", () => {
    const stack = buildStack(dev({ monitoring: { prometheus: true, grafana: true, openlineage: true, uiAccessCidrs: ["203.0.113.0/24"] } }), facts);
    // Marquez has its own group, which the database admits; Grafana and Prometheus share one it does not.
    for (const [w, group] of [["prometheus", "monitoring"], ["grafana", "monitoring"], ["marquez", "lineage"]] as const) {
      expect(ids(stack)).toContain(computeIds.service(w));
      expect(node(stack, computeIds.service(w))!.spec.securityGroupIds.map(refOf)).toEqual([`network.security-group.${group}.groupId`]);
    }
    const rule = (ui: "grafana" | "marquez") => node(stack, computeIds.listenerRule(ui))!;
    expect(rule("grafana").spec).toMatchObject({ priority: 10, pathPatterns: ["/grafana*"], sourceIpCidrs: ["203.0.113.0/24"] });
    expect(rule("marquez").spec).toMatchObject({ priority: 20, pathPatterns: ["/marquez*"], sourceIpCidrs: ["203.0.113.0/24"] });
    expect(refOf(rule("grafana").spec.targetGroupArn)).toBe("compute.target-group.grafana.arn");
    expect(refOf(rule("grafana").spec.listenerArn)).toBe("compute.listener.http.arn");
    expect(node(stack, computeIds.targetGroup("grafana"))!.spec).toMatchObject({ name: "clinical-platform-dev-graf", port: 3000, targetType: "ip" });
    expect(node(stack, computeIds.targetGroup("marquez"))!.spec.name).toBe("clinical-platform-dev-marq");
    const grafana = node(stack, computeIds.service("grafana"))!;
    expect(grafana.spec.loadBalancers.map((l: any) => [refOf(l.targetGroupArn), l.containerName, l.containerPort])).toEqual([["compute.target-group.grafana.arn", "grafana", 3000]]);
    expect(dependenciesOf(grafana)).toContain(computeIds.listenerRule("grafana"));
    expect(ids(stack)).toEqual(expect.arrayContaining(["alb-monitoring-ui-out", "monitoring-alb-ui-in", "alb-lineage-ui-out", "lineage-alb-ui-in", "lineage-db-out", "db-lineage-in"].map(computeIds.securityGroupRule)));
    const dbIngress = stack.nodes.map((n) => ({ spec: n.spec as any })).filter((n) => n.spec.groupId && refOf(n.spec.groupId) === "network.security-group.db.groupId" && n.spec.direction === "ingress");
    expect(dbIngress.map((n) => refOf(n.spec.referencedGroupId)).sort()).toEqual(["network.security-group.api.groupId", "network.security-group.dbt.groupId", "network.security-group.lineage.groupId"]);
    expect(node(stack, computeIds.service("prometheus"))!.spec.loadBalancers).toEqual([]);
  });

  it("without monitoring.uiAccessCidrs the UIs are not routed from the load balancer at all: no target groups, rules or load balancer rules", () => {
    const stack = buildStack(dev({ monitoring: { prometheus: true, grafana: true, openlineage: true } }), facts);
    for (const ui of ["grafana", "marquez"] as const) {
      expect(ids(stack)).toContain(computeIds.service(ui));
      expect(ids(stack)).not.toContain(computeIds.listenerRule(ui));
      expect(ids(stack)).not.toContain(computeIds.targetGroup(ui));
      expect(node(stack, computeIds.service(ui))!.spec.loadBalancers).toEqual([]);
    }
    expect(ids(stack)).not.toContain(computeIds.securityGroupRule("alb-monitoring-ui-out"));
    expect(ids(stack)).not.toContain(computeIds.securityGroupRule("monitoring-alb-ui-in"));
  });

  it("turned off, a monitoring service and everything only it needs leave the stack (the engine then deletes them)", () => {
    const on = new Set(ids(buildStack(dev({ monitoring: { prometheus: true, grafana: true, openlineage: true, uiAccessCidrs: ["203.0.113.0/24"] } }), facts)));
    const off = new Set(ids(buildStack(dev({ monitoring: { prometheus: true, grafana: false, openlineage: true, uiAccessCidrs: ["203.0.113.0/24"] } }), facts)));
    expect([...on].filter((id) => !off.has(id)).sort()).toEqual(
      [
        "compute.listener-rule.grafana",
        "compute.security-group-rule.alb-monitoring-ui-out",
        "compute.security-group-rule.monitoring-alb-ui-in",
        "compute.role.task.grafana",
        "compute.service.grafana",
        "compute.target-group.grafana",
        "compute.task-definition.grafana",
        "secrets.grafana-admin",
      ].sort(),
    );
    const none = new Set(ids(buildStack(dev(), facts)));
    expect([...none].some((id) => /prometheus|grafana|marquez|monitoring-/.test(id) && id.startsWith("compute."))).toBe(false);
  });
});

describe("config: services", () => {
  it("defaults", () => {
    expect(dev().services).toEqual({
      imageTag: "latest",
      containerInsights: false,
      api: { cpu: 256, memory: 512, desiredCount: 1, deployment: { strategy: "rolling", testListenerPort: 8443, allowPublicTestListener: false, bakeMinutes: 15 } },
      worker: { enabled: false, cpu: 256, memory: 512, desiredCount: 1 },
      dbtRunner: { cpu: 512, memory: 1024 },
    });
  });

  it.each([
    [{ api: { cpu: 256, memory: 4096 } }, /services.api.memory: memory 4096 MiB is not allowed with cpu 256 on Fargate; cpu 256 takes 512, 1024-2048 in steps of 1024 MiB/],
    [{ dbtRunner: { cpu: 1024, memory: 2500 } }, /services.dbtRunner.memory: memory 2500 MiB is not allowed with cpu 1024/],
    [{ worker: { cpu: 300 } }, /services.worker.memory: cpu 300 is not a Fargate size/],
    [{ imageTag: "-bad" }, /services.imageTag: an image tag/],
    [{ api: { containerPort: 80 } }, /services.api: unknown key "containerPort"/],
  ])("rejects %j in one clear line", (services, message) => {
    expect(() => dev({ services })).toThrow(message);
  });

  it("follows Fargate's table at its edges", () => {
    expect([fargateSizeProblem(256, 512), fargateSizeProblem(512, 4096), fargateSizeProblem(4096, 30720), fargateSizeProblem(2048, 16384)]).toEqual([undefined, undefined, undefined, undefined]);
    expect(fargateSizeProblem(512, 512)).toMatch(/cpu 512 takes 1024-4096/);
    expect(fargateSizeProblem(4096, 31744)).toMatch(/not allowed/);
  });

  it("--image style overrides keep a numeric-looking tag a string", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "platform-compute-"));
    mkdirSync(path.join(dir, "config"));
    writeFileSync(path.join(dir, "config", "dev.json"), "{}");
    expect(loadConfig({ env: "dev", cwd: dir, sets: ['services.imageTag="1.10"'] }).config.services.imageTag).toBe("1.10");
  });
});

describe("task definition normalisation", () => {
  it("reads back what it registered as equal, whatever defaults AWS adds", () => {
    const spec = {
      name: "api",
      image: { repositoryUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/x/api", tag: "v1" },
      portMappings: [{ containerPort: 8000 }],
      environment: { B: "2", A: "1" },
      secrets: [{ name: "Z", secretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:z-AbCdEf" }],
      log: { group: "/ecs/x", region: "us-east-1", streamPrefix: "api" },
    };
    const asAws = { ...containerInput(spec), cpu: 0, mountPoints: [], volumesFrom: [], systemControls: [], environment: [{ name: "A", value: "1" }, { name: "B", value: "2" }] };
    expect(canonicalContainer(asAws)).toEqual(canonicalContainer(containerInput(spec)));
    expect(containerInput(spec).image).toBe("123456789012.dkr.ecr.us-east-1.amazonaws.com/x/api:v1");
    expect(containerInput({ ...spec, image: { ...spec.image, tag: `sha256:${"a".repeat(64)}` } }).image).toBe(`123456789012.dkr.ecr.us-east-1.amazonaws.com/x/api@sha256:${"a".repeat(64)}`);
  });
});
