import { afterEach, beforeEach, it, vi } from "vitest";
vi.mock("../../src/stack/database.js", () => ({ addDatabase: () => undefined }));
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { runCli, tempProject } from "../cli-harness.js";
const DEV = { project: "clinical-platform", region: "us-east-1", network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: true, trafficType: "REJECT" } }, logs: { retentionDays: 7 } };
let aws: FakeAws; let cwd: string;
beforeEach(() => { aws = installFakeAws(); cwd = tempProject({ dev: DEV }); });
afterEach(() => aws.restore());
it("warm", async () => { await runCli(cwd, ["up", "--env", "dev", "--yes"]); await runCli(cwd, ["down", "--env", "dev", "--yes"]); });
for (const i of [1,2,3]) it("lock" + i, async () => {
  const t0 = Date.now();
  const first = runCli(cwd, ["up", "--env", "dev", "--yes"]);
  await new Promise((r) => setTimeout(r, 5));
  const second = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  const f = await first;
  console.log("second", second.code, Date.now() - t0, second.stderr.slice(0, 120), "| first", f.code, f.stderr.slice(0, 300), aws.rds.instances.size);
});
