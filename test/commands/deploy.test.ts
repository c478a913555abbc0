import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalBackend } from "../../src/state/local.js";
import { newLockInfo } from "../../src/state/lock.js";
import { runCli, tempProject } from "../cli-harness.js";
import { pushImage } from "../fakes/ecr.js";
import { failDeployments } from "../fakes/ecs.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

/** `platform deploy` against the fake AWS: a brought-up dev environment whose API repository gets images pushed. */
const DEV = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
};
const URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev";
const FAMILY = "clinical-platform-dev-api";

let aws: FakeAws;
let cwd: string;
beforeEach(async () => {
  aws = installFakeAws();
  cwd = tempProject({ dev: DEV });
  const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(up.stderr).toBe("");
  expect(up.code).toBe(0);
  aws.cloud.calls.length = 0;
});
afterEach(() => aws.restore());

const state = () => JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8"));
const calls = (command: string) => aws.cloud.callsTo(command);
const api = () => [...aws.ecs.services.values()].find((s) => s.serviceName === "api" && s.status === "ACTIVE")!;
const revisions = () => [...aws.ecs.taskDefinitions.values()].filter((t) => t.family === FAMILY).map((t) => `${t.revision} ${t.status} ${t.body.containerDefinitions[0].image}`);
const deploy = (...args: string[]) => runCli(cwd, ["deploy", "--env", "dev", "--service", "api", ...args]);

