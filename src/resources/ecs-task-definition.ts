import {
  type ContainerDefinition,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  paginateListTaskDefinitions,
  RegisterTaskDefinitionCommand,
  type TaskDefinition,
  type Tag,
  ECSClient,
} from "@aws-sdk/client-ecs";
import { errorCode, hasCode } from "../aws/errors.js";
import { TAG_LOGICAL_ID } from "../aws/tags.js";
import { UserError } from "../errors.js";
import { applyEcsTags, ecs, ecsTagList, ecsTagRecord } from "./ecs-shared.js";
import { retryWhileIamPropagates } from "./iam-propagation.js";
import { type Change, compareFields, compareTags, knownKey, readAfterCreate, sameValue, type ResourceContext, type ResourceType } from "./types.js";

/** A secret handed to a container by ARN: ECS reads it at task start with the execution role; the value never passes through platform. */
export interface ContainerSecret {
  /** The environment variable the container sees. */
  name: string;
  secretArn: string;
  /** A field of a JSON secret ("password"): valueFrom becomes `<arn>:<jsonKey>::`. */
  jsonKey?: string;
}

/** An image in a repository by tag, or by digest ("sha256:..."): `<uri>:<tag>` or `<uri>@sha256:...`. */
export interface RepositoryImage {
  repositoryUri: string;
  tag: string;
}

export function imageName(image: string | RepositoryImage): string {
  if (typeof image === "string") return image;
  return `${image.repositoryUri}${image.tag.startsWith("sha256:") ? "@" : ":"}${image.tag}`;
}

export interface ContainerSpec {
  name: string;
  /** A full image name ("grafana/grafana:11.2.0"), or one of the stack's repositories with a tag. */
  image: string | RepositoryImage;
  /** Defaults to true: the task stops when this container does. */
  essential?: boolean;
  command?: string[];
  /** TCP ports; on awsvpc the host port is the container port. */
  portMappings?: { containerPort: number }[];
  /** Plain, non-secret settings only. */
  environment?: Record<string, string>;
  secrets?: ContainerSecret[];
  /** awslogs: streams are named `<streamPrefix>/<container name>/<task id>`. */
  log: { group: string; region: string; streamPrefix: string };
}

export interface EcsTaskDefinitionSpec {
  /** Up to 255 letters, digits, hyphens and underscores; revisions of one family replace each other. */
  family: string;
  /** Fargate CPU units and memory (MiB), a pair Fargate allows (checked when the config loads). */
  cpu: number;
  memory: number;
  executionRoleArn: string;
  taskRoleArn: string;
  containerDefinitions: ContainerSpec[];
  tags: Record<string, string>;
}

/** A container definition as registered, reduced to the fields platform sets, in one canonical order: what diff compares. */
export interface RegisteredContainer {
  name: string;
  image: string;
  essential: boolean;
  command?: string[];
  portMappings?: { containerPort: number; protocol: string }[];
  environment?: { name: string; value: string }[];
  secrets?: { name: string; valueFrom: string }[];
  logConfiguration?: { logDriver: string; options: Record<string, string> };
}

export interface EcsTaskDefinitionAttrs {
  family: string;
  /** The revision's ARN (`...:task-definition/<family>:<revision>`): what services run. */
  arn: string;
  revision: number;
  cpu: number;
  memory: number;
  executionRoleArn: string;
  taskRoleArn: string;
  networkMode: string;
  requiresCompatibilities: string[];
  containerDefinitions: RegisteredContainer[];
  tags: Record<string, string>;
  /** Present (true) for a revision deregistered but not yet deleted: a run died between the two calls. */
  inactive?: boolean;
}

const KIND = "ECS task definition";
const FAMILY = /^[A-Za-z0-9_-]{1,255}$/;
const NETWORK_MODE = "awsvpc";
const COMPATIBILITIES = ["FARGATE"];
const NEW_REVISION = "registers a new revision; the previous one stays ACTIVE for rollback";
/** DeleteTaskDefinitions (2023) is missing from some emulators; deregistered revisions are harmless there. */
const UNSUPPORTED = ["UnknownOperationException", "UnsupportedOperation", "NotImplemented", "InternalFailure", "InvalidAction"];

