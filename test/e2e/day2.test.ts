import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { pushImage } from "../fakes/ecr.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { putLogEvents } from "../fakes/logs.js";

/** Day 2 end to end against the fake AWS: up → up (nothing to do) → deploy → status → up (keeps the image) → logs → run → down. */
const DEV = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
};
const URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev";

let aws: FakeAws;
afterEach(() => aws?.restore());

const CREATES_OR_CHANGES = /^(Create|Register|Update|Put|Modify|Run|Delete)/;

it("up, up again, deploy, status, up again, logs, run, down: nothing left", async () => {
  aws = installFakeAws({ latencyMs: 0, provisioningMs: { eniDrain: 20 } });
  const cwd = tempProject({ dev: DEV });
  const state = () => JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8"));
  const changes = () => aws.cloud.mutatingCalls().map((c) => c.command).filter((c) => CREATES_OR_CHANGES.test(c));

  // 1. A new environment.
  const first = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(first.stderr).toBe("");
  expect(first.code).toBe(0);

  // 2. Again: no Create*, Register* or Update* call (nor any other change).
  aws.cloud.calls.length = 0;
  const second = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(second.code).toBe(0);
  expect(second.stdout).toMatch(/No changes/);
  expect(aws.cloud.mutatingCalls()).toEqual([]);

  // 3. CI pushed the API's image; deploy rolls it out.
  const digest = pushImage(aws.ecr, "clinical-platform-dev/api", "2025.06.01-abc123");
  aws.cloud.calls.length = 0;
  const deploy = await runCli(cwd, ["deploy", "--env", "dev", "--service", "api", "--image", "2025.06.01-abc123"]);
  expect(deploy.stderr).toBe("");
  expect(deploy.code).toBe(0);
  expect(changes()).toEqual(["RegisterTaskDefinition", "UpdateService"]);
  expect(state().deployments.api).toMatchObject({ image: `${URI}/api:2025.06.01-abc123`, digest });

  // 4. Status: per-service counts, the rollout and target health; the load balancer's state and DNS name.
  const status = await runCli(cwd, ["status", "--env", "dev", "--wide"]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/compute\.service\.api\s+ecs:service\s+api\s+in sync\s+1 desired, 1 running, 0 pending; deployment COMPLETED \(clinical-platform-dev-api:2\); targets 1\/1 healthy/);
  expect(status.stdout).toMatch(/compute\.load-balancer\s+elbv2:load-balancer\s+\S+\s+in sync\s+active, \S+\.elb\.amazonaws\.com/);
  const json = JSON.parse((await runCli(cwd, ["status", "--env", "dev", "--json"])).stdout);
  expect(json.resources.find((r: { logicalId: string }) => r.logicalId === "compute.service.api")).toMatchObject({ status: "in-sync", details: expect.stringMatching(/^1 desired, 1 running/) });

  // 5. Up keeps the deployed image: nothing registered, nothing updated.
  aws.cloud.calls.length = 0;
  const keep = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(keep.code).toBe(0);
  expect(keep.stdout).toMatch(/No changes/);
  expect(aws.cloud.mutatingCalls()).toEqual([]);

  // 6. The API's logs, and a dbt run with its output and exit code.
  const [task] = [...aws.ecs.tasks.values()].filter((t) => t.serviceName === "api" && t.lastStatus === "RUNNING");
  const taskId = task!.taskArn.split("/").at(-1)!;
  putLogEvents(aws.logs, "/ecs/clinical-platform-dev", `api/api/${taskId}`, [{ timestamp: Date.now() - 1_000, message: "listening on 8000" }]);
  const logs = await runCli(cwd, ["logs", "--env", "dev", "--service", "api", "--since", "5m"]);
  expect(logs.stdout).toMatch(new RegExp(`^\\S+Z ${taskId} listening on 8000\\n$`));

  pushImage(aws.ecr, "clinical-platform-dev/dbt-runner", "latest");
  aws.ecs.oneOffLogLines = ["Done. PASS=12 WARN=0 ERROR=0 SKIP=0 TOTAL=12"];
  const run = await runCli(cwd, ["run", "--env", "dev", "dbt", "--", "build"]);
  expect(run.code).toBe(0);
  expect(run.stdout).toBe("Done. PASS=12 WARN=0 ERROR=0 SKIP=0 TOTAL=12\n");

  // 7. Down: nothing tagged with the environment is left, and state forgets the deployment.
  const down = await runCli(cwd, ["down", "--env", "dev", "--yes", "--delete-data"]);
  expect(down.stderr).toBe("");
  expect(down.code).toBe(0);
  expect(down.stdout).toMatch(/Nothing tagged with clinical-platform\/dev remains\./);
  expect(state().resources).toEqual({});
  expect(state().deployments).toBeUndefined();
  expect([...aws.ecs.services.values()].every((s) => s.status !== "ACTIVE")).toBe(true);
  expect([...aws.ecs.tasks.values()].every((t) => t.lastStatus === "STOPPED")).toBe(true);
});
