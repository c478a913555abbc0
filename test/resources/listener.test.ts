import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CreateListenerCommand,
  DeleteListenerCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  ModifyListenerCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { listener, listenerUrl, type ListenerAttrs, type ListenerSpec } from "../../src/resources/listener.js";
import { AwsFailure, UserError } from "../../src/errors.js";
import { testContext, testTags } from "../helpers.js";

const elb = mockClient(ElasticLoadBalancingV2Client);
const LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/clinical-platform-dev-alb/50dc6c495c0c9188";
const TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/clinical-platform-dev-api/73e2d6bc24d8a067";
const HTTP_ARN = `${LB.replace(":loadbalancer/", ":listener/")}/0467ef3c8400ae65`;
const HTTPS_ARN = `${LB.replace(":loadbalancer/", ":listener/")}/f2f7dc8efc522ab2`;
const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const DNS = "clinical-platform-dev-alb-1234567890.us-east-1.elb.amazonaws.com";
const tagList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
const elbError = (name: string) => new ElasticLoadBalancingV2ServiceException({ name, message: name, $fault: "client", $metadata: {} });

const httpTags = testTags("compute.listener.http");
const httpsTags = testTags("compute.listener.https");
const forward = { type: "forward" as const, targetGroupArn: TG };
const redirect = { type: "redirect" as const, port: "443" as const, protocol: "HTTPS" as const, statusCode: "HTTP_301" as const };
const httpSpec: ListenerSpec = { loadBalancerArn: LB, port: 80, protocol: "HTTP", defaultAction: forward, tags: httpTags };
const httpsSpec: ListenerSpec = { loadBalancerArn: LB, port: 443, protocol: "HTTPS", certificateArn: CERT, defaultAction: forward, tags: httpsTags };

