import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { optOutOfKeysIn } from "../helpers.js";

/**
 * A forged state: staging's state file copied to dev's name and edited to say dev. `down --env dev` must not touch
 * anything of staging's: tagged resources are refused by their tags, and untagged children (route-table associations,
 * routes, bucket settings, the ECR lifecycle policy, secret fields, e-mail subscriptions) by their parents, whose tags,
 * read from AWS, say staging.
 */
let aws: FakeAws;
let cwd: string;
beforeEach(() => {
  aws = installFakeAws();
  cwd = tempProject();
  optOutOfKeysIn(cwd, "staging");
});
afterEach(() => aws.restore());

// One untagged child of each type staging has, with the parents it names.
const UNTAGGED_CHILDREN = [
  "network.route-table-association.public-a",
  "network.route.public-default",
  "data.bucket.raw.encryption",
  "data.bucket.raw.policy",
  "data.ecr.api.lifecycle",
  "secrets.database-credentials.connection",
];

async function forgeFromStaging(pick: (resources: Record<string, { type: string; dependsOn: string[] }>) => string[]) {
  const up = await runCli(cwd, ["up", "--env", "staging", "--yes"]);
  expect(up.code, up.stdout + up.stderr).toBe(0);
  const staging = JSON.parse(readFileSync(path.join(cwd, "state", "staging.json"), "utf8")) as Record<string, unknown> & { resources: Record<string, { type: string; dependsOn: string[] }> };
  const keep = new Set(pick(staging.resources));
  const resources = Object.fromEntries(Object.entries(staging.resources).filter(([id]) => keep.has(id)));
  const forged = JSON.stringify({ ...staging, environment: "dev", resources, outputs: {} });
  writeFileSync(path.join(cwd, "state", "dev.json"), forged, { mode: 0o600 });
  aws.cloud.calls.length = 0;
}

describe("down never touches what is not provably ours", () => {
  it.each(UNTAGGED_CHILDREN)("a forged state recording staging's %s (and its parents) as dev's: down refuses it and changes nothing", async (child) => {
    await forgeFromStaging((resources) => {
      expect(resources[child], `staging records ${child}`).toBeDefined();
      return [child, ...resources[child]!.dependsOn];
    });
    const down = await runCli(cwd, ["down", "--env", "dev", "--yes"]);
    expect(down.code, down.stdout + down.stderr).not.toBe(0);
    expect(aws.cloud.mutatingCalls().map((c) => `${c.service}:${c.command}`)).toEqual([]);
    expect(down.stdout + down.stderr).toContain(`${child} (`);
    expect(down.stdout + down.stderr).toMatch(/carries no tags and hangs on no resource whose tags prove it this environment's/);
    const plan = await runCli(cwd, ["plan", "--env", "staging", "--detailed-exitcode"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
  });

  it("the same child alone in the forged state (no parent recorded) is refused too", async () => {
    await forgeFromStaging(() => ["network.route-table-association.private-a"]);
    const down = await runCli(cwd, ["down", "--env", "dev", "--yes"]);
    expect(down.code).not.toBe(0);
    expect(aws.cloud.mutatingCalls()).toEqual([]);
    expect(down.stdout + down.stderr).toMatch(/network\.route-table-association\.private-a \(rtbassoc-[0-9a-f]+\) carries no tags/);
  });
  it("refuses every resource of a state forged from another environment's, untagged children included, and changes nothing", async () => {
    const up = await runCli(cwd, ["up", "--env", "staging", "--yes"]);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const staging = JSON.parse(readFileSync(path.join(cwd, "state", "staging.json"), "utf8")) as Record<string, unknown> & { resources: Record<string, { type: string }> };
    const forged = JSON.stringify({ ...staging, environment: "dev" }).replaceAll('"environment":"staging"', '"environment":"dev"');
    writeFileSync(path.join(cwd, "state", "dev.json"), forged, { mode: 0o600 });
    aws.cloud.calls.length = 0;

    const down = await runCli(cwd, ["down", "--env", "dev", "--yes"]);
    expect(down.code, down.stdout + down.stderr).not.toBe(0);
    expect(aws.cloud.mutatingCalls().map((c) => `${c.service}:${c.command}`)).toEqual([]);
    // And staging is whole: its own plan is clean.
    const plan = await runCli(cwd, ["plan", "--env", "staging", "--detailed-exitcode"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
  });
});
