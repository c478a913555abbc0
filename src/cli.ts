import { Command, CommanderError, Option } from "commander";
import { AwsFailure, isVisibleError, UserError } from "./errors.js";
// Type-only: runtime.js pulls in zod and the config schema, which `platform --help` does not need (see bench/).
import type { CommandContext, MainOptions } from "./commands/runtime.js";
import { processIo, type Io } from "./ui/io.js";
import { redactingIo } from "./ui/redact.js";

/**
 * The command-line program. Command modules are imported only when their command runs, so `platform --help`
 * loads no AWS SDK code.
 */
export function buildProgram(io: Io, main: MainOptions, setExit: (code: number) => void): Command {
  const program = new Command("platform")
    .description("Bring up, operate and tear down the clinical data platform on AWS.")
    .version(VERSION, "-V, --version")
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .option("-e, --env <name>", "environment: reads config/<name>.json")
    .option("-c, --config <path>", "the project folder (holding config/) when not found from here upwards (or set PLATFORM_HOME), or one config file elsewhere than config/<env>.json")
    .option("--set <key.path=value>", "override one config field for this run (repeatable)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--profile <name>", "AWS profile (default: AWS_PROFILE or the default chain)")
    .option("--region <region>", "AWS region (overrides the config)")
    .option("--json", "machine-readable output on stdout; progress goes to stderr")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--concurrency <n>", "resources worked on at once", "10")
    .option("--lock-timeout <seconds>", "wait this long for another run's lock", "0")
    .option("-v, --verbose", "more detail, including AWS request ids")
    .option("--allow-insecure-endpoint", "accept a plain-HTTP endpoint override (config endpoint, AWS_ENDPOINT_URL) on another machine")
    .option("--no-color", "no colours (NO_COLOR is honoured too)");

  const run = (load: () => Promise<(cc: CommandContext, ...args: any[]) => Promise<number>>) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const cc = (await import("./commands/runtime.js")).CommandContext.of(io, main, command);
      const handler = await load();
      setExit(await handler(cc, ...args.slice(0, -2), args.at(-2)));
    };

  program
    .command("init")
    .description("write config/<env>.json for a new environment from the defaults (creates config/; never overwrites); no AWS call")
    .action(run(async () => (await import("./commands/init.js")).initCommand));

  program
    .command("validate")
    .description("check config/<env>.json offline (every environment without --env): exit 0 valid, 2 with the field and the fix; no AWS call")
    .action(run(async () => (await import("./commands/validate.js")).validateCommand));

  program
    .command("plan")
    .description("show what up would change, resource by resource; changes nothing")
    .option("--detailed-exitcode", "exit 0 when nothing would change, 2 when something would, 1 on errors, 3 on bad input")
    .option("--image <tag>", "the image tag (or sha256 digest) the services would run (default: services.imageTag)")
    .action(run(async () => (await import("./commands/plan.js")).planCommand));

  program
    .command("up")
    .description("create or update the environment to match its config")
    .option("--allow-replace", "replace resources whose changed settings cannot be updated in place")
    .option("--apply-immediately", "apply database changes now instead of in the next maintenance window")
    .option("--image <tag>", "run this image tag (or sha256 digest) from the stack's ECR repositories (default: services.imageTag)")
    .action(run(async () => (await import("./commands/up.js")).upCommand));

  program
    .command("status")
    .description("every resource with its id and whether it is in sync, drifted or missing (fits the terminal's width; --wide for whole ids and types)")
    .option("--wide", "every column, ids in full, however wide the lines get")
    .action(run(async () => (await import("./commands/status.js")).statusCommand));

  program
    .command("outputs")
    .argument("[name]", "one output, printed bare (for scripts)")
    .description("recorded outputs: VPC id, subnet ids, ...")
    .action(run(async () => async (cc: CommandContext, name: string | undefined) => (await import("./commands/outputs.js")).outputsCommand(cc, name)));

  program
    .command("cost")
    .description("estimated monthly cost of the environment from its config, with the prices used (an estimate; no AWS call)")
    .action(run(async () => (await import("./commands/cost.js")).costCommand));

  program
    .command("audit")
    .description("check the deployed environment against the platform's security controls (AWS FSBP ids); exit 1 on any failure")
    .action(run(async () => (await import("./commands/audit.js")).auditCommand));

  program
    .command("down")
    .description("destroy the environment: everything state records, dependents first")
    .option("--dry-run", "list what would be deleted; delete nothing")
    .option("--force-prod", "with --yes: allow destroying a protected environment without typing its name")
    .option("--delete-data", "also delete buckets that hold objects (every version) and repositories that hold images")
    .option("--skip-final-snapshot", "delete the database without taking a final snapshot")
    .option("--disable-deletion-protection", "turn off the database's and load balancer's deletion protection first (needed for prod)")
    .option("--force-delete-secrets", "delete secrets at once instead of after the recovery window")
    .action(run(async () => (await import("./commands/down.js")).downCommand));

  program
    .command("deploy")
    .description("roll one service to an image: a new task definition revision, a rolling update, a wait for steady state; up keeps the image afterwards")
    .requiredOption("--service <name>", "the service: api, or worker when enabled")
    .requiredOption("--image <tag|uri>", "a tag or sha256 digest in the service's ECR repository (checked there), or a full image name")
    .option("--no-wait", "return once the service is rolling to the new revision (rolling only)")
    .option("--strategy <name>", "rolling or blue-green (default: the config's services.api.deployment.strategy; the worker rolls)")
    .option("--smoke-test <path|command>", "blue-green: GET this path through the test listener (2xx/3xx passes), or run this command with SMOKE_TEST_URL set (exit 0 passes), before production traffic moves")
    .option("--bake-minutes <n>", "blue-green: keep the previous revision running this long after the switch, watching alarms (default: the config's bakeMinutes)")
    .action(run(async () => (await import("./commands/deploy.js")).deployCommand));

  program
    .command("promote")
    .description("deploy to one environment exactly the image digest another runs (copied into its own ECR repository first), e.g. promote --from staging --to prod --service api")
    .requiredOption("--from <env>", "the environment whose running release is shipped (read only)")
    .requiredOption("--to <env>", "the environment deployed to (no --env needed); production asks for confirmation unless --yes")
    .requiredOption("--service <name>", "api, or worker when enabled")
    .option("--no-wait", "return once the service is rolling to the new revision (rolling only)")
    .option("--strategy <name>", "rolling or blue-green, as deploy (default: the target config's services.api.deployment.strategy)")
    .option("--smoke-test <path|command>", "blue-green: as deploy's --smoke-test")
    .option("--bake-minutes <n>", "blue-green: as deploy's --bake-minutes")
    .action(run(async () => (await import("./commands/promote.js")).promoteCommand));

  program
    .command("rollback")
    .description("back to the release before the last one: an instant listener switch while the previous blue-green slot still runs, else a redeploy of the previous image (by digest)")
    .requiredOption("--service <name>", "the service: api, or worker when enabled")
    .option("--no-wait", "a rolling redeploy: return once the service is rolling")
    .option("--smoke-test <path|command>", "a blue-green redeploy: the smoke test (default: the config's)")
    .option("--bake-minutes <n>", "a blue-green redeploy: the bake time (default: the config's)")
    .action(run(async () => (await import("./commands/rollback.js")).rollbackCommand));

  program
    .command("logs")
    .description("a service's log events, merged across its tasks in time order")
    .requiredOption("--service <name>", "api, worker, dbt-runner (or dbt), prometheus, grafana, marquez")
    .option("--since <when>", "how far back: 30s, 15m, 2h, 1d, 1w, or an ISO 8601 time", "10m")
    .option("-f, --follow", "keep printing new events until Ctrl-C")
    .action(run(async () => (await import("./commands/logs.js")).logsCommand));

  program
    .command("run")
    .argument("<task>", "the task to run: dbt")
    .argument("[args...]", "after --: its arguments (the command becomes dbt ARGS)")
    .description("run a one-off task where the services run, print its output, exit with its exit code (e.g. platform run --env dev dbt -- run --select staging)")
    .action(run(async () => (await import("./commands/run.js")).runCommand));

  program
    .command("exec")
    .argument("[command...]", "after --: the command to run in the container (default /bin/sh)")
    .description("an interactive shell or command in a running task of a service over ECS Exec (needs the Session Manager plugin), e.g. platform exec --env dev --service api -- /bin/sh")
    .requiredOption("--service <name>", "api, worker (when enabled), prometheus, grafana, marquez")
    .option("--task <id>", "this task (default: the newest running task of the service)")
    .option("--container <name>", "this container of the task (default: the one named after the service)")
    .action(run(async () => (await import("./commands/exec.js")).execCommand));

  const db = program.command("db").description("database recovery: manual snapshots, their list, and restores into a new instance");
  db.command("snapshot")
    .description("take a manual snapshot of the environment's database, tagged, and wait until it is available")
    .option("--name <id>", "the snapshot identifier (default: <db identifier>-manual-<yyyymmddhhmm>)")
    .action(run(async () => (await import("./commands/db.js")).dbSnapshotCommand));
  db.command("snapshots")
    .description("list the database's manual, automated and final snapshots with times, sizes and status")
    .action(run(async () => (await import("./commands/db.js")).dbSnapshotsCommand));
  db.command("restore")
    .description("restore a snapshot or a point in time into a new instance with the stack's settings, then (confirmed) point the stack at it and keep the old one as retired")
    .option("--snapshot <id>", "restore this snapshot (as db snapshots lists it)")
    .option("--to-time <iso8601>", "restore the database as it was at this time, e.g. 2026-03-01T14:30:00Z (within its backup retention)")
    .option("--retire-old", "delete the instances earlier restores replaced (a final snapshot each, unless --skip-final-snapshot)")
    .option("--skip-final-snapshot", "with --retire-old: delete without a final snapshot")
    .option("--disable-deletion-protection", "with --retire-old: turn deletion protection off first")
    .option("--force-prod", "with --retire-old --yes: allow it in a protected environment without typing its name")
    .action(run(async () => (await import("./commands/db-restore.js")).dbRestoreCommand));

  const repeat = (v: string, acc: string[] | undefined) => [...(acc ?? []), v];
  program
    .command("bootstrap-secrets")
    .description("create missing secrets with generated values; keep existing ones unless rotated; never prints a value")
    .option("--rotate <name>", "replace this secret's value (repeatable); database-credentials also changes the database's password", repeat)
    .option("--rotate-all", "replace every generated secret's value")
    .option("--from-file <file>", 'values you already have, as JSON: {"<name>": "<value>", ...}')
    .option("--set-secret <name>", "ask for this secret's value with hidden input (repeatable; --set is for config overrides)", repeat)
    .action(run(async () => (await import("./commands/bootstrap-secrets.js")).bootstrapSecretsCommand));

  const secrets = program.command("secrets").description("the environment's secrets: names, ARNs, states; never values");
  secrets
    .command("list")
    .description("every secret with its ARN, whether it holds a value, and when it last changed")
    .action(run(async () => (await import("./commands/secrets.js")).secretsListCommand));

  const ci = program.command("ci").description("continuous delivery from GitHub Actions");
  ci.command("init")
    .description("write a GitHub Actions workflow that deploys the api with the environment's OIDC role (run up with github.repository set first)")
    .requiredOption("--repo <owner/name>", "the GitHub repository the workflow runs in")
    .option("--output <file>", "where to write it (default: .github/workflows/deploy-<env>.yml)")
    .option("--force", "overwrite an existing file")
    .action(run(async () => (await import("./commands/ci.js")).ciInitCommand));

  const state = program.command("state").description("inspect, repair and move the environment's state (local file or S3)");
  const stateCommands = async () => await import("./commands/state.js");
  state
    .command("list")
    .description("the logical ids state records, one per line (with type and id: --verbose or --json)")
    .action(run(async () => (await stateCommands()).stateListCommand));
  state
    .command("show")
    .argument("<id>", "a logical id, as state list prints it")
    .description("everything state records about one resource")
    .action(run(async () => (await stateCommands()).stateShowCommand));
  state
    .command("pull")
    .description("print the whole state document on stdout")
    .action(run(async () => (await stateCommands()).statePullCommand));
  state
    .command("push")
    .argument("<file>", "a state document, as state pull prints it")
    .description("replace the state with FILE (under the lock)")
    .option("--force", "also replace a state of another lineage or a newer serial")
    .action(run(async () => (await stateCommands()).statePushCommand));
  state
    .command("rm")
    .argument("<id...>", "logical ids to forget")
    .description("forget resources without deleting them in AWS (under the lock)")
    .option("--dry-run", "show what would be forgotten")
    .action(run(async () => (await stateCommands()).stateRmCommand));
  state
    .command("unlock")
    .description("break the lock of a run that is gone, after showing who held it")
    .option("--force", "do not ask")
    .action(run(async () => (await stateCommands()).stateUnlockCommand));
  state
    .command("migrate")
    .description("move the state to the other backend: copy, read back, compare, then remove the original")
    .addOption(new Option("--to <backend>", "where the state goes").choices(["s3", "local"]).makeOptionMandatory())
    .option("--force", "overwrite a different state already at the destination")
    .action(run(async () => (await stateCommands()).stateMigrateCommand));
  state
    .command("bootstrap")
    .description("create the S3 bucket for remote state: versioned, encrypted, private, TLS only (no --env needed)")
    .option("--bucket <name>", "a globally unique bucket name (default: the config's state.bucket with --env)")
    .action(run(async () => (await stateCommands()).stateBootstrapCommand));

  const troubleshoot = program
    .command("troubleshoot")
    .description("diagnose a deployed environment: a checklist with evidence and fixes (exit 0 all passed, 1 something failed)");
  troubleshoot
    .command("db-connectivity")
    .description("can the API reach the database? status, security groups, network ACLs, subnets, DNS, TLS and credentials, and a live probe")
    .addOption(new Option("--probe <kind>", "live probe: a one-off Fargate task beside the API (ecs), this machine through a VPN or tunnel (local), or none").choices(["ecs", "local", "none"]).default("ecs"))
    .option("--probe-timeout <seconds>", "time budget of the probe (default: 300 for ecs, after which the task is stopped; 10 per step for local)")
    .option("--probe-image <image>", "ecs: an image with nc for the probe task (default: public.ecr.aws/docker/library/busybox)")
    .option("--host <host>", "local: connect here instead of the endpoint, e.g. localhost for a tunnel (the certificate is still checked for the endpoint)")
    .option("--port <port>", "local: connect to this port instead of the endpoint's")
    .option("--ca-file <pem>", "local: also trust these CAs (the RDS global bundle ships with platform; a newer one: https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem)")
    .option("--insecure-tls", "local: encrypt, but do not check the server's certificate (then no credential is sent)")
    .option("--no-tls", "local: connect without TLS (refused where rds.force_ssl is 1; then no credential is sent)")
    .option("--iam-user <user>", "local: log in as this database user (granted rds_iam) with a short-lived IAM token instead of the master password")
    .action(run(async () => (await import("./commands/troubleshoot/db-connectivity.js")).dbConnectivityCommand));
  troubleshoot
    .command("secrets-access")
    .description("for each secret a service uses: does it exist, and may the service's execution role read it (IAM policy simulation)")
    .option("--service <name>", "only this service (api, ...)")
    .action(run(async () => (await import("./commands/troubleshoot/secrets-access.js")).secretsAccessCommand));
  troubleshoot
    .command("ecs-tasks")
    .description("why do tasks stop? recent stopped tasks with exit codes, reasons and last log lines, service events, and a named diagnosis")
    .option("--service <name>", "only this service (api, ...)")
    .action(run(async () => (await import("./commands/troubleshoot/ecs-tasks.js")).ecsTasksCommand));

  return program;
}

