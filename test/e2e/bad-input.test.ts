import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConfigSource } from "../../src/config/load.js";
import { runCli, tempProject } from "../cli-harness.js";
import { BAD_ARGS, BAD_CONFIGS } from "../fixtures/bad-input.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

/**
 * Bad input, end to end: every malformed config, flag, environment name, --set value and state file the CLI can be
 * given exits 2 with one line naming the problem, and makes no AWS call that changes anything. The config and flag
 * cases are shared with the unit tests of their layers (test/fixtures/bad-input.ts); the state-file cases are here.
 */
let aws: FakeAws;
beforeEach(() => (aws = installFakeAws()));
afterEach(() => aws.restore());

/** A project whose config/ holds `files` as raw text (malformed JSON included). */
function projectWith(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-bad-input-"));
  mkdirSync(path.join(dir, "config"));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, "config", name), text);
  return dir;
}

/** The command line that loads `source`; `up --yes`, so a mistake would be one that changes AWS. */
function argsFor(source: Omit<ConfigSource, "cwd">): string[] {
  return [
    "up",
    "--yes",
    ...(source.env !== undefined ? ["--env", source.env] : []),
    ...(source.file !== undefined ? ["--config", source.file] : []),
    ...(source.region !== undefined ? ["--region", source.region] : []),
    ...(source.sets ?? []).flatMap((s) => ["--set", s]),
  ];
}

/** A valid state document of the repo's dev environment in the fake's account and region, with `changes` applied. */
const devState = (changes: Record<string, unknown> = {}) =>
  JSON.stringify({
    version: 1,
    lineage: "6f1c1e52-3c0e-4a53-9a43-2f3c9d3c2b10",
    serial: 7,
    project: "clinical-platform",
    environment: "dev",
    region: "us-east-1",
    accountId: "123456789012",
    resources: {},
    outputs: {},
    ...changes,
  });

/** A database record as up writes it, with `changes` applied: the forged field among valid ones. */
const forgedDb = (changes: Record<string, unknown>) => ({
  type: "rds:db-instance",
  physicalId: "clinical-platform-dev-db",
  attributes: { identifier: "clinical-platform-dev-db", arn: "arn:aws:rds:us-east-1:123456789012:db:clinical-platform-dev-db", dbSubnetGroupName: "clinical-platform-dev-db", ...changes },
  dependsOn: [],
});

