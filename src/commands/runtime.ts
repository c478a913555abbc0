import { existsSync } from "node:fs";
import type { Command } from "commander";
import { AwsClients, type ClientSettings } from "../aws/clients.js";
import { checkEndpoints, endpointNotice, endpointOverrides } from "../aws/endpoint.js";
import { assertEnvironmentGiven, loadConfig, type LoadedConfig } from "../config/load.js";
import { HOME_VARIABLE, projectFolder, readConfigFlag, requireProjectFolder } from "../config/project.js";
import { assertProtectionSatisfied, isProtected } from "../config/protection.js";
import type { Config } from "../config/schema.js";
import { UserError } from "../errors.js";
import type { EngineEvent, EventSink } from "../engine/events.js";
import { REAL_AWS_WAITS, type ResourceContext, type RunFlags, type WaitSettings } from "../resources/types.js";
import type { LockHandle, StateBackend } from "../state/backend.js";
import { assertStateMatches, emptyState, type StateDocument } from "../state/document.js";
import { backendFor } from "../state/index.js";
import { checkRecordedImages } from "../state/validate.js";
import { newLockInfo } from "../state/lock.js";
import { StateStore } from "../state/store.js";
import { redactDeep } from "../ui/redact.js";
import { colorEnabled, colors, type Colors, type Io } from "../ui/io.js";
import type { HttpGet } from "../workloads/smoke-test.js";

/**
 * Flags every command understands (set on the program, usable after the command name), plus the run flags the
 * resources read (down's --force-prod among them: optsWithGlobals includes a command's own options).
 */
export interface GlobalOptions extends RunFlags {
  env?: string;
  config?: string;
  set?: string[];
  profile?: string;
  region?: string;
  json?: boolean;
  yes?: boolean;
  verbose?: boolean;
  color?: boolean;
  concurrency?: string;
  lockTimeout?: string;
  /** up/plan --image TAG: services.imageTag for this run. */
  image?: string;
  /** Accept a plain-HTTP endpoint override on another machine. */
  allowInsecureEndpoint?: boolean;
}

/** Hooks for tests and the benchmark: faster waits, an abort signal, a working directory, engine events. */
export interface MainOptions {
  waits?: WaitSettings;
  cwd?: string;
  signal?: AbortSignal;
  /**
   * Receives every engine event of up, down, plan and status besides the progress view, including the observe phase's
   * per-resource reads (action "read", which the progress view does not show). The benchmark times resources with it.
   */
  events?: EventSink;
  /** The HTTP client of blue-green smoke tests (Node's fetch when absent; tests answer for the fake load balancer). */
  http?: HttpGet;
  /** Settings for every AWS client of the run (tests: `onClient` serves the fake beneath the SDK's retry). */
  aws?: Pick<ClientSettings, "onClient">;
}

/** The stderr streams the endpoint notice was written to. */
const ANNOUNCED = new WeakSet<object>();

/** What a command gets: where to write, how to colour, its flags, and the run's overrides. */
export class CommandContext {
  readonly c: Colors;
  constructor(
    readonly io: Io,
    readonly opts: GlobalOptions,
    readonly main: MainOptions,
  ) {
    this.c = colors(colorEnabled(io, opts.color !== false));
  }

  static of(io: Io, main: MainOptions, command: Command): CommandContext {
    return new CommandContext(io, command.optsWithGlobals() as GlobalOptions, main);
  }

  get cwd(): string {
    return this.main.cwd ?? process.cwd();
  }

  private projectRoot?: string;

  /**
   * The project folder (holding config/, and state/ for local state): --config DIR, else PLATFORM_HOME, else the
   * nearest folder from the working directory upwards that holds config/<env>.json. A UserError when there is none.
   */
  /** The project folder if one is found, for hints that list its environments; undefined instead of an error. */
  private projectIfAny(): string | undefined {
    try {
      return projectFolder({ cwd: this.cwd, configFlag: this.opts.config, home: this.io.env[HOME_VARIABLE] || undefined });
    } catch {
      return undefined;
    }
  }

  get root(): string {
    this.projectRoot ??= requireProjectFolder({ cwd: this.cwd, configFlag: this.opts.config, home: this.io.env[HOME_VARIABLE] || undefined });
    return this.projectRoot;
  }

  /** Human output: stdout, or stderr when --json owns stdout. */
  say(text = ""): void {
    (this.opts.json ? this.io.stderr : this.io.stdout).write(text + "\n");
  }

  /** The machine-readable document of a --json run. */
  json(doc: unknown): void {
    // Strings are redacted before encoding (src/ui/redact.ts: escaped quotes hide secrets from the stream's redaction).
    this.io.stdout.write(JSON.stringify(redactDeep(doc), null, 2) + "\n");
  }

  /** Says once per run (per stderr: commands that open several environments make several contexts), where AWS requests go when not to AWS. */
  announceEndpoint(notice: string | undefined): void {
    if (!notice || ANNOUNCED.has(this.io.stderr)) return;
    ANNOUNCED.add(this.io.stderr);
    this.io.stderr.write(notice + "\n");
  }

  verbose(text: string): void {
    if (this.opts.verbose) this.io.stderr.write(this.c.dim(text) + "\n");
  }

  concurrency(): number {
    const raw = this.opts.concurrency ?? "10";
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new UserError(`--concurrency ${raw}: expected a whole number from 1 to 64`);
    return n;
  }

  lockTimeoutSeconds(): number {
    const raw = this.opts.lockTimeout ?? "0";
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new UserError(`--lock-timeout ${raw}: expected a number of seconds, 0 or more`);
    return n;
  }

