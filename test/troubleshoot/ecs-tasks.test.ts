import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand, type Service } from "@aws-sdk/client-ecs";
import type { StoppedTask } from "../../src/resources/ecs-task-failures.js";
import { checkService, diagnoseEvents, diagnoseTask } from "../../src/troubleshoot/ecs-tasks.js";
import { testContext } from "../helpers.js";
import { API_TASK_DEFINITION, healthyWorld, mocks, restoreMocks, stubWorld, worldState } from "./world.js";

const task = (stopCode: string, stoppedReason: string, containers: StoppedTask["containers"] = [{ name: "api", lastLines: [] }]): StoppedTask => ({ taskId: "t1", stopCode, stoppedReason, containers });

describe("diagnoseTask: ECS's stop wording → a named cause", () => {
  it.each<[string, StoppedTask, string]>([
    ["an image tag that is not there", task("TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 1.dkr.ecr.us-east-1.amazonaws.com/api:v2: not found"), "image-not-found"],
    [
      "no route to ECR",
      task("TaskFailedToStart", "ResourceInitializationError: unable to pull secrets or registry auth: The task cannot pull registry auth from Amazon ECR: There is a connection issue between the task and Amazon ECR. dial tcp 10.0.0.1:443: i/o timeout"),
      "no-route-to-registry",
    ],
    [
      "a secret the execution role may not read",
      task("TaskFailedToStart", "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: AccessDeniedException: User: arn:aws:sts::1:assumed-role/exec is not authorized to perform: secretsmanager:GetSecretValue"),
      "secret-not-readable",
    ],
    ["an essential container exiting 1", task("EssentialContainerExited", "Essential container in task exited", [{ name: "api", exitCode: 1, lastLines: ["boom"] }]), "essential-container-exited"],
    ["an out-of-memory kill", task("EssentialContainerExited", "Essential container in task exited", [{ name: "api", exitCode: 137, reason: "OutOfMemoryError: Container killed due to memory usage", lastLines: [] }]), "out-of-memory"],
    ["failed load balancer health checks", task("ServiceSchedulerInitiated", "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/api/abc)"), "health-check-failing"],
    ["anything else", task("TaskFailedToStart", "Timeout waiting for network interface provisioning to complete."), "other"],
  ])("%s", (_name, t, diagnosis) => {
    const f = diagnoseTask(t, "dev");
    expect(f.diagnosis).toBe(diagnosis);
    expect(f.fix.length).toBeGreaterThan(10);
  });

  it("names the container and its exit code", () => {
    expect(diagnoseTask(task("EssentialContainerExited", "Essential container in task exited", [{ name: "worker", exitCode: 3, lastLines: [] }]), "dev").cause).toBe("essential container worker exited with 3");
  });
});

describe("diagnoseEvents", () => {
  it("finds placement failures and unhealthy targets in the service's events", () => {
    const found = diagnoseEvents([
      { message: "(service api) was unable to place a task because no container instance met all of its requirements." },
      { message: "(service api) (port 8000) is unhealthy in (target-group arn:aws:elasticloadbalancing:...) due to (reason Health checks failed)." },
    ]);
    expect(found.map((f) => f.diagnosis)).toEqual(["cannot-place", "health-check-failing"]);
    expect(diagnoseEvents([{ message: "(service api) has reached a steady state." }])).toEqual([]);
  });
});

describe("checkService", () => {
  const ref = { logicalId: "compute.service.api", name: "api", cluster: "clinical-platform-dev", serviceName: "clinical-platform-dev-api" };
  const service = (over: Partial<Service> = {}): Service => ({
    serviceName: ref.serviceName,
    status: "ACTIVE",
    desiredCount: 2,
    runningCount: 2,
    taskDefinition: API_TASK_DEFINITION,
    deployments: [{ status: "PRIMARY", rolloutState: "COMPLETED" as const, rolloutStateReason: "ECS deployment completed." }],
    events: [{ createdAt: new Date("2026-01-01T00:00:00Z"), message: "(service api) has reached a steady state." }],
    ...over,
  });

  beforeEach(() => {
    stubWorld(healthyWorld());
    mocks.ecs.on(ListTasksCommand).resolves({ taskArns: ["arn:aws:ecs:us-east-1:1:task/c/old1"] });
  });
  afterAll(restoreMocks);

  it("passes when the only stopped tasks were replaced by a deployment", async () => {
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    mocks.ecs.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: "arn:aws:ecs:us-east-1:1:task/c/old1", stopCode: "ServiceSchedulerInitiated", stoppedReason: "Scaling activity initiated by (deployment ecs-svc/1)", containers: [{ name: "api", exitCode: 0 }] }] });
    const r = await checkService({ ctx: testContext(), state: worldState() }, ref);
    expect(r.status).toBe("passed");
    expect(r.evidence[0]).toBe("clinical-platform-dev-api in clinical-platform-dev: ACTIVE, running 2 of 2, task definition clinical-platform-dev-api:3");
    expect(mocks.ecs).toHaveReceivedCommandWith(ListTasksCommand, { cluster: "clinical-platform-dev", serviceName: "clinical-platform-dev-api", desiredStatus: "STOPPED" });
  });

  it("fails when the service runs fewer tasks than it wants and its events say why", async () => {
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [service({ runningCount: 0, events: [{ message: "(service api) (port 8000) is unhealthy in (target-group arn:tg) due to (reason Health checks failed with these codes: [502])." }] })],
    });
    mocks.ecs.on(DescribeTasksCommand).resolves({ tasks: [] });
    const r = await checkService({ ctx: testContext(), state: worldState() }, ref);
    expect(r).toMatchObject({ status: "failed", cause: "tasks fail their health checks and are replaced", likelihood: 80 });
    expect(r.evidence).toContain("diagnosis: health-check-failing");
  });

  it("fails when the service is gone", async () => {
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: "MISSING" }] });
    const r = await checkService({ ctx: testContext(), state: worldState() }, ref);
    expect(r).toMatchObject({ status: "failed", cause: "service clinical-platform-dev-api does not exist", fix: "run 'platform up --env dev' to create it" });
  });
});
