import { setTimeout as sleep } from "node:timers/promises";
import { mockClient } from "aws-sdk-client-mock";
import type { SdkClient } from "../../src/aws/clients.js";

/**
 * A stateful in-memory AWS, built on aws-sdk-client-mock. Each service registers handlers by command name
 * ("CreateVpc"); a command no handler models is rejected, so the fake never silently says yes.
 * It records every call (service, command, input), can add latency and provisioning delays (for the benchmark),
 * and can inject a crash after a chosen call (for interrupted-run tests).
 */
export type Handler = (input: any) => unknown;

export interface CallRecord {
  service: string;
  command: string;
  input: any;
  mutating: boolean;
}

export interface FakeTimings {
  /** Added to every call. */
  latencyMs: number;
  /** How long things stay pending: NAT gateways, RDS instances, load balancers, ENIs draining. */
  provisioningMs: Record<string, number>;
}

export const NO_DELAYS: FakeTimings = { latencyMs: 0, provisioningMs: {} };

export class SimulatedCrash extends Error {
  override name = "SimulatedCrash";
}

export interface ServiceModel {
  service: string;
  client: new (config: any) => any;
  handlers: Record<string, Handler>;
}

const READ_PREFIXES = ["Describe", "List", "Get", "Head", "Lookup", "Simulate", "Filter", "BatchGet", "BatchCheck"];

export function isMutating(command: string): boolean {
  return !READ_PREFIXES.some((p) => command.startsWith(p));
}

export class FakeCloud {
  readonly calls: CallRecord[] = [];
  timings: FakeTimings = NO_DELAYS;
  readonly accountId = "123456789012";
  readonly region = "us-east-1";
  /** When set, called before each call; an error it returns is thrown instead of running the call (fault injection). */
  fault?: (call: CallRecord) => Error | undefined;
  /**
   * When set, called after each call took effect; returning true loses its answer: the caller gets a connection reset
   * (no HTTP status), which the SDK's standard retry strategy retries, as a network that delivered the request and
   * dropped the response would.
   */
  loseAnswer?: (call: CallRecord) => boolean;
  /** When set, called after each successful call; returning true throws SimulatedCrash (the call took effect). */
  crashAfter?: (call: CallRecord, index: number) => boolean;
  private mocks: { restore(): void }[] = [];
  private models: ServiceModel[] = [];
  private requests = 0;
  private counter = 0;
  private readonly now0 = Date.now();

  /** A fresh id in AWS's shape: `vpc-0a1b2c3d4e5f60001`. */
  id(prefix: string): string {
    this.counter += 1;
    return `${prefix}-0${(this.counter + 0x1000000).toString(16).padStart(16, "0").slice(-16)}`;
  }

  /** Milliseconds since the fake was created: provisioning delays compare against it. */
  elapsed(): number {
    return Date.now() - this.now0;
  }

  /** True once `since + provisioningMs[kind]` has passed. */
  ready(kind: string, since: number): boolean {
    return this.elapsed() - since >= (this.timings.provisioningMs[kind] ?? 0);
  }

  install(models: ServiceModel[]): this {
    this.models.push(...models);
    for (const model of models) {
      const mock = mockClient(model.client);
      mock.onAnyCommand().callsFake((input: unknown) => {
        const command = String(mock.send.lastCall.args[0].constructor.name).replace(/Command$/, "");
        return this.dispatch(model, command, input);
      });
      this.mocks.push(mock);
    }
    return this;
  }

  restore(): void {
    for (const m of this.mocks) m.restore();
    this.mocks = [];
  }

  /**
   * Stops answering through aws-sdk-client-mock (it replaces `send`, so none of the SDK's middleware runs) and returns an
   * `onClient` hook for AwsClients that answers from this fake beneath the SDK's retry middleware instead: serialization
   * and HTTP are skipped, but every attempt passes through the client's real retry strategy, so an error injected by
   * `fault` is retried, or not, exactly as the SDK would retry it from AWS.
   */
  serveBeneathSdkRetry(): (client: SdkClient, clientName: string) => void {
    this.restore();
    return (client, clientName) => {
      const model = this.models.find((m) => client instanceof m.client);
      if (!model) throw new Error(`fake AWS: no service fake for ${clientName}`);
      const answer = (_next: unknown, context: { commandName?: string }) => async (args: { input: unknown }) => {
        const command = String(context.commandName).replace(/Command$/, "");
        const out = (await this.dispatch(model, command, args.input)) as Record<string, unknown>;
        this.requests += 1;
        return { response: { statusCode: 200, headers: {} }, output: { ...out, $metadata: { httpStatusCode: 200, requestId: `fake-${this.requests}` } } };
      };
      client.middlewareStack.addRelativeTo(answer, { relation: "after", toMiddleware: "retryMiddleware", name: "fakeAwsBeneathRetry" });
    };
  }

