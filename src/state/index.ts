import path from "node:path";
import { AwsClients } from "../aws/clients.js";
import type { Config } from "../config/schema.js";
import type { StateBackend } from "./backend.js";
import { LocalBackend } from "./local.js";

export type BackendKind = "local" | "s3";

/** Where an environment's S3 state lives, with the config's defaults applied. */
export interface S3StateLocation {
  bucket: string;
  key: string;
  region: string;
}

/** The local state file of an environment: `state/<env>.json` under the project folder. */
export function localStateFile(config: Config, cwd: string): string {
  return path.join(cwd, "state", `${config.environment}.json`);
}

/** The S3 location the config names: key `<project>/<env>.json` and the config's region unless set. Undefined without a bucket. */
export function s3StateLocation(config: Config): S3StateLocation | undefined {
  const state = config.state;
  if (!state?.bucket) return undefined;
  return { bucket: state.bucket, key: state.key ?? `${config.project}/${config.environment}.json`, region: state.region ?? config.region };
}

/**
 * The backend an environment's config names (local `state/<env>.json` by default), or the one `kind` asks for
 * (`state migrate`). `clients` are the run's AWS clients; a state bucket in another region gets clients of its own.
 * The S3 backend and its SDK are loaded only when used.
 */
export async function backendFor(config: Config, clients: AwsClients, cwd = process.cwd(), kind: BackendKind = config.state?.backend ?? "local"): Promise<StateBackend> {
  if (kind === "local") return new LocalBackend(localStateFile(config, cwd), cwd);
  const location = s3StateLocation(config);
  if (!location) {
    const { UserError } = await import("../errors.js");
    const suggested = `${config.project}-platform-state`;
    throw new UserError(
      `the config names no state bucket: set "state": { "backend": "s3", "bucket": "${suggested}" } (any globally unique name; create the bucket with 'platform state bootstrap --env ${config.environment} --bucket ${suggested}')`,
    );
  }
  const s3Clients = location.region === clients.settings.region ? clients : new AwsClients({ ...clients.settings, region: location.region });
  const { S3Backend } = await import("./s3.js");
  return S3Backend.of(s3Clients, location);
}
