import type { Config } from "../config/schema.js";
import { NAME_LIMITS, physicalName } from "../config/naming.js";
import { type ListenerAction } from "../resources/listener.js";
import { listener, loadBalancer, securityGroupRule, targetGroup } from "../resources/catalog.js";
import { type HealthCheck } from "../resources/target-group.js";
import { UserError } from "../errors.js";
import type { Slot } from "../state/document.js";
import { otherSlot } from "../state/releases.js";
import type { StackBuilder } from "./builder.js";
import { ref } from "./model.js";
import { ids as network, PUBLIC_SUBNETS } from "./network.js";
import { DEFAULT_SSL_POLICY } from "../resources/spec-helpers.js";

export const lbIds = {
  loadBalancer: "compute.load-balancer",
  targetGroup: "compute.target-group.api",
  /** Blue-green: the green slot's target group (the blue slot's is targetGroup). */
  greenTargetGroup: "compute.target-group.api-green",
  httpListener: "compute.listener.http",
  httpsListener: "compute.listener.https",
  /** Blue-green: the test listener, forwarding to the idle slot. */
  testListener: "compute.listener.test",
  /** One ingress rule per allowed range: `compute.security-group-rule.alb-test-in` for the internet, else `…-<cidr>`. */
  testListenerRule: (cidr: string) => (cidr === "0.0.0.0/0" ? "compute.security-group-rule.alb-test-in" : `compute.security-group-rule.alb-test-in-${cidr.replace(/[./]/g, "-")}`),
} as const;

/** The logical id of a blue-green slot's target group. */
export const slotTargetGroup = (slot: Slot) => (slot === "blue" ? lbIds.targetGroup : lbIds.greenTargetGroup);

/** Whether the config releases the API blue-green. */
export const isBlueGreen = (config: Config) => config.services.api.deployment.strategy === "blue-green";

/** The listener that serves the API to users: HTTPS with a certificate, else HTTP. */
export const productionListener = (config: Config) => (config.loadBalancer.certificateArn ? lbIds.httpsListener : lbIds.httpListener);

/** The API's health check; the path comes from the config. Timeout < interval, thresholds 2–10 (ModifyTargetGroup limits). */
export const API_HEALTH_CHECK: Omit<HealthCheck, "path"> = {
  intervalSeconds: 15,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  matcher: "200-399",
};

const REDIRECT_TO_HTTPS: ListenerAction = { type: "redirect", port: "443", protocol: "HTTPS", statusCode: "HTTP_301" };

/**
 * The Application Load Balancer in the public subnets behind the ALB security group, the API's target group (ip targets:
 * Fargate tasks), and its listeners: HTTP forwarding to the API, or, with a certificate, HTTPS forwarding and HTTP
 * redirecting to HTTPS.
 */
