import { readFileSync, statSync, existsSync } from "node:fs";
import { holdingPhi } from "../helpers.js";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { runCli, tempProject } from "../cli-harness.js";
import { LocalBackend } from "../../src/state/local.js";
import { newLockInfo } from "../../src/state/lock.js";

/** The network layer only: the data, secrets and compute layers are switched off by config where they exist. */
const DEV = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: true, trafficType: "REJECT" } },
  logs: { retentionDays: 7 },
};

let aws: FakeAws;
let cwd: string;

beforeEach(() => {
  aws = installFakeAws();
  cwd = tempProject({ dev: DEV, prd: holdingPhi({ ...DEV, network: { ...DEV.network, cidr: "10.2.0.0/16" } }) });
});
afterEach(() => aws.restore());

const state = () => JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8"));
const mutating = () => aws.cloud.mutatingCalls().map((c) => `${c.service}:${c.command}`);

describe("plan → up → up → status → outputs → down → down", () => {
  it("converges, changes nothing the second time, and leaves nothing behind", async () => {
    const plan = await runCli(cwd, ["plan", "--env", "dev"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/\+ network.vpc \(ec2:vpc\) create/);
    expect(plan.stdout).toMatch(/Plan: \d+ to create, 0 to update, 0 to replace, 0 to delete, 0 unchanged\./);
    expect(mutating()).toEqual([]);

    const detailed = await runCli(cwd, ["plan", "--env", "dev", "--detailed-exitcode"]);
    expect(detailed.code).toBe(2);

    const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/Apply complete: \d+ created, 0 updated/);
    expect(aws.ec2.vpcs.size).toBe(1);
    expect(aws.ec2.subnets.size).toBe(4);
    expect(aws.ec2.securityGroups.size).toBeGreaterThanOrEqual(5);
    expect(aws.ec2.flowLogs.size).toBe(1);

    const doc = state();
    expect(statSync(path.join(cwd, "state/dev.json")).mode & 0o777).toBe(0o600);
    expect(doc).toMatchObject({ version: 1, environment: "dev", region: "us-east-1", accountId: "123456789012" });
    expect(doc.serial).toBeGreaterThan(10);
    expect(doc.resources["network.vpc"]).toMatchObject({ type: "ec2:vpc", physicalId: expect.stringMatching(/^vpc-/) });
    expect(doc.outputs.vpc_id).toBe(doc.resources["network.vpc"].physicalId);
    expect(existsSync(path.join(cwd, "state/dev.lock"))).toBe(false);

    // Every taggable resource carries the four tags.
    for (const vpc of aws.ec2.vpcs.values()) {
      expect(vpc.Tags).toMatchObject({ Project: "clinical-platform", Environment: "dev", ManagedBy: "platform", "platform:logical-id": "network.vpc" });
    }

    aws.cloud.calls.length = 0;
    const again = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/No changes: \d+ resources match the config\./);
    expect(mutating()).toEqual([]);
    expect(state().serial).toBe(doc.serial);

    const status = await runCli(cwd, ["status", "--env", "dev", "--json"]);
    expect(status.code).toBe(0);
    const statuses = JSON.parse(status.stdout).resources as { status: string }[];
    expect(statuses.length).toBe(Object.keys(doc.resources).length);
    expect(new Set(statuses.map((s) => s.status))).toEqual(new Set(["in-sync"]));

    const output = await runCli(cwd, ["outputs", "--env", "dev", "vpc_id"]);
    expect(output).toMatchObject({ code: 0, stdout: `${doc.outputs.vpc_id}\n` });

    const down = await runCli(cwd, ["down", "--env", "dev", "--yes"]);
    expect(down.stderr).toBe("");
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/Destroy complete: \d+ deleted\./);
    expect(down.stdout).toMatch(/Nothing tagged with clinical-platform\/dev remains\./);
    expect(aws.ec2.vpcs.size).toBe(0);
    expect(aws.ec2.subnets.size).toBe(0);
    expect([...aws.ec2.securityGroups.values()].filter((g) => g.GroupName !== "default")).toEqual([]);
    expect(aws.ec2.flowLogs.size).toBe(0);
    expect(state().resources).toEqual({});

    const downAgain = await runCli(cwd, ["down", "--env", "dev", "--yes"]);
    expect(downAgain.code).toBe(0);
    expect(downAgain.stdout).toMatch(/state records nothing for dev/);
  });
});

