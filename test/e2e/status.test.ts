import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { putObjectVersion } from "../fakes/s3-buckets.js";
import { pushImage } from "../fakes/ecr.js";
import { runCli, tempProject } from "../cli-harness.js";

let aws: FakeAws;
let cwd: string;
beforeEach(() => {
  aws = installFakeAws();
  cwd = tempProject();
});
afterEach(() => aws.restore());

it("status shows the database's state, endpoint and storage, bucket object counts and repository image counts", async () => {
  const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  expect(up.stderr).toBe("");
  expect(up.code).toBe(0);
  const resources = JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8")).resources;
  const raw = resources["data.bucket.raw"].physicalId;
  putObjectVersion(aws.s3, raw, "patients/1.json", { body: "{}" });
  putObjectVersion(aws.s3, raw, "patients/2.json", { body: "{}" });
  pushImage(aws.ecr, resources["data.ecr.api"].physicalId, "v1");

  const status = await runCli(cwd, ["status", "--env", "dev", "--wide"]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/data\.database\.instance\s+rds:db-instance\s+\S+\s+in sync\s+available, \S+:5432, 20 GiB gp3/);
  expect(status.stdout).toMatch(/data\.bucket\.raw\s+s3:bucket\s+\S+\s+in sync\s+2 objects/);
  expect(status.stdout).toMatch(/data\.bucket\.gold\s+s3:bucket\s+\S+\s+in sync\s+0 objects/);
  expect(status.stdout).toMatch(/data\.ecr\.api\s+ecr:repository\s+\S+\s+in sync\s+1 images/);

  const json = JSON.parse((await runCli(cwd, ["status", "--env", "dev", "--json"])).stdout);
  expect(json.resources.find((r: { logicalId: string }) => r.logicalId === "data.bucket.raw").details).toBe("2 objects");
});

it("status fits a 120-column terminal (ids shortened, details wrapped); --wide shows every id whole", async () => {
  expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
  const status = await runCli(cwd, ["status", "--env", "dev"]);
  expect(status.code).toBe(0);
  const lines = status.stdout.trimEnd().split("\n");
  expect(lines.filter((l) => l.length > 120)).toEqual([]);
  expect(lines[1]).toMatch(/^RESOURCE\s+ID\s+STATUS\s+DETAILS$/);
  // The listener's ARN, shortened in the middle; the API service's long detail wrapped onto the next lines.
  expect(status.stdout).toMatch(/compute\.listener\.http\s+listener\/\S*…\S+\s+in sync/);
  // The database's endpoint, too long for the column, goes on over two lines, whole.
  const db = lines.findIndex((l) => l.startsWith("data.database.instance "));
  expect(lines.slice(db, db + 4).map((l) => l.slice(l.lastIndexOf("  ") + 2)).join("")).toContain("clinical-platform-dev-db.c0ffee123456.us-east-1.rds.amazonaws.com:5432,");
  const api = lines.findIndex((l) => l.startsWith("compute.service.api "));
  expect(lines[api]).toMatch(/in sync\s+0 desired, 0 running, 0/);
  const next = lines.findIndex((l, i) => i > api && !l.startsWith(" "));
  expect(lines.slice(api, next).join(" ")).toMatch(/to\s+be\s+pushed/);
  expect(status.stdout).not.toContain("arn:aws:elasticloadbalancing");

  const wide = await runCli(cwd, ["status", "--env", "dev", "--wide"]);
  expect(wide.stdout).toMatch(/^RESOURCE\s+TYPE\s+ID\s+STATUS\s+DETAILS$/m);
  expect(wide.stdout).toMatch(/compute\.listener\.http\s+elbv2:listener\s+arn:aws:elasticloadbalancing:us-east-1:123456789012:listener\/app\/clinical-platform-dev-alb\/\w+\/\w+\s+in sync/);
  expect(wide.stdout).toContain("waiting for 123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev/api:latest to be pushed");
});
