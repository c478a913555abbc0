import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { UserError } from "../../src/errors.js";
import { elbv2NameProblem } from "../../src/resources/elbv2-shared.js";
import { StackBuilder, type StackFacts } from "../../src/stack/builder.js";
import { buildStack } from "../../src/stack/index.js";
import { addLoadBalancer, lbIds } from "../../src/stack/load-balancer.js";
import { dependenciesOf, Ref, type Stack, type StackNode } from "../../src/stack/model.js";
import { addNetwork } from "../../src/stack/network.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const facts: StackFacts = { accountId: "123456789012", region: "us-east-1", availabilityZones: ["us-east-1a", "us-east-1b"] };
const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";

/** A config as `platform` loads it, from a file in a scratch directory. */
function configFrom(env: string, body: Record<string, unknown>): Config {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-lb-"));
  mkdirSync(path.join(dir, "config"));
  writeFileSync(path.join(dir, "config", `${env}.json`), JSON.stringify(body));
  return loadConfig({ env, cwd: dir }).config;
}

/** The network and load balancer layers only, so these tests do not depend on the other layers. */
function lbStack(config: Config): Stack {
  const b = new StackBuilder(config, facts);
  addNetwork(b, config, facts.availabilityZones);
  addLoadBalancer(b, config);
  return b.build();
}

const node = (stack: Stack, id: string) => stack.nodes.find((n) => n.logicalId === id) as StackNode<any> | undefined;
const refOf = (v: unknown) => (v instanceof Ref ? `${v.logicalId}.${v.attribute}` : v);

describe("load balancer names", () => {
  const shipped = ["dev", "staging", "prod"].map((env) => loadConfig({ env, cwd: repoRoot }).config);
  const longest = [
    configFrom("abcdefghij", { project: "abcdefghijklmn" }), // 14 + 1 + 10 = 25 characters of prefix
    configFrom("abcd", { project: "abcdefghijklmnopqrst" }), // 20 + 1 + 4 = 25
  ];

  it.each([...shipped, ...longest].map((c) => [`${c.project}-${c.environment}`, c] as const))("%s: load balancer and target group names are valid and at most 32 characters", (_name, config) => {
    const stack = lbStack(config);
    const names = [node(stack, lbIds.loadBalancer)!.spec.name, node(stack, lbIds.targetGroup)!.spec.name] as string[];
    for (const name of names) expect(name.length).toBeLessThanOrEqual(32);
    expect(elbv2NameProblem(names[0]!, "load balancer")).toBeUndefined();
    expect(elbv2NameProblem(names[1]!, "target group")).toBeUndefined();
    expect(names).toEqual([`${config.project}-${config.environment}-alb`, `${config.project}-${config.environment}-api`]);
  });

  it("a longer project and environment are refused when the config loads", () => {
    expect(() => configFrom("abcdefghij", { project: "abcdefghijklmno" })).toThrow(UserError);
  });

  it('a project that would make the load balancer name start with "internal-" is refused', () => {
    expect(() => configFrom("dev", { project: "internal" })).toThrow(/project: load balancer names may not start with "internal-"/);
    expect(() => configFrom("dev", { project: "internal-tools" })).toThrow(UserError);
    expect(configFrom("dev", { project: "internals" }).project).toBe("internals");
  });
});

