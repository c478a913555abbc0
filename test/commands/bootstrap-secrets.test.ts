import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { memoryIo, runCli, tempProject, withoutGuardNotice, type CliRun } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { masterPasswordOf, rdsError } from "../fakes/rds.js";
import { currentValue, secretByName } from "../fakes/secretsmanager.js";
import { TEST_WAITS, holdingPhi } from "../helpers.js";

/** The repository's dev config plus two extra secrets: one the user supplies, one generated. */
const REPO_DEV = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../config/dev.json"), "utf8"));
const DEV = {
  ...REPO_DEV,
  secrets: {
    extra: {
      "openai-api-key": { description: "OpenAI API key of the worker" },
      "webhook-token": { description: "Token partners sign webhooks with", generate: "token-64" },
    },
  },
};
const PROD = holdingPhi({ ...REPO_DEV, network: { ...REPO_DEV.network, cidr: "10.2.0.0/16" } });

const P = "clinical-platform-dev";
const NAMES = {
  "database-credentials": `${P}/database/credentials`,
  "app-secret-key": `${P}/api/secret-key`,
  "jwt-signing-key": `${P}/api/jwt-signing-key`,
  "openai-api-key": `${P}/extra/openai-api-key`,
  "webhook-token": `${P}/extra/webhook-token`,
} as const;
type Key = keyof typeof NAMES;

let aws: FakeAws;
let cwd: string;
/** Every CLI run of the test, so the leak scan can read all of it. */
let runs: CliRun[];

beforeEach(() => {
  aws = installFakeAws();
  cwd = tempProject({ dev: DEV, prod: PROD });
  runs = [];
});
afterEach(() => aws.restore());

async function cli(...args: string[]): Promise<CliRun> {
  const run = await runCli(cwd, args);
  runs.push(run);
  return run;
}

const value = (key: Key) => currentValue(secretByName(aws.secretsmanager, NAMES[key]));
const password = () => JSON.parse(value("database-credentials")!).password as string;
const state = () => JSON.parse(readFileSync(path.join(cwd, "state/dev.json"), "utf8"));
const mutating = () => aws.cloud.mutatingCalls().map((c) => `${c.service}:${c.command}`);
const statusOf = (run: CliRun, key: string) => new RegExp(`^${key}\\s+\\S+\\s+arn:aws:secretsmanager:\\S+\\s+(\\S+( for deletion)?)`, "m").exec(run.stdout)?.[1];

function valuesFile(doc: unknown): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "platform-values-")), "values.json");
  writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc));
  return file;
}

/** Runs the CLI on a pretend terminal, typing each answer once its prompt (naming the secret) appears. */
async function cliOnTerminal(args: string[], answers: [Key, string][]): Promise<CliRun> {
  const io = memoryIo();
  Object.assign(io.stdin, { isTTY: true, setRawMode: () => io.stdin });
  Object.assign(io.stdout, { isTTY: true });
  const done = main(args, io, { cwd, waits: TEST_WAITS });
  for (const [key, answer] of answers) {
    for (let i = 0; i < 500 && !io.out().includes(`for ${key} (`); i++) await new Promise((r) => setTimeout(r, 2));
    (io.stdin as PassThrough).write(`${answer}\r`);
  }
  const run = { code: await done, stdout: io.out(), stderr: withoutGuardNotice(io.err()) };
  runs.push(run);
  return run;
}