  loadConfig(): LoadedConfig {
    // --image TAG is --set services.imageTag=TAG, as a JSON string so a tag like "1.10" stays a string.
    const sets = [...(this.opts.set ?? []), ...(this.opts.image !== undefined ? [`services.imageTag=${JSON.stringify(this.opts.image)}`] : [])];
    const flag = this.opts.config ? readConfigFlag(this.opts.config, this.cwd) : undefined;
    const file = flag?.kind === "file" ? this.opts.config : undefined;
    // No or an invalid environment, and a missing --config FILE, are reported as such before any project is looked for.
    assertEnvironmentGiven({ env: this.opts.env, file, root: this.opts.env || file ? undefined : this.projectIfAny() });
    const root = flag?.kind === "file" && !existsSync(flag.file) ? this.cwd : this.root;
    return loadConfig({ env: this.opts.env, file, sets, region: this.opts.region, cwd: this.cwd, root });
  }
}

/** An environment opened for a command: config, AWS clients, state, and (for mutating commands) the lock. */
export interface Environment {
  config: Config;
  configFile: string;
  clients: AwsClients;
  ctx: ResourceContext;
  backend: StateBackend;
  store: StateStore;
  lock?: LockHandle;
  /** Releases the lock; safe to call twice. */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** The command, recorded in the lock ("platform up --env dev"). */
  command: string;
  lock: boolean;
  events?: (e: EngineEvent) => void;
  /** up and deploy: a protected environment's insecure settings are refused (exit 2) before any AWS call. */
  deploys?: boolean;
}

/**
 * PLATFORM_WAIT_SCALE (a number above 0 and at most 1) scales every wait of a child-process run the way tests scale
 * in-process runs: emulators (the conformance suite's moto) finish in milliseconds what AWS takes minutes for.
 * Unset or not a number in range: AWS's real waits.
 */
export function waitsFromEnv(env: NodeJS.ProcessEnv): WaitSettings | undefined {
  const scale = Number(env.PLATFORM_WAIT_SCALE);
  if (!env.PLATFORM_WAIT_SCALE || !(scale > 0 && scale <= 1)) return undefined;
  return { minDelay: REAL_AWS_WAITS.minDelay * scale, maxDelay: REAL_AWS_WAITS.maxDelay * scale, scale };
}

export async function openEnvironment(cc: CommandContext, options: OpenOptions): Promise<Environment> {
  const { config, file } = cc.loadConfig();
  if (options.deploys) assertProtectionSatisfied(config);
  cc.concurrency();
  const lockWait = cc.lockTimeoutSeconds();
  const clients = awsClientsFor(cc, config);
  const accountId = await callerAccount(clients);
  const backend = await backendFor(config, clients, cc.root);
  const lock = options.lock ? await backend.lock(newLockInfo(options.command), lockWait, cc.main.signal) : undefined;
  try {
    const existing = await backend.read();
    const identity = { project: config.project, environment: config.environment, region: config.region, accountId };
    if (existing) {
      assertStateMatches(existing, identity, backend.location);
      checkRecordedImages(existing, identity, config.images.allowedRegistries, backend.location);
    }
    const doc: StateDocument = existing ?? emptyState(identity);
    const store = new StateStore(backend, doc);
    const ctx: ResourceContext = {
      aws: clients,
      flags: {
        applyImmediately: cc.opts.applyImmediately,
        skipFinalSnapshot: cc.opts.skipFinalSnapshot,
        deleteData: cc.opts.deleteData,
        disableDeletionProtection: cc.opts.disableDeletionProtection,
        forceDeleteSecrets: cc.opts.forceDeleteSecrets,
        forceProd: cc.opts.forceProd,
        protectedEnvironment: isProtected(config),
      },
      identity: { project: config.project, environment: config.environment },
      waits: cc.main.waits ?? waitsFromEnv(cc.io.env) ?? REAL_AWS_WAITS,
      note: (logicalId, message) => options.events?.({ kind: "note", logicalId, message }),
      generation: (logicalId) => store.generation(logicalId),
      accountId,
      region: config.region,
      signal: cc.main.signal,
    };
    let released = false;
    return {
      config,
      configFile: file,
      clients,
      ctx,
      backend,
      store,
      lock,
      close: async () => {
        if (released) return;
        released = true;
        await lock?.release();
      },
    };
  } catch (err) {
    await lock?.release();
    throw err;
  }
}

/** The progress view's event sink, teeing into MainOptions.events when a test or the benchmark listens. */
export function engineEvents(cc: CommandContext, view: { onEvent(e: EngineEvent): void }): EventSink {
  const hook = cc.main.events;
  if (!hook) return (e) => view.onEvent(e);
  return (e) => {
    view.onEvent(e);
    hook(e);
  };
}

/** The AWS clients of a command working on `config`'s environment (region, endpoint) with the run's --profile. */
export function awsClientsFor(cc: CommandContext, config: Config): AwsClients {
  const overrides = endpointOverrides(config.endpoint, process.env);
  checkEndpoints(overrides, Boolean(cc.opts.allowInsecureEndpoint));
  cc.announceEndpoint(endpointNotice(overrides));
  return new AwsClients({ ...cc.main.aws, region: config.region, profile: cc.opts.profile, endpoint: config.endpoint });
}

async function callerAccount(clients: AwsClients): Promise<string> {
  const { STSClient, GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
  const { awsFailure } = await import("../aws/errors.js");
  try {
    const out = await clients.get(STSClient).send(new GetCallerIdentityCommand({}));
    return out.Account!;
  } catch (err) {
    throw awsFailure("reading the caller's AWS account (sts:GetCallerIdentity)", err);
  }
}