/** DescribeListeners answers a forward with TargetGroupArn and ForwardConfig both, and fills in a redirect's defaults. */
const awsForward = { Type: "forward", Order: 1, TargetGroupArn: TG, ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG, Weight: 1 }], TargetGroupStickinessConfig: { Enabled: false } } };
const awsRedirect = { Type: "redirect", Order: 1, RedirectConfig: { Protocol: "HTTPS", Port: "443", Host: "#{host}", Path: "/#{path}", Query: "#{query}", StatusCode: "HTTP_301" } };
const awsHttp = (actions: unknown[] = [awsForward]) => ({ ListenerArn: HTTP_ARN, LoadBalancerArn: LB, Port: 80, Protocol: "HTTP", DefaultActions: actions }) as never;
const awsHttps = (over: Record<string, unknown> = {}) =>
  ({ ListenerArn: HTTPS_ARN, LoadBalancerArn: LB, Port: 443, Protocol: "HTTPS", Certificates: [{ CertificateArn: CERT }], SslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", DefaultActions: [awsForward], ...over }) as never;

const httpAttrs = (over: Partial<ListenerAttrs> = {}): ListenerAttrs => ({ ...httpSpec, arn: HTTP_ARN, url: `http://${DNS}`, ...over });

function stubCommon(tagsByArn: Record<string, Record<string, string>> = { [HTTP_ARN]: httpTags, [HTTPS_ARN]: httpsTags }) {
  for (const [arn, t] of Object.entries(tagsByArn)) elb.on(DescribeTagsCommand, { ResourceArns: [arn] }).resolves({ TagDescriptions: [{ ResourceArn: arn, Tags: tagList(t) }] });
  elb.on(DescribeLoadBalancersCommand, { LoadBalancerArns: [LB] }).resolves({ LoadBalancers: [{ LoadBalancerArn: LB, DNSName: DNS }] });
}

beforeEach(() => elb.reset());

describe("elbv2:listener find", () => {
  it("reads the listener by its recorded ARN, normalising AWS's forward shape, and records its URL", async () => {
    elb.on(DescribeListenersCommand, { ListenerArns: [HTTP_ARN] }).resolves({ Listeners: [awsHttp()] });
    stubCommon();
    expect(await listener.find(testContext(), { logicalId: "compute.listener.http", recorded: httpAttrs() })).toEqual(httpAttrs());
  });

  it("falls back to the recorded load balancer's listener on the port when its tags prove it ours", async () => {
    elb.on(DescribeListenersCommand, { ListenerArns: [HTTP_ARN] }).rejects(elbError("ListenerNotFoundException"));
    const other = `${HTTP_ARN}0`;
    elb.on(DescribeListenersCommand, { LoadBalancerArn: LB }).resolves({ Listeners: [awsHttps(), { ...(awsHttp() as object), ListenerArn: other }] as never });
    stubCommon({ [other]: httpTags, [HTTPS_ARN]: httpsTags });
    const found = await listener.find(testContext(), { logicalId: "compute.listener.http", recorded: httpAttrs() });
    expect(found?.arn).toBe(other);
  });

  it("does not claim a listener on the port that is not tagged as ours, nor one whose load balancer is gone", async () => {
    elb.on(DescribeListenersCommand, { ListenerArns: [HTTP_ARN] }).rejects(elbError("ListenerNotFoundException"));
    elb.on(DescribeListenersCommand, { LoadBalancerArn: LB }).resolvesOnce({ Listeners: [awsHttp()] }).rejects(elbError("LoadBalancerNotFoundException"));
    stubCommon({ [HTTP_ARN]: {} });
    const ctx = testContext();
    expect(await listener.find(ctx, { logicalId: "compute.listener.http", recorded: { ...httpAttrs(), arn: "" } })).toBeUndefined();
    expect(await listener.find(ctx, { logicalId: "compute.listener.http", recorded: httpAttrs() })).toBeUndefined();
  });

  it("reads a redirect as the spec writes it, and a hand-made rule as something else", async () => {
    elb.on(DescribeListenersCommand, { ListenerArns: [HTTP_ARN] })
      .resolvesOnce({ Listeners: [awsHttp([awsRedirect])] })
      .resolves({ Listeners: [awsHttp([{ ...awsRedirect, RedirectConfig: { ...awsRedirect.RedirectConfig, Host: "example.org" } }])] });
    stubCommon();
    const first = await listener.find(testContext(), { logicalId: "compute.listener.http", recorded: httpAttrs() });
    expect(first?.defaultAction).toEqual(redirect);
    expect(listener.diff({ ...httpSpec, defaultAction: redirect }, first!)).toEqual([]);
    const second = await listener.find(testContext(), { logicalId: "compute.listener.http", recorded: httpAttrs() });
    expect(listener.diff({ ...httpSpec, defaultAction: redirect }, second!)).toEqual([
      { field: "defaultAction", from: { ...redirect, host: "example.org" }, to: redirect, action: "update" },
    ]);
  });
});

describe("elbv2:listener create", () => {
  it("creates an HTTP listener forwarding to the target group, with tags", async () => {
    elb.on(CreateListenerCommand).resolves({ Listeners: [awsHttp()] });
    elb.on(DescribeListenersCommand, { ListenerArns: [HTTP_ARN] }).resolves({ Listeners: [awsHttp()] });
    stubCommon();
    const created = await listener.create(testContext(), httpSpec, { logicalId: "compute.listener.http" });
    expect(created).toEqual(httpAttrs());
    expect(elb).toHaveReceivedCommandWith(CreateListenerCommand, {
      LoadBalancerArn: LB,
      Port: 80,
      Protocol: "HTTP",
      DefaultActions: [{ Type: "forward", TargetGroupArn: TG }],
      Tags: tagList(httpTags),
    });
    expect(elb.commandCalls(CreateListenerCommand)[0]!.args[0].input).not.toHaveProperty("Certificates");
    expect(elb.commandCalls(CreateListenerCommand)[0]!.args[0].input).not.toHaveProperty("SslPolicy");
  });

  it("creates an HTTPS listener with the certificate and the TLS 1.3 policy, and an HTTP listener that redirects to it", async () => {
    elb.on(CreateListenerCommand, { Port: 443 }).resolves({ Listeners: [awsHttps()] });
    elb.on(CreateListenerCommand, { Port: 80 }).resolves({ Listeners: [awsHttp([awsRedirect])] });
    elb.on(DescribeListenersCommand, { ListenerArns: [HTTPS_ARN] }).resolves({ Listeners: [awsHttps()] });
    elb.on(DescribeListenersCommand, { ListenerArns: [HTTP_ARN] }).resolves({ Listeners: [awsHttp([awsRedirect])] });
    stubCommon();

    const https = await listener.create(testContext(), httpsSpec, { logicalId: "compute.listener.https" });
    const http = await listener.create(testContext(), { ...httpSpec, defaultAction: redirect }, { logicalId: "compute.listener.http" });

    expect(elb).toHaveReceivedCommandWith(CreateListenerCommand, {
      LoadBalancerArn: LB,
      Port: 443,
      Protocol: "HTTPS",
      Certificates: [{ CertificateArn: CERT }],
      SslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      DefaultActions: [{ Type: "forward", TargetGroupArn: TG }],
      Tags: tagList(httpsTags),
    });
    expect(elb).toHaveReceivedCommandWith(CreateListenerCommand, {
      Port: 80,
      Protocol: "HTTP",
      DefaultActions: [{ Type: "redirect", RedirectConfig: { Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301" } }],
    });
    expect(https).toMatchObject({ url: `https://${DNS}`, certificateArn: CERT, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" });
    expect(http.defaultAction).toEqual(redirect);
    expect(listener.diff(httpsSpec, https)).toEqual([]);
  });

  it("refuses HTTPS without a certificate before calling AWS", async () => {
    const err = await listener.create(testContext(), { ...httpsSpec, certificateArn: undefined }, { logicalId: "compute.listener.https" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/loadBalancer.certificateArn/);
    expect(elb).not.toHaveReceivedAnyCommand();
  });

});

describe("elbv2:listener update and destroy", () => {
  it("switches an HTTP listener from forwarding to redirecting when a certificate is configured", async () => {
    elb.on(ModifyListenerCommand).resolves({});
    elb.on(DescribeListenersCommand).resolves({ Listeners: [awsHttp([awsRedirect])] });
    stubCommon();
    const want = { ...httpSpec, defaultAction: redirect };
    const changes = listener.diff(want, httpAttrs());
    expect(changes).toEqual([{ field: "defaultAction", from: forward, to: redirect, action: "update" }]);
    await listener.update!(testContext(), want, httpAttrs(), changes);
    expect(elb).toHaveReceivedCommandTimes(ModifyListenerCommand, 1);
    const input = elb.commandCalls(ModifyListenerCommand)[0]!.args[0].input;
    expect(input).toEqual({ ListenerArn: HTTP_ARN, DefaultActions: [{ Type: "redirect", RedirectConfig: { Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301" } }] });
  });

  it("sends the certificate and policy together when the certificate changes; the load balancer forces replacement", async () => {
    elb.on(ModifyListenerCommand).resolves({});
    elb.on(DescribeListenersCommand).resolves({ Listeners: [awsHttps()] });
    stubCommon();
    const newCert = CERT.replace(/[0-9a-f]{12}$/, "abcdefabcdef");
    const actual: ListenerAttrs = { ...httpsSpec, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", arn: HTTPS_ARN, url: `https://${DNS}` };
    const want = { ...httpsSpec, certificateArn: newCert };
    await listener.update!(testContext(), want, actual, listener.diff(want, actual));
    expect(elb).toHaveReceivedCommandWith(ModifyListenerCommand, { ListenerArn: HTTPS_ARN, Certificates: [{ CertificateArn: newCert }], SslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" });
    expect(listener.diff({ ...httpsSpec, loadBalancerArn: `${LB}0` }, actual)).toEqual([{ field: "loadBalancerArn", from: LB, to: `${LB}0`, action: "replace" }]);
  });

  it("deletes the listener; one already gone with its load balancer is success", async () => {
    elb.on(DeleteListenerCommand).resolvesOnce({}).rejects(elbError("ListenerNotFoundException"));
    await listener.destroy(testContext(), httpAttrs());
    await expect(listener.destroy(testContext(), httpAttrs())).resolves.toBeUndefined();
    expect(elb).toHaveReceivedCommandWith(DeleteListenerCommand, { ListenerArn: HTTP_ARN });
  });

  it("builds URLs without the default port", () => {
    expect(listenerUrl("HTTPS", 443, DNS)).toBe(`https://${DNS}`);
    expect(listenerUrl("HTTP", 8080, DNS)).toBe(`http://${DNS}:8080`);
  });
});
