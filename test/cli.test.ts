import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { colorEnabled } from "../src/ui/io.js";
import { installFakeAws, type FakeAws } from "./fakes/index.js";
import { memoryIo, runCli, tempProject } from "./cli-harness.js";
import { BAD_ARGS } from "./fixtures/bad-input.js";

let aws: FakeAws;
beforeEach(() => (aws = installFakeAws()));
afterEach(() => aws.restore());

describe("the program", () => {
  it("lists its commands and global flags in --help", async () => {
    const { code, stdout } = await runCli(tempProject(), ["--help"]);
    expect(code).toBe(0);
    for (const command of ["plan", "up", "status", "outputs", "down", "state"]) expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    for (const flag of ["--env", "--config", "--set", "--profile", "--region", "--json", "--yes", "--verbose", "--no-color"]) expect(stdout).toContain(flag);
  });

  it("shows global flags in a command's help", async () => {
    const { code, stdout } = await runCli(tempProject(), ["up", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("--allow-replace");
    expect(stdout).toContain("--env");
  });

  it("rejects an unknown command with exit 2", async () => {
    const { code, stderr } = await runCli(tempProject(), ["upp"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown command 'upp'/);
  });

  it.each(BAD_ARGS)("exits 2 on %s, with one line and no AWS call", async (_name, args, message) => {
    const { code, stderr, stdout } = await runCli(tempProject(), args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stdout).toBe("");
    expect(aws.cloud.calls).toEqual([]);
  });

  it("exits 3 on bad input under plan --detailed-exitcode", async () => {
    const { code } = await runCli(tempProject(), ["plan", "--env", "nope", "--detailed-exitcode"]);
    expect(code).toBe(3);
  });

  it("names the AWS error code and the fix when credentials fail, without a stack trace", async () => {
    const { STSServiceException } = await import("@aws-sdk/client-sts");
    aws.cloud.fault = (call) =>
      call.command === "GetCallerIdentity"
        ? new STSServiceException({ name: "ExpiredToken", message: "The security token included in the request is expired", $fault: "client", $metadata: {} })
        : undefined;
    const { code, stderr } = await runCli(tempProject(), ["status", "--env", "dev"]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      "error: reading the caller's AWS account (sts:GetCallerIdentity): ExpiredToken: The security token included in the request is expired (the session expired; refresh your credentials (aws sso login) and run again: the run resumes where it stopped)\n",
    );
  });
});

describe("colour", () => {
  const tty = (env: NodeJS.ProcessEnv) => {
    const io = memoryIo(env);
    (io.stdout as { isTTY?: boolean }).isTTY = true;
    return io;
  };
  it("is used only on a terminal", () => {
    expect(colorEnabled(memoryIo({}))).toBe(false);
    expect(colorEnabled(tty({}))).toBe(true);
  });
  it("is never used with NO_COLOR, TERM=dumb or --no-color", () => {
    expect(colorEnabled(tty({ NO_COLOR: "" }))).toBe(false);
    expect(colorEnabled(tty({ NO_COLOR: "1" }))).toBe(false);
    expect(colorEnabled(tty({ TERM: "dumb" }))).toBe(false);
    expect(colorEnabled(tty({}), false)).toBe(false);
  });
});
