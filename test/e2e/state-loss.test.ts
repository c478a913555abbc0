import { rmSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempProject } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { expectConverged, expectGone } from "./convergence.js";

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

describe("state lost mid-way through a first up", () => {
  it.each([8, 30, 60, 95])("killed after mutating call %i, state deleted: up adopts what the killed run made and creates only the rest, once", async (point) => {
    const { runKilledAfter } = await import("./crash-harness.js");
    await runKilledAfter(aws, cwd, UP, point);
    rmSync(stateFile(), { force: true });
    expect((await runCli(cwd, ["state", "unlock", "--env", "dev", "--force"])).code).toBe(0);
    const plan = await runCli(cwd, ["plan", "--env", "dev", "--json"]);
    expect(plan.code, plan.stderr).toBe(0);
    const body = JSON.parse(plan.stdout) as { resources: { logicalId: string; action: string }[] };
    expect(body.resources.filter((r) => r.action === "replace").map((r) => r.logicalId)).toEqual([]);
    const up = await runCli(cwd, UP);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    await expectConverged(aws, cwd);
  });
});

describe("down right after a killed first up", () => {
  it.each([8, 30, 60, 95, 120])("killed after mutating call %i: down alone removes everything of the environment", async (point) => {
    const { runKilledAfter } = await import("./crash-harness.js");
    await runKilledAfter(aws, cwd, UP, point);
    expect((await runCli(cwd, ["state", "unlock", "--env", "dev", "--force"])).code).toBe(0);
    const down = await runCli(cwd, ["down", "--env", "dev", "--yes"]);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    await expectGone(aws, cwd);
  });

  it.each([8, 60, 120])("killed after mutating call %i and state deleted: down alone removes everything of the environment", async (point) => {
    const { runKilledAfter } = await import("./crash-harness.js");
    await runKilledAfter(aws, cwd, UP, point);
    rmSync(stateFile(), { force: true });
    expect((await runCli(cwd, ["state", "unlock", "--env", "dev", "--force"])).code).toBe(0);
    const down = await runCli(cwd, ["down", "--env", "dev", "--yes"]);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    await expectGone(aws, cwd);
  });
});

/** Sets Environment=staging on whatever the fake holds with the logical id's tag (any service's state, any tag shape). */
function retagAsStaging(aws: FakeAws, logicalId: string): number {
  let changed = 0;
  const visit = (value: unknown) => {
    if (!value || typeof value !== "object") return;
    const v = value as Record<string, unknown>;
    for (const key of ["tags", "Tags", "TagList"]) {
      const tags = v[key];
      if (Array.isArray(tags)) {
        if (tags.some((t: { Key?: string; Value?: string }) => t.Key === "platform:logical-id" && t.Value === logicalId)) {
          for (const t of tags as { Key?: string; Value?: string }[]) if (t.Key === "Environment") t.Value = "staging";
          changed += 1;
        }
      } else if (tags && typeof tags === "object" && (tags as Record<string, string>)["platform:logical-id"] === logicalId) {
        (tags as Record<string, string>).Environment = "staging";
        changed += 1;
      }
    }
  };
  for (const service of Object.values(aws)) {
    if (!service || typeof service !== "object") continue;
    for (const member of Object.values(service as Record<string, unknown>)) if (member instanceof Map) for (const v of member.values()) visit(v);
  }
  return changed;
}

describe("state lost, and what has the name is not ours", () => {
  const NAME_KEYED = [
    "data.bucket.raw",
    "data.log-group.ecs",
    "compute.role.task-execution",
    "data.ecr.api",
    "compute.cluster",
    "compute.service.api",
    "compute.task-definition.api",
    "compute.load-balancer",
    "compute.target-group.api",
    "compute.listener.http",
    "data.database.instance",
    "data.database.subnet-group",
    "data.database.parameter-group",
    "ops.alarm-topic",
  ];
  it.each(NAME_KEYED)("%s tagged as another environment's: plan and up stop with exit 2 naming it and the tag, and change nothing", async (logicalId) => {
    expect((await runCli(cwd, UP)).code).toBe(0);
    rmSync(stateFile());
    expect(retagAsStaging(aws, logicalId), "the fake holds it").toBeGreaterThan(0);
    aws.cloud.calls.length = 0;
    const plan = await runCli(cwd, ["plan", "--env", "dev"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    expect(plan.stderr).toContain(`${logicalId}: `);
    expect(plan.stderr).toMatch(/is not this environment's \(tag Environment is "staging", want "dev"\); nothing was changed/);
    const up = await runCli(cwd, UP);
    expect(up.code, up.stdout + up.stderr).toBe(2);
    expect(up.stderr).toContain(`${logicalId}: `);
    expect(aws.cloud.mutatingCalls().map((c) => c.command)).toEqual([]);
  });
});