  mutatingCalls(): CallRecord[] {
    return this.calls.filter((c) => c.mutating);
  }

  callsTo(command: string): CallRecord[] {
    return this.calls.filter((c) => c.command === command);
  }

  private async dispatch(model: ServiceModel, command: string, input: any): Promise<unknown> {
    const call: CallRecord = { service: model.service, command, input: structuredClone(input ?? {}), mutating: isMutating(command) };
    this.calls.push(call);
    const index = this.calls.length - 1;
    if (this.timings.latencyMs) await sleep(this.timings.latencyMs);
    const injected = this.fault?.(call);
    if (injected) throw injected;
    const handler = model.handlers[command];
    if (!handler) throw new Error(`fake ${model.service}: ${command} is not modelled`);
    const out = await handler(input ?? {});
    if (this.loseAnswer?.(call)) throw lostAnswer(`${model.service}:${command}`);
    if (this.crashAfter?.(call, index)) throw new SimulatedCrash(`simulated crash after ${model.service}:${command}`);
    // A streaming Body (S3 GetObject) has methods (transformToString) structuredClone cannot copy; handlers make a fresh one per call.
    if (out && typeof out === "object" && "Body" in out) {
      const { Body, ...rest } = out as Record<string, unknown>;
      return { ...structuredClone(rest), Body };
    }
    return structuredClone(out ?? {});
  }
}

/** Each service's base exception class (EC2ServiceException, IAMServiceException, ...). */
export type ServiceExceptionClass = new (options: { name: string; message: string; $fault: "client" | "server"; $metadata: Record<string, unknown> }) => Error;

/** An exception as the SDK throws it: the service's exception class, `name` set to the AWS error code, with $metadata. */
export function awsError(Exception: ServiceExceptionClass, code: string, message: string, status = 400): Error {
  return new Exception({ name: code, message, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status, requestId: "fake-request-id" } });
}

/** Tag helpers shared by the service fakes. */
export type Tags = Record<string, string>;

export function fromTagList(list: { Key?: string; Value?: string }[] | undefined): Tags {
  return Object.fromEntries((list ?? []).map((t) => [t.Key!, t.Value ?? ""]));
}

export function toTagList(tags: Tags): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Each service's throttling error code, as AWS sends it (the SDK's retry recognises them by name). */
const THROTTLING_CODES: Record<string, string> = {
  ec2: "RequestLimitExceeded",
  s3: "SlowDown",
  iam: "Throttling",
  rds: "Throttling",
  sts: "Throttling",
  elbv2: "Throttling",
  tagging: "ThrottledException",
};

export interface FaultCounts {
  calls: number;
  throttled: number;
  unavailable: number;
}

/**
 * A `fault` hook that fails a share of calls as AWS does under load, before they take effect: throttling (HTTP 400 with
 * the service's throttling code; S3's SlowDown is a 503) and 503 ServiceUnavailable. Seeded, so a failing run replays.
 */
export function randomFaults(rates: { throttling: number; unavailable: number }, seed = 1): { fault: (call: CallRecord) => Error | undefined; counts: FaultCounts } {
  let state = seed >>> 0 || 1;
  const random = () => {
    // xorshift32: deterministic and good enough to spread faults over calls.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
  const counts: FaultCounts = { calls: 0, throttled: 0, unavailable: 0 };
  const fault = (call: CallRecord): Error | undefined => {
    counts.calls += 1;
    const r = random();
    if (r < rates.throttling) {
      counts.throttled += 1;
      const code = THROTTLING_CODES[call.service] ?? "ThrottlingException";
      return sdkError(code, "Rate exceeded", code === "SlowDown" ? 503 : 400);
    }
    if (r < rates.throttling + rates.unavailable) {
      counts.unavailable += 1;
      return sdkError("ServiceUnavailable", "Service is unable to handle request.", 503);
    }
    return undefined;
  };
  return { fault, counts };
}

/** What the SDK's Node HTTP handler throws when the connection drops before the response: ECONNRESET, no HTTP status. */
export function lostAnswer(what: string): Error {
  return Object.assign(new Error(`socket hang up (the answer to ${what} was lost)`), { name: "Error", code: "ECONNRESET", $metadata: {} });
}

/** An error shaped as every SDK v3 client throws it (name = AWS error code, $fault, $metadata), for any service. */
export function sdkError(code: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { name: code, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status, requestId: `fault-${code}` } });
}