describe("bootstrap-secrets", () => {
  it("creates every missing secret with a strong generated value, tagged, and prints no value", async () => {
    const run = await cli("bootstrap-secrets", "--env", "dev");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);

    const creds = JSON.parse(value("database-credentials")!);
    expect(creds).toEqual({ username: "platform_admin", engine: "postgres", port: 5432, dbname: "clinical", password: expect.any(String) });
    expect(creds.password).toMatch(/^[A-Za-z0-9\-_.~!*()]{32}$/);
    expect(value("app-secret-key")).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(value("jwt-signing-key")).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(value("webhook-token")).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(value("app-secret-key")).not.toBe(value("jwt-signing-key"));
    // The external secret exists, without a value, until the user supplies it.
    expect(secretByName(aws.secretsmanager, NAMES["openai-api-key"])).toBeDefined();
    expect(value("openai-api-key")).toBeUndefined();
    expect(secretByName(aws.secretsmanager, `${P}/grafana/admin-password`)).toBeUndefined();

    for (const [key, name] of Object.entries(NAMES)) {
      const s = secretByName(aws.secretsmanager, name)!;
      expect(s.tags).toEqual({ CostCenter: "data-platform", DataClassification: "Internal", Project: "clinical-platform", Environment: "dev", ManagedBy: "platform", "platform:logical-id": `secrets.${key.includes("-api-") || key === "webhook-token" ? `extra.${key}` : key}` });
      expect(s.kmsKeyId).toBeUndefined(); // the AWS-managed key
      expect(run.stdout).toContain(s.arn);
    }
    expect(statusOf(run, "database-credentials")).toBe("created");
    expect(statusOf(run, "openai-api-key")).toBe("empty");
    expect(run.stdout).toMatch(/^openai-api-key: no value yet: supply it with --set-secret openai-api-key \(asked with hidden input\), or in scripts with --from-file naming a JSON file that maps openai-api-key to its value$/m);

    const doc = state();
    expect(doc.resources["secrets.database-credentials"]).toMatchObject({ type: "secretsmanager:secret", physicalId: NAMES["database-credentials"], attributes: { hasValue: true, recoveryWindowDays: 7 } });
    expect(doc.resources["secrets.extra.openai-api-key"].attributes.hasValue).toBe(false);
  });

  it("encrypts with the configured KMS key", async () => {
    const run = await cli("bootstrap-secrets", "--env", "dev", "--set", "secrets.kmsKeyId=alias/platform-secrets");
    expect(run.code).toBe(0);
    expect(aws.cloud.callsTo("CreateSecret").map((c) => c.input.KmsKeyId)).toEqual(Array(5).fill("alias/platform-secrets"));
  });

  it("never overwrites an existing value: a second run keeps everything and writes nothing", async () => {
    await cli("bootstrap-secrets", "--env", "dev");
    const before = Object.fromEntries(Object.keys(NAMES).map((k) => [k, value(k as Key)]));
    aws.cloud.calls.length = 0;
    const again = await cli("bootstrap-secrets", "--env", "dev");
    expect(again.code).toBe(0);
    expect(mutating()).toEqual([]);
    expect(Object.fromEntries(Object.keys(NAMES).map((k) => [k, value(k as Key)]))).toEqual(before);
    for (const key of ["database-credentials", "app-secret-key", "jwt-signing-key", "webhook-token"]) expect(statusOf(again, key)).toBe("kept");
  });

  it("--rotate NAME replaces only that value; --rotate-all every generated one", async () => {
    await cli("bootstrap-secrets", "--env", "dev");
    const [app, jwt, db] = [value("app-secret-key"), value("jwt-signing-key"), password()];
    const one = await cli("bootstrap-secrets", "--env", "dev", "--rotate", "app-secret-key");
    expect(one.code).toBe(0);
    expect(statusOf(one, "app-secret-key")).toBe("rotated");
    expect(statusOf(one, "jwt-signing-key")).toBe("kept");
    expect(value("app-secret-key")).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(value("app-secret-key")).not.toBe(app);
    expect(value("jwt-signing-key")).toBe(jwt);
    const previous = secretByName(aws.secretsmanager, NAMES["app-secret-key"])!.versions.find((v) => v.stages.includes("AWSPREVIOUS"));
    expect(previous?.value).toBe(app);

    const all = await cli("bootstrap-secrets", "--env", "dev", "--rotate-all");
    expect(all.code).toBe(0);
    expect(value("jwt-signing-key")).not.toBe(jwt);
    expect(password()).not.toBe(db);
    expect(statusOf(all, "openai-api-key")).toBe("empty"); // nothing to generate for a secret the user supplies
  });

  it("stores values the user has (--from-file), keeps them on a rerun, and replaces them only with --rotate", async () => {
    const file = valuesFile({ "openai-api-key": "sk-live-0123456789abcdef" });
    const first = await cli("bootstrap-secrets", "--env", "dev", "--from-file", file);
    expect(first.code).toBe(0);
    expect(statusOf(first, "openai-api-key")).toBe("created");
    expect(value("openai-api-key")).toBe("sk-live-0123456789abcdef");

    aws.cloud.calls.length = 0;
    const rerun = await cli("bootstrap-secrets", "--env", "dev", "--from-file", file);
    expect(rerun.code).toBe(0);
    expect(statusOf(rerun, "openai-api-key")).toBe("kept");
    expect(mutating()).toEqual([]);

    const other = valuesFile({ "openai-api-key": "sk-live-fedcba9876543210" });
    aws.cloud.calls.length = 0;
    const refused = await cli("bootstrap-secrets", "--env", "dev", "--from-file", other);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      "error: openai-api-key already holds a value; existing values are never overwritten: add --rotate openai-api-key to replace it with the value given (nothing was written)\n",
    );
    expect(mutating()).toEqual([]);
    expect(value("openai-api-key")).toBe("sk-live-0123456789abcdef");

    const rotated = await cli("bootstrap-secrets", "--env", "dev", "--from-file", other, "--rotate", "openai-api-key");
    expect(rotated.code).toBe(0);
    expect(statusOf(rotated, "openai-api-key")).toBe("rotated");
    expect(value("openai-api-key")).toBe("sk-live-fedcba9876543210");
  });

  it("fills an external secret that up created empty", async () => {
    await cli("bootstrap-secrets", "--env", "dev");
    const run = await cli("bootstrap-secrets", "--env", "dev", "--from-file", valuesFile({ "openai-api-key": "sk-live-0123456789abcdef" }));
    expect(statusOf(run, "openai-api-key")).toBe("set");
    expect(value("openai-api-key")).toBe("sk-live-0123456789abcdef");
  });

  it("--set-secret asks with hidden input and never echoes the value", async () => {
    const typed = "Typed-Token-0123456789abcdefghijklmnopqrstuvwxyz";
    const run = await cliOnTerminal(["bootstrap-secrets", "--env", "dev", "--set-secret", "webhook-token", "--set-secret", "openai-api-key"], [
      ["webhook-token", typed],
      ["openai-api-key", "sk-typed-value"],
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(value("webhook-token")).toBe(typed);
    expect(value("openai-api-key")).toBe("sk-typed-value");
    expect(run.stdout).toContain("Enter the value for webhook-token");
    expect(run.stdout).not.toContain(typed);
    expect(run.stdout).not.toContain("sk-typed-value");
  });

  it("refuses a typed value that breaks the secret's rules, writing nothing", async () => {
    const run = await cliOnTerminal(["bootstrap-secrets", "--env", "dev", "--set-secret", "database-credentials"], [["database-credentials", "has/slash-and@at"]]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: the value given for database-credentials contains a character RDS rejects in passwords: "/", "@", \'"\' or a space; nothing was written\n');
    expect(mutating()).toEqual([]);
  });

  const bad: [string, string[] | ((file: (doc: unknown) => string) => string[]), RegExp][] = [
    ["an unknown --rotate name", ["--rotate", "stripe-key"], /^error: --rotate stripe-key: dev has no such secret \(its secrets: database-credentials, app-secret-key, jwt-signing-key, openai-api-key, webhook-token\)$/],
    ["an unknown --set-secret name", ["--set-secret", "nope"], /^error: --set-secret nope: dev has no such secret/],
    ["--rotate of a secret only the user can supply", ["--rotate", "openai-api-key"], /^error: --rotate openai-api-key: its value is supplied by you, not generated; give the new one with --set-secret openai-api-key, or --from-file naming a JSON file that maps openai-api-key to it$/],
    ["--set-secret without a terminal", ["--set-secret", "openai-api-key"], /^error: --set-secret asks for the value with hidden input, but there is no terminal to ask on; in scripts, use --from-file naming a JSON file that maps each secret's name to its value$/],
    ["a missing --from-file", ["--from-file", "/nonexistent/values.json"], /^error: --from-file \/nonexistent\/values.json: no such file$/],
    ["a --from-file that is not JSON", (f) => ["--from-file", f('{"openai-api-key": "sk-live-leak')], /^error: --from-file \S+: not valid JSON \(at character \d+\); expected an object/],
    ["a --from-file that is not an object", (f) => ["--from-file", f(["sk-live-leak"])], /^error: --from-file \S+: expected a JSON object of secret name → value$/],
    ["an unknown name in --from-file", (f) => ["--from-file", f({ "stripe-key": "sk-live-leak" })], /^error: --from-file \S+: "stripe-key" is not a secret of dev/],
    ["a value that is not a string", (f) => ["--from-file", f({ "database-credentials": { password: "sk-live-leak" } })], /must be a string \(the password\)$/],
    ["a token that is too short", (f) => ["--from-file", f({ "webhook-token": "sk-live-leak" })], /^error: the value given for webhook-token is 12 characters; at least 32 are required; nothing was written$/],
    ["a database password RDS rejects", (f) => ["--from-file", f({ "database-credentials": "sk-live-leak with spaces" })], /the value given for database-credentials contains a character RDS rejects/],
    ["a value given twice", (f) => ["--from-file", f({ "openai-api-key": "sk-live-leak" }), "--set-secret", "openai-api-key"], /^error: openai-api-key is given both in --from-file and with --set-secret; give it once$/],
  ];
  it.each(bad)("exits 2 on %s: one line, no value quoted, no AWS call", async (_name, args, message) => {
    const run = await cli("bootstrap-secrets", "--env", "dev", ...(typeof args === "function" ? args(valuesFile) : args));
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd()).toMatch(message);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).not.toContain("sk-live-leak");
    expect(run.stdout).toBe("");
    expect(aws.cloud.calls).toEqual([]);
  });

  it("restores secrets scheduled for deletion by an earlier down, keeping their values", async () => {
    await cli("bootstrap-secrets", "--env", "dev");
    const before = Object.fromEntries(Object.keys(NAMES).map((k) => [k, value(k as Key)]));
    const down = await cli("down", "--env", "dev", "--yes");
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/5 secrets are scheduled for deletion after their recovery window/);
    expect(aws.cloud.callsTo("DeleteSecret").map((c) => c.input)).toEqual(
      expect.arrayContaining([expect.objectContaining({ SecretId: secretByName(aws.secretsmanager, NAMES["app-secret-key"])!.arn, RecoveryWindowInDays: 7 })]),
    );
    expect([...aws.secretsmanager.secrets.values()].every((s) => s.deletedDate)).toBe(true);

    aws.cloud.calls.length = 0;
    const run = await cli("bootstrap-secrets", "--env", "dev");
    expect(run.code).toBe(0);
    expect(aws.cloud.callsTo("RestoreSecret")).toHaveLength(5);
    expect(aws.cloud.callsTo("CreateSecret")).toEqual([]);
    expect(aws.cloud.callsTo("PutSecretValue")).toEqual([]); // nothing had to change
    expect(statusOf(run, "app-secret-key")).toBe("restored");
    expect([...aws.secretsmanager.secrets.values()].some((s) => s.deletedDate)).toBe(false);
    expect(Object.fromEntries(Object.keys(NAMES).map((k) => [k, value(k as Key)]))).toEqual(before);
  });

  it("uses the configured recovery window, and deletes at once with --force-delete-secrets", async () => {
    await cli("bootstrap-secrets", "--env", "dev", "--set", "secrets.recoveryWindowDays=21");
    await cli("down", "--env", "dev", "--yes");
    expect(new Set(aws.cloud.callsTo("DeleteSecret").map((c) => c.input.RecoveryWindowInDays))).toEqual(new Set([21]));

    await cli("bootstrap-secrets", "--env", "dev");
    aws.cloud.calls.length = 0;
    const force = await cli("down", "--env", "dev", "--yes", "--force-delete-secrets");
    expect(force.code).toBe(0);
    expect(aws.cloud.callsTo("DeleteSecret").map((c) => c.input.ForceDeleteWithoutRecovery)).toEqual(Array(5).fill(true));
    expect(aws.secretsmanager.secrets.size).toBe(0);
  });

  it("in prod, force-deletes secrets only with --force-prod as well", async () => {
    expect((await cli("bootstrap-secrets", "--env", "prod")).code).toBe(0);
    aws.cloud.calls.length = 0;
    const refused = await cli("down", "--env", "prod", "--yes", "--force-delete-secrets");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe("error: prod is a protected environment: --force-delete-secrets (no recovery window) is honoured there only together with --force-prod; nothing was deleted\n");
    expect(mutating()).toEqual([]);

    const forced = await cli("down", "--env", "prod", "--yes", "--force-prod", "--force-delete-secrets");
    expect(forced.code).toBe(0);
    expect(aws.cloud.callsTo("DeleteSecret").every((c) => c.input.ForceDeleteWithoutRecovery === true)).toBe(true);
    expect(aws.secretsmanager.secrets.size).toBe(0);
  });
});