/**
 * DescribeTaskDefinition answers a family with no ACTIVE revision (or an unknown ARN) with a generic ClientException,
 * "Unable to describe task definition." ECS has no dedicated code for it, so this is the one place that reads the
 * message: every other ClientException (bad input, permissions) propagates.
 */
export function isTaskDefinitionMissing(err: unknown): boolean {
  return errorCode(err) === "ClientException" && /unable to describe task definition/i.test((err as Error)?.message ?? "");
}

async function describe(ctx: ResourceContext, familyOrArn: string): Promise<{ taskDefinition: TaskDefinition; tags: Tag[] } | undefined> {
  try {
    const out = await ecs(ctx).send(new DescribeTaskDefinitionCommand({ taskDefinition: familyOrArn, include: ["TAGS"] }));
    return out.taskDefinition ? { taskDefinition: out.taskDefinition, tags: out.tags ?? [] } : undefined;
  } catch (err) {
    if (isTaskDefinitionMissing(err)) return undefined;
    throw err;
  }
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** AWS fills in defaults (cpu 0, empty mountPoints, volumesFrom, systemControls, hostPort, ...): keep only what we set. */
export function canonicalContainer(c: ContainerDefinition): RegisteredContainer {
  const out: RegisteredContainer = { name: c.name!, image: c.image!, essential: c.essential ?? true };
  if (c.command?.length) out.command = [...c.command];
  if (c.portMappings?.length) out.portMappings = c.portMappings.map((p) => ({ containerPort: p.containerPort!, protocol: p.protocol ?? "tcp" }));
  if (c.environment?.length) out.environment = c.environment.map((e) => ({ name: e.name!, value: e.value ?? "" })).sort(byName);
  if (c.secrets?.length) out.secrets = c.secrets.map((s) => ({ name: s.name!, valueFrom: s.valueFrom! })).sort(byName);
  if (c.logConfiguration) out.logConfiguration = { logDriver: c.logConfiguration.logDriver!, options: { ...(c.logConfiguration.options ?? {}) } };
  return out;
}

/** `<arn>` for a whole secret, `<arn>:<key>::` for one field of a JSON secret (current version). */
export function secretValueFrom(s: ContainerSecret): string {
  return s.jsonKey ? `${s.secretArn}:${s.jsonKey}::` : s.secretArn;
}

/** The container definition RegisterTaskDefinition takes for a spec'd container. */
export function containerInput(c: ContainerSpec): ContainerDefinition {
  return {
    name: c.name,
    image: imageName(c.image),
    essential: c.essential ?? true,
    ...(c.command?.length ? { command: c.command } : {}),
    ...(c.portMappings?.length ? { portMappings: c.portMappings.map((p) => ({ containerPort: p.containerPort, hostPort: p.containerPort, protocol: "tcp" as const })) } : {}),
    ...(c.environment && Object.keys(c.environment).length ? { environment: Object.entries(c.environment).map(([name, value]) => ({ name, value: String(value) })).sort(byName) } : {}),
    ...(c.secrets?.length ? { secrets: c.secrets.map((s) => ({ name: s.name, valueFrom: secretValueFrom(s) })).sort(byName) } : {}),
    logConfiguration: {
      logDriver: "awslogs",
      options: { "awslogs-group": c.log.group, "awslogs-region": c.log.region, "awslogs-stream-prefix": c.log.streamPrefix },
    },
  };
}

function toAttrs(td: TaskDefinition, tags: Tag[]): EcsTaskDefinitionAttrs {
  return {
    family: td.family!,
    arn: td.taskDefinitionArn!,
    revision: td.revision!,
    cpu: Number(td.cpu),
    memory: Number(td.memory),
    executionRoleArn: td.executionRoleArn ?? "",
    taskRoleArn: td.taskRoleArn ?? "",
    networkMode: td.networkMode ?? "",
    requiresCompatibilities: [...(td.requiresCompatibilities ?? [])].sort(),
    containerDefinitions: (td.containerDefinitions ?? []).map(canonicalContainer).sort(byName),
    tags: ecsTagRecord(tags),
    ...(td.status === "INACTIVE" ? { inactive: true } : {}),
  };
}

/** The latest ACTIVE revision of `family` (or the revision an ARN names); undefined when there is none. */
export async function findTaskDefinition(ctx: ResourceContext, familyOrArn: string): Promise<EcsTaskDefinitionAttrs | undefined> {
  const found = await describe(ctx, familyOrArn);
  return found && toAttrs(found.taskDefinition, found.tags);
}

/** The spec in the shape of the attributes, so diff compares like with like. */
function desired(spec: EcsTaskDefinitionSpec) {
  return {
    ...spec,
    networkMode: NETWORK_MODE,
    requiresCompatibilities: COMPATIBILITIES,
    containerDefinitions: spec.containerDefinitions.map((c) => canonicalContainer(containerInput(c))).sort(byName),
  };
}

/** One change per container field that differs (`container.api.image`), so a plan says what a new revision changes. */
function containerChanges(want: RegisteredContainer[], have: RegisteredContainer[]): Change[] {
  const names = [...new Set([...want, ...have].map((c) => c.name))].sort();
  const changes: Change[] = [];
  for (const name of names) {
    const w = want.find((c) => c.name === name) as Record<string, unknown> | undefined;
    const h = have.find((c) => c.name === name) as Record<string, unknown> | undefined;
    if (!w || !h) {
      changes.push({ field: `container.${name}`, from: h ? "present" : undefined, to: w ? "present" : undefined, action: "update", note: NEW_REVISION });
      continue;
    }
    for (const key of [...new Set([...Object.keys(w), ...Object.keys(h)])].sort()) {
      if (!sameValue(w[key], h[key])) changes.push({ field: `container.${name}.${key}`, from: h[key], to: w[key], action: "update", note: NEW_REVISION });
    }
  }
  return changes;
}

function diff(spec: EcsTaskDefinitionSpec, actual: EcsTaskDefinitionAttrs): Change[] {
  const want = desired(spec);
  return [
    ...compareFields(want, actual, [
      { field: "family", action: "replace" },
      { field: "cpu", note: NEW_REVISION },
      { field: "memory", note: NEW_REVISION },
      { field: "executionRoleArn", note: NEW_REVISION },
      { field: "taskRoleArn", note: NEW_REVISION },
      { field: "networkMode", note: NEW_REVISION },
      { field: "requiresCompatibilities", note: NEW_REVISION },
    ]),
    ...containerChanges(want.containerDefinitions, actual.containerDefinitions),
    ...compareTags(spec.tags, actual.tags),
    ...(actual.inactive ? [{ field: "status", from: "INACTIVE", to: "ACTIVE", action: "update" as const, note: NEW_REVISION }] : []),
  ];
}

function assertSpec(spec: EcsTaskDefinitionSpec): void {
  // CPU and memory are checked against Fargate's sizes when the config loads (src/config/schema.ts).
  if (!FAMILY.test(spec.family)) throw new UserError(`${KIND} family "${spec.family}" must be 1-255 letters, digits, hyphens or underscores`);
}

/**
 * Registers a new revision. ECS checks that it may pass the roles (iam:PassRole) and, for a role made a moment ago, can
 * refuse until IAM has propagated: retried for a while, as other errors are not.
 */
async function register(ctx: ResourceContext, spec: EcsTaskDefinitionSpec): Promise<EcsTaskDefinitionAttrs> {
  assertSpec(spec);
  // Sent once (AwsClients.once): every RegisterTaskDefinition makes a revision, so a replay after a lost answer would
  // make two; the engine looks the family's latest revision up (by its tags) before any new attempt.
  const out = await retryWhileIamPropagates(ctx, () =>
    ctx.aws.once(ECSClient).send(
      new RegisterTaskDefinitionCommand({
        family: spec.family,
        taskRoleArn: spec.taskRoleArn,
        executionRoleArn: spec.executionRoleArn,
        networkMode: NETWORK_MODE,
        requiresCompatibilities: COMPATIBILITIES as ["FARGATE"],
        cpu: String(spec.cpu),
        memory: String(spec.memory),
        containerDefinitions: spec.containerDefinitions.map(containerInput),
        tags: ecsTagList(spec.tags),
      }),
    ),
  );
  const arn = out.taskDefinition!.taskDefinitionArn!;
  return readAfterCreate(ctx, `${KIND} ${arn}`, () => findTaskDefinition(ctx, arn));
}

async function applyChanges(ctx: ResourceContext, spec: EcsTaskDefinitionSpec, actual: EcsTaskDefinitionAttrs, changes: Change[]): Promise<EcsTaskDefinitionAttrs> {
  // Revisions are immutable: any change of content is a new revision (with the tags); tags alone are set on the current one.
  if (changes.some((c) => c.field !== "tags")) {
    // A run that died between registering and recording left the family's latest revision exactly as wanted (tags
    // included, so ours): that one is used instead of registering another.
    const latest = await findTaskDefinition(ctx, spec.family);
    if (latest && latest.arn !== actual.arn && !latest.inactive && diff(spec, latest).length === 0) return latest;
    return register(ctx, spec);
  }
  if (changes.some((c) => c.field === "tags")) await applyEcsTags(ctx, actual.arn, spec.tags, actual.tags);
  return (await findTaskDefinition(ctx, actual.arn)) ?? actual;
}

async function listRevisions(ctx: ResourceContext, family: string, status: "ACTIVE" | "INACTIVE"): Promise<string[]> {
  const arns: string[] = [];
  for await (const page of paginateListTaskDefinitions({ client: ecs(ctx) }, { familyPrefix: family, status })) arns.push(...(page.taskDefinitionArns ?? []));
  // familyPrefix is the whole family name; an emulator that treats it as a prefix must not reach other families.
  return arns.filter((arn) => arn.split("/").at(-1)!.replace(/:\d+$/, "") === family);
}

/** DeleteTaskDefinitions takes up to 10 INACTIVE revisions; it is recent, and a fake or emulator may lack it. */
async function deleteRevisions(ctx: ResourceContext, arns: string[], logicalId: string): Promise<void> {
  for (let i = 0; i < arns.length; i += 10) {
    try {
      const out = await ecs(ctx).send(new DeleteTaskDefinitionsCommand({ taskDefinitions: arns.slice(i, i + 10) }));
      if (out.failures?.length) ctx.note(logicalId, `${out.failures.length} revisions not deleted yet (${out.failures[0]!.reason}); ECS deletes them once no task uses them`);
    } catch (err) {
      if (!hasCode(err, ...UNSUPPORTED)) throw err;
      ctx.note(logicalId, "DeleteTaskDefinitions is not supported here; the revisions stay INACTIVE");
      return;
    }
  }
}

export const ecsTaskDefinition: ResourceType<EcsTaskDefinitionSpec, EcsTaskDefinitionAttrs> = {
  type: "ecs:task-definition",
  createIdempotency: "tags",

  // The recorded revision while it is ACTIVE (a revision a killed deploy registered but never released is not what the
  // stack runs); else the latest ACTIVE one of the family (recorded, else the one create would register).
  async find(ctx, { recorded, wanted }) {
    const family = knownKey(recorded?.family, wanted?.family);
    if (!family) return undefined;
    const current = recorded?.arn ? await findTaskDefinition(ctx, recorded.arn) : undefined;
    if (current && !current.inactive) return current;
    const latest = await findTaskDefinition(ctx, family);
    if (latest) return latest;
    // No ACTIVE revision, but the recorded one still exists INACTIVE (a run died between deregistering and deleting it):
    // found, so down finishes deleting it and up registers a new revision.
    return current?.inactive ? current : undefined;
  },

  diff,

  async create(ctx, spec) {
    return register(ctx, spec);
  },

  update: applyChanges,

  async destroy(ctx, actual) {
    const logicalId = actual.tags[TAG_LOGICAL_ID] ?? actual.family;
    // Services are deleted first (they depend on this); a deregistered revision keeps running tasks alive until they stop.
    const active = await listRevisions(ctx, actual.family, "ACTIVE");
    for (const arn of active) await ecs(ctx).send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    // Every INACTIVE revision of the family: those just deregistered, and any an interrupted run left deregistered.
    await deleteRevisions(ctx, await listRevisions(ctx, actual.family, "INACTIVE"), logicalId);
  },

  physicalId: (a) => `${a.family}:${a.revision}`,
};
