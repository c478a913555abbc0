import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { configJsonSchema } from "../../src/config/json-schema.js";
import { UserError } from "../../src/errors.js";

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

  const bad: [string, Record<string, string>, Partial<Parameters<typeof loadConfig>[0]>, RegExp][] = [
    ["unknown environment", { "dev.json": "{}" }, { env: "qa" }, /unknown environment "qa": config\/qa.json does not exist \(available: dev\)/],
    ["invalid environment name", {}, { env: "Dev!" }, /invalid environment name "Dev!"/],
    ["path traversal in the environment name", {}, { env: "../etc" }, /invalid environment name/],
    ["malformed JSON", { "dev.json": "{ nope" }, { env: "dev" }, /config\/dev.json: malformed JSON/],
    ["a JSON array", { "dev.json": "[]" }, { env: "dev" }, /expected a JSON object/],
    ["wrong type", { "dev.json": '{"network":{"natGateway":"yes"}}' }, { env: "dev" }, /config\/dev.json: network.natGateway: .*boolean/],
    ["unknown key", { "dev.json": '{"network":{"natgateway":true}}' }, { env: "dev" }, /network: unknown key "natgateway"; allowed: cidr, publicSubnets, privateSubnets, natGateway, flowLogs, appPort/],
    ["unknown top-level key", { "dev.json": '{"vpc":{}}' }, { env: "dev" }, /unknown key "vpc"; allowed: \$schema, project/],
    ["invalid CIDR", { "dev.json": '{"network":{"cidr":"10.0.0.0/33"}}' }, { env: "dev" }, /network.cidr: must be an IPv4 CIDR block/],
    ["host bits set", { "dev.json": '{"network":{"cidr":"10.0.0.1/16"}}' }, { env: "dev" }, /network.cidr: must be an IPv4 CIDR block/],
    ["VPC too large", { "dev.json": '{"network":{"cidr":"10.0.0.0/8"}}' }, { env: "dev" }, /network.cidr: AWS allows VPC ranges from \/16/],
    ["subnet outside the VPC", { "dev.json": '{"network":{"publicSubnets":["10.1.0.0/24","10.0.1.0/24"],"privateSubnets":["10.0.2.0/24","10.0.3.0/24"]}}' }, { env: "dev" }, /network.publicSubnets.0: 10.1.0.0\/24 is outside the VPC range 10.0.0.0\/16/],
    ["overlapping subnets", { "dev.json": '{"network":{"publicSubnets":["10.0.0.0/24","10.0.0.0/23"],"privateSubnets":["10.0.2.0/24","10.0.3.0/24"]}}' }, { env: "dev" }, /network.publicSubnets.1: 10.0.0.0\/23 overlaps 10.0.0.0\/24/],
    ["retention CloudWatch rejects", { "dev.json": '{"logs":{"retentionDays":10}}' }, { env: "dev" }, /logs.retentionDays: one of 1, 3, 5, 7/],
    ["names over the load balancer limit", { "staging.json": '{"project":"clinical-platform-x"}' }, { env: "staging" }, /project: "clinical-platform-x-staging" is 27 characters; load balancer and target group names allow 32/],
    ["environment field disagrees with the file", { "dev.json": '{"environment":"prod"}' }, { env: "dev" }, /environment: "prod" does not match the file name/],
    ["reserved tag", { "dev.json": '{"tags":{"ManagedBy":"me"}}' }, { env: "dev" }, /tags.ManagedBy: .*set by platform itself/],
    ["bad region", { "dev.json": '{"region":"mars-1"}' }, { env: "dev" }, /region: an AWS region/],
    ["malformed --set", { "dev.json": "{}" }, { env: "dev", sets: ["natGateway"] }, /--set "natGateway": expected key.path=value/],
    ["--set on a scalar", { "dev.json": '{"region":"us-east-1"}' }, { env: "dev", sets: ["region.x=1"] }, /--set "region.x=1": region is not an object/],
    ["--set of an unknown key", { "dev.json": "{}" }, { env: "dev", sets: ["network.nat=true"] }, /network: unknown key "nat"/],
    ["no environment", {}, {}, /no environment given/],
    ["missing --config file", {}, { file: "nope.json" }, /--config nope.json: no such file/],
  ];
  it.each(bad)("rejects %s with one clear line (exit 2)", (_name, files, source, message) => {
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