/** A bad state: [name, what state/dev.json holds (a string is written as is; null makes it a directory), the message]. */
const BAD_STATES: [string, string | null, RegExp][] = [
  ["a state file cut short", devState().slice(0, 40), /state\/dev.json: corrupted state \(not JSON/],
  ["an empty state file", "", /state\/dev.json: corrupted state \(not JSON/],
  ["binary garbage as state", "\u0000\u0001\u0002PK\u0003\u0004", /state\/dev.json: corrupted state \(not JSON/],
  ["a JSON array as state", "[]", /state\/dev.json: not a platform state file/],
  ["a JSON object that is not a state", '{"hello":"world"}', /state\/dev.json: not a platform state file/],
  ["a Terraform state", JSON.stringify({ version: 4, terraform_version: "1.9.5", serial: 3, lineage: "x", outputs: {}, resources: [] }), /state\/dev.json: not a platform state file/],
  ["resources that are not a map", devState({ resources: [] }), /state\/dev.json: not a platform state file/],
  ["a newer state format", devState({ version: 99 }), /state\/dev.json: state format 99 is newer than this platform understands \(1\); upgrade platform/],
  ["a state of another AWS account", devState({ accountId: "999999999999" }), /state\/dev.json: this state belongs to accountId "999999999999", not "123456789012"/],
  ["a state of another region", devState({ region: "eu-west-1" }), /state\/dev.json: this state belongs to region "eu-west-1", not "us-east-1"/],
  ["a state of another environment", devState({ environment: "prod" }), /state\/dev.json: this state belongs to environment "prod", not "dev"/],
  ["a state of another project", devState({ project: "billing" }), /state\/dev.json: this state belongs to project "billing", not "clinical-platform"/],
  ["a directory where the state file should be", null, /state\/dev.json: .*directory/],
  [
    "a forged id where a name belongs (crashed plan/up with toLowerCase is not a function)",
    devState({ resources: { "data.database.instance": forgedDb({ dbSubnetGroupName: 42 }) } }),
    /state\/dev.json: invalid state: resources\.data\.database\.instance\.attributes\.dbSubnetGroupName: expected a string, found number\. The state was changed outside platform: restore it from a backup/,
  ],
  [
    "a recorded resource ARN of another account",
    devState({ resources: { "data.database.instance": forgedDb({ arn: "arn:aws:rds:us-east-1:999999999999:db:clinical-platform-dev-db" }) } }),
    /invalid state: resources\.data\.database\.instance\.attributes\.arn: names account 999999999999, not this state's 123456789012/,
  ],
  [
    "an id of the wrong kind",
    devState({ resources: { "network.vpc": { type: "ec2:vpc", physicalId: "vpc-1", attributes: { vpcId: "i-0abc" }, dependsOn: [] } } }),
    /invalid state: resources\.network\.vpc\.attributes\.vpcId: expected an id starting with vpc-/,
  ],
  [
    "a recorded deployment of an image from elsewhere",
    devState({ deployments: { api: { image: "evil.example.com/miner:latest", configImageTag: "latest", taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/clinical-platform-dev-api:3", deployedAt: "2026-12-01T00:00:00Z" } } }),
    /state\/dev.json: invalid state: deployments\.api\.image: evil\.example\.com\/miner:latest is neither in this environment's ECR \(123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/clinical-platform-dev\/\.\.\.\) nor, by digest, under images\.allowedRegistries/,
  ],
];

/** Flags and names beyond the shared ones. */
const MORE_ARGS: [string, string[], RegExp][] = [
  ["an unknown command", ["upp"], /^error: unknown command 'upp'/],
  ["an unknown flag", ["up", "--env", "dev", "--yess"], /^error: unknown option '--yess'/],
  ["a flag without its value", ["up", "--env"], /^error: option '-e, --env <name>' argument missing/],
  ["a --concurrency above the limit", ["up", "--env", "dev", "--yes", "--concurrency", "65"], /^error: --concurrency 65: expected a whole number from 1 to 64/],
  ["a fractional --concurrency", ["up", "--env", "dev", "--yes", "--concurrency", "2.5"], /^error: --concurrency 2.5: expected a whole number from 1 to 64/],
  ["a negative --lock-timeout", ["down", "--env", "dev", "--yes", "--lock-timeout", "-5"], /^error: --lock-timeout -5: expected a number of seconds, 0 or more/],
  ["an environment name with a slash", ["down", "--env", "dev/../prod", "--yes"], /^error: invalid environment name "dev\/..\/prod"/],
  ["an empty environment name", ["up", "--env", "", "--yes"], /^error: (invalid environment name ""|no environment given)/],
  ["a --region that is not one", ["up", "--env", "dev", "--yes", "--region", "moon-1"], /^error: --region moon-1: region: an AWS region/],
  ["a --set with an empty key", ["up", "--env", "dev", "--yes", "--set", "=true"], /^error: --set "=true"/],
  ["a --set of a bad CIDR", ["up", "--env", "dev", "--yes", "--set", "network.cidr=10.0.0.0/33"], /^error: --set network.cidr=10.0.0.0\/33: network.cidr: must be an IPv4 CIDR block/],
  ["a --set of a reserved tag", ["up", "--env", "dev", "--yes", "--set", "tags.Environment=prod"], /^error: --set tags.Environment=prod: tags.Environment: .*set by platform itself/],
  ["a --set of a string where a number belongs", ["up", "--env", "dev", "--yes", "--set", "logs.retentionDays=forever"], /^error: --set logs.retentionDays=forever: logs.retentionDays/],
  ["a --probe choice that does not exist", ["troubleshoot", "db-connectivity", "--env", "dev", "--probe", "ssh"], /^error: option '--probe <kind>' argument 'ssh' is invalid/],
];

describe("bad input: exit 2, one clear line, no change in AWS", () => {
  const expectRefused = (run: { code: number; stdout: string; stderr: string }, message: RegExp) => {
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    // One line; commander may add its "(Did you mean ...?)" on a second.
    const lines = run.stderr.trim().split("\n").filter((l) => !/^\(Did you mean .*\?\)$/.test(l));
    expect(lines).toHaveLength(1);
    expect(run.stderr).not.toMatch(/this is a bug in platform|\n\s+at /);
    expect(aws.cloud.mutatingCalls()).toEqual([]);
  };

  it.each(BAD_CONFIGS)("config: %s", async (_name, files, source, message) => {
    expectRefused(await runCli(projectWith(files), argsFor(source)), message);
  });

  it.each(BAD_ARGS)("flags: %s", async (_name, args, message) => {
    expectRefused(await runCli(tempProject(), args), message);
  });

  it.each(MORE_ARGS)("flags: %s", async (_name, args, message) => {
    expectRefused(await runCli(tempProject(), args), message);
  });

  it.each(BAD_STATES)("state: %s", async (_name, content, message) => {
    const cwd = tempProject();
    mkdirSync(path.join(cwd, "state"), { recursive: true });
    if (content === null) mkdirSync(path.join(cwd, "state", "dev.json"));
    else writeFileSync(path.join(cwd, "state", "dev.json"), content, { mode: 0o600 });
    for (const command of [["up", "--yes"], ["down", "--yes"], ["status"]]) {
      const run = await runCli(cwd, [...command, "--env", "dev"]);
      expectRefused(run, message);
    }
  });

  it("covers at least 30 malformed inputs", () => {
    expect(BAD_CONFIGS.length + BAD_ARGS.length + MORE_ARGS.length + BAD_STATES.length).toBeGreaterThanOrEqual(30);
  });
});