export function addLoadBalancer(b: StackBuilder, config: Config): void {
  const lb = config.loadBalancer;
  const albSpec = {
    name: physicalName(config, "alb", NAME_LIMITS.loadBalancer),
    scheme: "internet-facing" as const,
    subnetIds: PUBLIC_SUBNETS.map((s) => ref(network.subnet(s), "subnetId")),
    securityGroupIds: [ref(network.sg("alb"), "groupId")],
    idleTimeoutSeconds: lb.idleTimeoutSeconds,
    deletionProtection: lb.deletionProtection,
    dropInvalidHeaderFields: true,
    tags: b.tags(lbIds.loadBalancer, "alb"),
  };
  // Internet-facing needs the VPC's internet gateway attached (else InvalidSubnet); down then deletes it before the gateway.
  b.add(lbIds.loadBalancer, loadBalancer, albSpec, [network.igw]);

  const apiTargetGroup = (name: string, logicalId: string, slot?: Slot) => ({
    name: physicalName(config, name, NAME_LIMITS.targetGroup),
    protocol: "HTTP" as const,
    port: config.network.appPort,
    vpcId: ref(network.vpc, "vpcId"),
    targetType: "ip" as const,
    healthCheck: { ...API_HEALTH_CHECK, path: lb.healthCheckPath },
    deregistrationDelaySeconds: lb.deregistrationDelaySeconds,
    tags: { ...b.tags(logicalId, "api"), ...(slot ? { Slot: slot } : {}) },
  });
  const blueGreen = isBlueGreen(config);
  const live = b.facts.liveSlots?.api ?? "blue";
  if (!blueGreen && live !== "blue") {
    throw new UserError(
      `services.api.deployment.strategy: the API's green slot serves production in ${config.environment}; set the strategy back to "blue-green", deploy once (production moves to blue), then switch to rolling`,
    );
  }
  b.add(lbIds.targetGroup, targetGroup, apiTargetGroup("api", lbIds.targetGroup, blueGreen ? "blue" : undefined));
  if (blueGreen) b.add(lbIds.greenTargetGroup, targetGroup, apiTargetGroup("api-g", lbIds.greenTargetGroup, "green"));

  const loadBalancerArn = ref(lbIds.loadBalancer, "arn");
  // Production forwards to the live slot; with blue-green, the test listener to the other one.
  const forward = { type: "forward" as const, targetGroupArn: ref(slotTargetGroup(live), "arn") };
  if (lb.certificateArn) {
    b.add(lbIds.httpsListener, listener, {
      loadBalancerArn,
      port: 443,
      protocol: "HTTPS",
      certificateArn: lb.certificateArn,
      sslPolicy: lb.sslPolicy,
      defaultAction: forward,
      tags: b.tags(lbIds.httpsListener),
    });
    // HTTP starts redirecting only once HTTPS answers.
    b.add(lbIds.httpListener, listener, { loadBalancerArn, port: 80, protocol: "HTTP", defaultAction: REDIRECT_TO_HTTPS, tags: b.tags(lbIds.httpListener) }, [lbIds.httpsListener]);
  } else {
    b.add(lbIds.httpListener, listener, { loadBalancerArn, port: 80, protocol: "HTTP", defaultAction: forward, tags: b.tags(lbIds.httpListener) });
  }

  if (blueGreen) {
    addTestListener(b, config, loadBalancerArn, slotTargetGroup(otherSlot(live)));
    if (!lb.certificateArn) {
      b.note(
        `no loadBalancer.certificateArn: the API and its blue-green test listener (port ${config.services.api.deployment.testListenerPort}) serve plain HTTP; ` +
          "set a certificate (and services.api.deployment.smokeTestHost) before PHI goes through them",
      );
    }
  }

  // The listener that serves the API records its URL (protocol + the load balancer's DNS name).
  b.output("api_url", lb.certificateArn ? lbIds.httpsListener : lbIds.httpListener, "url");
  b.output("load_balancer_dns", lbIds.loadBalancer, "dnsName");
  b.output("target_group_api_arn", lbIds.targetGroup, "arn");
}

/**
 * Blue-green: the test listener on its own port, forwarding to the idle slot, with the same protocol and certificate as
 * production, reachable from services.api.deployment.testListenerCidrs (the ALB's security group rules for its port).
 * Deploy smoke-tests the new revision through it before production traffic moves.
 */
function addTestListener(b: StackBuilder, config: Config, loadBalancerArn: ReturnType<typeof ref>, idleTargetGroup: string): void {
  const lb = config.loadBalancer;
  const port = config.services.api.deployment.testListenerPort;
  // The schema requires testListenerCidrs for blue-green: there is no internet default.
  for (const cidr of config.services.api.deployment.testListenerCidrs ?? []) {
    const id = lbIds.testListenerRule(cidr);
    b.add(id, securityGroupRule, {
      groupId: ref(network.sg("alb"), "groupId"),
      direction: "ingress",
      protocol: "tcp",
      fromPort: port,
      toPort: port,
      cidrIpv4: cidr,
      description: "blue-green test listener",
      tags: b.tags(id),
    });
  }
  b.add(lbIds.testListener, listener, {
    loadBalancerArn,
    port,
    protocol: lb.certificateArn ? "HTTPS" : "HTTP",
    ...(lb.certificateArn ? { certificateArn: lb.certificateArn, sslPolicy: lb.sslPolicy } : {}),
    defaultAction: { type: "forward", targetGroupArn: ref(idleTargetGroup, "arn") },
    tags: b.tags(lbIds.testListener),
  });
  b.output("api_test_url", lbIds.testListener, "url");
}
