import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HttpGet } from "../../src/workloads/smoke-test.js";
import { runCli, tempProject } from "../cli-harness.js";
import { pushImage } from "../fakes/ecr.js";
import { failDeployments } from "../fakes/ecs.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

/**
 * Blue-green deploys of the API against the fake AWS: at every step, which target group the production listener
 * forwards to, what the slots run, what state says.
 */
const PROD_LIKE = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
  alarms: { email: [] },
  services: { api: { desiredCount: 2, deployment: { strategy: "blue-green", smokeTestPath: "/health", bakeMinutes: 1, testListenerCidrs: ["0.0.0.0/0"] } } },
};
const REPO = "clinical-platform-dev/api";
const URI = `123456789012.dkr.ecr.us-east-1.amazonaws.com/${REPO}`;

let aws: FakeAws;
let cwd: string;
/** Each smoke-test request, with where the production and test listeners forwarded when it was made. */
let smokeRequests: { url: string; production: string; test: string }[];
let smokeStatus: number;

const tg = (name: string) => [...aws.elbv2.targetGroups.values()].find((t) => t.TargetGroupName === name)!.TargetGroupArn;
const BLUE = () => tg("clinical-platform-dev-api");
const GREEN = () => tg("clinical-platform-dev-api-g");
const listenerOn = (port: number) => [...aws.elbv2.listeners.values()].find((l) => l.Port === port)!;
const forwardOf = (port: number) => listenerOn(port).DefaultActions[0]!.TargetGroupArn as string;
const slotOf = (arn: string) => (arn === BLUE() ? "blue" : arn === GREEN() ? "green" : arn);
const production = () => slotOf(forwardOf(80));
const testListener = () => slotOf(forwardOf(8443));
const service = (name: string) => [...aws.ecs.services.values()].find((s) => s.serviceName === name && s.status === "ACTIVE")!;
const image = (name: string) => {
  const td = aws.ecs.taskDefinitions.get(service(name).taskDefinition)!;
  return td.body.containerDefinitions[0].image as string;
};
const state = () => JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8"));
const calls = (command: string) => aws.cloud.callsTo(command);
const mutating = () => aws.cloud.calls.filter((c) => !/^(Describe|List|Get)/.test(c.command));

const http: HttpGet = async (url) => {
  smokeRequests.push({ url, production: production(), test: testListener() });
  return { status: smokeStatus };
};
const cli = (args: string[], signal?: AbortSignal) => runCli(cwd, [...args, "--env", "dev"], { http, ...(signal ? { signal } : {}) });
const deploy = (tag: string, ...args: string[]) => cli(["deploy", "--service", "api", "--image", tag, ...args]);

/** Records which slot production forwarded to after each call that changed a listener. */
function watchProduction(): string[] {
  const seen: string[] = [];
  aws.cloud.crashAfter = (call) => {
    if (call.command === "ModifyListener") seen.push(`${slotOf(forwardOf(80))}/${slotOf(forwardOf(8443))}`);
    return false;
  };
  return seen;
}

beforeEach(async () => {
  aws = installFakeAws();
  cwd = tempProject({ dev: PROD_LIKE });
  smokeRequests = [];
  smokeStatus = 200;
  const up = await cli(["up", "--yes"]);
  expect(up.stderr).toBe("");
  expect(up.code).toBe(0);
  pushImage(aws.ecr, REPO, "v1");
  const first = await deploy("v1");
  expect(first.stderr).toBe("");
  expect(first.code).toBe(0);
  aws.cloud.calls.length = 0;
  smokeRequests = [];
});
afterEach(() => aws.restore());

