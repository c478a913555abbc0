import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { tempProject } from "../cli-harness.js";

/**
 * Installs platform as a user would: `npm pack`, then `npm install -g --prefix <tmp> <tarball>`, and runs the
 * installed command from folders outside the checkout. Needs dist/ (npm ci's `prepare` builds it; built here if absent)
 * and the npm registry or cache for the runtime dependencies.
 */
const repo = path.resolve(import.meta.dirname, "../..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const pkg = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8"));
const binTarget: string = pkg.bin.platform;

let prefix: string;
let bin: string;
let tarballFiles: string[];

function npmRun(args: string[], cwd: string): string {
  return execFileSync(npm, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" } });
}

/** The installed command, run from `cwd` with the given extra environment (and none of this checkout's). */
function platform(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const { PLATFORM_HOME: _home, ...rest } = process.env;
  const run = spawnSync(bin, args, { cwd, encoding: "utf8", env: { ...rest, ...env, NO_COLOR: "1" } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(() => {
  if (!existsSync(path.join(repo, binTarget))) npmRun(["run", "build"], repo);
  const work = mkdtempSync(path.join(tmpdir(), "platform-pack-"));
  // --ignore-scripts: pack the dist/ that is there instead of rebuilding it (prepare already ran on npm ci).
  const packed = JSON.parse(npmRun(["pack", "--json", "--ignore-scripts", "--pack-destination", work], repo));
  tarballFiles = packed[0].files.map((f: { path: string }) => f.path);
  prefix = path.join(work, "prefix");
  npmRun(["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel", "error", path.join(work, packed[0].filename)], work);
  bin = path.join(prefix, process.platform === "win32" ? "platform.cmd" : path.join("bin", "platform"));
}, 600_000);

describe("the packed and installed CLI", { timeout: 60_000 }, () => {
  it("packs dist/ and what runs, not sources or tests", () => {
    expect(tarballFiles).toContain(binTarget);
    expect(tarballFiles).toContain("dist/cli.js");
    expect(tarballFiles).toContain("package.json");
    expect(tarballFiles).toContain("README.md");
    expect(tarballFiles.filter((f) => /^(src|test|bench|scripts|state|config)\//.test(f))).toEqual([]);
  });

  it("installs only runtime dependencies: nothing from devDependencies", () => {
    const installed = path.join(prefix, "lib", "node_modules", pkg.name, "node_modules");
    const names = readdirSync(installed).flatMap((d) => (d.startsWith("@") ? readdirSync(path.join(installed, d)).map((n) => `${d}/${n}`) : [d]));
    for (const dev of Object.keys(pkg.devDependencies)) expect(names).not.toContain(dev);
  });

  it("puts platform on PATH: --help and --version from another folder", () => {
    const elsewhere = mkdtempSync(path.join(tmpdir(), "platform-elsewhere-"));
    const help = platform(["--help"], elsewhere);
    expect(help.stderr).toBe("");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: platform \[options\] \[command\]/);
    for (const command of ["init", "validate", "up", "deploy", "down"]) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    expect(platform(["--version"], elsewhere).stdout).toBe(`${pkg.version}\n`);
  });

  it("validates a project elsewhere through --config and PLATFORM_HOME, and says how to fix a missing one", () => {
    const project = tempProject();
    const elsewhere = mkdtempSync(path.join(tmpdir(), "platform-elsewhere-"));
    const shown = path.relative(elsewhere, path.join(project, "config", "dev.json"));
    for (const run of [platform(["validate", "--env", "dev", "--config", project], elsewhere), platform(["validate", "--env", "dev"], elsewhere, { PLATFORM_HOME: project })]) {
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`${shown}: valid (clinical-platform-dev in us-east-1; VPC 10.0.0.0/16, no NAT gateway; database db.t3.micro; api 1×256 CPU/512 MiB; no worker; state in state/dev.json)\n`);
    }
    const missing = platform(["validate", "--env", "dev"], elsewhere);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: no platform project in .*: run 'platform init --env dev' here to start one, pass --config with the folder holding config\/, or set PLATFORM_HOME to that folder/);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("validate loads no AWS SDK module (plan, which does, shows the check works)", () => {
    const project = tempProject();
    // The SDK is bundled into dist/bundle's chunks: a module load hook records every file the installed command loads,
    // and the installed metafile (dist/bundle/meta.json) says which sources, @aws-sdk/* among them, each file holds.
    const installed = realpathSync(path.join(prefix, "lib", "node_modules", pkg.name));
    const meta = JSON.parse(readFileSync(path.join(installed, "dist", "bundle", "meta.json"), "utf8"));
    const hook = 'import { appendFileSync } from "node:fs"; export async function load(u, c, next) { if (u.startsWith("file:")) appendFileSync(process.env.PLATFORM_TRACE_LOADS, u + "\\n"); return next(u, c); }';
    const register = `import { register } from "node:module"; register("data:text/javascript,${encodeURIComponent(hook)}");`;
    const guarded = (args: string[]) => {
      const trace = path.join(mkdtempSync(path.join(tmpdir(), "platform-trace-")), "loads");
      writeFileSync(trace, "");
      const run = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(register)}`, bin, ...args], {
        cwd: project,
        encoding: "utf8",
        // Nothing listens on port 9: a command that reaches AWS fails at once.
        env: { ...process.env, NO_COLOR: "1", PLATFORM_TRACE_LOADS: trace, AWS_ENDPOINT_URL: "http://127.0.0.1:9", AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" },
        timeout: 60_000,
      });
      const loaded = readFileSync(trace, "utf8").split("\n").filter(Boolean).map((u) => fileURLToPath(u));
      const sdk = new Set<string>();
      for (const file of loaded) {
        const output = meta.outputs[path.relative(installed, realpathSync(file)).split(path.sep).join("/")];
        for (const input of Object.keys(output?.inputs ?? {})) if (input.includes("node_modules/@aws-sdk/")) sdk.add(input.match(/node_modules\/(@aws-sdk\/[^/]+)\//)![1]);
      }
      return { ...run, loaded, sdk: [...sdk] };
    };
    const validate = guarded(["validate", "--env", "dev"]);
    expect(validate.stderr).toBe("");
    expect(validate.status).toBe(0);
    expect(validate.loaded.filter((f) => f.startsWith(installed)).length, "the trace recorded the installed files").toBeGreaterThan(0);
    expect(validate.sdk).toEqual([]);
    // plan's account lookup (STS) fails at once against port 9, after its client is loaded.
    const plan = guarded(["plan", "--env", "dev"]);
    expect(plan.status).not.toBe(0);
    expect(plan.sdk, plan.stdout + plan.stderr).toContain("@aws-sdk/client-sts");
  });

  it("init then validate in an empty folder, from a subdirectory of it", () => {
    const folder = mkdtempSync(path.join(tmpdir(), "platform-new-"));
    expect(platform(["init", "--env", "dev"], folder).code).toBe(0);
    mkdirSync(path.join(folder, "sub"));
    const run = platform(["validate", "--env", "dev"], path.join(folder, "sub"));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\.\.\/config\/dev\.json: valid/);
    const again = platform(["init", "--env", "dev"], folder);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^error: config\/dev\.json already exists/);
  });
});
