import { randomUUID } from "node:crypto";
import { UserError } from "../errors.js";
import { validateState } from "./validate.js";

export const STATE_FORMAT_VERSION = 1;

/** What state records per logical id. Attributes hold ids, ARNs and settings: never a secret value. */
export interface ResourceRecord {
  type: string;
  physicalId: string;
  attributes: Record<string, unknown>;
  /** Logical ids this resource depended on when it was applied; `down` walks them in reverse without the config. */
  dependsOn: string[];
  createdAt: string;
  updatedAt: string;
  /**
   * Set on a resource the stack no longer uses but keeps: the database instance `db restore` replaced. `from` is the
   * logical id it served as (its tags still name it), `replacedBy` the physical id that serves now. `up` leaves a
   * retired resource alone (it is not "removed from the config"); `down` and `db restore --retire-old` delete it.
   */
  retired?: { from: string; replacedBy: string; at: string };
}

export interface StateDocument {
  version: number;
  /** A random id fixed when the state is first written; a state from another lineage is another environment's. */
  lineage: string;
  /** Incremented on every write. */
  serial: number;
  project: string;
  environment: string;
  region: string;
  accountId: string;
  resources: Record<string, ResourceRecord>;
  outputs: Record<string, unknown>;
  /**
   * How many times each logical id has been destroyed. Part of EC2 client tokens, so a create after `down` is a new
   * request while a create retried after a crash (same generation) is the same one.
   */
  generations?: Record<string, number>;
  /** What `platform deploy` last rolled out, by service name ("api"); see src/state/deployments.ts for how `up` honours it. */
  deployments?: Record<string, DeploymentRecord>;
  /** Per service: which blue-green slot serves production, the release before the last one, a bake in progress (src/state/releases.ts). */
  releases?: Record<string, ReleaseRecord>;
}

/** A blue-green slot: one of the API's two ECS services, each behind its own target group. */
export type Slot = "blue" | "green";

/** What a service released and where: what `platform rollback` goes back to. Never a secret. */
export interface ReleaseRecord {
  /** Blue-green: the slot the production listener forwards to (blue when absent). */
  live?: Slot;
  /** What ran before the last release: rollback's target. */
  previous?: { image: string; digest?: string; taskDefinitionArn: string; slot?: Slot };
  /** Blue-green: the previous slot keeps running until then; before it, rollback is a listener switch. */
  bakingUntil?: string;
}

/** One `platform deploy`: the image a service's app container runs since. Never a secret. */
export interface DeploymentRecord {
  /** The full image name registered: `<repository uri>:<tag>`, `<repository uri>@sha256:...`, or another registry's image. */
  image: string;
  /** The image's digest in ECR at deploy time (absent for images outside ECR given by tag). */
  digest?: string;
  /** services.imageTag when deploy ran: while the config still says this, `up` keeps `image`. */
  configImageTag: string;
  /** The revision deploy registered. */
  taskDefinitionArn: string;
  deployedAt: string;
}

export function emptyState(init: { project: string; environment: string; region: string; accountId: string }): StateDocument {
  return { version: STATE_FORMAT_VERSION, lineage: randomUUID(), serial: 0, ...init, resources: {}, outputs: {} };
}

/** Parses and checks a state document read from a backend. `source` names it in errors. */
export function parseState(text: string, source: string): StateDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${source}: corrupted state (not JSON: ${(err as Error).message}); restore it from a backup or run 'platform state' to repair`);
  }
  const d = doc as Partial<StateDocument>;
  const isMap = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isMap(d) || "terraform_version" in d) {
    throw new UserError(`${source}: not a platform state file (${isMap(d) ? "it is a Terraform state" : "expected a JSON object"})`);
  }
  if (typeof d.version !== "number" || typeof d.lineage !== "string" || typeof d.project !== "string" || typeof d.environment !== "string" || !isMap(d.resources)) {
    throw new UserError(`${source}: not a platform state file (missing version, lineage, project, environment or the map of resources)`);
  }
  if (d.version > STATE_FORMAT_VERSION) {
    throw new UserError(`${source}: state format ${d.version} is newer than this platform understands (${STATE_FORMAT_VERSION}); upgrade platform`);
  }
  return validateState({ outputs: {}, ...d }, source) as StateDocument;
}

/** Refuses a state that belongs to another environment, region or account. */
export function assertStateMatches(doc: StateDocument, expected: { project: string; environment: string; region: string; accountId?: string }, source: string): void {
  for (const key of ["project", "environment", "region", "accountId"] as const) {
    const want = expected[key];
    if (want !== undefined && doc[key] && doc[key] !== want) {
      throw new UserError(
        `${source}: this state belongs to ${key} "${doc[key]}", not "${want}"; check --env, --region, --profile and the config's project`,
      );
    }
  }
}
