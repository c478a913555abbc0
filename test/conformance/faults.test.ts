/**
 * Fault runs against moto: throttling and 5xx answers injected by the proxy (the SDK's retry meets them as it would
 * AWS's), and S3 state with its lock object under two concurrent `up`s.
 */
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { show, useMoto } from "./env.js";
import { directClientConfig, liveByLogicalId, liveTaggedArns, plainConfig, project } from "./stack.js";

const c = useMoto();
const DOWN = ["down", "--env", "dev", "--yes", "--delete-data", "--skip-final-snapshot", "--force-delete-secrets"];

/** The throttling error each protocol family answers with (AWS's own codes), or a 503. */
function throttle(service: string): { status: number; code: string; message: string; json: boolean } {
  if (service === "ec2") return { status: 503, code: "RequestLimitExceeded", message: "Request limit exceeded.", json: false };
  if (service === "s3") return { status: 503, code: "SlowDown", message: "Please reduce your request rate.", json: false };
  return { status: 400, code: "ThrottlingException", message: "Rate exceeded", json: true };
}

describe("faults against moto", { timeout: 900_000 }, () => {
  it("up succeeds and converges when every tenth call is throttled or answered 500/503", async () => {
    const cwd = project({ dev: plainConfig("dev") });
    let n = 0;
    const injected: string[] = [];
    c.proxy.intercept = ({ service, action }) => {
      n++;
      // Every tenth call: the SDK's standard retry mode spends its per-client retry quota (500 tokens, 5 a retry)
      // faster than successes refill it at higher rates, as it would against AWS.
      if (n % 10 !== 0) return undefined;
      injected.push(`${service}:${action}`);
      if (n % 20 === 0) return throttle(service);
      return { status: n % 30 === 0 ? 500 : 503, code: n % 30 === 0 ? "InternalError" : "ServiceUnavailable", message: "injected by the conformance proxy", json: true };
    };
    try {
      const up = await c.cli(cwd, ["up", "--env", "dev", "--yes"], { env: { AWS_MAX_ATTEMPTS: "5" } });
      expect(up.code, show(up)).toBe(0);
      expect(injected.length).toBeGreaterThan(15);
    } finally {
      c.proxy.intercept = undefined;
    }
    const plan = await c.cli(cwd, ["plan", "--env", "dev", "--detailed-exitcode"]);
    expect(plan.code, show(plan)).toBe(0);
    const duplicates = [...(await liveByLogicalId(c.tls, c.moto.port, "dev"))].filter(([, arns]) => arns.length > 1);
    expect(duplicates).toEqual([]);
    const down = await c.cli(cwd, DOWN);
    expect(down.code, show(down)).toBe(0);
    expect(await liveTaggedArns(c.tls, c.moto.port, "dev")).toEqual([]);
  });

  it("S3 state: two concurrent ups, one holds the lock and the other is refused naming it; state in S3 matches", async () => {
    const bucket = "clinical-platform-conformance-state";
    const cwd = project({ dev: plainConfig("dev", { state: { backend: "s3", bucket } }) });
    const boot = await c.cli(cwd, ["state", "bootstrap", "--bucket", bucket]);
    expect(boot.code, show(boot)).toBe(0);
    const [a, b] = await Promise.all([c.cli(cwd, ["up", "--env", "dev", "--yes"]), c.cli(cwd, ["up", "--env", "dev", "--yes"])]);
    const codes = [a.code, b.code].sort();
    expect(codes, `${show(a)}\n${show(b)}`).toEqual([0, 1]);
    const loser = a.code === 1 ? a : b;
    expect(loser.stderr).toMatch(new RegExp(`the state at s3://${bucket}/\\S+ is locked by .+ running "up --env dev`));
    const plan = await c.cli(cwd, ["plan", "--env", "dev", "--detailed-exitcode"]);
    expect(plan.code, show(plan)).toBe(0);
    const s3 = new S3Client(directClientConfig(c.tls, c.moto.port));
    const keys = (await s3.send(new (await import("@aws-sdk/client-s3")).ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key) ?? [];
    expect(keys.some((k) => k!.endsWith(".lock")), "the lock is released").toBe(false);
    const stateKey = keys.find((k) => k!.endsWith(".json"))!;
    const doc = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: stateKey }))).Body!.transformToString()) as { resources: Record<string, unknown> };
    const live = await liveByLogicalId(c.tls, c.moto.port, "dev");
    expect([...live.keys()].filter((id) => !(id in doc.resources))).toEqual([]);
    const down = await c.cli(cwd, DOWN);
    expect(down.code, show(down)).toBe(0);
  });
});
