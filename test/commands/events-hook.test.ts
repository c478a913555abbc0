import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import type { EngineEvent } from "../../src/engine/events.js";
import { memoryIo, tempProject, withoutGuardNotice } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { TEST_WAITS } from "../helpers.js";

/** MainOptions.events: how the benchmark times each resource of up, down, plan and status. */
const DEV = { project: "clinical-platform", region: "us-east-1", network: { cidr: "10.0.0.0/16" } };

let aws: FakeAws;
let cwd: string;

beforeEach(() => {
  aws = installFakeAws();
  cwd = tempProject({ dev: DEV });
});
afterEach(() => aws.restore());

async function run(args: string[]) {
  const events: EngineEvent[] = [];
  const io = memoryIo();
  const code = await main([...args, "--env", "dev"], io, { cwd, waits: TEST_WAITS, events: (e) => events.push(e) });
  const ids = (kind: EngineEvent["kind"], action: string) => events.flatMap((e) => (e.kind === kind && "action" in e && e.action === action ? [e.logicalId] : []));
  return { code, events, ids, stdout: io.out(), stderr: withoutGuardNotice(io.err()) };
}

describe("MainOptions.events", () => {
  it("receives every finder's read, then every change, of up; down's deletes; status's and plan's reads only", async () => {
    const up = await run(["up", "--yes"]);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    const created = up.ids("done", "create");
    expect(created).toContain("network.vpc");
    expect(new Set(up.ids("start", "read"))).toEqual(new Set(created));
    expect(new Set(up.ids("done", "read"))).toEqual(new Set(created));
    // The observe sweep finishes before the first change starts.
    const lastRead = up.events.findLastIndex((e) => e.kind === "done" && e.action === "read");
    const firstCreate = up.events.findIndex((e) => e.kind === "start" && e.action === "create");
    expect(lastRead).toBeLessThan(firstCreate);
    // The progress view still shows changes only, not the reads.
    expect(up.stdout).toMatch(/network\.vpc: creating/);
    expect(up.stdout).not.toMatch(/reading/);

    for (const command of [["status"], ["plan"]]) {
      const observed = await run(command);
      expect(observed.code).toBe(0);
      expect(new Set(observed.ids("done", "read"))).toEqual(new Set(created));
      expect(observed.events.every((e) => (e.kind === "start" || e.kind === "done") && e.action === "read")).toBe(true);
    }

    const down = await run(["down", "--yes"]);
    expect(down.code).toBe(0);
    expect(new Set(down.ids("done", "delete"))).toEqual(new Set(created));
  });
});
