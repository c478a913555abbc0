import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { DescribeSecurityGroupRulesCommand } from "@aws-sdk/client-ec2";
import { DeleteTaskDefinitionsCommand, DeregisterTaskDefinitionCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { DescribeDBInstancesCommand } from "@aws-sdk/client-rds";
import { runChecks, summarize } from "../../src/troubleshoot/checks.js";
import {
  checkDatabase,
  checkDns,
  checkNetworkAcls,
  checkProbe,
  checkSecurityGroups,
  checkSubnets,
  checkTlsAndCredentials,
  DB_CONNECTIVITY_CHECKS,
  type DbConnectivityOptions,
  type DbContext,
  dbFacts,
} from "../../src/troubleshoot/db-connectivity.js";
import { testContext } from "../helpers.js";
import {
  ENDPOINT,
  EXECUTION_ROLE_ARN,
  healthyWorld,
  mocks,
  PASSWORD,
  PROBE_TASK,
  PROBE_TASK_DEFINITION,
  restoreMocks,
  SECRET_ARN,
  stoppedProbe,
  stubWorld,
  type World,
  worldState,
} from "./world.js";

let w: World;
beforeEach(() => {
  w = healthyWorld();
  stubWorld(w);
});
afterAll(restoreMocks);

function context(options: DbConnectivityOptions = { probe: "none" }, state = worldState()): DbContext {
  const ctx = testContext();
  return { ctx, state, options, facts: dbFacts(ctx, state) };
}

describe("the whole checklist on a healthy environment", () => {
  it("passes every check but the probe it was told to skip, and reads each AWS fact once", async () => {
    const outcomes = await runChecks(DB_CONNECTIVITY_CHECKS, context());
    expect(outcomes.map((o) => [o.id, o.status])).toEqual([
      ["database", "passed"],
      ["security-groups", "passed"],
      ["network-acls", "passed"],
      ["subnets", "passed"],
      ["dns", "passed"],
      ["tls-credentials", "passed"],
      ["probe", "skipped"],
    ]);
    expect(summarize(outcomes)).toBe("All 6 checks that ran passed (1 skipped).");
    expect(mocks.rds).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 1);
    expect(mocks.ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupRulesCommand, 1);
    // The password never appears in what a user sees.
    expect(JSON.stringify(outcomes)).not.toContain(PASSWORD);
  });
});

