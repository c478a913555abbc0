import {
  type ContainerDefinition,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type Service,
  type TaskDefinition,
} from "@aws-sdk/client-ecs";
import { hasCode, orUndefined } from "../aws/errors.js";
import { ecs } from "../resources/ecs-shared.js";
import type { ResourceContext } from "../resources/types.js";
import type { StateDocument } from "../state/document.js";
import { recorded } from "./checks.js";

/**
 * The ECS services of an environment as AWS describes them now, found from the ids state records for compute.service.*:
 * their network placement (subnets, security groups), task definition, execution role, secrets and log settings.
 * The troubleshoot checks borrow these: the connectivity probe runs where the API runs, secrets-access asks whether
 * the execution role may read what the containers reference.
 */
export const SERVICE_PREFIX = "compute.service.";

export interface ServiceRef {
  logicalId: string;
  /** Short name users type: "api" for compute.service.api. */
  name: string;
  cluster: string;
  serviceName: string;
}

export interface ContainerView {
  name: string;
  image: string;
  essential: boolean;
  /** Secret references (name → valueFrom: a Secrets Manager ARN, maybe with a JSON key suffix, or an SSM parameter). */
  secrets: { name: string; valueFrom: string }[];
  /** awslogs settings, when the container logs to CloudWatch Logs. */
  logGroup?: string;
  logRegion?: string;
  logStreamPrefix?: string;
}

export interface ServiceView extends ServiceRef {
  serviceArn: string;
  status: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: "ENABLED" | "DISABLED";
  taskDefinitionArn: string;
  /** Undefined when the task definition could not be read (deregistered and deleted). */
  taskDefinition?: TaskDefinitionView;
  events: { createdAt?: Date; message: string }[];
  /** Raw, for callers that need more (launch type, capacity providers). */
  raw: Service;
}

export interface TaskDefinitionView {
  arn: string;
  family: string;
  executionRoleArn?: string;
  taskRoleArn?: string;
  containers: ContainerView[];
}

/** "arn:aws:ecs:<region>:<account>:service/<cluster>/<name>" → cluster and name (the old format has no cluster). */
export function parseServiceArn(arn: string): { cluster?: string; serviceName: string } | undefined {
  const m = /^arn:aws[a-z-]*:ecs:[^:]*:\d*:service\/(?:([^/]+)\/)?([^/]+)$/.exec(arn);
  return m ? { ...(m[1] ? { cluster: m[1] } : {}), serviceName: m[2]! } : undefined;
}

/** Where state says a service is: from its recorded attributes, else from the ARN recorded as its physical id. */
export function serviceRef(state: StateDocument, logicalId: string): ServiceRef | undefined {
  const r = recorded(state, logicalId);
  if (!r) return undefined;
  const a = r.attributes;
  const str = (...keys: string[]) => keys.map((k) => a[k]).find((v): v is string => typeof v === "string" && v.length > 0);
  const arn = str("serviceArn", "arn") ?? (r.physicalId.startsWith("arn:") ? r.physicalId : undefined);
  const parsed = arn ? parseServiceArn(arn) : undefined;
  const cluster = str("cluster", "clusterArn", "clusterName") ?? parsed?.cluster;
  const serviceName = str("serviceName", "name") ?? parsed?.serviceName ?? (r.physicalId.startsWith("arn:") ? undefined : r.physicalId);
  if (!cluster || !serviceName) return undefined;
  return { logicalId, name: logicalId.slice(SERVICE_PREFIX.length), cluster, serviceName };
}

/** Every service state records (compute.service.*), sorted by logical id. */
export function recordedServices(state: StateDocument): ServiceRef[] {
  return Object.keys(state.resources)
    .filter((id) => id.startsWith(SERVICE_PREFIX))
    .sort()
    .map((id) => serviceRef(state, id))
    .filter((r): r is ServiceRef => r !== undefined);
}

function containerView(c: ContainerDefinition): ContainerView {
  const log = c.logConfiguration?.logDriver === "awslogs" ? c.logConfiguration.options ?? {} : {};
  return {
    name: c.name ?? "",
    image: c.image ?? "",
    essential: c.essential ?? true,
    secrets: (c.secrets ?? []).map((s) => ({ name: s.name ?? "", valueFrom: s.valueFrom ?? "" })),
    ...(log["awslogs-group"] ? { logGroup: log["awslogs-group"] } : {}),
    ...(log["awslogs-region"] ? { logRegion: log["awslogs-region"] } : {}),
    ...(log["awslogs-stream-prefix"] ? { logStreamPrefix: log["awslogs-stream-prefix"] } : {}),
  };
}

export function taskDefinitionView(td: TaskDefinition): TaskDefinitionView {
  return {
    arn: td.taskDefinitionArn ?? "",
    family: td.family ?? "",
    ...(td.executionRoleArn ? { executionRoleArn: td.executionRoleArn } : {}),
    ...(td.taskRoleArn ? { taskRoleArn: td.taskRoleArn } : {}),
    containers: (td.containerDefinitions ?? []).map(containerView),
  };
}

/** A task definition by ARN or family:revision; undefined when ECS no longer knows it (ECS says ClientException). */
export async function findTaskDefinition(ctx: ResourceContext, taskDefinition: string): Promise<TaskDefinitionView | undefined> {
  try {
    const out = await ecs(ctx).send(new DescribeTaskDefinitionCommand({ taskDefinition }));
    return out.taskDefinition ? taskDefinitionView(out.taskDefinition) : undefined;
  } catch (err) {
    if (hasCode(err, "ClientException")) return undefined;
    throw err;
  }
}

/** The service as ECS describes it, with its task definition; undefined when the cluster or the service is gone. */
export async function findService(ctx: ResourceContext, ref: ServiceRef): Promise<ServiceView | undefined> {
  const out = await orUndefined(ecs(ctx).send(new DescribeServicesCommand({ cluster: ref.cluster, services: [ref.serviceName] })));
  const s = out?.services?.find((x) => x.status !== "INACTIVE");
  if (!s) return undefined;
  const vpc = s.networkConfiguration?.awsvpcConfiguration;
  const taskDefinitionArn = s.taskDefinition ?? "";
  const taskDefinition = taskDefinitionArn ? await findTaskDefinition(ctx, taskDefinitionArn) : undefined;
  return {
    ...ref,
    serviceArn: s.serviceArn ?? "",
    status: s.status ?? "",
    subnets: vpc?.subnets ?? [],
    securityGroups: vpc?.securityGroups ?? [],
    assignPublicIp: vpc?.assignPublicIp === "ENABLED" ? "ENABLED" : "DISABLED",
    taskDefinitionArn,
    ...(taskDefinition ? { taskDefinition } : {}),
    events: (s.events ?? []).map((e) => ({ ...(e.createdAt ? { createdAt: e.createdAt } : {}), message: e.message ?? "" })),
    raw: s,
  };
}