describe("deploy a tag", () => {
  it("checks it in ECR, registers one revision of the API's family that differs only in the image, rolls the service, waits, and records it", async () => {
    const digest = pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    const first = structuredClone([...aws.ecs.taskDefinitions.values()].find((t) => t.family === FAMILY)!.body);

    const run = await deploy("--image", "v1");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Deploying ${URI}/api:v1 (${digest}) to api in clinical-platform dev`);
    expect(run.stdout).toMatch(/✔ api runs clinical-platform-dev-api:2 \(.*\/api:v1\): 1 task, steady/);

    expect(calls("DescribeImages").map((c) => c.input)).toEqual([{ registryId: "123456789012", repositoryName: "clinical-platform-dev/api", imageIds: [{ imageTag: "v1" }] }]);
    const registered = calls("RegisterTaskDefinition").map((c) => c.input);
    expect(registered).toHaveLength(1);
    const { containerDefinitions, ...rest } = registered[0];
    expect(rest).toMatchObject({ family: FAMILY, cpu: first.cpu, memory: first.memory, taskRoleArn: first.taskRoleArn, executionRoleArn: first.executionRoleArn, networkMode: "awsvpc", requiresCompatibilities: ["FARGATE"] });
    expect(rest.tags).toEqual(expect.arrayContaining([{ key: "platform:logical-id", value: "compute.task-definition.api" }]));
    expect(containerDefinitions).toEqual([{ ...first.containerDefinitions[0], image: `${URI}/api:v1` }]);
    // The service was at 0 (nothing pushed when up created it): it starts with the config's count.
    expect(calls("UpdateService").map((c) => c.input)).toEqual([{ cluster: "clinical-platform-dev-cluster", service: "api", taskDefinition: expect.stringMatching(/:task-definition\/clinical-platform-dev-api:2$/), desiredCount: 1 }]);
    expect(api()).toMatchObject({ desiredCount: 1, taskDefinition: expect.stringMatching(/clinical-platform-dev-api:2$/) });
    expect([...aws.ecs.tasks.values()].filter((t) => t.serviceName === "api" && t.lastStatus === "RUNNING")).toHaveLength(1);

    const s = state();
    expect(s.deployments).toEqual({ api: { image: `${URI}/api:v1`, digest, configImageTag: "latest", taskDefinitionArn: api().taskDefinition, deployedAt: expect.any(String) } });
    expect(s.resources["compute.task-definition.api"]).toMatchObject({ physicalId: `${FAMILY}:2`, attributes: { revision: 2 } });
    expect(s.resources["compute.service.api"].attributes).toMatchObject({ taskDefinitionArn: api().taskDefinition, desiredCount: 1 });
    expect(existsSync(path.join(cwd, "state/dev.lock"))).toBe(false);
  });

  it("is kept by a later up (no silent rollback); a config that pins another tag wins, and its up drops the record", async () => {
    pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    expect((await deploy("--image", "v1")).code).toBe(0);

    aws.cloud.calls.length = 0;
    const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`note: api keeps ${URI}/api:v1 (rolled out by 'platform deploy') while services.imageTag stays "latest"`);
    expect(up.stdout).toMatch(/No changes/);
    expect(aws.cloud.mutatingCalls()).toEqual([]);

    // The config pins v2: up rolls the API to it and forgets the deployment.
    pushImage(aws.ecr, "clinical-platform-dev/api", "v2");
    writeFileSync(path.join(cwd, "config/dev.json"), JSON.stringify({ ...DEV, services: { imageTag: "v2" } }));
    const pinned = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).not.toContain("note: api keeps");
    expect(api().taskDefinition).toMatch(/clinical-platform-dev-api:3$/);
    expect(revisions()).toContain(`3 ACTIVE ${URI}/api:v2`);
    expect(state().deployments).toBeUndefined();

    // Back to "latest", the tag the deploy was made under: the config decides now, the deployed v1 does not come back.
    writeFileSync(path.join(cwd, "config/dev.json"), JSON.stringify(DEV));
    const plan = await runCli(cwd, ["plan", "--env", "dev"]);
    expect(plan.stdout).toContain(`container.api.image: ${URI}/api:v2 → ${URI}/api:latest`);
  });

  it("a tag ECR does not have: exit 1 naming the image and the fix; nothing registered or updated", async () => {
    pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    const run = await deploy("--image", "v9");
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/^error: reading ECR image .*\/api:v9: ImageNotFoundException: .*push it first \(docker push .*\/api:v9\)/);
    expect(calls("RegisterTaskDefinition")).toEqual([]);
    expect(calls("UpdateService")).toEqual([]);
    expect(state().deployments).toBeUndefined();
  });

  it("the image the service already runs: no new revision, a forced deployment (a tag pushed anew is pulled again)", async () => {
    pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    expect((await deploy("--image", "v1")).code).toBe(0);
    const before = new Set([...aws.ecs.tasks.values()].filter((t) => t.serviceName === "api" && t.lastStatus === "RUNNING").map((t) => t.taskArn));
    const repushed = pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    aws.cloud.calls.length = 0;

    const again = await deploy("--image", "v1");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("clinical-platform-dev-api:2 already names this image");
    expect(calls("RegisterTaskDefinition")).toEqual([]);
    expect(calls("UpdateService").map((c) => c.input)).toEqual([{ cluster: "clinical-platform-dev-cluster", service: "api", taskDefinition: expect.stringMatching(/clinical-platform-dev-api:2$/), forceNewDeployment: true }]);
    const running = [...aws.ecs.tasks.values()].filter((t) => t.serviceName === "api" && t.lastStatus === "RUNNING");
    expect(running).toHaveLength(1);
    expect(before.has(running[0]!.taskArn)).toBe(false);
    expect(state().deployments.api.digest).toBe(repushed);
  });

  it("a digest is looked up by digest and registered as <repository>@sha256:...", async () => {
    const digest = pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    const run = await deploy("--image", digest);
    expect(run.code).toBe(0);
    expect(calls("DescribeImages")[0]!.input.imageIds).toEqual([{ imageDigest: digest }]);
    expect(calls("RegisterTaskDefinition")[0]!.input.containerDefinitions[0].image).toBe(`${URI}/api@${digest}`);
  });
});

describe("deploy a full image name", () => {
  it("another registry's image is refused unless its registry is allowed and it is pinned by digest (exit 2, before any change)", async () => {
    const byTag = "public.ecr.aws/docker/library/nginx:1.27";
    const refused = await deploy("--image", byTag);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: --image public\.ecr\.aws\/docker\/library\/nginx:1\.27: not in this environment's ECR repositories nor under images\.allowedRegistries \(none configured\); push it to the service's ECR repository .* or add its registry to images\.allowedRegistries/);
    expect(calls("RegisterTaskDefinition")).toEqual([]);
    const allow = ["--set", 'images.allowedRegistries=["public.ecr.aws/docker/library/"]'];
    const tagOnly = await deploy("--image", byTag, ...allow);
    expect(tagOnly.code).toBe(2);
    expect(tagOnly.stderr).toMatch(/must be pinned by digest \(<name>@sha256:<64 hex digits>\)/);
    expect(calls("RegisterTaskDefinition")).toEqual([]);
  });

  it("an allowed registry's image by digest is registered as given, without an ECR check, its digest recorded", async () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const image = `public.ecr.aws/docker/library/nginx@${digest}`;
    const run = await deploy("--image", image, "--set", 'images.allowedRegistries=["public.ecr.aws/docker/library/"]');
    expect(run.code, run.stderr).toBe(0);
    expect(calls("DescribeImages")).toEqual([]);
    expect(calls("RegisterTaskDefinition")[0]!.input.containerDefinitions[0].image).toBe(image);
    expect(state().deployments.api).toEqual(expect.objectContaining({ image, digest }));
  });

  it("an image of the stack's own repository by URI is checked in ECR", async () => {
    const digest = pushImage(aws.ecr, "clinical-platform-dev/worker", "w1");
    const run = await deploy("--image", `${URI}/worker:w1`);
    expect(run.code).toBe(0);
    expect(calls("DescribeImages")[0]!.input).toEqual({ registryId: "123456789012", repositoryName: "clinical-platform-dev/worker", imageIds: [{ imageTag: "w1" }] });
    expect(state().deployments.api).toMatchObject({ image: `${URI}/worker:w1`, digest });
  });

  it.each([
    ["an ECR repository outside the stack", "123456789012.dkr.ecr.us-east-1.amazonaws.com/other/app:v1", /the tasks' execution role may pull only from this environment's ECR repositories/],
    ["another region's copy of the repository", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/clinical-platform-dev/api:v1", /may pull only from this environment's ECR repositories/],
    ["a name with a space", "my image:v1", /not an image name ECS accepts/],
    ["a tag starting with a dot", ".v1", /expected an image tag/],
  ])("%s is refused before any AWS change (exit 2)", async (_case, image, message) => {
    const run = await deploy("--image", image);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(aws.cloud.mutatingCalls()).toEqual([]);
    expect(calls("DescribeImages")).toEqual([]);
  });
});

describe("deploy waits, or not", () => {
  it("--no-wait returns while the service rolls; status shows the rollout", async () => {
    pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    aws.cloud.timings = { latencyMs: 0, provisioningMs: { ecsSteady: 60_000 } };
    const run = await deploy("--image", "v1", "--no-wait");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ api is rolling to clinical-platform-dev-api:2; not waiting \(--no-wait\)/);
    expect(calls("DescribeTargetHealth")).toEqual([]);
    expect(api().deployments.map((d) => d.rolloutState)).toEqual(["IN_PROGRESS", "COMPLETED"]);
    expect(state().deployments.api.taskDefinitionArn).toMatch(/clinical-platform-dev-api:2$/);

    const status = await runCli(cwd, ["status", "--env", "dev", "--wide"]);
    expect(status.stdout).toMatch(/compute\.service\.api\s+ecs:service\s+api\s+.*1 desired, 0 running, 0 pending; deployment IN_PROGRESS \(clinical-platform-dev-api:2, 0 running\): .*replacing clinical-platform-dev-api:1 \(0 running\); targets 0\/0 healthy/);
  });

  it("a rollback by the circuit breaker: exit 1 naming the revision that runs; the failed revision is deregistered and up has nothing to redo", async () => {
    pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    expect((await deploy("--image", "v1")).code).toBe(0);
    const before = state().deployments.api;
    pushImage(aws.ecr, "clinical-platform-dev/api", "v2");
    failDeployments(aws.ecs, "api", { stoppedReason: "Essential container in task exited", exitCode: 1, logLines: ["KeyError: 'DB_HOST'"] });

    const run = await deploy("--image", "v2");
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/^error: deploying .*\/api:v2 to ECS service \(api\): ServiceDeploymentRolledBack: .*rolled back to clinical-platform-dev-api:2/);
    expect(run.stderr).toContain("KeyError: 'DB_HOST'");
    expect(run.stderr).toContain(`(api still runs clinical-platform-dev-api:2 with ${URI}/api:v1; clinical-platform-dev-api:3 was deregistered. Fix the cause above and deploy again)`);
    expect(api().taskDefinition).toMatch(/clinical-platform-dev-api:2$/);
    expect(revisions()).toEqual([`1 ACTIVE ${URI}/api:latest`, `2 ACTIVE ${URI}/api:v1`, `3 INACTIVE ${URI}/api:v2`]);
    expect(state().deployments.api).toEqual(before);
    expect(state().resources["compute.task-definition.api"].physicalId).toBe(`${FAMILY}:2`);

    aws.ecs.failures.clear();
    aws.cloud.calls.length = 0;
    const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(up.code).toBe(0);
    expect(aws.cloud.mutatingCalls()).toEqual([]);
  });

  it("--json: one document with the outcome", async () => {
    const digest = pushImage(aws.ecr, "clinical-platform-dev/api", "v1");
    const run = await deploy("--image", "v1", "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ environment: "dev", status: "steady", service: "api", image: `${URI}/api:v1`, digest, taskDefinition: `${FAMILY}:2`, desiredCount: 1 });
  });
});

describe("deploy refuses", () => {
  it.each([
    ["grafana", /deploy rolls out images to api and worker/],
    ["worker", /the worker service is not enabled in dev's config/],
  ])("--service %s (exit 2), and leaves no lock", async (service, message) => {
    const run = await runCli(cwd, ["deploy", "--env", "dev", "--service", service, "--image", "v1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(existsSync(path.join(cwd, "state/dev.lock"))).toBe(false);
  });

  it("an environment another run holds the lock of (exit 1)", async () => {
    const held = await new LocalBackend(path.join(cwd, "state/dev.json"), cwd).lock(newLockInfo("up --env dev"));
    const run = await deploy("--image", "v1");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/locked by .*running "up --env dev"/);
    expect(calls("RegisterTaskDefinition")).toEqual([]);
    await held.release();
  });

  it("an environment that is not up (exit 2)", async () => {
    const fresh = tempProject({ dev: DEV });
    const run = await runCli(fresh, ["deploy", "--env", "dev", "--service", "api", "--image", "v1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/dev has no api service yet .*run 'platform up --env dev' first/);
  });

  it("without --image or --service (exit 2)", async () => {
    expect((await runCli(cwd, ["deploy", "--env", "dev", "--service", "api"])).code).toBe(2);
    expect((await runCli(cwd, ["deploy", "--env", "dev", "--image", "v1"])).code).toBe(2);
  });
});
