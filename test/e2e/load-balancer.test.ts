import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { runCli, tempProject } from "../cli-harness.js";

const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const DEV = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
};

let aws: FakeAws;
let cwd: string;

beforeEach(() => {
  aws = installFakeAws();
  cwd = tempProject({
    dev: DEV,
    tls: { ...DEV, loadBalancer: { certificateArn: CERT } },
    prod: { ...DEV, network: { ...DEV.network, cidr: "10.2.0.0/16" }, loadBalancer: { deletionProtection: true } },
  });
});
afterEach(() => aws.restore());

const state = (env: string) => JSON.parse(readFileSync(path.join(cwd, `state/${env}.json`), "utf8"));
const mutating = () => aws.cloud.mutatingCalls().map((c) => `${c.service}:${c.command}`);

describe("load balancer, end to end", () => {
  it("up records the DNS name and state, outputs api_url over HTTP, and down removes it", async () => {
    const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    const lb = [...aws.elbv2.loadBalancers.values()];
    expect(lb).toHaveLength(1);
    expect(lb[0]!.LoadBalancerName).toBe("clinical-platform-dev-alb");
    const record = state("dev").resources["compute.load-balancer"];
    expect(record.attributes).toMatchObject({ dnsName: lb[0]!.DNSName, state: "active", deletionProtection: false });

    const url = await runCli(cwd, ["outputs", "--env", "dev", "api_url"]);
    expect(url).toMatchObject({ code: 0, stdout: `http://${lb[0]!.DNSName}\n` });
    const listeners = [...aws.elbv2.listeners.values()];
    expect(listeners.map((l) => [l.Port, l.DefaultActions[0]!.Type])).toEqual([[80, "forward"]]);

    aws.cloud.calls.length = 0;
    expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
    expect(mutating()).toEqual([]);

    const down = await runCli(cwd, ["down", "--env", "dev", "--yes"]);
    expect(down.code).toBe(0);
    expect(aws.elbv2.loadBalancers.size + aws.elbv2.targetGroups.size + aws.elbv2.listeners.size).toBe(0);
    expect(aws.ec2.networkInterfaces.size).toBe(0);
  });

  it("with a certificate, serves HTTPS, redirects HTTP to it, and api_url is https", async () => {
    const up = await runCli(cwd, ["up", "--env", "tls", "--yes"]);
    expect(up.code).toBe(0);
    const listeners = new Map([...aws.elbv2.listeners.values()].map((l) => [l.Port, l]));
    expect(listeners.get(443)).toMatchObject({ Protocol: "HTTPS", Certificates: [{ CertificateArn: CERT }], SslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" });
    expect(listeners.get(80)!.DefaultActions[0]).toMatchObject({ Type: "redirect", RedirectConfig: { Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301" } });
    const dns = [...aws.elbv2.loadBalancers.values()][0]!.DNSName;
    expect(state("tls").outputs.api_url).toBe(`https://${dns}`);
  });

  it("down refuses a protected load balancer before deleting anything, and deletes it with --disable-deletion-protection", async () => {
    expect((await runCli(cwd, ["up", "--env", "prod", "--yes"])).code).toBe(0);
    expect([...aws.elbv2.loadBalancers.values()][0]!.attributes["deletion_protection.enabled"]).toBe("true");
    aws.cloud.calls.length = 0;

    const refused = await runCli(cwd, ["down", "--env", "prod", "--yes", "--force-prod"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/compute.load-balancer has deletion protection on; nothing was deleted. Run down again with --disable-deletion-protection/);
    expect(mutating()).toEqual([]);
    expect(aws.elbv2.listeners.size).toBe(1);

    const down = await runCli(cwd, ["down", "--env", "prod", "--yes", "--force-prod", "--disable-deletion-protection"]);
    expect(down.stderr).toBe("");
    expect(down.code).toBe(0);
    expect(aws.elbv2.loadBalancers.size).toBe(0);
    const order = aws.cloud.mutatingCalls().map((c) => c.command);
    expect(order.indexOf("ModifyLoadBalancerAttributes")).toBeLessThan(order.indexOf("DeleteLoadBalancer"));
  });
});
