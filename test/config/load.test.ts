import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { configJsonSchema } from "../../src/config/json-schema.js";
import { UserError } from "../../src/errors.js";
import { BAD_CONFIGS } from "../fixtures/bad-input.js";

function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-config-"));
  mkdirSync(path.join(dir, "config"));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, "config", name), text);
  return dir;
}

const repoRoot = path.resolve(import.meta.dirname, "../..");

describe("loadConfig", () => {
  it("loads the shipped dev, staging and prod configs with the seed's defaults", () => {
    const dev = loadConfig({ env: "dev", cwd: repoRoot }).config;
    expect(dev).toMatchObject({ project: "clinical-platform", environment: "dev", region: "us-east-1", logs: { retentionDays: 7 } });
    expect(dev.network).toMatchObject({ cidr: "10.0.0.0/16", natGateway: false, publicSubnets: ["10.0.0.0/24", "10.0.1.0/24"], privateSubnets: ["10.0.2.0/24", "10.0.3.0/24"] });
    expect(dev.database.instanceClass).toBe("db.t3.micro");
    expect(loadConfig({ env: "prod", cwd: repoRoot }).config.network.natGateway).toBe(true);
    expect(loadConfig({ env: "staging", cwd: repoRoot }).config.environment).toBe("staging");
  });

  it("applies defaults to an empty config", () => {
    const cwd = workspace({ "qa.json": "{}" });
    const { config } = loadConfig({ env: "qa", cwd });
    expect(config).toMatchObject({ project: "clinical-platform", environment: "qa", region: "us-east-1", network: { natGateway: false, flowLogs: { enabled: true } } });
  });

  it("--set overrides a field with a JSON or string value", () => {
    const cwd = workspace({ "dev.json": "{}" });
    const { config } = loadConfig({ env: "dev", cwd, sets: ["network.natGateway=true", "tags.Owner=data-team", "logs.retentionDays=14"] });
    expect(config.network.natGateway).toBe(true);
    expect(config.tags).toEqual({ Owner: "data-team" });
    expect(config.logs.retentionDays).toBe(14);
  });

  it("derives subnets inside a smaller VPC range", () => {
    const cwd = workspace({ "dev.json": JSON.stringify({ network: { cidr: "10.9.0.0/20" } }) });
    const { config } = loadConfig({ env: "dev", cwd });
    expect(config.network.publicSubnets).toEqual(["10.9.0.0/28", "10.9.0.16/28"]);
    expect(config.network.privateSubnets).toEqual(["10.9.0.32/28", "10.9.0.48/28"]);
  });

  it.each(BAD_CONFIGS)("rejects %s with one clear line (exit 2)", (_name, files, source, message) => {
    const cwd = workspace(files);
    let error: unknown;
    try {
      loadConfig({ cwd, ...source });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message.split("\n")).toHaveLength(1);
  });
});

describe("config/schema.json", () => {
  it("is generated from the zod schema (run npm run schema after changing it)", () => {
    const committed = JSON.parse(readFileSync(path.join(repoRoot, "config/schema.json"), "utf8"));
    expect(committed).toEqual(configJsonSchema());
  });
});
