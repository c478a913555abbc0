import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { memoryIo, runCli, tempProject, type CliRun } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { masterPasswordOf } from "../fakes/rds.js";
import { currentValue, secretByName } from "../fakes/secretsmanager.js";
import { TEST_WAITS, holdingPhi } from "../helpers.js";

/** Settings the restore APIs do not take (maintenance window, Performance Insights, monitoring, autoscaling) are on. */
const STAGING = {
  project: "clinical-platform",
  region: "us-east-1",
  tags: { CostCenter: "data-platform" },
  network: { cidr: "10.1.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
  database: {
    instanceClass: "db.t3.medium",
    maxAllocatedStorage: 100,
    preferredBackupWindow: "02:00-02:30",
    preferredMaintenanceWindow: "sun:04:00-sun:04:30",
    enhancedMonitoringInterval: 60,
  },
};
const ENV = ["--env", "staging"];
const DB = "clinical-platform-staging-db";
const SECRET = "clinical-platform-staging/database/credentials";
const SNAPSHOT = "before-migration";

let aws: FakeAws;
let cwd: string;
/** The old instance as the fake holds it just before the restore: it must look exactly like this afterwards. */
let oldInstance: unknown;

const state = () => JSON.parse(readFileSync(path.join(cwd, "state/staging.json"), "utf8"));
const stateText = () => readFileSync(path.join(cwd, "state/staging.json"), "utf8");
const secret = () => JSON.parse(currentValue(secretByName(aws.secretsmanager, SECRET))!) as Record<string, unknown>;
/** Every RDS call that changes something, with the instance it names. */
const rdsMutations = () =>
  aws.cloud
    .mutatingCalls()
    .filter((c) => c.service === "rds")
    .map((c) => `${c.command} ${c.input.DBInstanceIdentifier ?? c.input.TargetDBInstanceIdentifier ?? c.input.ResourceName}`);
const stampOf = (d: Date) => d.toISOString().replace(/\D/g, "").slice(0, 14);
/** The log group RDS exports an instance's PostgreSQL log to. */
const logGroupOf = (identifier: string) => `/aws/rds/instance/${identifier}/postgresql`;
/** Every CloudWatch Logs call that changes something, with the group it names. */
const logsMutations = () =>
  aws.cloud
    .mutatingCalls()
    .filter((c) => c.service === "logs")
    .map((c) => `${c.command} ${c.input.logGroupName ?? c.input.resourceArn}`);
const STANDARD_TAGS = { Project: "clinical-platform", Environment: "staging", ManagedBy: "platform", CostCenter: "data-platform" };

/**
 * Deletions take a while (RDS instances 100 ms), and each DeleteLogGroup notes the status of the instance that exports to
 * it at that moment: "gone" when the group was deleted only after its instance.
 */
function watchLogGroupDeletions(): Map<string, string> {
  aws.cloud.timings = { latencyMs: 0, provisioningMs: { rdsDelete: 100 } };
  const seen = new Map<string, string>();
  aws.cloud.fault = (call) => {
    const name = call.command === "DeleteLogGroup" ? (call.input.logGroupName as string) : undefined;
    const identifier = name?.split("/")[4];
    if (identifier) seen.set(identifier, aws.rds.instances.get(identifier)?.DBInstanceStatus ?? "gone");
    return undefined;
  };
  return seen;
}

/**
 * What RDS does on an instance's first PostgreSQL log export (the fake RDS does not): it creates the instance's log
 * group itself, untagged and never expiring, unless one exists. Leaves behind whatever the platform did not make first.
 */
function rdsExportsLogs() {
  for (const [identifier, instance] of aws.rds.instances) {
    const name = logGroupOf(identifier);
    if (instance.EnabledCloudwatchLogsExports.includes("postgresql") && !aws.logs.groups.has(name)) {
      aws.logs.groups.set(name, { logGroupName: name, creationTime: Date.now(), tags: {}, streams: new Map() });
    }
  }
}

/** Nothing the secret ever held (passwords included) appears in what the user saw or in the state file. */
function expectNoSecretValues(...runs: CliRun[]) {
  const seen = [...runs.map((r) => r.stdout + r.stderr), stateText()].join("\n");
  for (const value of aws.secretsmanager.storedValues) {
    const password = value.startsWith("{") ? (JSON.parse(value) as { password?: string }).password : undefined;
    for (const v of [value, password].filter(Boolean)) expect(seen).not.toContain(v);
  }
}

/** The CLI on a pretend terminal, answering the first question. */
async function onTerminal(args: string[], answer: string): Promise<CliRun> {
  const io = memoryIo();
  for (const s of [io.stdin, io.stdout] as { isTTY?: boolean; _isStdio?: boolean }[]) Object.assign(s, { isTTY: true, _isStdio: true });
  const running = main(args, io, { cwd, waits: TEST_WAITS });
  for (let i = 0; i < 2000 && !io.out().includes("?"); i++) await new Promise((r) => setTimeout(r, 2));
  (io.stdin as unknown as NodeJS.WritableStream).write(`${answer}\n`);
  return { code: await running, stdout: io.out(), stderr: io.err() };
}

beforeEach(() => {
  aws = installFakeAws();
});
afterEach(() => aws.restore());

describe("staging", () => {
  beforeEach(async () => {
    cwd = tempProject({ staging: STAGING });
    // up's own exit code is not asserted: layers still being written elsewhere may fail in the fake; the database must exist.
    await runCli(cwd, ["up", ...ENV, "--yes"]);
    expect(aws.rds.instances.get(DB)?.DBInstanceStatus).toBe("available");
    expect((await runCli(cwd, ["db", "snapshot", ...ENV, "--name", SNAPSHOT])).code).toBe(0);
    // The password changes after the snapshot: the restored instance must end up with the secret's, not the snapshot's.
    expect((await runCli(cwd, ["bootstrap-secrets", ...ENV, "--rotate", "database-credentials"])).code).toBe(0);
    oldInstance = structuredClone(aws.rds.instances.get(DB));
    aws.cloud.calls.length = 0;
  });

  describe("platform db restore --snapshot", () => {
    it("restores into a new instance with the stack's settings, points state and the secret's host at it, and never touches the old one", async () => {
      const target = `${DB}-r${stampOf(aws.rds.snapshots.get(SNAPSHOT)!.SnapshotCreateTime)}`;
      const groupId = state().resources["network.security-group.db"].attributes.groupId;
      const roleArn = state().resources["data.database.monitoring-role"].attributes.arn;
      const passwordBefore = secret().password;

      const oldGroup = structuredClone(aws.logs.groups.get(logGroupOf(DB)));
      expect(oldGroup).toBeDefined();

      const run = await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT, "--yes"]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);

      // The new instance's log group first, with the stack's tags and retention, so RDS exports into ours.
      const group = logGroupOf(target);
      expect(logsMutations()).toEqual([`CreateLogGroup ${group}`, `PutRetentionPolicy ${group}`]);
      expect(aws.cloud.callsTo("CreateLogGroup")[0]!.input).toEqual({ logGroupName: group, tags: { ...STANDARD_TAGS, "platform:logical-id": "data.log-group.rds" } });
      expect(aws.cloud.callsTo("PutRetentionPolicy")[0]!.input).toEqual({ logGroupName: group, retentionInDays: 7 });
      const order = aws.cloud.calls.map((c) => c.command);
      expect(order.indexOf("PutRetentionPolicy")).toBeLessThan(order.indexOf("RestoreDBInstanceFromDBSnapshot"));
      expect(aws.logs.groups.get(group)).toMatchObject({ retentionInDays: 7, tags: { ...STANDARD_TAGS, "platform:logical-id": "data.log-group.rds" } });
      rdsExportsLogs();
      expect(aws.logs.groups.get(group)?.tags).toMatchObject({ "platform:logical-id": "data.log-group.rds" });
      // The old instance's log group: exactly as it was.
      expect(aws.logs.groups.get(logGroupOf(DB))).toEqual(oldGroup);

      expect(aws.cloud.callsTo("RestoreDBInstanceFromDBSnapshot").map((c) => c.input)).toEqual([
        {
          DBInstanceIdentifier: target,
          DBSnapshotIdentifier: SNAPSHOT,
          DBInstanceClass: "db.t3.medium",
          DBSubnetGroupName: "clinical-platform-staging-db",
          VpcSecurityGroupIds: [groupId],
          DBParameterGroupName: "clinical-platform-staging-postgres16",
          StorageType: "gp3",
          MultiAZ: false,
          PubliclyAccessible: false,
          AutoMinorVersionUpgrade: true,
          DeletionProtection: false,
          BackupRetentionPeriod: 7,
          PreferredBackupWindow: "02:00-02:30",
          EnableCloudwatchLogsExports: ["postgresql"],
          CopyTagsToSnapshot: true,
          EnableIAMDatabaseAuthentication: true,
          Tags: expect.arrayContaining([
            { Key: "Project", Value: "clinical-platform" },
            { Key: "Environment", Value: "staging" },
            { Key: "ManagedBy", Value: "platform" },
            { Key: "platform:logical-id", Value: "data.database.instance" },
            { Key: "DataClassification", Value: "PHI" },
            { Key: "CostCenter", Value: "data-platform" },
          ]),
        },
      ]);
      // Then, on the new instance only: the secret's password, and what the restore API does not take.
      expect(rdsMutations()).toEqual([`RestoreDBInstanceFromDBSnapshot ${target}`, `ModifyDBInstance ${target}`, `ModifyDBInstance ${target}`]);
      const [password, settings] = aws.cloud.callsTo("ModifyDBInstance").map((c) => c.input);
      expect(password).toEqual({ DBInstanceIdentifier: target, MasterUserPassword: "(redacted)", ApplyImmediately: true });
      expect(masterPasswordOf(aws.rds, target)).toBe(passwordBefore);
      expect(settings).toMatchObject({
        DBInstanceIdentifier: target,
        MaxAllocatedStorage: 100,
        PreferredMaintenanceWindow: "sun:04:00-sun:04:30",
        MonitoringInterval: 60,
        MonitoringRoleArn: roleArn,
        EnablePerformanceInsights: true,
        PerformanceInsightsRetentionPeriod: 7,
      });
      expect(aws.rds.instances.get(target)).toMatchObject({ StorageEncrypted: true, MonitoringInterval: 60, PerformanceInsightsEnabled: true, DBInstanceStatus: "available" });

      // The old instance: exactly as it was.
      expect(aws.rds.instances.get(DB)).toEqual(oldInstance);

      // State: the stack's instance is the new one; the old one is kept as retired; the secret's host and the outputs follow.
      const doc = state();
      const endpoint = aws.rds.instances.get(target)!.Address;
      expect(doc.resources["data.database.instance"]).toMatchObject({ physicalId: target, attributes: { identifier: target, endpointAddress: endpoint } });
      expect(doc.resources[`data.database.retired.${DB}`]).toMatchObject({
        type: "rds:db-instance",
        physicalId: DB,
        retired: { from: "data.database.instance", replacedBy: target },
      });
      // The log group follows the instance; the old one is kept next to the old instance, which still depends on it.
      expect(doc.resources["data.log-group.rds"]).toMatchObject({ type: "logs:log-group", physicalId: group, attributes: { name: group, retentionDays: 7 } });
      expect(doc.resources[`data.log-group.rds.retired.${DB}`]).toMatchObject({
        type: "logs:log-group",
        physicalId: logGroupOf(DB),
        retired: { from: "data.log-group.rds", replacedBy: group },
      });
      expect(doc.resources["data.database.instance"].dependsOn).toContain("data.log-group.rds");
      expect(doc.resources[`data.database.retired.${DB}`].dependsOn).toEqual(
        doc.resources["data.database.instance"].dependsOn.map((id: string) => (id === "data.log-group.rds" ? `data.log-group.rds.retired.${DB}` : id)),
      );
      expect(doc.resources["secrets.database-credentials.connection"].attributes.fields).toEqual({ host: endpoint, port: 5432 });
      expect(doc.outputs).toMatchObject({ db_identifier: target, db_endpoint: endpoint });
      expect(secret()).toMatchObject({ host: endpoint, port: 5432, password: passwordBefore });

      expect(run.stdout).toContain(`Restoring staging's database from snapshot ${SNAPSHOT} into ${target}; ${DB} is kept as it is`);
      expect(run.stdout).toContain(`✔ ${target} is available at ${endpoint}:5432, exporting its PostgreSQL log to ${group}`);
      expect(run.stdout).toContain(`✔ staging now uses ${target}`);
      expect(run.stdout).toContain(`${DB} is retired (state: data.database.retired.${DB}) and its log group (data.log-group.rds.retired.${DB}) and kept`);
      expect(run.stdout).toContain(`delete it once you are sure with: platform db restore --env staging --retire-old`.replace("delete", "Delete"));
      expectNoSecretValues(run);

      // The plan after it changes nothing, so its cost does not change; the retired instance is named as part of the cost.
      const plan = await runCli(cwd, ["plan", ...ENV]);
      expect(plan.stdout).toMatch(/No changes/);
      expect(plan.stdout).toMatch(new RegExp(`Estimated monthly cost: \\$[\\d.,]+, no change; \\$[\\d.,]+ of it is the retired database instance ${DB}, kept until 'platform db restore --env staging --retire-old' deletes it`));
    });

    it("rolls what follows the database onto the new instance (DB_HOST of the task definitions, their services, alarms), then a following up has nothing to do", async () => {
      const restore = await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT, "--yes"]);
      expect(restore.code).toBe(0);
      const target = `${DB}-r${stampOf(aws.rds.snapshots.get(SNAPSHOT)!.SnapshotCreateTime)}`;
      expect(restore.stdout).toMatch(/Rolling onto clinical-platform-staging-db-r\d{14}: .*compute\.task-definition\.api/);
      const latestApi = [...aws.ecs.taskDefinitions.values()].filter((t) => t.family === "clinical-platform-staging-api" && t.status === "ACTIVE").sort((a, b) => b.revision - a.revision)[0]!;
      const dbHost = latestApi.body.containerDefinitions[0].environment.find((e: { name: string }) => e.name === "DB_HOST").value;
      expect(dbHost).toBe(aws.rds.instances.get(target)!.Address);
      const api = [...aws.ecs.services.values()].find((x) => x.serviceName === "api" && x.status === "ACTIVE")!;
      expect(api.taskDefinition).toBe(latestApi.arn);
      aws.cloud.calls.length = 0;
      expect((await runCli(cwd, ["up", ...ENV, "--yes"])).code).toBe(0);
      expect(aws.cloud.mutatingCalls().map((c) => c.command)).toEqual([]);
    });

    it("leaves the services to up when up would change more than what follows the database (a config change not yet applied)", async () => {
      const restore = await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT, "--yes", "--set", "logs.retentionDays=14"]);
      expect(restore.code).toBe(0);
      expect(restore.stdout).toMatch(/not rolling the services here: up already had changes to make before the restore: .*data\.log-group\.ecs \(update\)/);
      expect(restore.stdout).toContain("Run platform up --env staging to review and apply it all; until then running tasks keep the old database's host.");
      expect(aws.cloud.callsTo("RegisterTaskDefinition")).toEqual([]);
      expect(aws.cloud.callsTo("PutRetentionPolicy").map((c) => c.input.retentionInDays)).toEqual([14]); // the new instance's own group only
    });

    it("leaves the services to up when a pending config change touches what follows the database (a new image tag)", async () => {
      const restore = await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT, "--yes", "--set", 'services.imageTag="v9"']);
      expect(restore.code).toBe(0);
      expect(restore.stdout).toMatch(/not rolling the services here: up already had changes to make before the restore: .*compute\.task-definition\.api \(update\)/);
      expect(aws.cloud.callsTo("RegisterTaskDefinition")).toEqual([]);
    });

    it("leaves a following up with nothing to do on the database or its log groups (same identifier, settings and tags)", async () => {
      expect((await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT, "--yes"])).code).toBe(0);
      rdsExportsLogs();
      const groupsBefore = structuredClone([...aws.logs.groups.values()].map(({ streams: _streams, ...g }) => g));
      aws.cloud.calls.length = 0;
      const up = await runCli(cwd, ["up", ...ENV, "--yes"]);
      expect(rdsMutations()).toEqual([]);
      expect(logsMutations()).toEqual([]);
      expect(aws.cloud.callsTo("PutSecretValue")).toEqual([]);
      expect(up.stdout).not.toMatch(/data\.database\.(instance|retired)|data\.log-group\.rds/);
      expect([...aws.logs.groups.values()].map(({ streams: _streams, ...g }) => g)).toEqual(groupsBefore);
      expect(aws.logs.groups.has(logGroupOf(DB))).toBe(true);
      expect(Object.keys(state().resources)).toEqual(expect.arrayContaining([`data.database.retired.${DB}`, `data.log-group.rds.retired.${DB}`]));
    });

    it("on a no, keeps the new instance and the stack as they were, says how to go on; a rerun adopts the instance instead of restoring again", async () => {
      const before = state();
      const declined = await onTerminal(["db", "restore", ...ENV, "--snapshot", SNAPSHOT], "n");
      expect(declined.code).toBe(1);
      const target = aws.cloud.callsTo("RestoreDBInstanceFromDBSnapshot")[0]!.input.DBInstanceIdentifier as string;
      expect(aws.rds.instances.get(target)?.DBInstanceStatus).toBe("available");
      expect(declined.stdout).toContain(`Point staging at ${target}, retire`);
      const group = logGroupOf(target);
      expect(declined.stdout).toContain(`Not confirmed: staging still uses ${DB}. ${target} and its log group ${group} stay`);
      expect(declined.stdout).toContain(`platform db restore --env staging --snapshot ${SNAPSHOT}   (finds ${target}; nothing is restored twice)`);
      expect(declined.stdout).toContain(`aws rds delete-db-instance --db-instance-identifier ${target} --skip-final-snapshot, then (once it is deleted) aws logs delete-log-group --log-group-name ${group}`);
      // The new log group stays with the new instance, ours and expiring; state still names the old one.
      expect(aws.logs.groups.get(group)).toMatchObject({ retentionInDays: 7, tags: { "platform:logical-id": "data.log-group.rds" } });
      expect(state().resources["data.log-group.rds"].physicalId).toBe(logGroupOf(DB));
      expect(state().resources).toEqual(before.resources);
      expect(state().outputs).toEqual(before.outputs);
      expect(secret().host).toBe(aws.rds.instances.get(DB)!.Address);
      // down --dry-run says down would leave it: tagged as the environment's database, but state names another instance.
      const dry = await runCli(cwd, ["down", ...ENV, "--dry-run"]);
      expect(dry.stdout).toMatch(new RegExp(`not in state, so down would leave them:[\\s\\S]*db:${target}`));

      aws.cloud.calls.length = 0;
      const again = await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT, "--yes"]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`found ${target} from an earlier run of this restore`);
      expect(aws.cloud.callsTo("RestoreDBInstanceFromDBSnapshot")).toHaveLength(0);
      expect(logsMutations()).toEqual([]);
      expect(state().resources["data.database.instance"].physicalId).toBe(target);
      expect(state().resources["data.log-group.rds"].physicalId).toBe(group);
      expect(aws.rds.instances.get(DB)).toEqual(oldInstance);
      expectNoSecretValues(declined, again);
    });

    it("a rerun gives the untagged, never-expiring group RDS made for an earlier run's instance the stack's tags and retention", async () => {
      expect((await onTerminal(["db", "restore", ...ENV, "--snapshot", SNAPSHOT], "n")).code).toBe(1);
      const target = aws.cloud.callsTo("RestoreDBInstanceFromDBSnapshot")[0]!.input.DBInstanceIdentifier as string;
      const group = logGroupOf(target);
      // As a run of a platform that did not make the group first left it: RDS made it on the instance's first export.
      aws.logs.groups.delete(group);
      rdsExportsLogs();
      expect(aws.logs.groups.get(group)).toMatchObject({ tags: {} });
      aws.cloud.calls.length = 0;

      const again = await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT, "--yes"]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`${group} was created by RDS for ${target}: it gets the stack's tags and retention`);
      expect(aws.cloud.mutatingCalls().filter((c) => c.service === "logs").map((c) => c.command)).toEqual(["PutRetentionPolicy", "TagResource"]);
      expect(aws.logs.groups.get(group)).toMatchObject({ retentionInDays: 7, tags: { ...STANDARD_TAGS, "platform:logical-id": "data.log-group.rds" } });
      expect(state().resources["data.log-group.rds"]).toMatchObject({ physicalId: group, attributes: { retentionDays: 7 } });
    });
  });

  describe("platform db restore --to-time", () => {
    it("restores the current instance to a time inside its restore window, with the stack's settings, into a new instance", async () => {
      const now = Date.now();
      aws.rds.instances.get(DB)!.restoreWindow = { earliest: new Date(now - 2 * 3600_000), latest: new Date(now - 60_000) };
      oldInstance = structuredClone(aws.rds.instances.get(DB));
      const at = new Date(Math.floor((now - 3600_000) / 1000) * 1000);
      const target = `${DB}-r${stampOf(at)}`;

      const run = await runCli(cwd, ["db", "restore", ...ENV, "--to-time", at.toISOString(), "--yes"]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(aws.cloud.callsTo("DescribeDBInstanceAutomatedBackups").map((c) => c.input)).toEqual([{ DBInstanceIdentifier: DB }]);
      expect(aws.cloud.callsTo("RestoreDBInstanceToPointInTime").map((c) => c.input)).toEqual([
        expect.objectContaining({
          SourceDBInstanceIdentifier: DB,
          TargetDBInstanceIdentifier: target,
          RestoreTime: at,
          MaxAllocatedStorage: 100,
          DBInstanceClass: "db.t3.medium",
          DBSubnetGroupName: "clinical-platform-staging-db",
          DBParameterGroupName: "clinical-platform-staging-postgres16",
          StorageType: "gp3",
          PubliclyAccessible: false,
          DeletionProtection: false,
          BackupRetentionPeriod: 7,
          CopyTagsToSnapshot: true,
          EnableIAMDatabaseAuthentication: true,
        }),
      ]);
      expect(aws.cloud.callsTo("RestoreDBInstanceToPointInTime")[0]!.input).not.toHaveProperty("UseLatestRestorableTime");
      expect(logsMutations()).toEqual([`CreateLogGroup ${logGroupOf(target)}`, `PutRetentionPolicy ${logGroupOf(target)}`]);
      const order = aws.cloud.calls.map((c) => c.command);
      expect(order.indexOf("PutRetentionPolicy")).toBeLessThan(order.indexOf("RestoreDBInstanceToPointInTime"));
      // The point-in-time restore takes the autoscaling ceiling itself: the later modification does not repeat it.
      expect(rdsMutations()).toEqual([`RestoreDBInstanceToPointInTime ${target}`, `ModifyDBInstance ${target}`, `ModifyDBInstance ${target}`]);
      expect(aws.cloud.callsTo("ModifyDBInstance")[1]!.input).not.toHaveProperty("MaxAllocatedStorage");
      expect(aws.rds.instances.get(DB)).toEqual(oldInstance);
      expect(state().resources["data.database.instance"].physicalId).toBe(target);
      expect(secret().host).toBe(aws.rds.instances.get(target)!.Address);
      expectNoSecretValues(run);
    });
  });

  describe("platform db restore: bad input changes nothing", () => {
    const cases: [string, string[], RegExp][] = [
      ["both sources", ["--snapshot", SNAPSHOT, "--to-time", "2026-01-01T00:00:00Z"], /^error: --snapshot and --to-time: pass one of them/],
      ["no source", [], /^error: db restore needs --snapshot with a snapshot 'platform db snapshots --env staging' lists, or --to-time with a time such as \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /],
      ["a time without a zone", ["--to-time", "2026-01-01T00:00:00"], /^error: --to-time 2026-01-01T00:00:00: expected an ISO 8601 time with its zone/],
      ["a day that does not exist", ["--to-time", "2026-02-31T10:00:00Z"], /^error: --to-time 2026-02-31T10:00:00Z: expected an ISO 8601 time/],
      ["an hour that does not exist", ["--to-time", "2026-02-01T24:00:00+01:00"], /^error: --to-time 2026-02-01T24:00:00\+01:00: expected an ISO 8601 time/],
      ["a time in the future", ["--to-time", "2999-01-01T00:00:00Z"], /^error: --to-time 2999-01-01T00:00:00Z is in the future/],
      ["a time before the restore window", ["--to-time", "2020-01-01T00:00:00Z"], /^error: --to-time 2020-01-01T00:00:00.000Z is outside staging's restorable window, \S+ to \S+; pick a time inside it$/],
      ["an unknown snapshot", ["--snapshot", "no-such-snapshot"], /^error: --snapshot no-such-snapshot: no such snapshot in us-east-1; list them with platform db snapshots --env staging$/],
      ["a malformed snapshot id", ["--snapshot", "9-lives"], /^error: --snapshot 9-lives: expected a snapshot identifier/],
      ["--retire-old with a source", ["--retire-old", "--snapshot", SNAPSHOT], /^error: --retire-old deletes the instances earlier restores replaced; run it without/],
      ["--skip-final-snapshot without --retire-old", ["--snapshot", SNAPSHOT, "--skip-final-snapshot"], /^error: --skip-final-snapshot, --disable-deletion-protection and --force-prod go with --retire-old only$/],
    ];
    it.each(cases)("%s: one line, exit 2, no mutating call", async (_name, args, message) => {
      const run = await runCli(cwd, ["db", "restore", ...ENV, ...args, "--yes"]);
      expect(run.code).toBe(2);
      expect(run.stderr.trim()).toMatch(message);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(aws.cloud.mutatingCalls()).toEqual([]);
    });

    it("refuses when a log group not of this environment already has the restored instance's log group name", async () => {
      const group = logGroupOf(`${DB}-r${stampOf(aws.rds.snapshots.get(SNAPSHOT)!.SnapshotCreateTime)}`);
      aws.logs.groups.set(group, { logGroupName: group, creationTime: Date.now(), tags: {}, streams: new Map() });
      const run = await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT, "--yes"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(
        `error: a log group named ${group}, where ${group.split("/")[4]} would export its PostgreSQL log, exists and is not tagged as this environment's; delete it (aws logs delete-log-group --log-group-name ${group}) if nothing in it is needed, then run again\n`,
      );
      expect(aws.cloud.mutatingCalls()).toEqual([]);
      expect(aws.logs.groups.get(group)?.tags).toEqual({});
    });

    it("refuses to restore into an instance of the same name that already served and is retired: it holds what was written since", async () => {
      const target = `${DB}-r${stampOf(aws.rds.snapshots.get(SNAPSHOT)!.SnapshotCreateTime)}`;
      expect((await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT, "--yes"])).code).toBe(0);
      // As if a later restore had replaced it: the instance restored from SNAPSHOT is now a retired record.
      const doc = state();
      const statePath = path.join(cwd, "state/staging.json");
      doc.resources[`data.database.retired.${target}`] = { ...doc.resources["data.database.instance"], retired: { from: "data.database.instance", replacedBy: "another", at: "2026-11-20T00:00:00.000Z" } };
      doc.resources["data.database.instance"] = { ...doc.resources["data.database.instance"], physicalId: DB, attributes: { ...doc.resources["data.database.instance"].attributes, identifier: DB } };
      (await import("node:fs")).writeFileSync(statePath, JSON.stringify(doc));
      aws.cloud.calls.length = 0;
      const run = await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT, "--yes"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`^error: ${target} was restored from this snapshot before and served staging until 2026-11-20: it holds what was written since, not the restore point; delete it first`));
      expect(aws.cloud.mutatingCalls()).toEqual([]);
    });

    it("refuses an unencrypted snapshot (the platform promises encryption at rest) and one without a terminal to confirm on", async () => {
      aws.rds.snapshots.get(SNAPSHOT)!.Encrypted = false;
      const plain = await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT, "--yes"]);
      expect(plain.code).toBe(2);
      expect(plain.stderr).toMatch(/^error: --snapshot before-migration is not encrypted, and the platform keeps clinical data encrypted at rest; copy it with encryption/);
      const noTerminal = await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT]);
      expect(noTerminal.code).toBe(2);
      expect(noTerminal.stderr).toBe("error: not restoring: there is no terminal to confirm on; pass --yes to point the stack at the restored database\n");
      expect(aws.cloud.mutatingCalls()).toEqual([]);
    });
  });

  describe("after a restore", () => {
    let target: string;
    beforeEach(async () => {
      expect((await runCli(cwd, ["db", "restore", ...ENV, "--snapshot", SNAPSHOT, "--yes"])).code).toBe(0);
      target = state().resources["data.database.instance"].physicalId;
      rdsExportsLogs();
      aws.cloud.calls.length = 0;
    });

    it("down --dry-run counts the retired instance and its log group as recorded (down deletes them)", async () => {
      const dry = await runCli(cwd, ["down", ...ENV, "--dry-run"]);
      expect(dry.code).toBe(0);
      // Left behind on purpose: only the manual snapshot (down never deletes those).
      const left = dry.stdout.slice(dry.stdout.indexOf("not in state"));
      expect(left.split("\n").filter((l) => l.startsWith("arn:"))).toEqual([expect.stringMatching(/^arn:aws:rds:us-east-1:123456789012:snapshot:before-migration +data\.database\.snapshot$/)]);
      expect(dry.stdout).toContain(`data.database.retired.${DB}`);
      expect(dry.stdout).toContain(`data.log-group.rds.retired.${DB}`);
    });

    it("status names the retired instance with its log group, and how to delete them", async () => {
      const run = await runCli(cwd, ["status", ...ENV]);
      expect(run.stdout).toContain(`retired: database instance ${DB} (data.database.retired.${DB}) with its log group ${logGroupOf(DB)}, replaced by ${target} on `);
      expect(run.stdout).toContain("delete it with platform db restore --env staging --retire-old");
      const json = JSON.parse((await runCli(cwd, ["status", ...ENV, "--json"])).stdout);
      expect(json.retired).toEqual([{ logicalId: `data.database.retired.${DB}`, physicalId: DB, replacedBy: target, retiredAt: expect.any(String) }]);
    });

    it("--retire-old deletes only the retired instance, with a final snapshot, then its log group, and forgets them", async () => {
      const deletions = watchLogGroupDeletions();
      const run = await runCli(cwd, ["db", "restore", ...ENV, "--retire-old", "--yes"]);
      expect(run.code).toBe(0);
      expect(rdsMutations()).toEqual([`DeleteDBInstance ${DB}`]);
      expect(logsMutations()).toEqual([`DeleteLogGroup ${logGroupOf(DB)}`]);
      expect(deletions).toEqual(new Map([[DB, "gone"]]));
      expect(aws.logs.groups.has(logGroupOf(DB))).toBe(false);
      expect(aws.logs.groups.get(logGroupOf(target))?.retentionInDays).toBe(7);
      expect(state().resources["data.log-group.rds"].physicalId).toBe(logGroupOf(target));
      expect(Object.keys(state().resources).filter((id) => id.includes(".retired."))).toEqual([]);
      expect(aws.cloud.callsTo("DeleteDBInstance")[0]!.input.FinalDBSnapshotIdentifier).toMatch(new RegExp(`^${DB}-final-\\d{14}$`));
      expect(aws.rds.instances.has(DB)).toBe(false);
      expect(aws.rds.instances.get(target)?.DBInstanceStatus).toBe("available");
      expect(Object.keys(state().resources).filter((id) => id.startsWith("data.database.retired."))).toEqual([]);
      expect(state().resources["data.database.instance"].physicalId).toBe(target);

      const again = await runCli(cwd, ["db", "restore", ...ENV, "--retire-old", "--yes"]);
      expect(again.code).toBe(0);
      expect(again.stdout).toBe("staging has no retired database instances; nothing to delete\n");
    });

    it("--retire-old refuses a protected retired instance unless told to turn protection off", async () => {
      const doc = state();
      doc.resources[`data.database.retired.${DB}`].attributes.deletionProtection = true;
      aws.rds.instances.get(DB)!.DeletionProtection = true;
      const statePath = path.join(cwd, "state/staging.json");
      (await import("node:fs")).writeFileSync(statePath, JSON.stringify(doc));
      const refused = await runCli(cwd, ["db", "restore", ...ENV, "--retire-old", "--yes", "--skip-final-snapshot"]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(`error: ${DB} has deletion protection on; nothing was deleted. Run again with --disable-deletion-protection to turn it off and delete\n`);
      expect(aws.cloud.mutatingCalls()).toEqual([]);
      const done = await runCli(cwd, ["db", "restore", ...ENV, "--retire-old", "--yes", "--skip-final-snapshot", "--disable-deletion-protection"]);
      expect(done.code).toBe(0);
      expect(rdsMutations()).toEqual([`ModifyDBInstance ${DB}`, `DeleteDBInstance ${DB}`]);
      expect(aws.cloud.callsTo("DeleteDBInstance")[0]!.input).toEqual({ DBInstanceIdentifier: DB, SkipFinalSnapshot: true });
    });

    it("down deletes both the instance in use and the retired one, and both their log groups", async () => {
      const deletions = watchLogGroupDeletions();
      await runCli(cwd, ["down", ...ENV, "--yes", "--skip-final-snapshot"]);
      expect(aws.cloud.callsTo("DeleteDBInstance").map((c) => c.input.DBInstanceIdentifier).sort()).toEqual([DB, target].sort());
      expect(aws.rds.instances.size).toBe(0);
      // Each instance goes before the group it exports to (else RDS could make the group again on its last export).
      expect(deletions).toEqual(new Map([[DB, "gone"], [target, "gone"]]));
      expect([...aws.logs.groups.keys()]).toEqual([]);
      expect(Object.keys(state().resources).filter((id) => id.startsWith("data.database.") || id.startsWith("data.log-group."))).toEqual([]);
    });
  });
});