describe("up with services.api.deployment.strategy blue-green", () => {
  it("builds two slots: green's service and target group beside blue's, a test listener on 8443 forwarding to the idle slot, open like production", async () => {
    const fresh = installFakeAws();
    try {
      const dir = tempProject({ dev: PROD_LIKE });
      const up = await runCli(dir, ["up", "--env", "dev", "--yes"]);
      expect(up.code).toBe(0);
      const tgs = [...fresh.elbv2.targetGroups.values()].map((t) => t.TargetGroupName).sort();
      expect(tgs).toEqual(["clinical-platform-dev-api", "clinical-platform-dev-api-g"]);
      const test = [...fresh.elbv2.listeners.values()].find((l) => l.Port === 8443)!;
      const prod = [...fresh.elbv2.listeners.values()].find((l) => l.Port === 80)!;
      const byName = (n: string) => [...fresh.elbv2.targetGroups.values()].find((t) => t.TargetGroupName === n)!.TargetGroupArn;
      expect(prod.DefaultActions[0]!.TargetGroupArn).toBe(byName("clinical-platform-dev-api"));
      expect(test).toMatchObject({ Protocol: "HTTP", DefaultActions: [expect.objectContaining({ Type: "forward", TargetGroupArn: byName("clinical-platform-dev-api-g") })] });
      const services = [...fresh.ecs.services.values()].map((s) => `${s.serviceName}:${s.desiredCount}`).sort();
      expect(services).toEqual(["api-green:0", "api:0"]); // nothing pushed yet: blue waits for an image, green is idle
      const ingress = fresh.cloud.callsTo("AuthorizeSecurityGroupIngress").map((c) => c.input.IpPermissions[0]);
      expect(ingress).toContainEqual(expect.objectContaining({ FromPort: 8443, ToPort: 8443, IpProtocol: "tcp", IpRanges: [expect.objectContaining({ CidrIp: "0.0.0.0/0" })] }));
      const s = JSON.parse(readFileSync(path.join(dir, "state/dev.json"), "utf8"));
      expect(s.outputs.api_test_url).toMatch(/^http:\/\/.*:8443$/);
      // The unhealthy-targets alarm sums both slots' target groups, so a switch never changes it.
      const alarm = fresh.cloudwatch.alarms.get("clinical-platform-dev-api-unhealthy-targets")!.input;
      const groups = alarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.Dimensions.find((d: any) => d.Name === "TargetGroup").Value);
      expect(groups).toEqual([expect.stringMatching(/^targetgroup\/clinical-platform-dev-api\//), expect.stringMatching(/^targetgroup\/clinical-platform-dev-api-g\//)]);
      expect(alarm.Metrics.find((m: any) => m.ReturnData)).toMatchObject({ Id: "unhealthy", Expression: "FILL(slot0, 0) + FILL(slot1, 0)" });
    } finally {
      fresh.restore();
    }
  });

  it("services.api.deployment.testListenerCidrs: one ingress rule per range on the test port, none from the internet", async () => {
    const { loadConfig } = await import("../../src/config/load.js");
    const { buildStack } = await import("../../src/stack/index.js");
    const dir = tempProject({ dev: { ...PROD_LIKE, services: { api: { deployment: { strategy: "blue-green", testListenerCidrs: ["203.0.113.0/24", "198.51.100.7/32"] } } } } });
    const stack = buildStack(loadConfig({ env: "dev", cwd: dir }).config, { accountId: "123456789012", region: "us-east-1", availabilityZones: ["us-east-1a", "us-east-1b"] });
    const rules = stack.nodes.filter((n) => n.logicalId.startsWith("compute.security-group-rule.alb-test-in")).map((n) => [n.logicalId, (n.spec as any).cidrIpv4, (n.spec as any).fromPort]);
    expect(rules).toEqual([
      ["compute.security-group-rule.alb-test-in-203-0-113-0-24", "203.0.113.0/24", 8443],
      ["compute.security-group-rule.alb-test-in-198-51-100-7-32", "198.51.100.7/32", 8443],
    ]);
  });

  it("plan says when the API and its test listener serve plain HTTP (no certificate)", async () => {
    const plan = await cli(["plan"]);
    expect(plan.stdout).toContain("no loadBalancer.certificateArn: the API and its blue-green test listener (port 8443) serve plain HTTP; set a certificate (and services.api.deployment.smokeTestHost) before PHI goes through them");
  });

  it("the first deploy went blue → green; a later up changes nothing (the live slot comes from state)", async () => {
    expect(production()).toBe("green");
    expect(testListener()).toBe("blue");
    expect(service("api-green").desiredCount).toBe(2);
    expect(service("api").desiredCount).toBe(0);
    expect(state().releases.api).toMatchObject({ live: "green" });
    const up = await cli(["up", "--yes"]);
    expect(up.code).toBe(0);
    expect(mutating().map((c) => c.command)).toEqual([]);
  });
});

describe("deploy --strategy blue-green (from the config)", () => {
  it("happy path: new tasks on the idle slot, smoke test through the test listener while production stays, switch, bake, old slot to 0", async () => {
    pushImage(aws.ecr, REPO, "v2");
    const steps = watchProduction();
    const run = await deploy("v2");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("starting clinical-platform-dev-api:3 on blue (api, 2 tasks); production stays on green (api-green)");
    expect(run.stdout).toContain("smoke test passed");
    expect(run.stdout).toMatch(/✔ api \(blue\) serves production: clinical-platform-dev-api:3 \(.*api:v2\), 2 tasks; green is idle at 0/);

    // The smoke test ran against the test listener while it forwarded to the new slot and production to the old one.
    expect(smokeRequests).toEqual([{ url: expect.stringMatching(/^http:\/\/.*:8443\/health$/), production: "green", test: "blue" }]);
    // The switch: production first, then the test listener to the old slot.
    expect(steps).toEqual(["blue/blue", "blue/green"]);
    // The new slot got the new revision and production's count before anything else changed.
    const updates = calls("UpdateService").map((c) => c.input);
    expect(updates[0]).toEqual({ cluster: "clinical-platform-dev-cluster", service: "api", desiredCount: 2, taskDefinition: expect.stringMatching(/clinical-platform-dev-api:3$/), forceNewDeployment: true });
    expect(updates.at(-1)).toEqual({ cluster: "clinical-platform-dev-cluster", service: "api-green", desiredCount: 0 });
    expect(image("api")).toBe(`${URI}:v2`);
    expect(service("api-green").desiredCount).toBe(0);

    const s = state();
    // After the bake the old slot runs nothing: rollback would redeploy v1, so the record names no slot to switch to.
    expect(s.releases.api).toEqual({ live: "blue", previous: { image: `${URI}:v1`, digest: expect.stringMatching(/^sha256:/), taskDefinitionArn: expect.stringMatching(/api:2$/) } });
    expect(s.deployments.api).toMatchObject({ image: `${URI}:v2` });
    expect(s.resources["compute.listener.http"].attributes.defaultAction.targetGroupArn).toBe(BLUE());

    aws.cloud.calls.length = 0;
    expect((await cli(["up", "--yes"])).code).toBe(0);
    expect(mutating().map((c) => c.command)).toEqual([]);
    const status = await cli(["status"]);
    expect(status.stdout).toContain(`release: api; blue-green, blue serves production; 'platform rollback --env dev --service api' goes back to ${URI}:v1`);
  });

  it("a failed smoke test: production never moves; the new slot goes back to 0 and its revision is deregistered; exit 1", async () => {
    pushImage(aws.ecr, REPO, "v2");
    smokeStatus = 503;
    const before = state();
    const steps = watchProduction();
    const run = await deploy("v2");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: blue-green deploy of .*api:v2 failed at the smoke-test: the smoke test failed: GET http:\/\/.*:8443\/health answered 503\. production never moved from green \(api-green\); blue was scaled to 0/);
    expect(smokeRequests).toHaveLength(3); // three attempts
    expect(steps).toEqual([]); // no listener changed: the test listener already forwarded to blue
    expect(production()).toBe("green");
    expect(service("api").desiredCount).toBe(0);
    expect(calls("DeregisterTaskDefinition").map((c) => c.input.taskDefinition)).toEqual([expect.stringMatching(/api:3$/)]);
    const after = state();
    expect(after.releases).toEqual(before.releases);
    expect(after.deployments).toEqual(before.deployments);
    aws.cloud.calls.length = 0;
    expect((await cli(["up", "--yes"])).code).toBe(0);
    expect(mutating().map((c) => c.command)).toEqual([]);
  });

  it("unhealthy new tasks: production never moves, exit 1 naming why", async () => {
    pushImage(aws.ecr, REPO, "v2");
    failDeployments(aws.ecs, "api", { stoppedReason: "Essential container in task exited", exitCode: 1, logLines: ["ImportError: no module named app"] });
    const steps = watchProduction();
    const run = await deploy("v2");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/failed at the start: the new tasks did not become healthy: .*production never moved from green/);
    expect(run.stderr).toContain("ImportError: no module named app");
    expect(smokeRequests).toEqual([]);
    expect(steps).toEqual([]);
    expect(production()).toBe("green");
    expect(service("api").desiredCount).toBe(0);
    expect(service("api-green").desiredCount).toBe(2);
  });

  it("an alarm going off during the bake switches production back to the old slot; exit 1", async () => {
    pushImage(aws.ecr, REPO, "v2");
    const steps: string[] = [];
    aws.cloud.crashAfter = (call) => {
      if (call.command === "ModifyListener") {
        steps.push(`${production()}/${testListener()}`);
        // Once production is on the new slot, its 5xx rate alarms.
        if (production() === "blue") aws.cloudwatch.alarms.get("clinical-platform-dev-api-5xx-rate")!.StateValue = "ALARM";
      }
      return false;
    };
    const run = await deploy("v2");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/failed at the bake: alarm clinical-platform-dev-api-5xx-rate went into ALARM during the bake\. production was switched back to green \(api-green\)/);
    expect(steps).toEqual(["blue/blue", "blue/green", "green/green", "green/blue"]);
    expect(production()).toBe("green");
    expect(service("api").desiredCount).toBe(0);
    expect(service("api-green").desiredCount).toBe(2);
    expect(state().releases.api.live).toBe("green");
    expect(state().deployments.api.image).toBe(`${URI}:v1`);
    // What rollback goes back to is still the release before v1.
    expect(state().releases.api.previous).toEqual({ image: `${URI}:latest`, taskDefinitionArn: expect.stringMatching(/api:1$/) });
  });

  it("an alarm during the first release's bake, when the old slot never had tasks: production stays on the new slot, exit 1 saying so", async () => {
    const fresh = installFakeAws();
    try {
      const dir = tempProject({ dev: PROD_LIKE });
      expect((await runCli(dir, ["up", "--env", "dev", "--yes"], { http })).code).toBe(0);
      pushImage(fresh.ecr, REPO, "v1");
      fresh.cloud.crashAfter = (call) => {
        if (call.command === "ModifyListener") fresh.cloudwatch.alarms.get("clinical-platform-dev-api-5xx-rate")!.StateValue = "ALARM";
        return false;
      };
      const run = await runCli(dir, ["deploy", "--env", "dev", "--service", "api", "--image", "v1"], { http });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/blue has no healthy tasks to go back to, so production stays on green: deploy a fix/);
      const greenArn = [...fresh.elbv2.targetGroups.values()].find((t) => t.TargetGroupName === "clinical-platform-dev-api-g")!.TargetGroupArn;
      expect([...fresh.elbv2.listeners.values()].find((l) => l.Port === 80)!.DefaultActions[0]!.TargetGroupArn).toBe(greenArn);
    } finally {
      fresh.restore();
    }
  });

  it("an alarm already in ALARM before the switch does not end the bake", async () => {
    pushImage(aws.ecr, REPO, "v2");
    aws.cloudwatch.alarms.get("clinical-platform-dev-db-cpu")!.StateValue = "ALARM";
    const run = await deploy("v2");
    expect(run.code).toBe(0);
    expect(production()).toBe("blue");
  });
});

