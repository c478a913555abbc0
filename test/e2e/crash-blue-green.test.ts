import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { pushImage } from "../fakes/ecr.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { expectConverged } from "./convergence.js";
import { runKilledAfter } from "./crash-harness.js";

/**
 * A blue-green deploy killed after each of its mutating calls (the process gone: no clean-up of its own), then the
 * user's way out: unlock, `up`. Whatever the point, `up` must leave production on a slot that runs tasks with healthy
 * targets, the other slot idle at 0 behind the test listener, state equal to AWS; and the next deploy must succeed.
 */
const CONFIG = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
  services: { api: { desiredCount: 2, deployment: { strategy: "blue-green", bakeMinutes: 1, testListenerCidrs: ["203.0.113.0/24"] } } },
};
const REPO = "clinical-platform-dev/api";
const ENV = ["--env", "dev"];
const deployArgs = (tag: string) => ["deploy", ...ENV, "--service", "api", "--image", tag];

async function ready(aws: FakeAws, cwd: string) {
  expect((await runCli(cwd, ["up", ...ENV, "--yes"])).code).toBe(0);
  pushImage(aws.ecr, REPO, "v1");
  expect((await runCli(cwd, deployArgs("v1"))).code).toBe(0);
  pushImage(aws.ecr, REPO, "v2");
  pushImage(aws.ecr, REPO, "v3");
}

/** Production on one slot that serves, the other idle: what every release starts from. */
function expectOneServingSlot(aws: FakeAws, context: string) {
  const groups = new Map([...aws.elbv2.targetGroups.values()].map((t) => [t.TargetGroupArn, t.TargetGroupName]));
  const forward = (port: number) => groups.get([...aws.elbv2.listeners.values()].find((l) => l.Port === port)!.DefaultActions[0]!.TargetGroupArn);
  const service = (name: string) => [...aws.ecs.services.values()].find((s) => s.serviceName === name && s.status === "ACTIVE")!;
  const slots = { "clinical-platform-dev-api": service("api"), "clinical-platform-dev-api-g": service("api-green") };
  const live = forward(80) as keyof typeof slots;
  const idle = (live === "clinical-platform-dev-api" ? "clinical-platform-dev-api-g" : "clinical-platform-dev-api") as keyof typeof slots;
  expect(forward(8443), `${context}: the test listener forwards to the idle slot`).toBe(idle);
  expect(slots[live].desiredCount, `${context}: the live slot runs the config's count`).toBe(2);
  expect(slots[idle].desiredCount, `${context}: the idle slot runs nothing`).toBe(0);
  const healthy = (aws.elbv2.targetHealth?.get([...groups].find(([, n]) => n === live)![0]) ?? []).filter((t) => t.TargetHealth.State === "healthy");
  expect(healthy.length, `${context}: production has healthy targets`).toBeGreaterThanOrEqual(2);
}

async function mutatingCallsOfADeploy(): Promise<number> {
  const aws = installFakeAws();
  const cwd = tempProject({ dev: CONFIG });
  try {
    await ready(aws, cwd);
    aws.cloud.calls.length = 0;
    expect((await runCli(cwd, deployArgs("v2"))).code).toBe(0);
    return aws.cloud.mutatingCalls().length;
  } finally {
    aws.restore();
    rmSync(cwd, { recursive: true, force: true });
  }
}

const total = await mutatingCallsOfADeploy();

describe(`blue-green deploy killed after mutating call N of ${total}, then unlock and up`, () => {
  it.each(Array.from({ length: total }, (_, i) => i + 1))("N = %i", async (point) => {
    const aws = installFakeAws();
    const cwd = tempProject({ dev: CONFIG });
    try {
      await ready(aws, cwd);
      const { call } = await runKilledAfter(aws, cwd, deployArgs("v2"), point);
      const context = `killed after ${call.service}:${call.command} ${JSON.stringify(call.input).slice(0, 120)}`;
      expect((await runCli(cwd, ["state", "unlock", ...ENV, "--force"])).code).toBe(0);

      const before = aws.cloud.calls.length;
      const up = await runCli(cwd, ["up", ...ENV, "--yes"]);
      expect(up.code, `${context}\n${up.stdout}\n${up.stderr}`).toBe(0);
      // up puts the slots back; it never registers a revision or rolls production for a release that did not complete.
      expect(aws.cloud.calls.slice(before).filter((c) => c.command === "RegisterTaskDefinition"), context).toEqual([]);
      expectOneServingSlot(aws, context);
      await expectConverged(aws, cwd, undefined, undefined, { revisionHistory: true });

      const next = await runCli(cwd, deployArgs("v3"));
      expect(next.code, `${context}\n${next.stdout}\n${next.stderr}`).toBe(0);
      expectOneServingSlot(aws, `${context}, then deploy v3`);
      const state = JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8"));
      expect(state.deployments.api.image, context).toMatch(/api:v3$/);
    } finally {
      aws.restore();
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
