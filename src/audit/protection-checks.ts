import { DescribeClustersCommand, DescribeServicesCommand, ECSClient } from "@aws-sdk/client-ecs";
import { DescribeRepositoriesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { DescribeListenersCommand, DescribeRulesCommand, ElasticLoadBalancingV2Client, type Listener } from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeSecurityGroupRulesCommand, DescribeVpcEndpointsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { isProtected, protectionReason } from "../config/protection.js";
import { TLS12_POLICY } from "../config/schema.js";
import { findLogGroupByName } from "../resources/log-group.js";
import { lbIds } from "../stack/load-balancer.js";
import { combine, type CheckResult, failed, passed, skipped } from "../troubleshoot/checks.js";
import type { AuditCheck, AuditContext } from "./checks.js";

/**
 * The audit checks of a protected environment's transmission security, access paths and encryption (issue 16's
 * controls, see docs/security.md). Each reads what AWS has, not what state says; each names the resource and the fix.
 * A check whose control only a protected environment must meet is skipped elsewhere, saying so. An opt-out the config
 * takes (loadBalancer.allowPlainHttp, logs.allowAwsOwnedKey, ecr.allowMutableTags, services.ecsExec) fails its check
 * as a finding: the environment does not meet the control, by choice.
 */

const FAILURE = 90;

const recorded = (a: AuditContext, logicalId: string) => a.state.resources[logicalId];
const file = (a: AuditContext) => `config/${a.config.environment}.json`;
const upFix = (a: AuditContext) => `run 'platform up --env ${a.config.environment}'`;

/** Skipped outside protected environments, with the reason. */
function protectedOnly(a: AuditContext): CheckResult | undefined {
  if (isProtected(a.config)) return undefined;
  return skipped(`required in protected environments only (${a.config.environment}: ${protectionReason(a.config)})`);
}

async function listenersOf(a: AuditContext): Promise<{ lbArn: string; listeners: Listener[] } | undefined> {
  const lbArn = recorded(a, lbIds.loadBalancer)?.attributes?.arn as string | undefined;
  if (!lbArn) return undefined;
  const out = await a.ctx.aws.get(ElasticLoadBalancingV2Client).send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }));
  return { lbArn, listeners: out.Listeners ?? [] };
}

const redirectsToHttps = (l: Listener) => {
  const actions = l.DefaultActions ?? [];
  return actions.length === 1 && actions[0]!.Type === "redirect" && actions[0]!.RedirectConfig?.Protocol === "HTTPS";
};
const describeListener = (l: Listener) => `${l.ListenerArn} (${l.Protocol} ${l.Port})`;

// ELB.1: every HTTP listener of the ALB redirects to HTTPS. The platform's HTTPS listener serves the API, HTTP on 80
// only redirects; the blue-green test listener is HTTPS with the same certificate.
const httpsOnly: AuditCheck = {
  id: "alb-https-only",
  title: "Load balancer serves HTTPS only; HTTP only redirects (protected environments)",
  controls: ["ELB.1"],
  hipaa: ["164.312(e)(1)"],
  run: async (a) => {
    const off = protectedOnly(a);
    if (off) return off;
    const found = await listenersOf(a);
    if (!found) return skipped("no load balancer recorded in state");
    const plain = found.listeners.filter((l) => l.Protocol === "HTTP" && !redirectsToHttps(l));
    if (!plain.length) return passed(found.listeners.map((l) => `${describeListener(l)}: ${l.Protocol === "HTTP" ? "redirects to HTTPS" : (l.SslPolicy ?? "")}`));
    const optedOut = a.config.loadBalancer.allowPlainHttp && !a.config.loadBalancer.certificateArn;
    return failed(
      plain.map((l) => `${describeListener(l)}: ${l.DefaultActions?.[0]?.Type ?? "no action"}, not a redirect to HTTPS`),
      optedOut ? `finding: loadBalancer.allowPlainHttp gives up encryption in transit; ${plain.length} listener(s) serve plain HTTP` : `${plain.length} listener(s) of ${found.lbArn} serve plain HTTP`,
      optedOut
        ? `set loadBalancer.certificateArn (an ACM certificate in ${a.config.region}) and remove loadBalancer.allowPlainHttp in ${file(a)}, then ${upFix(a)}`
        : `${upFix(a)} to put the listeners back (HTTPS, HTTP redirecting), and delete any listener platform did not make`,
      FAILURE,
    );
  },
};

