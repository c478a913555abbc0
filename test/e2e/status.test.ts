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

  const status = await runCli(cwd, ["status", "--env", "dev"]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/data\.database\.instance\s+rds:db-instance\s+\S+\s+in sync\s+available, \S+:5432, 20 GiB gp3/);
  expect(status.stdout).toMatch(/data\.bucket\.raw\s+s3:bucket\s+\S+\s+in sync\s+2 objects/);
  expect(status.stdout).toMatch(/data\.bucket\.gold\s+s3:bucket\s+\S+\s+in sync\s+0 objects/);
  expect(status.stdout).toMatch(/data\.ecr\.api\s+ecr:repository\s+\S+\s+in sync\s+1 images/);

  const json = JSON.parse((await runCli(cwd, ["status", "--env", "dev", "--json"])).stdout);
  expect(json.resources.find((r: { logicalId: string }) => r.logicalId === "data.bucket.raw").details).toBe("2 objects");
});
