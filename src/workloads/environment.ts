import type { Config } from "../config/schema.js";
import { UserError } from "../errors.js";
import type { StateDocument } from "../state/document.js";
import { ids as network, PRIVATE_SUBNETS, PUBLIC_SUBNETS, type SecurityGroupRole } from "../stack/network.js";

/**
 * What the day-2 commands (deploy, logs, run) need to know about a deployed environment, read from its state: the
 * cluster, services, task definitions and network ids `up` recorded. A missing record means the environment (or that
 * part of it) has not been brought up.
 */
export function recordedAttributes<A>(state: StateDocument, logicalId: string): A | undefined {
  return state.resources[logicalId]?.attributes as A | undefined;
}

export function requireRecorded<A>(state: StateDocument, environment: string, logicalId: string, what: string): A {
  const attrs = recordedAttributes<A>(state, logicalId);
  if (!attrs) throw new UserError(`${environment} has no ${what} yet (state records no ${logicalId}): run 'platform up --env ${environment}' first`);
  return attrs;
}

export interface TaskNetwork {
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: "ENABLED" | "DISABLED";
}

/**
 * Where one-off tasks run, as the services do (src/stack/compute.ts): the private subnets without public IPs behind a
 * NAT gateway; without one, the public subnets with a public IP, the only way out to ECR, Secrets Manager and Logs.
 */
export function taskNetwork(state: StateDocument, config: Config, group: SecurityGroupRole): TaskNetwork {
  const natGateway = config.network.natGateway;
  const subnetNames = natGateway ? PRIVATE_SUBNETS : PUBLIC_SUBNETS;
  const env = config.environment;
  const subnets = subnetNames.map((s) => requireRecorded<{ subnetId: string }>(state, env, network.subnet(s), `subnet ${s}`).subnetId);
  const securityGroup = requireRecorded<{ groupId: string }>(state, env, network.sg(group), `${group} security group`).groupId;
  return { subnets, securityGroups: [securityGroup], assignPublicIp: natGateway ? "DISABLED" : "ENABLED" };
}

/** "<prefix>/<container>/<task id>" → its parts (awslogs stream names on Fargate). */
export function parseTaskStream(stream: string): { prefix: string; container: string; taskId: string } {
  const [prefix = "", container = "", ...rest] = stream.split("/");
  return { prefix, container, taskId: rest.join("/") || stream };
}