describe("safety", () => {
  it("does not apply without a terminal or --yes, and changes nothing", async () => {
    const up = await runCli(cwd, ["up", "--env", "dev"]);
    expect(up.code).toBe(2);
    expect(up.stderr).toBe("error: not applying: there is no terminal to confirm on; review the plan and pass --yes to apply it\n");
    expect(mutating()).toEqual([]);
  });

  it("refuses to destroy an environment holding PHI (named prd, not prod) with --yes alone", async () => {
    expect((await runCli(cwd, ["up", "--env", "prd", "--yes"])).code).toBe(0);
    aws.cloud.calls.length = 0;
    const down = await runCli(cwd, ["down", "--env", "prd", "--yes"]);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/prd is a protected environment: pass --yes --force-prod/);
    expect(mutating()).toEqual([]);
    const forced = await runCli(cwd, ["down", "--env", "prd", "--yes", "--force-prod"]);
    expect(forced.code).toBe(0);
  });

  it("down --dry-run lists what would go and deletes nothing", async () => {
    await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    aws.cloud.calls.length = 0;
    const dry = await runCli(cwd, ["down", "--env", "dev", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/down would delete \d+ resources from dev/);
    expect(dry.stdout).toMatch(/network.vpc\s+ec2:vpc\s+vpc-/);
    expect(mutating()).toEqual([]);
  });

  it("a second run on the same environment is told who holds the lock, and changes nothing", async () => {
    const held = await new LocalBackend(path.join(cwd, "state/dev.json"), cwd).lock(newLockInfo("up --env dev"));
    const second = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/state\/dev.json is locked by .+ \(pid \d+\) running "up --env dev" since .+; wait for it to finish/);
    expect(mutating()).toEqual([]);
    await held.release();
    expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
  });
});

describe("drift", () => {
  it("reports a changed attribute and a resource deleted by hand, and up repairs both", async () => {
    await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    const doc = state();
    const publicA = aws.ec2.subnets.get(doc.resources["network.subnet.public-a"].physicalId)!;
    publicA.MapPublicIpOnLaunch = false;
    const ruleId = doc.resources["network.security-group-rule.db-api-in"].physicalId;
    aws.ec2.securityGroupRules.delete(ruleId);

    const status = await runCli(cwd, ["status", "--env", "dev", "--wide"]);
    expect(status.stdout).toMatch(/network.subnet.public-a\s+ec2:subnet\s+subnet-\S+\s+drifted \(mapPublicIpOnLaunch\)/);
    expect(status.stdout).toMatch(/network.security-group-rule.db-api-in\s+ec2:security-group-rule\s+-\s+missing/);

    aws.cloud.calls.length = 0;
    const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(up.code).toBe(0);
    expect(mutating()).toEqual(expect.arrayContaining(["ec2:ModifySubnetAttribute", "ec2:AuthorizeSecurityGroupIngress"]));
    expect(publicA.MapPublicIpOnLaunch).toBe(true);
    const after = await runCli(cwd, ["status", "--env", "dev", "--json"]);
    expect(new Set(JSON.parse(after.stdout).resources.map((r: { status: string }) => r.status))).toEqual(new Set(["in-sync"]));
  });

  it("shows a replacement and only replaces with --allow-replace", async () => {
    await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    const set = ["--set", 'network.privateSubnets=["10.0.20.0/24","10.0.3.0/24"]', "--set", 'network.publicSubnets=["10.0.0.0/24","10.0.1.0/24"]'];
    const plan = await runCli(cwd, ["plan", "--env", "dev", ...set]);
    expect(plan.stdout).toMatch(/-\/\+ network.subnet.private-a \(ec2:subnet\) replace/);
    expect(plan.stdout).toMatch(/cidrBlock: 10.0.2.0\/24 → 10.0.20.0\/24 \(forces replacement\)/);

    const refused = await runCli(cwd, ["up", "--env", "dev", "--yes", ...set]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/network.subnet.private-a needs replacement \(cidrBlock cannot change in place\); review the plan and run again with --allow-replace/);
  });
});

describe("interrupted runs", () => {
  it("adopts a resource created just before a crash instead of creating it twice", async () => {
    aws.cloud.crashAfter = (call) => call.command === "CreateSubnet";
    const crashed = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(crashed.code).toBe(1);
    expect(aws.ec2.subnets.size).toBeGreaterThan(0);
    aws.cloud.crashAfter = undefined;

    const rerun = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(rerun.code).toBe(0);
    expect(aws.ec2.vpcs.size).toBe(1);
    expect(aws.ec2.subnets.size).toBe(4);
    const recorded = Object.values(state().resources).filter((r: any) => r.type === "ec2:subnet").map((r: any) => r.physicalId);
    expect(new Set(recorded)).toEqual(new Set(aws.ec2.subnets.keys()));
  });
});

describe("NAT gateway", () => {
  it("creates the gateway with its address and private routes, and releases the address on teardown", async () => {
    const up = await runCli(cwd, ["up", "--env", "dev", "--yes", "--set", "network.natGateway=true"]);
    expect(up.code).toBe(0);
    expect([...aws.ec2.natGateways.values()].filter((n) => n.State === "available")).toHaveLength(1);
    expect(aws.ec2.addresses.size).toBe(1);
    const privateRoutes = [...aws.ec2.routeTables.values()].flatMap((rt) => rt.Routes ?? []).filter((r: any) => r.NatGatewayId);
    expect(privateRoutes).toHaveLength(2);

    const down = await runCli(cwd, ["down", "--env", "dev", "--yes"]);
    expect(down.code).toBe(0);
    expect(aws.ec2.addresses.size).toBe(0);
    const order = aws.cloud.mutatingCalls().map((c) => c.command);
    expect(order.lastIndexOf("DeleteNatGateway")).toBeLessThan(order.indexOf("ReleaseAddress"));
  });
});
