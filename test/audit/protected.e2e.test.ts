import { readFileSync } from "node:fs";
import path from "node:path";
import { AuthorizeSecurityGroupIngressCommand, DeleteVpcEndpointsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CreateListenerCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { ECSClient, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { ECRClient, PutImageTagMutabilityCommand } from "@aws-sdk/client-ecr";
import { CloudWatchLogsClient, DisassociateKmsKeyCommand } from "@aws-sdk/client-cloudwatch-logs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

/**
 * A protected environment (named prod-eu: protection follows dataClassification, not the name) brought up against the
 * fake AWS with a certificate and a logs key passes every audit check that applies; each weakness planted afterwards
 * (by the AWS API, as someone with console access would) fails its check, naming the resource and the fix.
 */
const ACCOUNT = "123456789012";
const CERT = `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/12345678-1234-1234-1234-123456789012`;
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const DEV = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../config/dev.json"), "utf8"));
const ENV = "prod-eu";
export const PROTECTED = {
  ...DEV,
  $schema: undefined,
  dataClassification: "PHI",
  tags: { CostCenter: "data-platform" },
  network: { ...DEV.network, cidr: "10.3.0.0/16" },
  loadBalancer: { certificateArn: CERT, deletionProtection: true },
  database: { ...DEV.database, deletionProtection: true },
  logs: { retentionDays: 30, kmsKeyArn: KEY },
  monitoring: { prometheus: false, grafana: true, openlineage: false },
  services: { api: { deployment: { strategy: "blue-green", testListenerCidrs: ["203.0.113.0/24"], smokeTestHost: "api.example.org", smokeTestPath: "/health" } } },
};
const CHECK_LINE = /^(PASS|FAIL|SKIP) {2}\d+\. (.*)$/gm;
type State = Record<string, { physicalId: string; attributes: Record<string, any> }>;

let aws: FakeAws;
let cwd: string;
let state: State;
afterEach(() => aws.restore());

const audit = () => runCli(cwd, ["audit", "--env", ENV]);
const statuses = (stdout: string) => [...stdout.matchAll(CHECK_LINE)].map((m) => `${m[1]} ${m[2]}`);

describe(`platform audit of a protected environment (${ENV}, dataClassification PHI)`, () => {
  beforeEach(async () => {
    aws = installFakeAws();
    cwd = tempProject({ [ENV]: PROTECTED });
    const up = await runCli(cwd, ["up", "--env", ENV, "--yes"]);
    expect(up.code, up.stderr).toBe(0);
    state = JSON.parse(readFileSync(path.join(cwd, `state/${ENV}.json`), "utf8")).resources;
  });

  it("a fresh up passes every check: nothing failed, and only the checks without a subject here are skipped", async () => {
    const r = await audit();
    expect(r.code, r.stdout).toBe(0);
    const lines = statuses(r.stdout);
    expect(lines.filter((l) => l.startsWith("FAIL"))).toEqual([]);
    // No github.repository and no BI role configured: the identity checks have no subject in this environment.
    expect(lines.filter((l) => l.startsWith("SKIP"))).toEqual([
      "SKIP GitHub deploy role trusts only the deploy workflow in its GitHub environment [HIPAA 164.312(a)(1)]",
      "SKIP GitHub deploy role may change only this stack's services, listeners and roles [HIPAA 164.308(a)(4)]",
      "SKIP BI role connects only to this stack's database, and another account needs an external id [HIPAA 164.308(a)(4)]",
    ]);
    expect(r.stdout).toContain("clinical-platform-prod-eu-db: deletion protection on");
    expect(r.stdout).toMatch(/HTTP 80\): redirects to HTTPS/);
    expect(r.stdout).toMatch(/HTTPS 443\): ELBSecurityPolicy-TLS13-1-2-2021-06/);
    expect(r.stdout).toContain("port 8443 from 203.0.113.0/24");
    expect(r.stdout).toContain("no listener rule routes Grafana or Marquez");
    expect(r.stdout).toMatch(/clinical-platform-prod-eu-cluster: ECS Exec off on \d+ service\(s\)/);
    expect(r.stdout).toContain(`/ecs/clinical-platform-prod-eu: ${KEY}`);
    expect(r.stdout).toContain("clinical-platform-prod-eu/api: IMMUTABLE");
    for (const service of ["s3", "ecr.api", "ecr.dkr", "secretsmanager", "logs"]) expect(r.stdout).toMatch(new RegExp(`vpce-\\w+ com\\.amazonaws\\.us-east-1\\.${service.replace(".", "\\.")}: available`));
    expect(r.stdout).toMatch(/Summary: All 27 checks that ran passed \(3 skipped\)\./);
  });

  const elb = () => new ElasticLoadBalancingV2Client({ region: "us-east-1" });
  const listener = (id: string) => state[id]!.attributes.arn as string;

  it.each<[string, () => Promise<unknown>, RegExp, string[]]>([
    [
      "the HTTP listener forwards instead of redirecting",
      () => elb().send(new ModifyListenerCommand({ ListenerArn: listener("compute.listener.http"), DefaultActions: [{ Type: "forward", TargetGroupArn: state["compute.target-group.api"]!.attributes.arn }] })),
      /^FAIL {2}22\. Load balancer serves HTTPS only; HTTP only redirects \(protected environments\) \[ELB\.1, HIPAA 164\.312\(e\)\(1\)\]$/m,
      ["(HTTP 80): forward, not a redirect to HTTPS", "listener(s) of arn:aws:elasticloadbalancing", "fix: run 'platform up --env prod-eu' to put the listeners back"],
    ],
    [
      "a plain-HTTP listener is added by hand",
      () => elb().send(new CreateListenerCommand({ LoadBalancerArn: state["compute.load-balancer"]!.attributes.arn, Port: 8080, Protocol: "HTTP", DefaultActions: [{ Type: "forward", TargetGroupArn: state["compute.target-group.api"]!.attributes.arn }] })),
      /^FAIL {2}22\. Load balancer serves HTTPS only/m,
      ["(HTTP 8080): forward, not a redirect to HTTPS"],
    ],
    [
      "the HTTPS listener is moved to a TLS 1.0 policy",
      () => elb().send(new ModifyListenerCommand({ ListenerArn: listener("compute.listener.https"), SslPolicy: "ELBSecurityPolicy-2016-08" })),
      /^FAIL {2}23\. HTTPS listeners allow TLS 1\.2 and later only \[ELB\.17/m,
      ["(HTTPS 443): ELBSecurityPolicy-2016-08", "HTTPS listener(s) allow TLS before 1.2", "fix: set loadBalancer.sslPolicy"],
    ],
    [
      "the test listener's port is opened to the internet",
      () =>
        new EC2Client({ region: "us-east-1" }).send(
          new AuthorizeSecurityGroupIngressCommand({ GroupId: state["network.security-group.alb"]!.physicalId, IpPermissions: [{ IpProtocol: "tcp", FromPort: 8443, ToPort: 8443, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }),
        ),
      /^FAIL {2}24\. Blue-green test listener not open to the internet/m,
      ["port 8443 from 0.0.0.0/0", "cause: the test listener (port 8443) is open to the internet", "fix: revoke sgr-"],
    ],
    [
      "ECS Exec is turned on for the API",
      () => new ECSClient({ region: "us-east-1" }).send(new UpdateServiceCommand({ cluster: "clinical-platform-prod-eu-cluster", service: "api", enableExecuteCommand: true })),
      /^FAIL {2}26\. ECS Exec off in protected environments; sessions logged wherever it is on/m,
      ["clinical-platform-prod-eu-cluster: ECS Exec on for api; session logging DEFAULT", "cause: ECS Exec is on in protected environment prod-eu", "ECS Exec sessions on clinical-platform-prod-eu-cluster are not logged"],
    ],
    [
      "a log group loses its KMS key",
      () => new CloudWatchLogsClient({ region: "us-east-1" }).send(new DisassociateKmsKeyCommand({ logGroupName: "/ecs/clinical-platform-prod-eu" })),
      /^FAIL {2}27\. Log groups encrypted with the environment's KMS key/m,
      ["/ecs/clinical-platform-prod-eu: AWS-owned key", `cause: log group /ecs/clinical-platform-prod-eu is not encrypted with ${KEY}`, "fix: run 'platform up --env prod-eu' to restore data.log-group.ecs"],
    ],
    [
      "a repository's tags are made mutable",
      () => new ECRClient({ region: "us-east-1" }).send(new PutImageTagMutabilityCommand({ repositoryName: "clinical-platform-prod-eu/api", imageTagMutability: "MUTABLE" })),
      /^FAIL {2}28\. Image tags immutable \(protected environments\) \[ECR\.2/m,
      ["clinical-platform-prod-eu/api: MUTABLE", "repository(ies) let a pushed tag be overwritten", "fix: run 'platform up --env prod-eu' to make them IMMUTABLE"],
    ],
    [
      "the database admits Grafana's and Prometheus's group (as before this change)",
      () =>
        new EC2Client({ region: "us-east-1" }).send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: state["network.security-group.db"]!.physicalId,
            IpPermissions: [{ IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: state["network.security-group.monitoring"]!.physicalId }] }],
          }),
        ),
      /^FAIL {2}29\. Database admits only the API, dbt and Marquez groups/m,
      ["tcp 5432-5432 from sg-", "cause: the database admits 1 source(s) beyond the API, dbt and Marquez groups", "fix: revoke sgr-"],
    ],
    [
      "the Secrets Manager endpoint is deleted",
      () => new EC2Client({ region: "us-east-1" }).send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [state["network.vpc-endpoint.secretsmanager"]!.physicalId] })),
      /^FAIL {2}30\. Tasks reach AWS through VPC endpoints \(protected environments\)/m,
      ["(com.amazonaws.us-east-1.secretsmanager): deleted", "cause: VPC endpoint com.amazonaws.us-east-1.secretsmanager is deleted", "fix: run 'platform up --env prod-eu' to restore network.vpc-endpoint.secretsmanager"],
    ],
    [
      "the database's deletion protection is turned off",
      async () => (aws.rds.instances.get("clinical-platform-prod-eu-db")!.DeletionProtection = false),
      /^FAIL {2}7\. Database deletion protection \(protected environments\) \[RDS\.8\]$/m,
      ["cause: protected database clinical-platform-prod-eu-db can be deleted", "fix: set database.deletionProtection to true in config/prod-eu.json"],
    ],
  ])("fails when %s, naming the resource and the fix", async (_what, plant, line, expected) => {
    await plant();
    const r = await audit();
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(line);
    for (const text of expected) expect(r.stdout).toContain(text);
  });

  it("fails when Grafana is routed from the internet-facing listener without a source range (as before this change)", async () => {
    // Routed from an office range first (monitoring.uiAccessCidrs), then the rule's source-ip condition removed by hand.
    const file = path.join(cwd, `config/${ENV}.json`);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, JSON.stringify({ ...PROTECTED, monitoring: { ...PROTECTED.monitoring, uiAccessCidrs: ["198.51.100.0/24"] } }));
    expect((await runCli(cwd, ["up", "--env", ENV, "--yes"])).code).toBe(0);
    const routed = await audit();
    expect(routed.code, routed.stdout).toBe(0);
    expect(routed.stdout).toMatch(/: grafana from 198\.51\.100\.0\/24/);
    const rule = [...aws.elbv2.rules!.values()].find((r) => r.Conditions.some((c) => c.Field === "source-ip"))!;
    rule.Conditions = rule.Conditions.filter((c) => c.Field !== "source-ip");
    const r = await audit();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}25\. Monitoring UIs not routed from the internet/m);
    expect(r.stdout).toContain(`${rule.RuleArn}: grafana from anywhere`);
    expect(r.stdout).toContain("fix: run 'platform up --env prod-eu': it routes the UIs only from monitoring.uiAccessCidrs");
  });
});
