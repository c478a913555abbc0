import { it } from "vitest";
import { installFakeAws } from "../fakes/index.js";
import { runCli, tempProject } from "../cli-harness.js";
it("probe", async () => {
  const aws = installFakeAws();
  const cwd = tempProject();
  for (let k = 0; k < 4; k++) {
    let t = Date.now(); let c = process.cpuUsage();
    await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    let cu = process.cpuUsage(c);
    console.log("up wall", Date.now() - t, "cpu", Math.round((cu.user + cu.system) / 1000));
    t = Date.now(); c = process.cpuUsage();
    await runCli(cwd, ["down", "--env", "dev", "--yes"]);
    cu = process.cpuUsage(c);
    console.log("down wall", Date.now() - t, "cpu", Math.round((cu.user + cu.system) / 1000));
  }
  aws.restore();
}, 60000);
