import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { ConfigSchema } from "../../src/config/schema.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { memoryIo, runCli, tempProject } from "../cli-harness.js";
import { TEST_WAITS } from "../helpers.js";

let aws: FakeAws;
beforeEach(() => (aws = installFakeAws()));
afterEach(() => aws.restore());

const emptyFolder = () => mkdtempSync(path.join(tmpdir(), "platform-empty-"));

/** Runs the CLI in-process and counts the AWS SDK clients it constructs. */
async function runCounting(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const io = memoryIo(env);
  const clients: string[] = [];
  const code = await main(args, io, { cwd, waits: TEST_WAITS, aws: { onClient: (_c, name) => clients.push(name) } });
  return { code, stdout: io.out(), stderr: io.err(), clients };
}

describe("platform init", () => {
  it("writes config/NAME.json from the defaults in an empty folder, creating config/, with no AWS client", async () => {
    const cwd = emptyFolder();
    const run = await runCounting(cwd, ["init", "--env", "dev"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Wrote config\/dev\.json \(and config\/schema\.json, for editors\)\.\n/);
    expect(run.stdout).toContain("platform validate --env dev");
    const written = JSON.parse(readFileSync(path.join(cwd, "config", "dev.json"), "utf8"));
    const defaults = ConfigSchema.parse({});
    expect(written).toMatchObject({ $schema: "./schema.json", project: defaults.project, region: defaults.region, network: { cidr: defaults.network.cidr, natGateway: false } });
    expect(written.database.instanceClass).toBe(defaults.database.instanceClass);
    expect(JSON.parse(readFileSync(path.join(cwd, "config", "schema.json"), "utf8")).title).toBe("platform environment config");
    expect(run.clients).toEqual([]);
    expect(aws.cloud.calls).toEqual([]);
    // what init wrote is what validate accepts
    expect((await runCli(cwd, ["validate", "--env", "dev"])).code).toBe(0);
  });

  it("refuses to overwrite: exit 2 naming the file, the file unchanged", async () => {
    const cwd = tempProject({ dev: { project: "mine" } });
    const run = await runCli(cwd, ["init", "--env", "dev"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("error: config/dev.json already exists; edit it, check it with 'platform validate --env dev', or pick another --env\n");
    expect(JSON.parse(readFileSync(path.join(cwd, "config", "dev.json"), "utf8"))).toEqual({ project: "mine" });
  });

  it("writes into the project found upwards, and keeps an existing schema.json", async () => {
    const cwd = tempProject();
    const schema = readFileSync(path.join(cwd, "config", "schema.json"), "utf8");
    mkdirSync(path.join(cwd, "app", "src"), { recursive: true });
    const run = await runCli(path.join(cwd, "app", "src"), ["init", "--env", "qa"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Wrote \.\.\/\.\.\/config\/qa\.json\.\n/);
    expect(existsSync(path.join(cwd, "config", "qa.json"))).toBe(true);
    expect(existsSync(path.join(cwd, "app", "src", "config"))).toBe(false);
    expect(readFileSync(path.join(cwd, "config", "schema.json"), "utf8")).toBe(schema);
  });

  it.each([
    ["an invalid environment name", ["init", "--env", "Dev_1"], /^error: invalid environment name "Dev_1": use 1-10 lowercase letters/],
    ["no --env", ["init"], /^error: no environment given: pass --env with the new environment's name, e.g. platform init --env dev \(writes config\/dev.json\)$/m],
    ["a --set the schema refuses", ["init", "--env", "qa", "--set", "network.cidr=10.0.0.0/8"], /network\.cidr/],
  ])("exits 2 on %s and writes nothing", async (_name, args, message) => {
    const cwd = emptyFolder();
    const run = await runCli(cwd, args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(path.join(cwd, "config", "qa.json"))).toBe(false);
  });
});

describe("platform validate", () => {
  it("exit 0 with a one-line summary, no AWS client constructed", async () => {
    const cwd = tempProject();
    const run = await runCounting(cwd, ["validate", "--env", "dev"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      "config/dev.json: valid (clinical-platform-dev in us-east-1; VPC 10.0.0.0/16, no NAT gateway; database db.t3.micro; api 1×256 CPU/512 MiB; no worker; state in state/dev.json)\n",
    );
    expect(run.clients).toEqual([]);
    expect(aws.cloud.calls).toEqual([]);
  });

  it("a bad field: exit 2 naming the file, the field and what is allowed", async () => {
    const cwd = tempProject({ dev: { database: { instanceClass: 3 } } });
    const run = await runCounting(cwd, ["validate", "--env", "dev"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: config\/dev\.json: database\.instanceClass: .*expected string/);
    expect(run.stdout).toBe("");
    expect(run.clients).toEqual([]);
  });

  it("an unknown key: exit 2 naming it and the keys allowed", async () => {
    const cwd = tempProject({ dev: { network: { natgateway: true } } });
    const run = await runCli(cwd, ["validate", "--env", "dev"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: config\/dev\.json: network: unknown key "natgateway"; allowed: .*natGateway/);
  });

  it("without --env checks every environment: exit 2 when one is bad, the good ones still listed", async () => {
    const cwd = tempProject({ dev: {}, qa: { region: "mars" } });
    const run = await runCli(cwd, ["validate"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^config\/dev\.json: valid/);
    expect(run.stderr).toMatch(/^error: config\/qa\.json: region: an AWS region such as "us-east-1"\n$/);
    const json = JSON.parse((await runCli(cwd, ["validate", "--json"])).stdout);
    expect(json.map((r: { environment?: string; valid: boolean }) => [r.environment, r.valid])).toEqual([["dev", true], [undefined, false]]);
  });

  it("validates an environment name with the same rule as every command", async () => {
    const run = await runCli(tempProject(), ["validate", "--env", "Dev_1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: invalid environment name "Dev_1": use 1-10 lowercase letters/);
  });
});

describe("the project folder", () => {
  it("is found from a subdirectory: config from it, local state written into its state/", async () => {
    const cwd = tempProject();
    const deep = path.join(cwd, "services", "api");
    mkdirSync(deep, { recursive: true });
    const up = await runCli(deep, ["up", "--env", "dev", "--yes"]);
    expect(up.code).toBe(0);
    expect(existsSync(path.join(cwd, "state", "dev.json"))).toBe(true);
    expect(existsSync(path.join(deep, "state"))).toBe(false);
    const list = await runCli(deep, ["state", "list", "--env", "dev"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("network.vpc");
  });

  it("is named by --config DIR or PLATFORM_HOME from outside it", async () => {
    const project = tempProject();
    const outside = emptyFolder();
    for (const [args, env] of [
      [["validate", "--env", "dev", "--config", project], {}],
      [["validate", "--env", "dev", "--config", path.join(project, "config")], {}],
      [["validate", "--env", "dev"], { PLATFORM_HOME: project }],
    ] as const) {
      const run = await runCli(outside, [...args], { env });
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`${path.relative(outside, path.join(project, "config", "dev.json"))}: valid`);
    }
  });

  it("missing: one line, exit 2, saying how to fix it, no AWS call", async () => {
    const outside = emptyFolder();
    for (const args of [["status", "--env", "dev"], ["validate"], ["cost", "--env", "dev"]]) {
      const run = await runCounting(outside, args);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(
        `error: no platform project in ${outside} or any folder above it (none holds config/<env>.json): run 'platform init --env dev' here to start one, pass --config with the folder holding config/, or set PLATFORM_HOME to that folder\n`,
      );
      expect(run.clients).toEqual([]);
    }
    expect(aws.cloud.calls).toEqual([]);
  });

  it("keeps --config FILE: a config file outside any project, state beside the working directory", async () => {
    const outside = emptyFolder();
    writeFileSync(path.join(outside, "mine.json"), JSON.stringify({ environment: "dev" }));
    const run = await runCli(outside, ["validate", "--config", "mine.json"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^mine\.json: valid \(clinical-platform-dev/);
  });
});