// ELB.17: the HTTPS listeners use a recommended policy; the platform accepts only TLS 1.2-and-later policies.
const tlsPolicy: AuditCheck = {
  id: "alb-tls-policy",
  title: "HTTPS listeners allow TLS 1.2 and later only",
  controls: ["ELB.17"],
  hipaa: ["164.312(e)(2)(ii)"],
  run: async (a) => {
    const found = await listenersOf(a);
    if (!found) return skipped("no load balancer recorded in state");
    const tls = found.listeners.filter((l) => l.Protocol === "HTTPS");
    if (!tls.length) return skipped(`no HTTPS listener on ${found.lbArn}`);
    const weak = tls.filter((l) => !TLS12_POLICY.test(l.SslPolicy ?? ""));
    if (weak.length) {
      return failed(weak.map((l) => `${describeListener(l)}: ${l.SslPolicy ?? "no policy"}`), `${weak.length} HTTPS listener(s) allow TLS before 1.2`, `set loadBalancer.sslPolicy (default ELBSecurityPolicy-TLS13-1-2-2021-06) in ${file(a)} and ${upFix(a)}`, FAILURE);
    }
    return passed(tls.map((l) => `${describeListener(l)}: ${l.SslPolicy}`));
  },
};

const ANYWHERE = ["0.0.0.0/0", "::/0"];

// The blue-green test listener admits only services.api.deployment.testListenerCidrs (no internet default).
const testListenerRestricted: AuditCheck = {
  id: "alb-test-listener-restricted",
  title: "Blue-green test listener not open to the internet (protected environments)",
  controls: [],
  noControl: "the standard's EC2.18 allows unrestricted ingress on any port an account authorises; the test port is not one a protected environment authorises",
  hipaa: ["164.312(a)(1)", "164.312(e)(1)"],
  run: async (a) => {
    const off = protectedOnly(a);
    if (off) return off;
    const group = recorded(a, "network.security-group.alb")?.physicalId;
    const test = recorded(a, lbIds.testListener);
    if (!group || !test) return skipped("no blue-green test listener recorded in state");
    const port = Number(test.attributes?.port ?? a.config.services.api.deployment.testListenerPort);
    const out = await a.ctx.aws.get(EC2Client).send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [group] }] }));
    const onPort = (out.SecurityGroupRules ?? []).filter((r) => !r.IsEgress && (r.IpProtocol === "-1" || ((r.FromPort ?? 0) <= port && port <= (r.ToPort ?? 65535))));
    const open = onPort.filter((r) => ANYWHERE.includes(r.CidrIpv4 ?? r.CidrIpv6 ?? ""));
    const evidence = onPort.map((r) => `${group} ${r.SecurityGroupRuleId}: port ${port} from ${r.CidrIpv4 ?? r.CidrIpv6 ?? r.ReferencedGroupInfo?.GroupId}`);
    if (!open.length) return passed(evidence.length ? evidence : [`${group}: nothing admitted on port ${port}`]);
    const optedOut = a.config.services.api.deployment.allowPublicTestListener;
    return failed(
      evidence,
      optedOut ? "finding: services.api.deployment.allowPublicTestListener puts the release candidate on the internet" : `the test listener (port ${port}) is open to the internet`,
      optedOut
        ? `list your CI runners' and office ranges in services.api.deployment.testListenerCidrs and remove allowPublicTestListener in ${file(a)}, then ${upFix(a)}`
        : `revoke ${open.map((r) => r.SecurityGroupRuleId).join(", ")} (aws ec2 revoke-security-group-ingress --group-id ${group} --security-group-rule-ids <id>) and ${upFix(a)}`,
      FAILURE,
    );
  },
};

