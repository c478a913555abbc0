/**
 * One place that builds AWS SDK v3 clients: region, profile, endpoint override and retry mode.
 * Clients are created on first use, per class, so a command loads only the services it touches.
 */
export interface ClientSettings {
  region: string;
  profile?: string;
  /** From config `endpoint`; the SDK itself honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, which win. */
  endpoint?: string;
  /** Total attempts per call, throttling and 5xx included (AWS_MAX_ATTEMPTS wins when set). */
  maxAttempts?: number;
  /** Replaces the HTTP layer (tests that exercise the SDK's own retry and parsing). */
  requestHandler?: unknown;
  /**
   * Called once with each new client, e.g. to add middleware. Tests use it to answer from the stateful fake beneath the
   * SDK's retry middleware, so injected throttling and 5xx errors meet the real retry strategy (test/fakes/cloud.ts).
   */
  onClient?: (client: SdkClient, clientName: string) => void;
}

/** What `onClient` may touch: the client's middleware stack (`@smithy/types` MiddlewareStack). */
export interface SdkClient {
  middlewareStack: { addRelativeTo(middleware: unknown, options: { relation: "before" | "after"; toMiddleware: string; name?: string }): void };
}

type ClientClass<T> = new (config: Record<string, unknown>) => T;

export const DEFAULT_MAX_ATTEMPTS = 8;

export class AwsClients {
  private readonly cache = new Map<ClientClass<unknown>, unknown>();
  private readonly singleAttempt = new Map<ClientClass<unknown>, unknown>();

  constructor(readonly settings: ClientSettings) {}

  /** True when requests go somewhere other than AWS's own endpoints (LocalStack, an emulator, a proxy). */
  get endpointOverridden(): boolean {
    return Boolean(this.settings.endpoint || process.env.AWS_ENDPOINT_URL || process.env.AWS_ENDPOINT_URL_S3);
  }

  get<T>(Client: ClientClass<T>): T {
    return this.build(Client, this.cache, undefined);
  }

  /**
   * The client that makes exactly one attempt per call, for a create that is not idempotent (no ClientToken, no unique
   * name: CreateVpc, CreateInternetGateway, AllocateAddress, RegisterTaskDefinition). The SDK retries throttling, 5xx and
   * dropped connections by sending the request again, and a request whose answer was lost has already run: replayed, it
   * makes a second resource. Sent once, its ambiguous failure reaches the engine, which looks the result up by the tags
   * the create set before any new attempt (src/engine/apply.ts, createOnce).
   */
  once<T>(Client: ClientClass<T>): T {
    return this.build(Client, this.singleAttempt, 1);
  }

  private build<T>(Client: ClientClass<T>, cache: Map<ClientClass<unknown>, unknown>, attempts: number | undefined): T {
    let client = cache.get(Client) as T | undefined;
    if (!client) {
      const config: Record<string, unknown> = {
        region: this.settings.region,
        retryMode: process.env.AWS_RETRY_MODE ?? "standard",
      };
      if (attempts !== undefined) config.maxAttempts = attempts;
      else if (!process.env.AWS_MAX_ATTEMPTS) config.maxAttempts = this.settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
      if (this.settings.profile) config.profile = this.settings.profile;
      if (this.settings.requestHandler) config.requestHandler = this.settings.requestHandler;
      if (this.settings.endpoint && !process.env.AWS_ENDPOINT_URL) config.endpoint = this.settings.endpoint;
      // Emulators serve buckets under the endpoint's path, not as virtual hosts.
      if (Client.name === "S3Client" && this.endpointOverridden) config.forcePathStyle = true;
      client = new Client(config);
      this.settings.onClient?.(client as SdkClient, Client.name);
      cache.set(Client, client);
    }
    return client;
  }
}