export const VERSION = "0.1.0";

/** Runs the CLI and returns its exit code: 0 success, 1 AWS or runtime failure, 2 bad input (see README). */
export async function main(argv: string[], terminal: Io = processIo(), options: MainOptions = {}): Promise<number> {
  // Everything printed, progress and errors alike, is redacted on its way out (src/ui/redact.ts).
  const io = redactingIo(terminal);
  let exitCode = 0;
  const program = buildProgram(io, options, (code) => (exitCode = code));
  const detailed = argv.includes("--detailed-exitcode");
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      return detailed ? 3 : 2; // commander printed the usage error itself
    }
    const verbose = argv.includes("--verbose") || argv.includes("-v");
    // Ctrl-C at a confirmation (the prompt library's ExitPromptError): an interrupt, not a bug; the command's `finally`
    // has released the lock, and what the question asked about was not done.
    if ((err as Error)?.name === "ExitPromptError") {
      io.stderr.write("interrupted: not confirmed, so what the question asked about was not done\n");
      return 130;
    }
    // Ctrl-C or SIGTERM ended a wait: expected, not a bug. The command's own `finally` has written state and released
    // the lock by now; what AWS still does (a rollout, an instance being created) goes on there.
    if (options.signal?.aborted || isAbortError(err)) {
      const during = err instanceof AwsFailure ? ` while ${err.action}` : "";
      io.stderr.write(`interrupted${during}: what was already asked of AWS goes on there, and state records what was done. Run the command again to pick up where it stopped\n`);
      return 130;
    }
    if (isVisibleError(err)) {
      io.stderr.write(`error: ${err.message}\n`);
      if (verbose && err.cause) io.stderr.write(`${describeCause(err.cause)}\n`);
      const code = err.exitCode;
      return err instanceof UserError && detailed ? 3 : code;
    }
    io.stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`);
    if (verbose) io.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
    else io.stderr.write("(this is a bug in platform; run again with --verbose for the stack trace and report it)\n");
    return 1;
  }
}

function isAbortError(err: unknown): boolean {
  return (err as Error)?.name === "AbortError" || ((err as Error)?.cause as Error | undefined)?.name === "AbortError";
}

function describeCause(cause: unknown): string {
  const meta = (cause as { $metadata?: { requestId?: string; httpStatusCode?: number } }).$metadata;
  return meta ? `AWS request id ${meta.requestId ?? "?"}, HTTP ${meta.httpStatusCode ?? "?"}` : String((cause as Error)?.stack ?? cause);
}

export { Option };