describe("addLoadBalancer", () => {
  const dev = loadConfig({ env: "dev", cwd: repoRoot }).config;

  it("puts the load balancer in both public subnets behind the ALB security group, after the internet gateway", () => {
    const lb = node(lbStack(dev), lbIds.loadBalancer)!;
    expect(lb.type.type).toBe("elbv2:load-balancer");
    expect(lb.spec.subnetIds.map(refOf)).toEqual(["network.subnet.public-a.subnetId", "network.subnet.public-b.subnetId"]);
    expect(lb.spec.securityGroupIds.map(refOf)).toEqual(["network.security-group.alb.groupId"]);
    expect(lb.spec).toMatchObject({ scheme: "internet-facing", idleTimeoutSeconds: 60, deletionProtection: false, dropInvalidHeaderFields: true });
    expect(lb.spec.tags).toMatchObject({ "platform:logical-id": lbIds.loadBalancer, Project: "clinical-platform", Environment: "dev", CostCenter: "data-platform" });
    expect(dependenciesOf(lb)).toEqual(expect.arrayContaining(["network.subnet.public-a", "network.subnet.public-b", "network.security-group.alb", "network.internet-gateway"]));
  });

  it("gives the API target group ip targets on the app port in the VPC, with the configured health check and a short delay in dev", () => {
    const tg = node(lbStack(dev), lbIds.targetGroup)!;
    expect(tg.type.type).toBe("elbv2:target-group");
    expect(refOf(tg.spec.vpcId)).toBe("network.vpc.vpcId");
    expect(tg.spec).toMatchObject({ protocol: "HTTP", port: 8000, targetType: "ip", deregistrationDelaySeconds: 30 });
    expect(tg.spec.healthCheck).toEqual({ path: "/health", intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3, matcher: "200-399" });
  });

  it("without a certificate: one HTTP listener forwarding to the API, and api_url is http", () => {
    const stack = lbStack(dev);
    const http = node(stack, lbIds.httpListener)!;
    expect(node(stack, lbIds.httpsListener)).toBeUndefined();
    expect(refOf(http.spec.loadBalancerArn)).toBe("compute.load-balancer.arn");
    expect(http.spec).toMatchObject({ port: 80, protocol: "HTTP" });
    expect(http.spec.defaultAction.type).toBe("forward");
    expect(refOf(http.spec.defaultAction.targetGroupArn)).toBe("compute.target-group.api.arn");
    expect(refOf(stack.outputs.api_url)).toBe("compute.listener.http.url");
    expect(refOf(stack.outputs.load_balancer_dns)).toBe("compute.load-balancer.dnsName");
    expect(refOf(stack.outputs.target_group_api_arn)).toBe("compute.target-group.api.arn");
  });

  it("with a certificate: HTTPS forwards with the certificate, HTTP redirects to HTTPS once HTTPS exists, and api_url is https", () => {
    const config = configFrom("dev", { loadBalancer: { certificateArn: CERT, healthCheckPath: "/api/health", idleTimeoutSeconds: 120 } });
    const stack = lbStack(config);
    const https = node(stack, lbIds.httpsListener)!;
    const http = node(stack, lbIds.httpListener)!;
    expect(https.spec).toMatchObject({ port: 443, protocol: "HTTPS", certificateArn: CERT, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" });
    expect(refOf(https.spec.defaultAction.targetGroupArn)).toBe("compute.target-group.api.arn");
    expect(http.spec.defaultAction).toEqual({ type: "redirect", port: "443", protocol: "HTTPS", statusCode: "HTTP_301" });
    expect(dependenciesOf(http)).toContain(lbIds.httpsListener);
    expect(refOf(stack.outputs.api_url)).toBe("compute.listener.https.url");
    expect(node(stack, lbIds.targetGroup)!.spec.healthCheck.path).toBe("/api/health");
    expect(node(stack, lbIds.loadBalancer)!.spec.idleTimeoutSeconds).toBe(120);
  });

  it("prod protects its load balancer from deletion and drains targets for longer", () => {
    const prod = loadConfig({ env: "prod", cwd: repoRoot }).config;
    const stack = lbStack(prod);
    expect(node(stack, lbIds.loadBalancer)!.spec.deletionProtection).toBe(true);
    expect(node(stack, lbIds.targetGroup)!.spec.deregistrationDelaySeconds).toBe(120);
  });

  it("is part of the full stack, and every reference it makes names a resource there", () => {
    const stack = buildStack(dev, facts);
    const ids = new Set(stack.nodes.map((n) => n.logicalId));
    for (const id of [lbIds.loadBalancer, lbIds.targetGroup, lbIds.httpListener]) {
      expect(ids.has(id)).toBe(true);
      for (const dep of dependenciesOf(node(stack, id)!)) expect(ids.has(dep)).toBe(true);
    }
    expect(Object.keys(stack.outputs)).toEqual(expect.arrayContaining(["api_url", "load_balancer_dns", "target_group_api_arn"]));
  });
});

describe("config: loadBalancer", () => {
  it("defaults", () => {
    expect(configFrom("qa", {}).loadBalancer).toEqual({
      healthCheckPath: "/health",
      deregistrationDelaySeconds: 30,
      idleTimeoutSeconds: 60,
      deletionProtection: false,
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      allowPlainHttp: false,
    });
  });

  it.each([
    [{ certificateArn: "arn:aws:iam::123456789012:server-certificate/x" }, /loadBalancer.certificateArn: an ACM certificate ARN/],
    [{ certificateArn: "12345678-1234-1234-1234-123456789012" }, /loadBalancer.certificateArn: an ACM certificate ARN/],
    [{ certificateArn: CERT.replace("us-east-1", "eu-west-1") }, /loadBalancer.certificateArn: the certificate is in eu-west-1; a load balancer in us-east-1 needs a certificate from ACM in us-east-1/],
    [{ healthCheckPath: "health" }, /loadBalancer.healthCheckPath: a path starting with "\/"/],
    [{ deregistrationDelaySeconds: 3601 }, /loadBalancer.deregistrationDelaySeconds/],
    [{ idleTimeoutSeconds: 0 }, /loadBalancer.idleTimeoutSeconds/],
    [{ listeners: [] }, /loadBalancer: unknown key "listeners"/],
  ])("rejects %j", (loadBalancer, message) => {
    expect(() => configFrom("qa", { loadBalancer })).toThrow(message);
  });
});
