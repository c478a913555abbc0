import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { ecrTagMutability, ecsExecEnabled, isProtected, protectionOptOuts, protectionProblems, vpcEndpointsEnabled } from "../../src/config/protection.js";
import { buildStack } from "../../src/stack/index.js";
import { runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const repoRoot = path.resolve(import.meta.dirname, "../..");
const FACTS = { accountId: "123456789012", region: "us-east-1", availabilityZones: ["us-east-1a", "us-east-1b"] as [string, string] };

function configOf(env: string, body: Record<string, unknown>) {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-protection-"));
  mkdirSync(path.join(dir, "config"));
  writeFileSync(path.join(dir, "config", `${env}.json`), JSON.stringify(body));
  return loadConfig({ env, cwd: dir }).config;
}

/** A protected config that meets every rule; each test takes one away. */
const SECURE = { dataClassification: "PHI", loadBalancer: { certificateArn: CERT }, logs: { kmsKeyArn: KEY } };

describe("isProtected: protection follows the data, not the name", () => {
  it.each([
    ["prd", { dataClassification: "PHI" }, true],
    ["prod-eu", { dataClassification: "Confidential" }, true],
    ["prod", {}, false],
    ["prod-us", { dataClassification: "Internal" }, false],
    ["sandbox", { protected: true }, true],
    ["qa", { dataClassification: "Public", protected: true }, true],
  ])("%s with %j: %s", (env, body, expected) => {
    expect(isProtected(configOf(env, body))).toBe(expected);
  });

  it("the shipped staging and prod configs hold PHI and are protected; dev is not", () => {
    for (const env of ["staging", "prod"]) expect(isProtected(loadConfig({ env, cwd: repoRoot }).config), env).toBe(true);
    expect(isProtected(loadConfig({ env: "dev", cwd: repoRoot }).config)).toBe(false);
  });

  it("refuses protected: false for PHI, and a DataClassification tag that disagrees; the tag defaults to dataClassification", () => {
    expect(() => configOf("prd", { dataClassification: "PHI", protected: false })).toThrow(/protected: a PHI environment is always protected: remove "protected": false/);
    expect(() => configOf("prd", { dataClassification: "PHI", tags: { DataClassification: "Internal" } })).toThrow(/tags.DataClassification: says "Internal" but dataClassification is "PHI"/);
    expect(configOf("prd", { dataClassification: "PHI" }).tags).toEqual({ DataClassification: "PHI" });
  });

  it("secure defaults follow protection: ECS Exec off, VPC endpoints on, tags immutable; explicit choices win", () => {
    const prd = configOf("prd", SECURE);
    expect([ecsExecEnabled(prd), vpcEndpointsEnabled(prd), ecrTagMutability(prd)]).toEqual([false, true, "IMMUTABLE"]);
    const dev = configOf("dev", {});
    expect([ecsExecEnabled(dev), vpcEndpointsEnabled(dev), ecrTagMutability(dev)]).toEqual([true, false, "MUTABLE"]);
    const chosen = configOf("prd", { ...SECURE, services: { ecsExec: true }, network: { vpcEndpoints: false } });
    expect([ecsExecEnabled(chosen), vpcEndpointsEnabled(chosen)]).toEqual([true, false]);
  });
});

describe("protectionProblems: what up and deploy refuse in a protected environment", () => {
  it("a config meeting every rule has no problem and no opt-out", () => {
    const prd = configOf("prd", SECURE);
    expect(protectionProblems(prd)).toEqual([]);
    expect(protectionOptOuts(prd)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ["no certificate", { loadBalancer: {} }, "loadBalancer.certificateArn", /serves HTTPS only: set loadBalancer.certificateArn .* \(or, giving up encryption in transit, loadBalancer.allowPlainHttp: true\)/],
    [
      "a test listener open to the internet",
      { services: { api: { deployment: { strategy: "blue-green", testListenerCidrs: ["0.0.0.0/0"], smokeTestHost: "api.example.org" } } } },
      "services.api.deployment.testListenerCidrs",
      /0\.0\.0\.0\/0 opens the release candidate to the internet/,
    ],
    ["UIs routed from anywhere", { monitoring: { grafana: true, uiAccessCidrs: ["0.0.0.0/0"] } }, "monitoring.uiAccessCidrs", /routes Grafana and Marquez \(which has no login\) from the internet/],
    ["no logs key", { logs: {} }, "logs.kmsKeyArn", /policy allows logs\.us-east-1\.amazonaws\.com .* logs.allowAwsOwnedKey: true/],
    ["mutable tags", { ecr: { imageTagMutability: "MUTABLE" } }, "ecr.imageTagMutability", /image tags are immutable.*ecr.allowMutableTags: true/],
  ])("refuses %s, naming the field and the fix", (_what, change, field, message) => {
    const problems = protectionProblems(configOf("prd", { ...SECURE, ...change }));
    expect(problems.map((p) => p.field)).toEqual([field]);
    expect(problems[0]!.message).toMatch(message);
  });

  it("an explicit opt-out, named for what it gives up, is accepted and listed as a finding", () => {
    const prd = configOf("prd", {
      dataClassification: "PHI",
      loadBalancer: { allowPlainHttp: true },
      logs: { allowAwsOwnedKey: true },
      ecr: { imageTagMutability: "MUTABLE", allowMutableTags: true },
      services: { ecsExec: true, api: { deployment: { strategy: "blue-green", testListenerCidrs: ["0.0.0.0/0"], allowPublicTestListener: true } } },
      network: { vpcEndpoints: false },
    });
    expect(protectionProblems(prd)).toEqual([]);
    expect(protectionOptOuts(prd).map((o) => o.field)).toEqual([
      "loadBalancer.allowPlainHttp",
      "services.api.deployment.allowPublicTestListener",
      "logs.allowAwsOwnedKey",
      "ecr.allowMutableTags",
      "services.ecsExec",
      "network.vpcEndpoints",
    ]);
    const notes = buildStack(prd, FACTS).notes ?? [];
    expect(notes).toContain("finding: loadBalancer.allowPlainHttp gives up encryption in transit: the API serves plain HTTP");
    expect(notes.some((n) => n.startsWith("prd is protected (dataClassification PHI)"))).toBe(true);
  });

  it("unprotected environments are not refused (dev keeps plain HTTP)", () => {
    expect(protectionProblems(configOf("prod", { ecr: { imageTagMutability: "MUTABLE" } }))).toEqual([]);
  });

  it("blue-green needs testListenerCidrs: there is no internet default", () => {
    expect(() => configOf("dev", { services: { api: { deployment: { strategy: "blue-green" } } } })).toThrow(/services.api.deployment.testListenerCidrs: blue-green needs the ranges that may reach its test listener/);
  });
});

describe("up, deploy and promote refuse a protected environment's insecure config before any AWS call", () => {
  let aws: FakeAws;
  beforeEach(() => {
    aws = installFakeAws();
  });
  afterEach(() => aws.restore());

  it.each([
    ["up", ["up", "--env", "prd", "--yes"]],
    ["deploy", ["deploy", "--env", "prd", "--service", "api", "--image", "v1"]],
    ["promote", ["promote", "--from", "dev", "--to", "prd", "--service", "api", "--yes"]],
  ])("%s: exit 2, one line per field with its fix, and no AWS call at all", async (_name, args) => {
    const cwd = tempProject({ dev: {}, prd: { dataClassification: "PHI", logs: { kmsKeyArn: KEY } } });
    const r = await runCli(cwd, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: prd is protected \(dataClassification PHI\); refusing:\nloadBalancer\.certificateArn: a protected environment serves HTTPS only/);
    expect(aws.cloud.calls).toEqual([]);
  });

  it("exec in a protected environment with ECS Exec off (the default): exit 2 naming services.ecsExec, no AWS call", async () => {
    const { execDeps } = await import("../../src/commands/exec.js");
    const findPlugin = execDeps.findPlugin;
    execDeps.findPlugin = () => "/usr/local/bin/session-manager-plugin";
    try {
      const cwd = tempProject({ prd: { dataClassification: "PHI" } });
      const r = await runCli(cwd, ["exec", "--env", "prd", "--service", "api"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe("error: prd has ECS Exec off (the default in protected environments): set services.ecsExec to true in config/prd.json (audit reports it as a finding; sessions are logged) and run 'platform up --env prd'\n");
      expect(aws.cloud.calls).toEqual([]);
    } finally {
      execDeps.findPlugin = findPlugin;
    }
  });

  it("plan shows what up would refuse, and the opt-outs as findings", async () => {
    const cwd = tempProject({ prd: { dataClassification: "PHI", logs: { allowAwsOwnedKey: true } } });
    const r = await runCli(cwd, ["plan", "--env", "prd"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("up and deploy refuse loadBalancer.certificateArn");
    expect(r.stdout).toContain("finding: logs.allowAwsOwnedKey gives up log encryption with a key you control");
  });
});
