import { it } from "vitest";
import { existsSync } from "node:fs";
if (existsSync("/dev/shm")) process.env.TMPDIR = "/dev/shm";
import { installFakeAws } from "../fakes/index.js";
import { runCli, tempProject } from "../cli-harness.js";
import { inventory } from "./convergence.js";
it("probe", async () => {
  for (let k = 0; k < 4; k++) {
    const aws = installFakeAws();
    const cwd = tempProject();
    const t: number[] = [Date.now()];
    await runCli(cwd, ["up", "--env", "dev", "--yes"]); t.push(Date.now());
    await runCli(cwd, ["up", "--env", "dev", "--yes"]); t.push(Date.now());
    await runCli(cwd, ["status", "--env", "dev", "--json"]); t.push(Date.now());
    await inventory(); t.push(Date.now());
    await runCli(cwd, ["state", "unlock", "--env", "dev", "--force"]); t.push(Date.now());
    const n = aws.cloud.calls.length;
    await runCli(cwd, ["down", "--env", "dev", "--yes"]); t.push(Date.now());
    const m = aws.cloud.calls.length - n;
    await runCli(cwd, ["down", "--env", "dev", "--yes"]); t.push(Date.now());
    console.log("up, up-noop, status, inventory, unlock, down, down-noop:", t.slice(1).map((x, i) => x - t[i]).join(" "), "down calls", m);
    aws.restore();
  }
}, 60000);