describe("1. database", () => {
  it("passes with status, endpoint and the parameter group's apply status as evidence", async () => {
    w.db!.DBParameterGroups = [{ DBParameterGroupName: "clinical-platform-dev-postgres16", ParameterApplyStatus: "pending-reboot" }];
    const r = await checkDatabase(context());
    expect(r.status).toBe("passed");
    expect(r.evidence).toContain(`endpoint ${ENDPOINT}:5432`);
    expect(r.evidence.join("\n")).toMatch(/clinical-platform-dev-postgres16: pending-reboot \(static parameter changes wait for a reboot: aws rds reboot-db-instance/);
    expect(mocks.rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { DBInstanceIdentifier: "clinical-platform-dev-db" });
  });

  it.each([
    ["stopped", /aws rds start-db-instance --db-instance-identifier clinical-platform-dev-db/],
    ["incompatible-network", /cannot place the instance in its subnets/],
    ["storage-full", /allocatedStorage/],
    ["rebooting", /wait until it is available/],
  ])("fails when it is %s, with the fix for that status", async (status, fix) => {
    w.db!.DBInstanceStatus = status;
    const r = await checkDatabase(context());
    expect(r).toMatchObject({ status: "failed", cause: `database clinical-platform-dev-db is ${status}, not accepting connections` });
    expect(r.fix).toMatch(fix);
  });

  it("fails when it is gone, and the checks that need it are skipped", async () => {
    w.db = undefined;
    const outcomes = await runChecks(DB_CONNECTIVITY_CHECKS, context({ probe: "ecs" }));
    expect(outcomes[0]).toMatchObject({ status: "failed", cause: "database clinical-platform-dev-db does not exist" });
    expect(outcomes.slice(1).map((o) => o.status)).toEqual(["skipped", "skipped", "skipped", "skipped", "skipped", "skipped"]);
    expect(mocks.ecs).not.toHaveReceivedCommand(RunTaskCommand);
  });

  it("fails when state records no database", async () => {
    const state = worldState();
    delete state.resources["data.database.instance"];
    const r = await checkDatabase(context(undefined, state));
    expect(r).toMatchObject({ status: "failed", cause: "the environment has no database", fix: "run 'platform up --env dev' to create it" });
    expect(mocks.rds).not.toHaveReceivedCommand(DescribeDBInstancesCommand);
  });
});

describe("2. security groups", () => {
  it("passes, naming the rules that admit the API and dbt", async () => {
    const r = await checkSecurityGroups(context());
    expect(r.status).toBe("passed");
    expect(r.evidence.join("\n")).toMatch(/sg-db \(network.security-group.db\) admits tcp 5432 from the API \(sg-api\) \(rule sgr-db-api: sg-api\)/);
    expect(r.evidence.join("\n")).toMatch(/admits tcp 5432 from dbt \(sg-dbt\) \(rule sgr-db-dbt/);
    expect(r.evidence.join("\n")).toMatch(/API security group sg-api .* lets out tcp 5432 to the database/);
    expect(mocks.ec2).toHaveReceivedCommandWith(DescribeSecurityGroupRulesCommand, { Filters: [{ Name: "group-id", Values: ["sg-db", "sg-api", "sg-dbt"] }] });
  });

  it("fails when the database group lacks the ingress rule from the API, with the command that adds it", async () => {
    w.rules = w.rules.filter((r) => r.SecurityGroupRuleId !== "sgr-db-api");
    const r = await checkSecurityGroups(context());
    expect(r.status).toBe("failed");
    expect(r.cause).toBe("the database security group has no ingress rule for tcp 5432 from the API (sg-api)");
    expect(r.fix).toContain("aws ec2 authorize-security-group-ingress --group-id sg-db --protocol tcp --port 5432 --source-group sg-api");
    expect(r.likelihood).toBe(90);
  });

  it("counts a CIDR rule that holds every API subnet, but not one that holds only some", async () => {
    w.rules = w.rules.filter((r) => r.SecurityGroupRuleId !== "sgr-db-api");
    w.rules.push({ SecurityGroupRuleId: "sgr-cidr", GroupId: "sg-db", IsEgress: false, IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, CidrIpv4: "10.0.2.0/24" });
    expect((await checkSecurityGroups(context())).status).toBe("failed");
    w.rules.at(-1)!.CidrIpv4 = "10.0.0.0/16";
    expect((await checkSecurityGroups(context())).status).toBe("passed");
  });

  it("fails when the API group's egress does not allow 5432", async () => {
    w.rules = w.rules.filter((r) => r.SecurityGroupRuleId !== "sgr-api-db");
    const r = await checkSecurityGroups(context());
    expect(r).toMatchObject({ status: "failed", likelihood: 85 });
    expect(r.cause).toBe("the API security group has no egress rule for tcp 5432 to the database (sg-db)");
  });

  it("a missing dbt rule fails too, but ranks below the API's", async () => {
    w.rules = w.rules.filter((r) => r.SecurityGroupRuleId !== "sgr-db-dbt");
    const r = await checkSecurityGroups(context());
    expect(r).toMatchObject({ status: "failed", likelihood: 50, cause: "the database security group has no ingress rule for tcp 5432 from dbt (sg-dbt)" });
  });
});

describe("3. network ACLs", () => {
  it("passes, naming the rule that allows each direction", async () => {
    const r = await checkNetworkAcls(context());
    expect(r.status).toBe("passed");
    expect(r.evidence).toEqual([
      "acl-private (network.network-acl.private): PostgreSQL into the database's subnets: inbound from 10.0.2.0/24, 10.0.3.0/24 tcp 5432 allowed (rule 100)",
      "acl-private (network.network-acl.private): replies from the database to the API's ephemeral ports: outbound to 10.0.2.0/24, 10.0.3.0/24 tcp 32768-60999 allowed (rule 100)",
      "acl-private (network.network-acl.private): PostgreSQL out of the API's subnets: outbound to 10.0.2.0/24, 10.0.3.0/24 tcp 5432 allowed (rule 100)",
      "acl-private (network.network-acl.private): replies into the API's subnets: inbound from 10.0.2.0/24, 10.0.3.0/24 tcp 32768-60999 allowed (rule 100)",
    ]);
  });

  it("fails when a deny entry ahead of the allow blocks 5432 in", async () => {
    w.acls[0]!.Entries!.push({ RuleNumber: 90, Egress: false, CidrBlock: "10.0.0.0/16", RuleAction: "deny", Protocol: "6", PortRange: { From: 5432, To: 5432 } });
    const r = await checkNetworkAcls(context());
    expect(r.status).toBe("failed");
    expect(r.cause).toBe("network ACL acl-private denies PostgreSQL into the database's subnets (inbound from 10.0.2.0/24, 10.0.3.0/24, tcp 5432)");
    expect(r.evidence.join("\n")).toMatch(/denied by deny rule 90 for ports 5432/);
    expect(r.fix).toContain("aws ec2 create-network-acl-entry --network-acl-id acl-private --ingress --rule-number <n> --protocol tcp --port-range From=5432,To=5432");
    expect(r.likelihood).toBe(80);
  });

  it("fails when the return path to the ephemeral ports is not allowed (ACLs are stateless)", async () => {
    w.acls[0]!.Entries = w.acls[0]!.Entries!.filter((e) => !(e.Egress && e.RuleNumber === 100));
    w.acls[0]!.Entries!.push({ RuleNumber: 100, Egress: true, CidrBlock: "0.0.0.0/0", RuleAction: "allow", Protocol: "6", PortRange: { From: 443, To: 443 } });
    w.acls[0]!.Entries!.push({ RuleNumber: 110, Egress: true, CidrBlock: "10.0.0.0/16", RuleAction: "allow", Protocol: "6", PortRange: { From: 5432, To: 5432 } });
    const r = await checkNetworkAcls(context());
    expect(r.status).toBe("failed");
    expect(r.cause).toBe("network ACL acl-private denies replies from the database to the API's ephemeral ports (outbound to 10.0.2.0/24, 10.0.3.0/24, tcp 32768-60999)");
    expect(r.evidence.join("\n")).toMatch(/denied by the final deny-all rule \*/);
    expect(r.likelihood).toBe(75);
  });
});

describe("4. subnets and routes", () => {
  it("passes: private subnets of the environment's VPC in two zones, the API in the same VPC", async () => {
    const r = await checkSubnets(context());
    expect(r.status).toBe("passed");
    expect(r.evidence.join("\n")).toMatch(/subnet-pa \(network.subnet.private-a\) us-east-1a Active; subnet-pb \(network.subnet.private-b\) us-east-1b Active/);
    expect(r.evidence.join("\n")).toMatch(/the API's tasks run in subnet-pa .* in the same VPC/);
  });

  it("fails when the subnet group holds a public subnet and one zone only", async () => {
    w.db!.DBSubnetGroup!.Subnets = [
      { SubnetIdentifier: "subnet-pa", SubnetAvailabilityZone: { Name: "us-east-1a" }, SubnetStatus: "Active" },
      { SubnetIdentifier: "subnet-pua", SubnetAvailabilityZone: { Name: "us-east-1a" }, SubnetStatus: "Active" },
    ];
    const r = await checkSubnets(context());
    expect(r.status).toBe("failed");
    expect(r.cause).toContain("the DB subnet group spans fewer than two availability zones");
    expect(r.cause).toContain("the DB subnet group includes public subnets (subnet-pua)");
  });

  it("fails when the API's tasks run in another VPC", async () => {
    w.subnets = w.subnets.map((s) => (s.SubnetId === "subnet-pb" ? { ...s, VpcId: "vpc-other" } : s));
    const r = await checkSubnets(context());
    expect(r).toMatchObject({ status: "failed", cause: "the API's tasks run in subnets outside the database's VPC" });
  });
});

describe("5. DNS", () => {
  it("fails when DNS hostnames are off, with the command that turns them on", async () => {
    w.dns.hostnames = false;
    const r = await checkDns(context());
    expect(r).toMatchObject({ status: "failed", evidence: ["vpc-1 (network.vpc): DNS support on, DNS hostnames off"] });
    expect(r.fix).toContain("aws ec2 modify-vpc-attribute --vpc-id vpc-1 --enable-dns-hostnames");
  });
});

describe("6. TLS and credentials", () => {
  it("passes: force_ssl as configured, the secret matches the instance, the execution role may read it", async () => {
    const r = await checkTlsAndCredentials(context());
    expect(r.status).toBe("passed");
    expect(r.evidence).toContain("rds.force_ssl = 1 in clinical-platform-dev-postgres16: clients must connect with TLS (sslmode=require or stronger)");
    expect(r.evidence).toContain(`secret ${SECRET_ARN}: username platform_admin, host ${ENDPOINT}, port 5432, password present (not shown)`);
    expect(r.evidence).toContain("role clinical-platform-dev-task-execution: secretsmanager:GetSecretValue allowed (IAM policy simulation)");
    expect(mocks.iam).toHaveReceivedCommandWith(SimulatePrincipalPolicyCommand, { PolicySourceArn: EXECUTION_ROLE_ARN, ActionNames: ["secretsmanager:GetSecretValue"], ResourceArns: [SECRET_ARN] });
    expect(JSON.stringify(r)).not.toContain(PASSWORD);
  });

  it("fails on a username mismatch, naming both names and never the password", async () => {
    w.secret!.username = "admin";
    const r = await checkTlsAndCredentials(context());
    expect(r.status).toBe("failed");
    expect(r.cause).toBe("the secret's username admin is not the instance's master username platform_admin");
    expect(r.fix).toContain('put "username": "platform_admin" in the secret');
    expect(JSON.stringify(r)).not.toContain(PASSWORD);
  });

  it("fails when the secret's host is not the endpoint, and when force_ssl differs from the config", async () => {
    w.secret!.host = "old-endpoint.example";
    w.forceSsl = "0";
    const r = await checkTlsAndCredentials(context());
    expect(r.cause).toContain(`the secret's host and port (old-endpoint.example:5432) are not the endpoint ${ENDPOINT}:5432`);
    expect(r.cause).toContain("rds.force_ssl is 0, not 1 as configured");
  });

  it("fails when the execution role may not read the secret", async () => {
    w.decisions["secretsmanager:GetSecretValue"] = "implicitDeny";
    const r = await checkTlsAndCredentials(context());
    expect(r).toMatchObject({ status: "failed", cause: `the execution role clinical-platform-dev-task-execution may not read ${SECRET_ARN}` });
  });

  it("fails when the secret is gone", async () => {
    w.secret = undefined;
    const r = await checkTlsAndCredentials(context());
    expect(r).toMatchObject({ status: "failed", cause: "the credentials secret does not exist" });
  });
});

describe("7. the ECS probe", () => {
  it("runs a one-off task in the API's subnets and security group, passes on exit 0, and removes its task definition", async () => {
    const r = await checkProbe(context({ probe: "ecs" }));
    expect(r.status).toBe("passed");
    expect(mocks.ecs).toHaveReceivedCommandWith(RegisterTaskDefinitionCommand, {
      family: "clinical-platform-dev-db-probe",
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      executionRoleArn: EXECUTION_ROLE_ARN,
      containerDefinitions: [
        expect.objectContaining({
          image: "public.ecr.aws/docker/library/busybox:stable",
          command: ['nc -zv -w 5 "$DB_HOST" "$DB_PORT"'],
          environment: [
            { name: "DB_HOST", value: ENDPOINT },
            { name: "DB_PORT", value: "5432" },
          ],
          logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/clinical-platform-dev", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "db-probe" } },
        }),
      ],
    });
    expect(mocks.ecs).toHaveReceivedCommandWith(RunTaskCommand, {
      cluster: "clinical-platform-dev",
      taskDefinition: PROBE_TASK_DEFINITION,
      launchType: "FARGATE",
      networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-pa", "subnet-pb"], securityGroups: ["sg-api"], assignPublicIp: "DISABLED" } },
    });
    expect(mocks.logs).toHaveReceivedCommandWith(GetLogEventsCommand, { logGroupName: "/ecs/clinical-platform-dev", logStreamName: "db-probe/probe/0123456789abcdef" });
    expect(r.evidence).toContain(`output: ${ENDPOINT} (10.0.3.17:5432) open`);
    expect(r.evidence).toContain("exit code 0");
    expect(mocks.ecs).not.toHaveReceivedCommand(StopTaskCommand);
    expect(mocks.ecs).toHaveReceivedCommandWith(DeregisterTaskDefinitionCommand, { taskDefinition: PROBE_TASK_DEFINITION });
    expect(mocks.ecs).toHaveReceivedCommandWith(DeleteTaskDefinitionsCommand, { taskDefinitions: [PROBE_TASK_DEFINITION] });
  });

  it("fails when the probe exits 1, with nc's output and the diagnosis it points to", async () => {
    w.probeTasks = [{ taskArn: PROBE_TASK, lastStatus: "RUNNING" }, stoppedProbe(1)];
    w.probeLog = [`nc: ${ENDPOINT} (10.0.3.17:5432): Connection timed out`];
    const r = await checkProbe(context({ probe: "ecs" }));
    expect(r.status).toBe("failed");
    expect(r.evidence).toContain("exit code 1");
    expect(r.evidence).toContain(`output: nc: ${ENDPOINT} (10.0.3.17:5432): Connection timed out`);
    expect(r.cause).toBe(`the connection to ${ENDPOINT}:5432 timed out: packets are dropped on the way`);
    expect(mocks.ecs).not.toHaveReceivedCommand(StopTaskCommand);
  });

  it("stops a probe that runs past its budget and says so", async () => {
    w.probeTasks = [{ taskArn: PROBE_TASK, lastStatus: "RUNNING", containers: [{ name: "probe" }] }];
    w.probeLog = [];
    const started = Date.now();
    const r = await checkProbe(context({ probe: "ecs", probeTimeoutSeconds: 60 }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(mocks.ecs).toHaveReceivedCommandWith(StopTaskCommand, { cluster: "clinical-platform-dev", task: PROBE_TASK, reason: "platform troubleshoot: the probe ran past its 60 s budget" });
    expect(r).toMatchObject({ status: "failed", cause: "the probe task did not finish within 60 s (it was RUNNING) and was stopped" });
    expect(r.fix).toMatch(/packets to .* are probably dropped/);
    expect(mocks.ecs).toHaveReceivedCommand(DeleteTaskDefinitionsCommand);
  });

  it("says the probe could not run when its image cannot be pulled", async () => {
    w.probeTasks = [stoppedProbe(undefined, { stopCode: "TaskFailedToStart", stoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref public.ecr.aws/docker/library/busybox:stable: dial tcp: i/o timeout" })];
    w.probeLog = undefined;
    const r = await checkProbe(context({ probe: "ecs" }));
    expect(r).toMatchObject({ status: "failed", likelihood: 30 });
    expect(r.cause).toMatch(/could not be pulled, so the probe could not run/);
    expect(r.evidence).toContain("no output in /ecs/clinical-platform-dev");
  });

  it("is skipped when no API service is deployed", async () => {
    const state = worldState();
    delete state.resources["compute.service.api"];
    const r = await checkProbe(context({ probe: "ecs" }, state));
    expect(r.status).toBe("skipped");
    expect(r.evidence.join(" ")).toMatch(/use --probe local/);
    expect(mocks.ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });
});

describe("summary", () => {
  it("names the most likely cause first when several checks fail", async () => {
    w.rules = w.rules.filter((r) => r.SecurityGroupRuleId !== "sgr-db-api");
    w.probeTasks = [stoppedProbe(1)];
    w.probeLog = [`nc: ${ENDPOINT} (10.0.3.17:5432): Connection timed out`];
    w.dns.support = false;
    const outcomes = await runChecks(DB_CONNECTIVITY_CHECKS, context({ probe: "ecs" }));
    const summary = summarize(outcomes);
    expect(summary).toMatch(/^3 of 7 checks failed\. Most likely cause: Security groups admit PostgreSQL: the database security group has no ingress rule for tcp 5432 from the API \(sg-api\)\. Fix: /);
    expect(summary.indexOf("VPC DNS support")).toBeLessThan(summary.indexOf("Live connection probe"));
  });
});