// Grafana and Marquez (no login) are routed from the internet-facing load balancer only with a source-ip condition.
const uisPrivate: AuditCheck = {
  id: "monitoring-uis-private",
  title: "Monitoring UIs not routed from the internet",
  controls: [],
  noControl: "the standard has no control on what a load balancer routes",
  hipaa: ["164.312(a)(1)", "164.312(d)"],
  run: async (a) => {
    const found = await listenersOf(a);
    if (!found) return skipped("no load balancer recorded in state");
    const uiGroups = new Map(
      ["grafana", "marquez"].flatMap((ui) => {
        const arn = recorded(a, `compute.target-group.${ui}`)?.attributes?.arn as string | undefined;
        return arn ? [[arn, ui] as const] : [];
      }),
    );
    const elb = a.ctx.aws.get(ElasticLoadBalancingV2Client);
    const evidence: string[] = [];
    const open: string[] = [];
    for (const l of found.listeners) {
      const rules = (await elb.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }))).Rules ?? [];
      for (const r of rules) {
        const forwards = (r.Actions ?? []).flatMap((x) => [x.TargetGroupArn, ...(x.ForwardConfig?.TargetGroups ?? []).map((t) => t.TargetGroupArn)]).filter((t): t is string => Boolean(t));
        const ui = forwards.map((t) => uiGroups.get(t)).find(Boolean);
        if (!ui) continue;
        const sources = (r.Conditions ?? []).find((c) => c.Field === "source-ip")?.SourceIpConfig?.Values ?? [];
        const line = `${r.RuleArn}: ${ui} from ${sources.length ? sources.join(", ") : "anywhere"}`;
        evidence.push(line);
        if (!sources.length || sources.some((s) => ANYWHERE.includes(s))) open.push(line);
      }
    }
    if (open.length) {
      return failed(open, `${open.length} listener rule(s) route a monitoring UI from the internet (Marquez has no login)`, `${upFix(a)}: it routes the UIs only from monitoring.uiAccessCidrs (or not at all); delete rules platform did not make`, FAILURE);
    }
    return passed(evidence.length ? evidence : ["no listener rule routes Grafana or Marquez"]);
  },
};

// ECS Exec: off in protected environments; wherever it is on, sessions are logged through the cluster's
// execute-command configuration (with encryption when the environment has a logs key).
const ecsExec: AuditCheck = {
  id: "ecs-exec-logged",
  title: "ECS Exec off in protected environments; sessions logged wherever it is on",
  controls: [],
  noControl: "the standard's ECS controls do not cover ECS Exec",
  hipaa: ["164.312(b)", "164.312(a)(1)"],
  run: async (a) => {
    const clusterName = recorded(a, "compute.cluster")?.attributes?.name as string | undefined;
    const services = Object.entries(a.state.resources).filter(([, r]) => r.type === "ecs:service").map(([, r]) => String(r.attributes?.name));
    if (!clusterName || !services.length) return skipped("no ECS cluster or service recorded in state");
    const ecs = a.ctx.aws.get(ECSClient);
    const described = [];
    for (let i = 0; i < services.length; i += 10) {
      described.push(...((await ecs.send(new DescribeServicesCommand({ cluster: clusterName, services: services.slice(i, i + 10) }))).services ?? []));
    }
    const withExec = described.filter((s) => s.status === "ACTIVE" && s.enableExecuteCommand).map((s) => s.serviceName!);
    if (!withExec.length) return passed([`${clusterName}: ECS Exec off on ${described.length} service(s)`]);
    const cluster = (await ecs.send(new DescribeClustersCommand({ clusters: [clusterName], include: ["CONFIGURATIONS"] }))).clusters?.[0];
    const exec = cluster?.configuration?.executeCommandConfiguration;
    const logGroup = exec?.logging === "OVERRIDE" ? exec.logConfiguration?.cloudWatchLogGroupName : undefined;
    const wantsEncryption = Boolean(a.config.logs.kmsKeyArn);
    const evidence = [`${clusterName}: ECS Exec on for ${withExec.join(", ")}; session logging ${logGroup ? `to ${logGroup}${exec?.logConfiguration?.cloudWatchEncryptionEnabled ? " (encrypted)" : ""}` : (exec?.logging ?? "DEFAULT")}`];
    const results: CheckResult[] = [];
    if (isProtected(a.config)) {
      results.push(
        a.config.services.ecsExec === true
          ? failed(evidence, "finding: services.ecsExec opens interactive shells into tasks holding PHI", `remove services.ecsExec from ${file(a)} (off by default in protected environments) and ${upFix(a)}`, FAILURE)
          : failed(evidence, `ECS Exec is on in protected environment ${a.config.environment}`, `${upFix(a)} to turn it off (services.ecsExec is off by default here)`, FAILURE),
      );
    }
    if (!logGroup || (wantsEncryption && !exec?.logConfiguration?.cloudWatchEncryptionEnabled)) {
      results.push(failed(evidence, `ECS Exec sessions on ${clusterName} are not logged${logGroup ? " encrypted" : ""}`, `${upFix(a)} to restore the cluster's execute-command configuration`, FAILURE));
    }
    return results.length ? combine(results) : passed(evidence);
  },
};