describe("secrets list", () => {
  it("shows every secret with its ARN and state, and never a value", async () => {
    const missing = await cli("secrets", "list", "--env", "dev");
    expect(missing.code).toBe(0);
    expect(missing.stdout).toMatch(/^database-credentials\s+clinical-platform-dev\/database\/credentials\s+-\s+missing\s+-$/m);
    expect(missing.stdout).toMatch(/5 of 5 secrets need attention: run 'platform bootstrap-secrets --env dev'\./);
    expect(mutating()).toEqual([]);

    await cli("bootstrap-secrets", "--env", "dev");
    const listed = await cli("secrets", "list", "--env", "dev", "--json");
    expect(listed.code).toBe(0);
    const doc = JSON.parse(listed.stdout);
    expect(doc.environment).toBe("dev");
    expect(doc.secrets.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ["database-credentials", "present"],
      ["app-secret-key", "present"],
      ["jwt-signing-key", "present"],
      ["openai-api-key", "empty"],
      ["webhook-token", "present"],
    ]);
    expect(doc.secrets[0]).toEqual({
      name: "database-credentials",
      secretName: NAMES["database-credentials"],
      arn: secretByName(aws.secretsmanager, NAMES["database-credentials"])!.arn,
      status: "present",
      lastChanged: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      note: null,
    });
  });
});

