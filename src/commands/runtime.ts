import type { Command } from "commander";
import { AwsClients, type ClientSettings } from "../aws/clients.js";
import { loadConfig, type LoadedConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { UserError } from "../errors.js";
import type { EngineEvent, EventSink } from "../engine/events.js";
import { REAL_AWS_WAITS, type ResourceContext, type RunFlags, type WaitSettings } from "../resources/types.js";
import type { LockHandle, StateBackend } from "../state/backend.js";
import { assertStateMatches, emptyState, type StateDocument } from "../state/document.js";
import { backendFor } from "../state/index.js";
import { newLockInfo } from "../state/lock.js";
import { StateStore } from "../state/store.js";
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

  /** Human output: stdout, or stderr when --json owns stdout. */
  say(text = ""): void {
    (this.opts.json ? this.io.stderr : this.io.stdout).write(text + "\n");
  }

  /** The machine-readable document of a --json run. */
  json(doc: unknown): void {
    this.io.stdout.write(JSON.stringify(doc, null, 2) + "\n");
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
    return loadConfig({ env: this.opts.env, file: this.opts.config, sets, region: this.opts.region, cwd: this.cwd });
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
  cc.concurrency();
  const lockWait = cc.lockTimeoutSeconds();
  const clients = awsClientsFor(cc, config);
  const accountId = await callerAccount(clients);
  const backend = await backendFor(config, clients, cc.cwd);
  const lock = options.lock ? await backend.lock(newLockInfo(options.command), lockWait) : undefined;
  try {
    const existing = await backend.read();
    const identity = { project: config.project, environment: config.environment, region: config.region, accountId };
    if (existing) assertStateMatches(existing, identity, backend.location);
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
