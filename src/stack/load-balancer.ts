import type { Config } from "../config/schema.js";
import { NAME_LIMITS, physicalName } from "../config/naming.js";
import { DEFAULT_SSL_POLICY, listener, type ListenerAction } from "../resources/listener.js";
import { loadBalancer } from "../resources/load-balancer.js";
import { targetGroup, type HealthCheck } from "../resources/target-group.js";
import type { StackBuilder } from "./builder.js";
import { ref } from "./model.js";
import { ids as network, PUBLIC_SUBNETS } from "./network.js";

export const lbIds = {
  loadBalancer: "compute.load-balancer",
  targetGroup: "compute.target-group.api",
  httpListener: "compute.listener.http",
  httpsListener: "compute.listener.https",
} as const;

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

  b.add(lbIds.targetGroup, targetGroup, {
    name: physicalName(config, "api", NAME_LIMITS.targetGroup),
    protocol: "HTTP",
    port: config.network.appPort,
    vpcId: ref(network.vpc, "vpcId"),
    targetType: "ip",
    healthCheck: { ...API_HEALTH_CHECK, path: lb.healthCheckPath },
    deregistrationDelaySeconds: lb.deregistrationDelaySeconds,
    tags: b.tags(lbIds.targetGroup, "api"),
  });

  const loadBalancerArn = ref(lbIds.loadBalancer, "arn");
  const forward = { type: "forward" as const, targetGroupArn: ref(lbIds.targetGroup, "arn") };
  if (lb.certificateArn) {
    b.add(lbIds.httpsListener, listener, {
      loadBalancerArn,
      port: 443,
      protocol: "HTTPS",
      certificateArn: lb.certificateArn,
      sslPolicy: DEFAULT_SSL_POLICY,
      defaultAction: forward,
      tags: b.tags(lbIds.httpsListener),
    });
    // HTTP starts redirecting only once HTTPS answers.
    b.add(lbIds.httpListener, listener, { loadBalancerArn, port: 80, protocol: "HTTP", defaultAction: REDIRECT_TO_HTTPS, tags: b.tags(lbIds.httpListener) }, [lbIds.httpsListener]);
  } else {
    b.add(lbIds.httpListener, listener, { loadBalancerArn, port: 80, protocol: "HTTP", defaultAction: forward, tags: b.tags(lbIds.httpListener) });
  }

  // The listener that serves the API records its URL (protocol + the load balancer's DNS name).
  b.output("api_url", lb.certificateArn ? lbIds.httpsListener : lbIds.httpListener, "url");
  b.output("load_balancer_dns", lbIds.loadBalancer, "dnsName");
  b.output("target_group_api_arn", lbIds.targetGroup, "arn");
}