// Log groups encrypted with the environment's key (logs.kmsKeyArn).
const logsEncrypted: AuditCheck = {
  id: "log-groups-kms",
  title: "Log groups encrypted with the environment's KMS key (protected environments)",
  controls: [],
  noControl: "the standard has no CloudWatch Logs encryption control",
  hipaa: ["164.312(a)(2)(iv)"],
  run: async (a) => {
    const off = protectedOnly(a);
    if (off) return off;
    const groups = Object.entries(a.state.resources).filter(([, r]) => r.type === "logs:log-group");
    if (!groups.length) return skipped("no log group recorded in state");
    const want = a.config.logs.kmsKeyArn;
    const results = await Promise.all(
      groups.map(async ([id, r]) => {
        const name = String(r.attributes?.name);
        const group = await findLogGroupByName(a.ctx, name);
        if (!group) return failed([`${name}: not found`], `log group ${name} recorded in state does not exist`, `${upFix(a)} to restore ${id}`, FAILURE);
        if (!want) {
          return failed([`${name}: AWS-owned key`], "finding: logs.allowAwsOwnedKey leaves the logs without a key you control", `set logs.kmsKeyArn (a key whose policy allows logs.${a.config.region}.amazonaws.com) and remove logs.allowAwsOwnedKey in ${file(a)}, then ${upFix(a)}`, FAILURE);
        }
        if (group.kmsKeyArn !== want) return failed([`${name}: ${group.kmsKeyArn ?? "AWS-owned key"}`], `log group ${name} is not encrypted with ${want}`, `${upFix(a)} to restore ${id}`, FAILURE);
        return passed([`${name}: ${want}`]);
      }),
    );
    return combine(results);
  },
};

// ECR.2: tag immutability on the stack's repositories.
const ecrImmutable: AuditCheck = {
  id: "ecr-tag-immutability",
  title: "Image tags immutable (protected environments)",
  controls: ["ECR.2"],
  hipaa: ["164.312(c)(1)"],
  run: async (a) => {
    const off = protectedOnly(a);
    if (off) return off;
    const names = Object.values(a.state.resources).filter((r) => r.type === "ecr:repository").map((r) => String(r.attributes?.name));
    if (!names.length) return skipped("no ECR repository recorded in state");
    const out = await a.ctx.aws.get(ECRClient).send(new DescribeRepositoriesCommand({ repositoryNames: names }));
    const mutable = (out.repositories ?? []).filter((r) => !String(r.imageTagMutability).startsWith("IMMUTABLE"));
    const evidence = (out.repositories ?? []).map((r) => `${r.repositoryName}: ${r.imageTagMutability}`);
    if (!mutable.length) return passed(evidence);
    const optedOut = a.config.ecr.allowMutableTags;
    return failed(
      mutable.map((r) => `${r.repositoryName}: ${r.imageTagMutability}`),
      optedOut ? "finding: ecr.allowMutableTags lets a tag be moved to another image" : `${mutable.length} repository(ies) let a pushed tag be overwritten`,
      optedOut ? `remove ecr.imageTagMutability and ecr.allowMutableTags from ${file(a)}, then ${upFix(a)}` : `${upFix(a)} to make them IMMUTABLE`,
      FAILURE,
    );
  },
};

