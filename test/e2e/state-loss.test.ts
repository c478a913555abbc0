import { rmSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { expectConverged } from "./convergence.js";

/**
 * Adoption happens in `find`: with the state file gone, every resource of the stack is found again (by its tags, or by
 * the name it would be created with and the tags on what has that name), so `plan` reports adoptions and no creates,
 * and `up` makes no Create call.
 */
let aws: FakeAws;
let cwd: string;
beforeEach(() => {
  aws = installFakeAws();
  cwd = tempProject();
});
afterEach(() => aws.restore());

const UP = ["up", "--env", "dev", "--yes"];
const stateFile = () => path.join(cwd, "state", "dev.json");
const creates = () => aws.cloud.mutatingCalls().filter((c) => /^(Create|Register|Allocate|Run|Put|Associate|Authorize|Attach|Replace)/.test(c.command) && !/^Put(Retention|BucketTagging|Tags)/.test(c.command));

describe("state lost after up", () => {
  it("plan adopts every resource (no create, no replace) and up makes no Create call", async () => {
    expect((await runCli(cwd, UP)).code).toBe(0);
    rmSync(stateFile());
    const plan = await runCli(cwd, ["plan", "--env", "dev", "--json", "--detailed-exitcode"]);
    const body = JSON.parse(plan.stdout) as { resources: { logicalId: string; action: string; reason?: string }[] };
    const wrong = body.resources.filter((r) => r.action !== "noop" && r.action !== "update").map((r) => `${r.logicalId}: ${r.action}`);
    expect(wrong, plan.stderr).toEqual([]);
    const updates = body.resources.filter((r) => r.action === "update").map((r) => r.logicalId);
    expect(updates, "nothing but tag repairs would change").toEqual([]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(body.resources.every((r) => r.reason === "found by its tags: adopted into state")).toBe(true);

    aws.cloud.calls.length = 0;
    const up = await runCli(cwd, UP);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(aws.cloud.mutatingCalls().map((c) => c.command)).toEqual([]);
    await expectConverged(aws, cwd);
    const again = await runCli(cwd, ["plan", "--env", "dev", "--detailed-exitcode"]);
    expect(again.code, again.stdout).toBe(0);
  });
});
