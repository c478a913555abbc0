import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { DescribeSecurityGroupRulesCommand } from "@aws-sdk/client-ec2";
import { RunTaskCommand } from "@aws-sdk/client-ecs";
import { SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { runCli, tempProject } from "../cli-harness.js";
import { ENDPOINT, healthyWorld, mocks, PASSWORD, restoreMocks, stubWorld, type World, worldState } from "../troubleshoot/world.js";

/** The troubleshoot commands end to end through the CLI: a state file describes the environment, the SDK is stubbed. */
let w: World;
let cwd: string;

beforeEach(() => {
  w = healthyWorld();
  stubWorld(w);
  cwd = tempProject();
  mkdirSync(path.join(cwd, "state"));
  writeFileSync(path.join(cwd, "state", "dev.json"), JSON.stringify(worldState()), { mode: 0o600 });
});
afterAll(restoreMocks);

const CHECK_LINE = /^(PASS|FAIL|SKIP) {2}\d\. /gm;

describe("platform troubleshoot db-connectivity", () => {
  it("prints the seven-line checklist and exits 0 when nothing fails", async () => {
    const r = await runCli(cwd, ["troubleshoot", "db-connectivity", "--env", "dev", "--probe", "none"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.match(CHECK_LINE)).toEqual(["PASS  1. ", "PASS  2. ", "PASS  3. ", "PASS  4. ", "PASS  5. ", "PASS  6. ", "SKIP  7. "]);
    expect(r.stdout).toContain(`endpoint ${ENDPOINT}:5432`);
    expect(r.stdout).toMatch(/Summary: All 6 checks that ran passed \(1 skipped\)\.\n$/);
    expect(r.stdout).not.toContain(PASSWORD);
    expect(mocks.ecs).not.toHaveReceivedCommand(RunTaskCommand);
  });

  it("exits 1 and names the most likely cause first when the database group does not admit the API", async () => {
    w.rules = w.rules.filter((rule) => rule.SecurityGroupRuleId !== "sgr-db-api");
    const r = await runCli(cwd, ["troubleshoot", "db-connectivity", "--env", "dev", "--probe", "none"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}2\. Security groups admit PostgreSQL$/m);
    expect(r.stdout).toMatch(/^ {6}fix: run 'platform up --env dev' to restore network.security-group-rule.db-api-in/m);
    expect(r.stdout).toMatch(/Summary: 1 of 7 checks failed \(1 skipped\)\. Most likely cause: Security groups admit PostgreSQL: the database security group has no ingress rule for tcp 5432 from the API \(sg-api\)\./);
  });

  it("runs the ECS probe by default", async () => {
    const r = await runCli(cwd, ["troubleshoot", "db-connectivity", "--env", "dev"]);
    expect(r.code).toBe(0);
    expect(mocks.ecs).toHaveReceivedCommandTimes(RunTaskCommand, 1);
    expect(r.stdout).toMatch(/^PASS {2}7\. Live connection probe$/m);
    expect(r.stdout).toContain(`output: ${ENDPOINT} (10.0.3.17:5432) open`);
  });

  it("with --json prints the report on stdout and the checklist on stderr", async () => {
    w.dns.support = false;
    const r = await runCli(cwd, ["troubleshoot", "db-connectivity", "--env", "dev", "--probe", "none", "--json"]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ name: "db-connectivity", environment: "dev", ok: false });
    expect(doc.checks.map((c: { id: string; status: string }) => `${c.id}:${c.status}`)).toEqual([
      "database:passed",
      "security-groups:passed",
      "network-acls:passed",
      "subnets:passed",
      "dns:failed",
      "tls-credentials:passed",
      "probe:skipped",
    ]);
    expect(doc.checks[4]).toMatchObject({ cause: expect.stringContaining("dns support"), fix: expect.stringContaining("--enable-dns-support"), likelihood: 75 });
    expect(doc.summary).toMatch(/^1 of 7 checks failed/);
    expect(r.stderr).toMatch(/^FAIL {2}5\. VPC DNS support and hostnames$/m);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it.each([
    [["--probe", "bogus"], /argument 'bogus' is invalid/],
    [["--host", "localhost"], /--host applies to --probe local only/],
    [["--probe", "local", "--insecure-tls", "--no-tls"], /--insecure-tls and --no-tls contradict each other/],
    [["--probe-timeout", "0"], /--probe-timeout 0: expected a number of seconds above 0/],
    [["--probe", "local", "--port", "70000"], /--port 70000: expected a port number/],
    [["--probe", "local", "--ca-file", "missing.pem"], /--ca-file missing.pem: cannot read it/],
    [["--probe", "none", "--probe-image", "busybox"], /--probe-image applies to --probe ecs only/],
    [["--iam-user", "probe"], /--iam-user applies to --probe local only/],
    [["--probe", "local", "--iam-user", "Robert'); DROP"], /--iam-user Robert'\); DROP: a PostgreSQL user name/],
  ])("exits 2 on bad flags %j, before any AWS call", async (flags, message) => {
    const r = await runCli(cwd, ["troubleshoot", "db-connectivity", "--env", "dev", ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(mocks.ec2).not.toHaveReceivedCommand(DescribeSecurityGroupRulesCommand);
  });

  it("refuses --no-tls while rds.force_ssl is 1 (exit 2), naming the parameter group and the fix", async () => {
    w.forceSsl = "1";
    const r = await runCli(cwd, ["troubleshoot", "db-connectivity", "--env", "dev", "--probe", "local", "--no-tls"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --no-tls: rds\.force_ssl is 1 in \S+, so \S+ accepts TLS connections only; drop --no-tls/);
    expect(mocks.ec2).not.toHaveReceivedCommand(DescribeSecurityGroupRulesCommand);
  });
});

const pg = process.env.PLATFORM_TEST_PG_HOST ? process.env : undefined;

describe.skipIf(!pg)("platform troubleshoot db-connectivity --probe local (against the test PostgreSQL)", () => {
  it("logs in with the secret's credentials through the given host and port", async () => {
    w.secret = { ...w.secret, username: pg!.PLATFORM_TEST_PG_USER, password: pg!.PLATFORM_TEST_PG_PASSWORD, dbname: pg!.PLATFORM_TEST_PG_DB };
    w.db!.MasterUsername = pg!.PLATFORM_TEST_PG_USER;
    const args = ["troubleshoot", "db-connectivity", "--env", "dev", "--probe", "local", "--host", "127.0.0.1", "--port", pg!.PLATFORM_TEST_PG_PORT!];
    // The test server's certificate is for localhost, not the RDS endpoint: through a "tunnel" verification must fail...
    const verified = await runCli(cwd, [...args, "--ca-file", pg!.PLATFORM_TEST_PG_CA!]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/cause: the server's TLS certificate is not trusted here \(tls-certificate\)/);
    // ...and with the check waived it reaches the server, but sends no credential to a server it cannot verify.
    const r = await runCli(cwd, [...args, "--insecure-tls"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS {2}7\. Live connection probe$/m);
    expect(r.stdout).toContain("PostgreSQL answered; not logged in: the server asked for scram authentication; no credential is sent over a connection whose server is not verified");
    expect(r.stdout).not.toContain("SELECT 1 returned 1");
    expect(r.stdout).not.toContain(pg!.PLATFORM_TEST_PG_PASSWORD!);
  });
});

describe("platform troubleshoot secrets-access", () => {
  it("exits 0 when every secret the services use is readable by their execution role", async () => {
    const r = await runCli(cwd, ["troubleshoot", "secrets-access", "--env", "dev"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS {2}1\. clinical-platform-dev\/database\/credentials readable by clinical-platform-dev-task-execution$/m);
    expect(mocks.iam).toHaveReceivedCommand(SimulatePrincipalPolicyCommand);
  });

  it("exits 1 when the execution role may not read one", async () => {
    w.decisions["secretsmanager:GetSecretValue"] = "implicitDeny";
    const r = await runCli(cwd, ["troubleshoot", "secrets-access", "--env", "dev", "--service", "api"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Summary: 1 of 1 checks failed\. Most likely cause: .*may not read/);
  });

  it("exits 2 for a service the environment does not have", async () => {
    const r = await runCli(cwd, ["troubleshoot", "secrets-access", "--env", "dev", "--service", "nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--service nope: no such service in dev \(services: api\)/);
  });
});