describe("up and the database", () => {
  it("creates the secrets before the database, which starts with the generated password; host and port are filled in", async () => {
    const up = await cli("up", "--env", "dev", "--yes");
    expect(up.code).toBe(0);
    const calls = mutating();
    expect(calls.indexOf("secretsmanager:CreateSecret")).toBeLessThan(calls.indexOf("rds:CreateDBInstance"));
    const doc = state();
    const identifier = doc.resources["data.database.instance"].attributes.identifier;
    expect(masterPasswordOf(aws.rds, identifier)).toBe(password());
    const creds = JSON.parse(value("database-credentials")!);
    expect(creds.host).toBe(doc.resources["data.database.instance"].attributes.endpointAddress);
    expect(creds.port).toBe(5432);
    expect(doc.resources["secrets.database-credentials.connection"].attributes).toEqual({ secretArn: expect.any(String), fields: { host: creds.host, port: 5432 } });
    expect(doc.outputs.database_credentials_secret_arn).toBe(secretByName(aws.secretsmanager, NAMES["database-credentials"])!.arn);
    expect(value("openai-api-key")).toBeUndefined();

    aws.cloud.calls.length = 0;
    const boot = await cli("bootstrap-secrets", "--env", "dev");
    expect(boot.code).toBe(0);
    expect(mutating()).toEqual([]); // up's values are kept
    const again = await cli("up", "--env", "dev", "--yes");
    expect(again.stdout).toMatch(/No changes/);
    expect(mutating()).toEqual([]);
  });

  it("rotating the database password updates the secret first, then the database", async () => {
    await cli("up", "--env", "dev", "--yes");
    const identifier = state().resources["data.database.instance"].attributes.identifier;
    const old = password();
    aws.cloud.calls.length = 0;

    const run = await cli("bootstrap-secrets", "--env", "dev", "--rotate", "database-credentials");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^database-credentials: database clinical-platform-dev-db master password updated$/m);
    const order = mutating().filter((c) => ["secretsmanager:PutSecretValue", "rds:ModifyDBInstance"].includes(c));
    expect(order).toEqual(["secretsmanager:PutSecretValue", "rds:ModifyDBInstance"]);
    expect(aws.cloud.callsTo("ModifyDBInstance")[0]!.input).toMatchObject({ DBInstanceIdentifier: identifier, ApplyImmediately: true });
    expect(password()).not.toBe(old);
    expect(masterPasswordOf(aws.rds, identifier)).toBe(password());
    expect(JSON.parse(value("database-credentials")!)).toMatchObject({ username: "platform_admin", host: expect.stringContaining(".rds.amazonaws.com"), port: 5432, dbname: "clinical" });
  });

  it("puts the previous password back when the database refuses the new one", async () => {
    await cli("up", "--env", "dev", "--yes");
    const identifier = state().resources["data.database.instance"].attributes.identifier;
    const old = password();
    aws.cloud.calls.length = 0;
    aws.cloud.fault = (call) => (call.command === "ModifyDBInstance" ? rdsError("InvalidDBInstanceState", "Database instance is not in available state.") : undefined);

    const run = await cli("bootstrap-secrets", "--env", "dev", "--rotate", "database-credentials");
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: rotating the database password: RDS DB instance ${identifier} refused the new master password (the secret was put back to its previous value: both still hold the old password): InvalidDBInstanceState: Database instance is not in available state.\n`,
    );
    expect(aws.cloud.callsTo("PutSecretValue")).toHaveLength(2);
    expect(password()).toBe(old);
    expect(masterPasswordOf(aws.rds, identifier)).toBe(old);
  });

  it("up restores secrets a previous down scheduled for deletion, and the new database uses the restored password", async () => {
    await cli("up", "--env", "dev", "--yes");
    const before = password();
    expect((await cli("down", "--env", "dev", "--yes", "--skip-final-snapshot")).code).toBe(0);
    aws.cloud.calls.length = 0;

    const up = await cli("up", "--env", "dev", "--yes");
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(aws.cloud.callsTo("RestoreSecret")).toHaveLength(5);
    expect(aws.cloud.callsTo("CreateSecret")).toEqual([]);
    expect(password()).toBe(before);
    const identifier = state().resources["data.database.instance"].attributes.identifier;
    expect(masterPasswordOf(aws.rds, identifier)).toBe(before);
  });
});

describe("secret values never leave AWS", () => {
  it("appear in no output, log, verbose line, JSON document or state file of a whole life cycle", async () => {
    const supplied = "sk-live-SUPPLIED-0123456789";
    const typed = "Typed-Token-0123456789abcdefghijklmnopqrstuvwxyz";
    const steps: string[][] = [
      ["plan", "--env", "dev"],
      ["up", "--env", "dev", "--yes", "--verbose"], // the secrets are generated by up's create
      ["bootstrap-secrets", "--env", "dev", "--verbose"],
      ["bootstrap-secrets", "--env", "dev", "--json", "--from-file", valuesFile({ "openai-api-key": supplied })],
      ["secrets", "list", "--env", "dev"],
      ["secrets", "list", "--env", "dev", "--json", "--verbose"],
      ["status", "--env", "dev", "--json"],
      ["status", "--env", "dev", "--verbose"],
      ["plan", "--env", "dev", "--json"],
      ["outputs", "--env", "dev"],
      ["bootstrap-secrets", "--env", "dev", "--rotate-all", "--verbose"],
      ["bootstrap-secrets", "--env", "dev", "--rotate", "database-credentials", "--json", "--verbose"],
      ["state", "pull", "--env", "dev"],
      ["down", "--env", "dev", "--yes", "--skip-final-snapshot", "--verbose"],
      ["bootstrap-secrets", "--env", "dev", "--verbose"], // restores
      ["up", "--env", "dev", "--yes", "--verbose"],
      ["down", "--env", "dev", "--yes", "--skip-final-snapshot", "--force-delete-secrets", "--json"],
      ["up", "--env", "dev", "--yes", "--json"], // generated afresh
    ];
    for (const step of steps) {
      const run = await cli(...step);
      expect(run.code, `${step.join(" ")}: ${run.stderr}`).toBe(0);
    }
    await cliOnTerminal(["bootstrap-secrets", "--env", "dev", "--rotate", "webhook-token", "--set-secret", "webhook-token", "--verbose"], [["webhook-token", typed]]);
    expect(value("webhook-token")).toBe(typed);

    // Every value the fake ever stored, the passwords inside the credentials JSON, the RDS password, and what the user gave.
    const secrets = new Set<string>([supplied, typed]);
    for (const stored of aws.secretsmanager.storedValues) {
      secrets.add(stored);
      if (stored.startsWith("{")) secrets.add(JSON.parse(stored).password);
    }
    const identifier = state().resources["data.database.instance"].attributes.identifier;
    secrets.add(masterPasswordOf(aws.rds, identifier)!);
    expect(secrets.size).toBeGreaterThan(10);

    const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(path.join(dir, f)).isDirectory() ? files(path.join(dir, f)) : [path.join(dir, f)]));
    const texts = [...runs.flatMap((r) => [r.stdout, r.stderr]), ...files(cwd).map((f) => readFileSync(f, "utf8"))];
    expect(texts.join("").length).toBeGreaterThan(10_000);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(12);
      const leaks = texts.filter((t) => t.includes(secret)).length;
      expect(leaks, `a secret value appears in ${leaks} outputs or files`).toBe(0);
    }
  });
});
