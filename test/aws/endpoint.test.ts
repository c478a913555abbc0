import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkEndpoints, endpointNotice, endpointOverrides, isLoopbackHost } from "../../src/aws/endpoint.js";
import { UserError } from "../../src/errors.js";
import { runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

describe("endpoint overrides", () => {
  it("finds the config endpoint and every AWS_ENDPOINT_URL variable", () => {
    expect(endpointOverrides("https://ls.example", { AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9000", AWS_ENDPOINT_URL: "http://localhost:4566", HOME: "/x" })).toEqual([
      { url: "https://ls.example", source: "config endpoint" },
      { url: "http://localhost:4566", source: "AWS_ENDPOINT_URL" },
      { url: "http://127.0.0.1:9000", source: "AWS_ENDPOINT_URL_S3" },
    ]);
    expect(endpointOverrides(undefined, {})).toEqual([]);
    expect(endpointNotice([])).toBeUndefined();
  });

  it("tells loopback from other hosts", () => {
    for (const h of ["localhost", "127.0.0.1", "127.1.2.3", "[::1]", "s3.localhost"]) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ["10.0.0.5", "localhost.example.com", "0.0.0.0", "::ffff:10.0.0.1", "example.com"]) expect(isLoopbackHost(h), h).toBe(false);
  });

  it("accepts https anywhere and http to loopback; refuses http elsewhere unless allowed, naming the source and the fix", () => {
    expect(() => checkEndpoints([{ url: "https://10.0.0.5:4566", source: "config endpoint" }], false)).not.toThrow();
    expect(() => checkEndpoints([{ url: "http://127.0.0.1:4566", source: "AWS_ENDPOINT_URL" }], false)).not.toThrow();
    const insecure = [{ url: "http://10.0.0.5:4566", source: "AWS_ENDPOINT_URL_S3" }];
    expect(() => checkEndpoints(insecure, false)).toThrow(UserError);
    expect(() => checkEndpoints(insecure, false)).toThrow(/^AWS_ENDPOINT_URL_S3 http:\/\/10\.0\.0\.5:4566: plain HTTP to another machine .* use https:\/\/, or pass --allow-insecure-endpoint/);
    expect(() => checkEndpoints(insecure, true)).not.toThrow();
    expect(() => checkEndpoints([{ url: "ftp://x", source: "config endpoint" }], true)).toThrow(/config endpoint ftp:\/\/x: use https:\/\//);
  });
});

describe("the CLI with an endpoint override", () => {
  let aws: FakeAws;
  let cwd: string;
  beforeEach(() => {
    aws = installFakeAws();
    cwd = tempProject();
  });
  afterEach(() => aws.restore());

  it("refuses plain HTTP to another machine before any AWS call (exit 2), and --allow-insecure-endpoint accepts it", async () => {
    const r = await runCli(cwd, ["plan", "--env", "dev", "--set", "endpoint=http://10.0.0.5:4566"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: config endpoint http:\/\/10\.0\.0\.5:4566: plain HTTP to another machine would send every request, secret values included, in cleartext; use https:\/\/, or pass --allow-insecure-endpoint to accept that\n$/);
    expect(aws.cloud.calls).toEqual([]);
    const allowed = await runCli(cwd, ["plan", "--env", "dev", "--set", "endpoint=http://10.0.0.5:4566", "--allow-insecure-endpoint"]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toMatch(/^note: AWS requests go to http:\/\/10\.0\.0\.5:4566 \(config endpoint\), http:\/\/127\.0\.0\.1:9 \(AWS_ENDPOINT_URL\), not to AWS\n/);
  });

  it("announces a non-AWS endpoint on every run, once, on stderr", async () => {
    for (const args of [["plan", "--env", "dev"], ["status", "--env", "dev"]]) {
      const r = await runCli(cwd, [...args, "--set", "endpoint=https://emulator.internal:4566"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr.match(/note: AWS requests go to/g)).toHaveLength(1);
      expect(r.stderr).toContain("https://emulator.internal:4566 (config endpoint)");
      expect(r.stdout).not.toContain("note: AWS requests go to");
    }
  });
});
