import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { pushImage } from "../fakes/ecr.js";
import { failDeployments } from "../fakes/ecs.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

/** The compute layer end to end against the fake AWS: first bring-up, deploys, a failed deploy, monitoring toggles, teardown. */
const DEV = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
};

let aws: FakeAws;
afterEach(() => aws?.restore());

const REPO = (w: string) => `clinical-platform-dev/${w}`;
const state = (cwd: string) => JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8"));
const calls = (command: string) => aws.cloud.callsTo(command);
const mutating = () => aws.cloud.mutatingCalls().map((c) => `${c.service}:${c.command}`);
const apiService = () => [...aws.ecs.services.values()].find((s) => s.serviceName === "api" && s.status === "ACTIVE");
const taskEnis = () => [...aws.ec2.networkInterfaces.values()].filter((n) => String(n.Description).includes(":attachment/"));

describe("compute: up, deploy, fail, toggle, down", () => {
  it("brings the API up once images exist, redeploys only on change, reports a rolled-back deploy, and tears down", async () => {
    // A stopped task's network interface lingers for a moment, as Fargate's do.
    aws = installFakeAws({ latencyMs: 0, provisioningMs: { eniDrain: 40 } });
    const cwd = tempProject({ dev: DEV });

    // 1. A new environment: the repositories are created empty, so the API service starts with 0 tasks.
    const first = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/note: network.natGateway is off: ECS tasks run in the public subnets with public IPs/);
    expect(first.stdout).toMatch(/compute.service.api: no image pushed to clinical-platform-dev\/api yet/);
    expect(apiService()).toMatchObject({ desiredCount: 0 });
    // One revision per family.
    expect([...aws.ecs.taskDefinitions.values()].map((t) => t.revision)).toEqual([1, 1, 1]);
    expect(state(cwd).outputs).toMatchObject({ cluster_name: "clinical-platform-dev-cluster", api_service_name: "api" });
    const again = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(again.stdout).toMatch(/No changes/);

    // 2. CI pushed v1: one new revision per app workload, the API scales to its count in the public subnets with a public IP.
    for (const w of ["api", "dbt-runner", "worker"]) pushImage(aws.ecr, REPO(w), "v1");
    aws.cloud.calls.length = 0;
    const deploy = await runCli(cwd, ["up", "--env", "dev", "--yes", "--image", "v1"]);
    expect(deploy.code).toBe(0);
    expect(calls("RegisterTaskDefinition").map((c) => c.input.family).sort()).toEqual(["clinical-platform-dev-api", "clinical-platform-dev-dbt-runner", "clinical-platform-dev-worker"]);
    expect(apiService()).toMatchObject({ desiredCount: 1, taskDefinition: expect.stringMatching(/clinical-platform-dev-api:2$/) });
    const [eni, ...more] = taskEnis();
    expect(more).toEqual([]);
    const publicSubnets = ["public-a", "public-b"].map((s) => state(cwd).resources[`network.subnet.${s}`].physicalId);
    expect(publicSubnets).toContain(eni.SubnetId);
    expect(eni.Association?.PublicIp).toBeDefined();
    expect(eni.Groups.map((g: { GroupId: string }) => g.GroupId)).toEqual([state(cwd).resources["network.security-group.api"].physicalId]);
    expect(aws.elbv2.targetHealth!.get(state(cwd).resources["compute.target-group.api"].attributes.arn)).toHaveLength(1);
    const registered = calls("RegisterTaskDefinition").find((c) => c.input.family === "clinical-platform-dev-api")!.input;
    expect(registered.containerDefinitions[0].image).toBe("123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev/api:v1");

    // 3. The same again: nothing registered, nothing changed.
    aws.cloud.calls.length = 0;
    const noop = await runCli(cwd, ["up", "--env", "dev", "--yes", "--image", "v1"]);
    expect(noop.code).toBe(0);
    expect(noop.stdout).toMatch(/No changes/);
    expect(mutating()).toEqual([]);

    // 4. A deploy whose tasks crash: the circuit breaker rolls back, up says why (stop reason and the task's last log lines).
    pushImage(aws.ecr, REPO("api"), "v2");
    failDeployments(aws.ecs, "api", { stoppedReason: "Essential container in task exited", exitCode: 1, logLines: ["starting api", "KeyError: 'DB_HOST'"] });
    const bad = await runCli(cwd, ["up", "--env", "dev", "--yes", "--set", 'services.imageTag="v2"']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/compute\.service\.api +│? *ServiceDeploymentRolledBack/);
    expect(bad.stderr + bad.stdout).toMatch(/rolled back to clinical-platform-dev-api:2/);
    expect(bad.stderr + bad.stdout).toContain("KeyError: 'DB_HOST'");
    expect(bad.stderr + bad.stdout).toMatch(/exited 1/);
    expect(apiService()!.taskDefinition).toMatch(/clinical-platform-dev-api:2$/);
    aws.ecs.failures.clear();

    // 5. Monitoring on: Grafana and Marquez behind the load balancer by path, only from monitoring.uiAccessCidrs (without
    // them the UIs are not routed at all); off again: their services and rules go.
    for (const w of ["dbt-runner", "worker"]) pushImage(aws.ecr, REPO(w), "v2");
    const withUi = await runCli(cwd, ["up", "--env", "dev", "--yes", "--image", "v2", "--set", "monitoring.grafana=true", "--set", "monitoring.openlineage=true", "--set", 'monitoring.uiAccessCidrs=["203.0.113.0/24"]']);
    expect(withUi.stderr).toBe("");
    expect(withUi.code).toBe(0);
    const rules = [...aws.elbv2.rules!.values()].map((r) => [r.Priority, r.Conditions.map((c) => [c.Field, c.SourceIpConfig?.Values ?? c.Values])]);
    expect(rules.sort()).toEqual([
      [10, [["path-pattern", ["/grafana*"]], ["source-ip", ["203.0.113.0/24"]]]],
      [20, [["path-pattern", ["/marquez*"]], ["source-ip", ["203.0.113.0/24"]]]],
    ]);
    const active = () => [...aws.ecs.services.values()].filter((s) => s.status === "ACTIVE").map((s) => s.serviceName).sort();
    expect(active()).toEqual(["api", "grafana", "marquez"]);
    const grafanaTd = [...aws.ecs.taskDefinitions.values()].find((t) => t.family === "clinical-platform-dev-grafana")!;
    expect(grafanaTd.body.containerDefinitions[0].secrets).toEqual([{ name: "GF_SECURITY_ADMIN_PASSWORD", valueFrom: expect.stringMatching(/^arn:aws:secretsmanager:.*:secret:clinical-platform-dev\/grafana\/admin-password-\w{6}$/) }]);

    const withoutUi = await runCli(cwd, ["up", "--env", "dev", "--yes", "--image", "v2"]);
    expect(withoutUi.code).toBe(0);
    expect(withoutUi.stdout).toMatch(/- compute.service.grafana \(ecs:service\) delete/);
    expect(active()).toEqual(["api"]);
    expect(aws.elbv2.rules!.size).toBe(0);
    expect([...aws.ecs.taskDefinitions.values()].filter((t) => /grafana|marquez/.test(t.family))).toEqual([]);

    // No secret value was ever recorded in state or sent in a task definition.
    const secretValue = (v: string): string[] => {
      try {
        // JSON secrets (the database credentials): the password; host, port and user name are not secret.
        const { password } = JSON.parse(v) as { password?: string };
        return password ? [password] : [];
      } catch {
        return [v];
      }
    };
    const values = aws.secretsmanager.storedValues.flatMap(secretValue);
    expect(values.length).toBeGreaterThan(0);
    const sent = JSON.stringify(calls("RegisterTaskDefinition").map((c) => c.input)) + readFileSync(path.join(cwd, "state/dev.json"), "utf8");
    for (const v of values) expect(sent).not.toContain(v);

    // 6. Down: services scale to 0 and go before the cluster; the tasks' interfaces drain before the groups and subnets go.
    aws.cloud.calls.length = 0;
    const down = await runCli(cwd, ["down", "--env", "dev", "--yes", "--delete-data"]);
    expect(down.stderr).toBe("");
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/Nothing tagged with clinical-platform\/dev remains\./);
    expect(taskEnis()).toEqual([]);
    // The API's security group and subnets waited for its task's interface to drain (DependencyViolation, retried).
    expect(calls("DeleteSecurityGroup").length).toBeGreaterThan(5);
    expect([...aws.ecs.clusters.values()].every((c) => c.status === "INACTIVE")).toBe(true);
    const order = aws.cloud.calls.map((c) => c.command);
    const scaleToZero = aws.cloud.calls.findIndex((c) => c.command === "UpdateService" && c.input.desiredCount === 0);
    expect(scaleToZero).toBeGreaterThan(-1);
    expect(scaleToZero).toBeLessThan(order.indexOf("DeleteService"));
    expect(calls("DeleteService")[0]!.input).toMatchObject({ service: "api", force: true });
    expect(order.indexOf("DeleteService")).toBeLessThan(order.indexOf("DeleteCluster"));
    // The API's revisions go after its service (other families, with no service, may go at any time).
    const apiRevisionsDeleted = aws.cloud.calls.findIndex((c) => c.command === "DeleteTaskDefinitions" && c.input.taskDefinitions.some((arn: string) => arn.includes(":task-definition/clinical-platform-dev-api:")));
    expect(apiRevisionsDeleted).toBeGreaterThan(-1);
    expect(order.indexOf("DeleteService")).toBeLessThan(apiRevisionsDeleted);
  });

  it("with a NAT gateway: tasks run in the private subnets without public IPs, and plan has no note", async () => {
    aws = installFakeAws();
    const cwd = tempProject({ dev: { ...DEV, network: { ...DEV.network, natGateway: true } } });
    expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
    pushImage(aws.ecr, REPO("api"), "latest");
    const plan = await runCli(cwd, ["plan", "--env", "dev"]);
    expect(plan.stdout).not.toMatch(/note: .*public (IP|subnets)/);
    expect(plan.stdout).toMatch(/~ compute.service.api \(ecs:service\) update/);
    expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
    const [eni] = taskEnis();
    const privateSubnets = ["private-a", "private-b"].map((s) => state(cwd).resources[`network.subnet.${s}`].physicalId);
    expect(privateSubnets).toContain(eni.SubnetId);
    expect(eni.Association).toBeUndefined();
    expect(apiService()!.networkConfiguration.awsvpcConfiguration.assignPublicIp).toBe("DISABLED");
  });
});
