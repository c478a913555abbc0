import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

const DEV = {
  project: "clinical-platform",
  region: "us-east-1",
  tags: { CostCenter: "data-platform" },
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
};
const DB = "clinical-platform-dev-db";

let aws: FakeAws;
let cwd: string;
beforeEach(async () => {
  aws = installFakeAws();
  cwd = tempProject({ dev: DEV });
  // up's own exit code is not asserted: layers still being written elsewhere may fail in the fake; the database must exist.
  await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(aws.rds.instances.get(DB)?.DBInstanceStatus).toBe("available");
  aws.cloud.calls.length = 0;
});
afterEach(() => aws.restore());

describe("platform db snapshot", () => {
  it("takes a tagged manual snapshot of the recorded instance, waits until available, and says so", async () => {
    const run = await runCli(cwd, ["db", "snapshot", "--env", "dev", "--name", "before-migration"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(aws.cloud.callsTo("CreateDBSnapshot").map((c) => c.input)).toEqual([
      {
        DBSnapshotIdentifier: "before-migration",
        DBInstanceIdentifier: DB,
        Tags: expect.arrayContaining([
          { Key: "Project", Value: "clinical-platform" },
          { Key: "Environment", Value: "dev" },
          { Key: "ManagedBy", Value: "platform" },
          { Key: "platform:logical-id", Value: "data.database.snapshot" },
          { Key: "CostCenter", Value: "data-platform" },
          // classified as the instance is, whatever the environment's default classification
          { Key: "DataClassification", Value: "PHI" },
        ]),
      },
    ]);
    expect(aws.rds.snapshots.get("before-migration")).toMatchObject({ Status: "available", DBInstanceIdentifier: DB });
    expect(run.stdout).toContain(`Taking snapshot before-migration of ${DB}`);
    expect(run.stdout).toMatch(/✔ snapshot before-migration is available \(20 GiB\)/);
    // The instance itself is not touched.
    expect(aws.cloud.mutatingCalls().map((c) => c.command)).toEqual(["CreateDBSnapshot"]);
  });

  it("names it <identifier>-manual-<yyyymmddhhmm> by default", async () => {
    expect((await runCli(cwd, ["db", "snapshot", "--env", "dev"])).code).toBe(0);
    expect(aws.cloud.callsTo("CreateDBSnapshot")[0]!.input.DBSnapshotIdentifier).toMatch(new RegExp(`^${DB}-manual-\\d{12}$`));
  });

  it("refuses an invalid or taken name with one line", async () => {
    const bad = await runCli(cwd, ["db", "snapshot", "--env", "dev", "--name", "9-lives"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --name 9-lives: a snapshot identifier is 1–255 letters/);
    expect(aws.cloud.calls).toEqual([]);
    expect((await runCli(cwd, ["db", "snapshot", "--env", "dev", "--name", "snap"])).code).toBe(0);
    const taken = await runCli(cwd, ["db", "snapshot", "--env", "dev", "--name", "snap"]);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toBe("error: snapshot snap already exists; pass another --name\n");
  });
});

describe("platform db snapshots", () => {
  it("lists manual, automated and final snapshots, newest first, with time, size and status (table and --json)", async () => {
    expect((await runCli(cwd, ["db", "snapshot", "--env", "dev", "--name", "manual-one"])).code).toBe(0);
    const base = { ...aws.rds.snapshots.get("manual-one")! };
    aws.rds.snapshots.set("rds:auto-1", { ...base, DBSnapshotIdentifier: "rds:auto-1", SnapshotType: "automated", SnapshotCreateTime: new Date("2026-01-01T03:00:00Z"), Tags: {} });
    aws.rds.snapshots.set(`${DB}-final-20260102000000`, { ...base, DBSnapshotIdentifier: `${DB}-final-20260102000000`, SnapshotCreateTime: new Date("2026-01-02T00:00:00Z"), AllocatedStorage: 30 });
    aws.rds.snapshots.set("other", { ...base, DBSnapshotIdentifier: "other", DBInstanceIdentifier: "someone-else" });

    const json = await runCli(cwd, ["db", "snapshots", "--env", "dev", "--json"]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.database).toBe(DB);
    expect(doc.snapshots).toEqual([
      { id: "manual-one", kind: "manual", created: expect.any(String), sizeGiB: 20, status: "available" },
      { id: `${DB}-final-20260102000000`, kind: "final", created: "2026-01-02T00:00:00.000Z", sizeGiB: 30, status: "available" },
      { id: "rds:auto-1", kind: "automated", created: "2026-01-01T03:00:00.000Z", sizeGiB: 20, status: "available" },
    ]);
    expect(aws.cloud.callsTo("DescribeDBSnapshots").at(-1)!.input).toEqual({ DBInstanceIdentifier: DB });

    const table = await runCli(cwd, ["db", "snapshots", "--env", "dev"]);
    expect(table.stdout).toMatch(/rds:auto-1 +automated +2026-01-01 03:00:00 +20 GiB +available/);
    expect(table.stdout).toMatch(new RegExp(`${DB}-final-20260102000000 +final +2026-01-02 00:00:00 +30 GiB`));
  });
});

describe("platform db snapshots after down", () => {
  it("finds the final snapshot by the database's identifier though state records nothing, and says how to restore it", async () => {
    const down = await runCli(cwd, ["down", "--env", "dev", "--yes", "--delete-data"]);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    const [final] = [...aws.rds.snapshots.keys()].filter((id) => id.startsWith(`${DB}-final-`));
    expect(final).toBeDefined();
    const base = aws.rds.snapshots.get(final!)!;
    aws.rds.snapshots.set("someone-elses", { ...base, DBSnapshotIdentifier: "someone-elses", DBInstanceIdentifier: "clinical-platform-dev-dbx" });

    const table = await runCli(cwd, ["db", "snapshots", "--env", "dev"]);
    expect(table.stderr).toBe("");
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`${final} +final +\\S+ \\S+ +20 GiB +available`));
    expect(table.stdout).not.toContain("someone-elses");
    expect(table.stdout).toContain(`dev has no database now (it was taken down). To restore ${final}: platform up --env dev, then platform db restore --env dev --snapshot ${final}`);

    const json = JSON.parse((await runCli(cwd, ["db", "snapshots", "--env", "dev", "--json"])).stdout);
    expect(json).toMatchObject({ database: DB, deployed: false, restore: ["platform up --env dev", `platform db restore --env dev --snapshot ${final}`] });
    expect(json.snapshots.map((s: { id: string; kind: string }) => [s.id, s.kind])).toEqual([[final, "final"]]);

    // The two commands it names work.
    expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
    const restore = await runCli(cwd, ["db", "restore", "--env", "dev", "--snapshot", final!, "--yes"]);
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    expect(aws.cloud.callsTo("RestoreDBInstanceFromDBSnapshot").at(-1)!.input).toMatchObject({ DBSnapshotIdentifier: final });
  });
});
