import { it, expect } from "vitest";
import { installFakeAws } from "../fakes/index.js";
import { memoryIo, tempProject } from "../cli-harness.js";
import { main } from "../../src/cli.js";
import { TEST_WAITS } from "../helpers.js";

it("smoke", async () => {
  const aws = installFakeAws();
  const cwd = tempProject();
  const io = memoryIo();
  (io.stdin as any).isTTY = true;
  (io.stdout as any).isTTY = true;
  (io.stdin as any).setRawMode = () => io.stdin;
  const p = main(["bootstrap-secrets", "--env", "dev", "--set-secret", "app-secret-key"], io, { cwd, waits: TEST_WAITS });
  await new Promise((r) => setTimeout(r, 200));
  console.log("OUT so far", JSON.stringify(io.out()));
  (io.stdin as any).write("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789\n");
  const code = await p;
  console.log(code, JSON.stringify(io.out()), io.err());
  aws.restore();
});
