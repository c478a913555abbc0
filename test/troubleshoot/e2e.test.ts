import { readFileSync } from "node:fs";
import { ECSClient, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pushImage } from "../fakes/ecr.js";
import { failDeployments } from "../fakes/ecs.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { currentValue } from "../fakes/secretsmanager.js";
import { runCli, tempProject } from "../cli-harness.js";

/** The troubleshoot commands against the stateful fake, on an environment `up` built. */
let aws: FakeAws;
let cwd: string;

beforeEach(async () => {
  aws = installFakeAws();
  cwd = tempProject();
  const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(up.code, up.stderr).toBe(0);
});
afterEach(() => aws.restore());

const resources = () => JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8")).resources;
const CHECK_LINE = /^(PASS|FAIL|SKIP) {2}\d\. /gm;

describe("db-connectivity", () => {
  it("passes on a fresh environment, probe included, and leaves no probe task definition behind", async () => {
    const r = await runCli(cwd, ["troubleshoot", "db-connectivity", "--env", "dev"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.match(CHECK_LINE)).toEqual(["PASS  1. ", "PASS  2. ", "PASS  3. ", "PASS  4. ", "PASS  5. ", "PASS  6. ", "PASS  7. "]);
    expect(r.stdout).toMatch(/role \S+: secretsmanager:GetSecretValue allowed \(IAM policy simulation\)/);
    expect(aws.cloud.callsTo("DeleteTaskDefinitions").map((c) => c.input.taskDefinitions[0])).toEqual([expect.stringMatching(/:task-definition\/clinical-platform-dev-db-probe:1$/)]);
    const left = [...aws.ecs.taskDefinitions.values()].filter((t) => t.family === "clinical-platform-dev-db-probe" && t.status !== "DELETE_IN_PROGRESS");
    expect(left).toEqual([]);
    expect(aws.cloud.callsTo("RunTask")[0]!.input).toMatchObject({ startedBy: "platform-troubleshoot", launchType: "FARGATE" });
    // No secret value appears anywhere in what it printed.
    const password = JSON.parse(currentValue(aws.secretsmanager.secrets.get(resources()["secrets.database-credentials"].attributes.arn))!).password;
    expect(password).toEqual(expect.any(String));
    expect(r.stdout).not.toContain(password);
  });

  it("finds a security group rule deleted outside platform, and a probe that exits 1", async () => {
    aws.ec2.securityGroupRules.delete(resources()["network.security-group-rule.db-api-in"].physicalId);
    aws.ecs.oneOffExitCode = 1;
    const r = await runCli(cwd, ["troubleshoot", "db-connectivity", "--env", "dev"]);
    expect(r.code).toBe(1);
    expect(r.stdout.match(CHECK_LINE)).toEqual(["PASS  1. ", "FAIL  2. ", "PASS  3. ", "PASS  4. ", "PASS  5. ", "PASS  6. ", "FAIL  7. "]);
    expect(r.stdout).toMatch(/Summary: 2 of 7 checks failed\. Most likely cause: Security groups admit PostgreSQL: the database security group has no ingress rule for tcp 5432 from the API/);
    expect(r.stdout).toMatch(/^ {6}exit code 1$/m);
  });
});

describe("secrets-access", () => {
  it("checks what the deployed task definitions reference against their execution role", async () => {
    const r = await runCli(cwd, ["troubleshoot", "secrets-access", "--env", "dev", "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.checks.map((c: { id: string }) => c.id)).toContain("secret:clinical-platform-dev/database/credentials");
    expect(doc.checks.every((c: { status: string }) => c.status === "passed")).toBe(true);
  });
});

describe("ecs-tasks", () => {
  /** The API running (its image pushed, up again), then a new deployment, as after pushing a new image. */
  async function runApi(): Promise<void> {
    pushImage(aws.ecr, resources()["data.ecr.api"].physicalId, "latest");
    expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
  }
  async function redeploy(): Promise<void> {
    const { cluster, name } = resources()["compute.service.api"].attributes;
    await new ECSClient({ region: "us-east-1" }).send(new UpdateServiceCommand({ cluster, service: name, forceNewDeployment: true }));
  }

  it("passes while nothing failed", async () => {
    await runApi();
    const r = await runCli(cwd, ["troubleshoot", "ecs-tasks", "--env", "dev", "--service", "api"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS {2}1\. Service api$/m);
  });

  it("diagnoses an essential container that exits, with its last log lines", async () => {
    await runApi();
    failDeployments(aws.ecs, "api", {
      stoppedReason: "Essential container in task exited",
      exitCode: 1,
      logLines: ["Starting API", "psycopg.OperationalError: connection to server failed: timeout expired"],
    });
    await redeploy();
    const r = await runCli(cwd, ["troubleshoot", "ecs-tasks", "--env", "dev", "--service", "api"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}1\. Service api$/m);
    expect(r.stdout).toMatch(/container api: exit code 1/);
    expect(r.stdout).toContain("psycopg.OperationalError: connection to server failed: timeout expired");
    expect(r.stdout).toMatch(/cause: essential container api exited with 1/);
    expect(r.stdout).toMatch(/platform troubleshoot db-connectivity --env dev/);
  });

  it("diagnoses an image that cannot be pulled for want of a route", async () => {
    await runApi();
    failDeployments(aws.ecs, "api", {
      stoppedReason:
        "ResourceInitializationError: unable to pull secrets or registry auth: The task cannot pull registry auth from Amazon ECR: There is a connection issue between the task and Amazon ECR. RequestError: send request failed caused by: dial tcp 10.0.0.1:443: i/o timeout",
    });
    await redeploy();
    const r = await runCli(cwd, ["troubleshoot", "ecs-tasks", "--env", "dev", "--json"]);
    expect(r.code).toBe(1);
    const api = JSON.parse(r.stdout).checks.find((c: { id: string }) => c.id === "service:api");
    expect(api).toMatchObject({ status: "failed", cause: "the tasks cannot reach ECR, Secrets Manager or CloudWatch Logs from their subnets" });
    expect(api.evidence).toContain("diagnosis: no-route-to-registry");
  });

  it("exits 2 for a service the environment does not have", async () => {
    const r = await runCli(cwd, ["troubleshoot", "ecs-tasks", "--env", "dev", "--service", "nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--service nope: no such service in dev \(services: /);
  });
});