describe("rollback", () => {
  /** A deploy of v2 interrupted (Ctrl-C) during its bake: production on blue (v2), green (v1) still running. */
  async function interruptedInBake() {
    pushImage(aws.ecr, REPO, "v2");
    const controller = new AbortController();
    aws.cloud.crashAfter = (call) => {
      if (call.command === "DescribeAlarms" && production() === "blue") controller.abort();
      return false;
    };
    const run = await cli(["deploy", "--service", "api", "--image", "v2", "--bake-minutes", "60"], controller.signal);
    aws.cloud.crashAfter = undefined;
    expect(run.code).toBe(130);
    expect(run.stdout).toContain("interrupted after the switch: production is on blue, green still runs: 'platform rollback --env dev --service api' switches back");
    expect(state().releases.api).toMatchObject({ live: "blue", bakingUntil: expect.any(String), previous: { slot: "green" } });
    expect(production()).toBe("blue");
    expect(service("api-green").desiredCount).toBe(2);
    aws.cloud.calls.length = 0;
  }

  it("inside the bake: production switches back at once to the old slot, still running; no new tasks or revisions; exit 0", async () => {
    await interruptedInBake();
    const steps = watchProduction();
    const run = await cli(["rollback", "--service", "api"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ production is on api-green \(green\) again, \d+ ms; api \(blue\) scaled to 0/);
    expect(steps).toEqual(["green/green", "green/blue"]);
    expect(calls("RegisterTaskDefinition")).toEqual([]);
    expect(calls("UpdateService").map((c) => c.input)).toEqual([{ cluster: "clinical-platform-dev-cluster", service: "api", desiredCount: 0 }]);
    expect(image("api-green")).toBe(`${URI}:v1`);
    const s = state();
    expect(s.releases.api).toEqual({ live: "green", previous: { image: `${URI}:v2`, digest: expect.stringMatching(/^sha256:/), taskDefinitionArn: expect.stringMatching(/api:3$/), slot: "blue" } });
    expect(s.deployments.api).toMatchObject({ image: `${URI}:v1` });
    aws.cloud.calls.length = 0;
    expect((await cli(["up", "--yes"])).code).toBe(0);
    expect(mutating().map((c) => c.command)).toEqual([]);
  });

  it("while a deploy elsewhere bakes and holds the lock: production switches back at once, the deploy finishes the switch back and exits 1", async () => {
    pushImage(aws.ecr, REPO, "v2");
    const baking = deploy("v2", "--bake-minutes", "60"); // 60 minutes × the test scale: 3.6 s
    for (let i = 0; i < 500 && !state().releases?.api?.bakingUntil; i++) await new Promise((r) => setTimeout(r, 10));
    expect(production()).toBe("blue");
    const steps = watchProduction();
    const run = await cli(["rollback", "--service", "api"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/A release is baking \(.+ running "deploy --env dev --service api" since .+\); api-green \(green\) still runs the previous release: switching production to it now/);
    expect(run.stdout).toMatch(/✔ production is on api-green \(green\) again, \d+ ms/);
    expect(run.stdout).toContain("the baking deploy stopped and recorded the rollback; it scales api (blue) to 0");
    // The rollback switched production only; the deploy, under its lock, did the test listener (and again production, idempotent).
    expect(steps[0]).toBe("green/green");
    const deployed = await baking;
    expect(deployed.code).toBe(1);
    expect(deployed.stderr).toMatch(/failed at the bake: production was switched back to green during the bake \('platform rollback'\)\. production was switched back to green \(api-green\)/);
    expect(production()).toBe("green");
    expect(testListener()).toBe("blue");
    expect(service("api").desiredCount).toBe(0);
    expect(state().releases.api.live).toBe("green");
    expect(state().deployments.api.image).toBe(`${URI}:v1`);
    aws.cloud.calls.length = 0;
    expect((await cli(["up", "--yes"])).code).toBe(0);
    expect(mutating().map((c) => c.command)).toEqual([]);
  });

  it("while the lock's holder claims a bake but never records the switch back: production switched, exit 1 saying what to do and not to run up", async () => {
    await interruptedInBake();
    // A live process (this one) holds the lock as the deploy that made the switch, and never looks at the listener.
    const { newLockInfo } = await import("../../src/state/lock.js");
    const info = { ...newLockInfo("deploy --env dev --service api"), id: "held", startedAt: new Date(Date.now() - 60_000).toISOString() };
    writeFileSync(path.join(cwd, "state/dev.lock"), JSON.stringify(info));
    const run = await cli(["rollback", "--service", "api"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✔ production is on api-green \(green\) again/);
    expect(run.stderr).toMatch(/^error: production is on api-green \(green\), but the deploy holding the lock has not recorded it .* do not run 'platform up' before that\n$/);
    expect(production()).toBe("green");
    expect(state().releases.api.live).toBe("blue"); // nothing written without the lock
  });

  it("a rollback that lands after the deploy scaled the old slot down is undone by the deploy: production stays on the new slot", async () => {
    pushImage(aws.ecr, REPO, "v2");
    aws.cloud.crashAfter = (call) => {
      // The late rollback: right after the deploy's final scale-down of green, someone points production at green.
      if (call.command === "UpdateService" && call.input.service === "api-green" && call.input.desiredCount === 0) {
        listenerOn(80).DefaultActions = [{ Type: "forward", TargetGroupArn: GREEN() }];
      }
      return false;
    };
    const run = await deploy("v2");
    aws.cloud.crashAfter = undefined;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("a rollback switched production to green after the bake had ended and green was scaled to 0: production is back on blue");
    expect(production()).toBe("blue");
    expect(service("api").desiredCount).toBe(2);
  });

  it("after a rollback during a bake whose deploy died before recording it: rollback again records it (no redeploy)", async () => {
    await interruptedInBake();
    // As if a rollback had switched production only and the baking deploy had died: the listener says green, state blue.
    const { ModifyListenerCommand, ElasticLoadBalancingV2Client } = await import("@aws-sdk/client-elastic-load-balancing-v2");
    await new ElasticLoadBalancingV2Client({ region: "us-east-1" }).send(new ModifyListenerCommand({ ListenerArn: listenerOn(80).ListenerArn, DefaultActions: [{ Type: "forward", TargetGroupArn: GREEN() }] }));
    expect(state().releases.api.live).toBe("blue");
    aws.cloud.calls.length = 0;
    const run = await cli(["rollback", "--service", "api"]);
    expect(run.code).toBe(0);
    expect(calls("RegisterTaskDefinition")).toEqual([]);
    expect(state().releases.api.live).toBe("green");
    expect(service("api").desiredCount).toBe(0);
    expect(testListener()).toBe("blue");
  });

  it("inside the bake, but another deploy has since started something else on the old slot: no instant switch, a redeploy", async () => {
    await interruptedInBake();
    const v1 = state().releases.api.previous.digest;
    pushImage(aws.ecr, REPO, "v3");
    const controller = new AbortController();
    aws.cloud.crashAfter = (call) => {
      if (call.command === "UpdateService" && call.input.service === "api-green" && call.input.taskDefinition) controller.abort();
      return false;
    };
    const second = await cli(["deploy", "--service", "api", "--image", "v3"], controller.signal);
    aws.cloud.crashAfter = undefined;
    expect(second.code).toBe(130);
    expect(second.stdout).toContain("interrupted before production traffic moved: production stays on blue; the new slot was scaled back to 0");
    expect(service("api-green").desiredCount).toBe(0);
    expect(state().releases.api.previous.slot).toBeUndefined();
    aws.cloud.calls.length = 0;
    const run = await cli(["rollback", "--service", "api"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain("switching production to it");
    expect(calls("RegisterTaskDefinition").map((c) => c.input.containerDefinitions[0].image)).toEqual([`${URI}@${v1}`]);
    expect(production()).toBe("green");
    expect(image("api-green")).toBe(`${URI}@${v1}`);
  });

  it("after the bake: deploys the previous image again by digest (blue-green, smoke test included); exit 0", async () => {
    const v1 = state().deployments.api.digest;
    pushImage(aws.ecr, REPO, "v2");
    expect((await deploy("v2")).code).toBe(0);
    // v1's tag moves to another image: rollback must not follow it.
    pushImage(aws.ecr, REPO, "v1");
    aws.cloud.calls.length = 0;
    smokeRequests = [];
    const run = await cli(["rollback", "--service", "api"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Rolling api back to ${URI}@${v1}`);
    expect(calls("RegisterTaskDefinition").map((c) => c.input.containerDefinitions[0].image)).toEqual([`${URI}@${v1}`]);
    expect(smokeRequests).toHaveLength(1);
    expect(production()).toBe("green");
    expect(image("api-green")).toBe(`${URI}@${v1}`);
    expect(service("api").desiredCount).toBe(0);
    expect(state().releases.api.previous).toEqual({ image: `${URI}:v2`, digest: expect.stringMatching(/^sha256:/), taskDefinitionArn: expect.stringMatching(/api:3$/) });
  });

  it("with no earlier release recorded: exit 2, nothing changed", async () => {
    const file = path.join(cwd, "state/dev.json");
    const s = state();
    delete s.releases.api.previous;
    writeFileSync(file, JSON.stringify(s));
    const run = await cli(["rollback", "--service", "api"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --service api: dev has no earlier release of api recorded/);
    expect(mutating()).toEqual([]);
  });
});

describe("down", () => {
  it("forgets the releases with the services: a later up starts on blue again", async () => {
    expect(state().releases.api.live).toBe("green");
    const down = await cli(["down", "--yes", "--delete-data"]);
    expect(down.code).toBe(0);
    expect(state().releases).toBeUndefined();
    expect(state().deployments).toBeUndefined();
  });
});

describe("bad input", () => {
  it.each([
    [["--strategy", "canary"], /--strategy canary: expected rolling or blue-green/],
    [["--no-wait"], /--no-wait: a blue-green deploy waits/],
    [["--bake-minutes", "-1"], /--bake-minutes -1: expected a whole number of minutes from 0 to 1440/],
    [["--smoke-test", "/a b"], /--smoke-test \/a b: not a URL path/],
    [["--strategy", "rolling", "--smoke-test", "/health"], /--smoke-test: only blue-green deploys have a smoke test/],
  ])("deploy %j: exit 2, no change", async (args, message) => {
    pushImage(aws.ecr, REPO, "v2");
    const run = await deploy("v2", ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(mutating()).toEqual([]);
  });

  it("an HTTPS test listener without services.api.deployment.smokeTestHost: exit 2 naming the setting (the certificate does not name the load balancer)", async () => {
    const config = { ...PROD_LIKE, loadBalancer: { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" } };
    const { releasePlan } = await import("../../src/commands/deploy.js");
    const { loadConfig } = await import("../../src/config/load.js");
    const dir = tempProject({ dev: config });
    const loaded = loadConfig({ env: "dev", cwd: dir }).config;
    expect(() => releasePlan(loaded, { service: "api", wait: true })).toThrow(/^services\.api\.deployment\.smokeTestHost: the test listener serves HTTPS/);
    const withHost = loadConfig({ env: "dev", cwd: dir, sets: ["services.api.deployment.smokeTestHost=api.example.org"] }).config;
    expect(releasePlan(withHost, { service: "api", wait: true })).toEqual({ strategy: "blue-green", bakeMinutes: 1, smokeTest: { kind: "path", path: "/health" } });
  });

  it("--strategy blue-green where the config rolls: exit 2 naming the setting", async () => {
    const fresh = installFakeAws();
    try {
      const dir = tempProject({ dev: { ...PROD_LIKE, services: {} } });
      expect((await runCli(dir, ["up", "--env", "dev", "--yes"])).code).toBe(0);
      pushImage(fresh.ecr, REPO, "v2");
      const run = await runCli(dir, ["deploy", "--env", "dev", "--service", "api", "--image", "v2", "--strategy", "blue-green"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/services\.api\.deployment\.strategy to "blue-green"/);
    } finally {
      fresh.restore();
    }
  });
});

describe("deploy --strategy rolling in a blue-green environment", () => {
  it("rolls the live slot in place", async () => {
    pushImage(aws.ecr, REPO, "v2");
    const run = await deploy("v2", "--strategy", "rolling");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(calls("UpdateService").map((c) => c.input.service)).toEqual(["api-green"]);
    expect(image("api-green")).toBe(`${URI}:v2`);
    expect(production()).toBe("green");
    expect(calls("ModifyListener")).toEqual([]);
  });
});
