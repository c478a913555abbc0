import { afterEach, describe, expect, it } from "vitest";
import path from "node:path";
import { runCli, runOnTerminal, tempProject, withoutGuardNotice } from "../cli-harness.js";
import { LocalBackend } from "../../src/state/local.js";
import { newLockInfo } from "../../src/state/lock.js";
import { pushImage } from "../fakes/ecr.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

const DEV = {
  project: "clinical-platform",
  region: "us-east-1",
  network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: false } },
  logs: { retentionDays: 7 },
};

let aws: FakeAws;
afterEach(() => aws?.restore());
const calls = (command: string) => aws.cloud.callsTo(command);
const apiService = () => [...aws.ecs.services.values()].find((s) => s.serviceName === "api" && s.status === "ACTIVE");

describe("first run: no task of an image that is not in ECR", () => {
  it("an update that changes only the network settings keeps a service without image at 0 tasks and does not wait", async () => {
    aws = installFakeAws();
    const cwd = tempProject({ dev: DEV });
    const first = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(first.code, first.stderr).toBe(0);
    expect(apiService()).toMatchObject({ desiredCount: 0 });
    aws.cloud.calls.length = 0;
    const nat = await runCli(cwd, ["up", "--env", "dev", "--yes", "--set", "network.natGateway=true"]);
    expect(nat.code, nat.stderr).toBe(0);
    expect(apiService()).toMatchObject({ desiredCount: 0 });
    expect(calls("RunTask")).toEqual([]);
  });
});

describe("first run: up ends with what to do next", () => {
  it("prints the API URL, the repositories and the exact push and deploy commands; --json carries them in the document", async () => {
    aws = installFakeAws();
    const cwd = tempProject({ dev: DEV });
    const first = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(first.code, first.stderr).toBe(0);
    const uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev/api";
    const tail = first.stdout.slice(first.stdout.indexOf("Apply complete"));
    expect(tail).toMatch(/api_url\s+= http:\/\/\S+/);
    expect(tail).toContain(`ecr_repository_api_url`);
    expect(tail).toContain(`  docker push ${uri}:latest\n  platform deploy --env dev --service api --image latest\n`);
    expect(tail).not.toMatch(/<[a-z]+>|ENV\b|TAG\b/);

    const json = await runCli(cwd, ["up", "--env", "dev", "--yes", "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.next.outputs.api_url).toMatch(/^http:\/\//);
    expect(doc.next.waitingForImages.find((w: { workload: string }) => w.workload === "api")).toMatchObject({ image: `${uri}:latest`, tag: "latest", commands: expect.arrayContaining([`docker push ${uri}:latest`, "platform deploy --env dev --service api --image latest"]) });
    expect(json.stderr).not.toContain("docker push");

    // Pushed and deployed: no push step any more, the URL to call instead.
    pushImage(aws.ecr, "clinical-platform-dev/api", "latest");
    pushImage(aws.ecr, "clinical-platform-dev/worker", "latest");
    pushImage(aws.ecr, "clinical-platform-dev/dbt-runner", "latest");
    const after = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).not.toContain("docker push");
    expect(after.stdout).toMatch(/The API answers at http:\/\/\S+/);
  });
});

describe("declining a confirmation", () => {
  it("exits 1 with one line saying what was not done, for up, down and state unlock alike, and changes nothing", async () => {
    aws = installFakeAws();
    const cwd = tempProject({ dev: DEV });
    const up = await runOnTerminal(cwd, ["up", "--env", "dev"], "n");
    expect(up.stdout).toMatch(/Apply these changes to dev\?/);
    expect([up.code, withoutGuardNotice(up.stderr)]).toEqual([1, "error: not confirmed: nothing was changed\n"]);
    expect(aws.cloud.mutatingCalls()).toEqual([]);

    expect((await runCli(cwd, ["up", "--env", "dev", "--yes"])).code).toBe(0);
    aws.cloud.calls.length = 0;
    const down = await runOnTerminal(cwd, ["down", "--env", "dev"], "n");
    expect(down.stdout).toMatch(/Delete \d+ resources of dev\?/);
    expect([down.code, withoutGuardNotice(down.stderr)]).toEqual([1, "error: not confirmed: nothing was deleted\n"]);
    expect(aws.cloud.mutatingCalls()).toEqual([]);

    const backend = new LocalBackend(path.join(cwd, "state/dev.json"), cwd);
    await backend.lock(newLockInfo("up --env dev"));
    const unlock = await runOnTerminal(cwd, ["state", "unlock", "--env", "dev"], "n");
    expect([unlock.code, withoutGuardNotice(unlock.stderr)]).toEqual([1, "error: not confirmed: the lock on state/dev.json is left in place\n"]);
    expect(await backend.readLock()).toBeDefined();
  });
});