describe("production guards", () => {
  const PROD = ["--env", "prod"];
  const PROD_DB = "clinical-platform-prod-db";
  const prodState = () => JSON.parse(readFileSync(path.join(cwd, "state/prod.json"), "utf8"));
  beforeEach(async () => {
    cwd = tempProject({ prod: holdingPhi({ ...STAGING, network: { ...STAGING.network, cidr: "10.2.0.0/16" }, database: { ...STAGING.database, deletionProtection: true } }) });
    await runCli(cwd, ["up", ...PROD, "--yes"]);
    expect((await runCli(cwd, ["db", "snapshot", ...PROD, "--name", "prod-snap"])).code).toBe(0);
    aws.cloud.calls.length = 0;
  });

  it("asks for the environment's name before pointing prod at the restored instance; a wrong name changes nothing", async () => {
    const before = prodState().resources;
    const wrong = await onTerminal(["db", "restore", ...PROD, "--snapshot", "prod-snap"], "y");
    // The prompt wraps at the terminal's width: compare the words without escape codes and line breaks.
    expect(wrong.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\s+/g, " ")).toMatch(/roll the services onto \S+\? prod is a protected environment: type its name to confirm/);
    expect(wrong.code).toBe(1);
    expect(prodState().resources).toEqual(before);
    const target = aws.cloud.callsTo("RestoreDBInstanceFromDBSnapshot")[0]!.input.DBInstanceIdentifier as string;
    // Protected like the stack's instance: the way out names the protection first.
    expect(aws.cloud.callsTo("RestoreDBInstanceFromDBSnapshot")[0]!.input.DeletionProtection).toBe(true);
    expect(wrong.stdout).toContain(`aws rds modify-db-instance --db-instance-identifier ${target} --no-deletion-protection --apply-immediately, then aws rds delete-db-instance`);

    const typed = await onTerminal(["db", "restore", ...PROD, "--snapshot", "prod-snap"], "prod");
    expect(typed.code).toBe(0);
    expect(prodState().resources["data.database.instance"].physicalId).toBe(target);
    expect(rdsMutations().filter((m) => m.endsWith(` ${PROD_DB}`))).toEqual([]);
  });

  it("--retire-old in prod: --yes alone is refused; --yes --force-prod with --disable-deletion-protection deletes the retired instance", async () => {
    expect((await runCli(cwd, ["db", "restore", ...PROD, "--snapshot", "prod-snap", "--yes"])).code).toBe(0);
    aws.cloud.calls.length = 0;
    const yesOnly = await runCli(cwd, ["db", "restore", ...PROD, "--retire-old", "--yes", "--disable-deletion-protection"]);
    expect(yesOnly.code).toBe(2);
    expect(yesOnly.stderr).toBe("error: prod is a protected environment: pass --yes --force-prod to delete its retired databases without typing its name\n");
    expect(aws.cloud.mutatingCalls()).toEqual([]);
    const forced = await runCli(cwd, ["db", "restore", ...PROD, "--retire-old", "--yes", "--force-prod", "--disable-deletion-protection"]);
    expect(forced.code).toBe(0);
    expect(rdsMutations()).toEqual([`ModifyDBInstance ${PROD_DB}`, `DeleteDBInstance ${PROD_DB}`]);
  });
});