// Only the workloads that need PostgreSQL reach it: the API (and worker), dbt and Marquez, each by its own group.
const dbIngress: AuditCheck = {
  id: "db-ingress-least-privilege",
  title: "Database admits only the API, dbt and Marquez groups",
  controls: [],
  noControl: "the standard's EC2.18/EC2.19 check internet ingress only, not which groups reach a database",
  hipaa: ["164.312(a)(1)", "164.308(a)(4)"],
  run: async (a) => {
    const db = recorded(a, "network.security-group.db")?.physicalId;
    if (!db) return skipped("no database security group recorded in state");
    const allowed = new Map((["api", "dbt", "lineage"] as const).flatMap((role) => {
      const id = recorded(a, `network.security-group.${role}`)?.physicalId;
      return id ? [[id, role] as const] : [];
    }));
    const out = await a.ctx.aws.get(EC2Client).send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [db] }] }));
    const ingress = (out.SecurityGroupRules ?? []).filter((r) => !r.IsEgress);
    const source = (r: (typeof ingress)[number]) => r.ReferencedGroupInfo?.GroupId ?? r.CidrIpv4 ?? r.CidrIpv6 ?? r.PrefixListId ?? "?";
    const describe = (r: (typeof ingress)[number]) => `${db} ${r.SecurityGroupRuleId}: ${r.IpProtocol === "-1" ? "all traffic" : `${r.IpProtocol} ${r.FromPort}-${r.ToPort}`} from ${source(r)}${allowed.has(source(r)) ? ` (${allowed.get(source(r))})` : ""}`;
    const extra = ingress.filter((r) => !allowed.has(r.ReferencedGroupInfo?.GroupId ?? ""));
    if (extra.length) {
      return failed(extra.map(describe), `the database admits ${extra.length} source(s) beyond the API, dbt and Marquez groups`, `revoke ${extra.map((r) => r.SecurityGroupRuleId).join(", ")} (aws ec2 revoke-security-group-ingress --group-id ${db} --security-group-rule-ids <id>); platform never adds them`, FAILURE);
    }
    return passed(ingress.map(describe));
  },
};

// The tasks' AWS traffic stays in the VPC: the S3 gateway endpoint and the interface endpoints are there and available.
const vpcEndpoints: AuditCheck = {
  id: "vpc-endpoints",
  title: "Tasks reach AWS through VPC endpoints (protected environments)",
  controls: [],
  noControl: "the standard's EC2.10 asks for an EC2 service endpoint only, not for the services the tasks call",
  hipaa: ["164.312(e)(1)"],
  run: async (a) => {
    const off = protectedOnly(a);
    if (off) return off;
    const wanted = Object.entries(a.state.resources).filter(([, r]) => r.type === "ec2:vpc-endpoint");
    if (!wanted.length) {
      if (a.config.network.vpcEndpoints === false) {
        return failed([`${a.config.environment}: no VPC endpoints`], "finding: network.vpcEndpoints false sends the tasks' AWS traffic over the internet", `remove network.vpcEndpoints: false from ${file(a)} and ${upFix(a)}`, FAILURE);
      }
      return failed([`${a.config.environment}: no VPC endpoint recorded in state`], "the tasks reach AWS over the internet", `${upFix(a)} to create the VPC endpoints`, FAILURE);
    }
    const out = await a.ctx.aws.get(EC2Client).send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: "vpc-id", Values: [String(recorded(a, "network.vpc")?.physicalId)] }] }));
    const byId = new Map((out.VpcEndpoints ?? []).map((e) => [e.VpcEndpointId!, e]));
    const results = wanted.map(([id, r]) => {
      const e = byId.get(r.physicalId);
      const state = String(e?.State ?? "").toLowerCase();
      if (state !== "available") return failed([`${r.physicalId} (${r.attributes?.serviceName}): ${state || "not found"}`], `VPC endpoint ${r.attributes?.serviceName} is ${state || "gone"}`, `${upFix(a)} to restore ${id}`, FAILURE);
      return passed([`${e!.VpcEndpointId} ${e!.ServiceName}: available`]);
    });
    return combine(results);
  },
};

/** The checks this file adds to `platform audit` (registered in auditChecks). */
export function protectionChecks(): AuditCheck[] {
  return [httpsOnly, tlsPolicy, testListenerRestricted, uisPrivate, ecsExec, logsEncrypted, ecrImmutable, dbIngress, vpcEndpoints];
}
