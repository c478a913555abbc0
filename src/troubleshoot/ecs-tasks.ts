import { recentlyStoppedTasks, type StoppedTask } from "../resources/ecs-task-failures.js";
import type { ResourceContext } from "../resources/types.js";
import type { StateDocument } from "../state/document.js";
import { type Check, type CheckResult, combine, failed, passed } from "./checks.js";
import { findService, recordedServices, type ServiceRef, type ServiceView } from "./services.js";

/**
 * `platform troubleshoot ecs-tasks`: per service, its counts and deployment, its recently stopped tasks (stop code and
 * reason, each container's exit code and reason, the last lines of its log stream `<service>/<container>/<task id>`
 * in /ecs/<project>-<env>) and its recent events. Each common cause gets a named diagnosis and a fix.
 */
export interface EcsTasksContext {
  ctx: ResourceContext;
  state: StateDocument;
  /** Only this service (its short name, "api"). */
  service?: string;
}

export type Diagnosis =
  | "image-not-found"
  | "no-route-to-registry"
  | "secret-not-readable"
  | "out-of-memory"
  | "essential-container-exited"
  | "health-check-failing"
  | "cannot-place"
  | "other";

export interface Finding {
  diagnosis: Diagnosis;
  cause: string;
  fix: string;
  likelihood: number;
}

const RECENT_EVENTS = 5;

const HEALTH_CHECKS: Finding = {
  diagnosis: "health-check-failing",
  cause: "tasks fail their health checks and are replaced",
  fix: "the app must answer 200 on loadBalancer.healthCheckPath at network.appPort soon after start (see its last log lines); the API security group must admit the load balancer",
  likelihood: 80,
};

/** Stops that are the scheduler's ordinary work (deployments, scaling, a user's StopTask), not failures. */
function isOrdinaryStop(t: StoppedTask): boolean {
  const reason = t.stoppedReason ?? "";
  if (/health check/i.test(reason)) return false;
  if (t.stopCode === "UserInitiated") return true;
  if (t.stopCode === "ServiceSchedulerInitiated") return /Scaling activity|scaled in|deployment/i.test(reason);
  return t.stopCode === "EssentialContainerExited" && t.containers.every((c) => c.exitCode === 0);
}

/** The named diagnosis of one stopped task, from ECS's wording (see AWS's "Amazon ECS stopped tasks error messages"). */
export function diagnoseTask(t: StoppedTask, env: string): Finding {
  const reason = [t.stoppedReason, ...t.containers.map((c) => c.reason)].filter(Boolean).join(" ");
  const failedContainer = t.containers.find((c) => c.exitCode !== undefined && c.exitCode !== 0);
  if (/CannotPullContainerError/i.test(reason) && /not found|manifest unknown|does not exist|repository .* not found/i.test(reason)) {
    return { diagnosis: "image-not-found", cause: "the image the task definition names does not exist", fix: "build and push the image with the tag the task definition names (see platform outputs for the repository URIs), then run 'platform up' to roll the service", likelihood: 95 };
  }
  if (/ResourceInitializationError|CannotPullContainerError/i.test(reason) && /AccessDenied|not authorized|is not authorized|ResourceNotFoundException|secret/i.test(reason) && !/timeout|timed out|connection issue/i.test(reason)) {
    return { diagnosis: "secret-not-readable", cause: "the execution role cannot read a secret (or the registry) the task needs", fix: `run 'platform troubleshoot secrets-access --env ${env}' to see which, then 'platform up' to restore the role's policy`, likelihood: 90 };
  }
  if (/ResourceInitializationError|CannotPullContainerError/i.test(reason)) {
    return {
      diagnosis: "no-route-to-registry",
      cause: "the tasks cannot reach ECR, Secrets Manager or CloudWatch Logs from their subnets",
      fix: "give the subnets a way out: network.natGateway true (private subnets), or public subnets with assignPublicIp; or VPC endpoints for ECR (api, dkr), S3, Logs and Secrets Manager",
      likelihood: 90,
    };
  }
  if (/health check/i.test(reason)) {
    return HEALTH_CHECKS;
  }
  if (/OutOfMemory/i.test(reason) || failedContainer?.exitCode === 137) {
    return { diagnosis: "out-of-memory", cause: `container ${failedContainer?.name ?? "?"} was killed for using more memory than the task has`, fix: "give the task more memory, or find what grows (its last log lines above)", likelihood: 85 };
  }
  if (failedContainer || /Essential container in task exited/i.test(reason)) {
    const c = failedContainer ?? t.containers[0];
    return {
      diagnosis: "essential-container-exited",
      cause: `essential container ${c?.name ?? "?"} exited with ${c?.exitCode ?? "an error"}`,
      fix: `read its last log lines above: a crash at start-up (configuration, a missing environment variable, the database: 'platform troubleshoot db-connectivity --env ${env}')`,
      likelihood: 85,
    };
  }
  return { diagnosis: "other", cause: `a task stopped: ${t.stoppedReason ?? t.stopCode ?? "no reason given"}`, fix: "see the stopped reason and the service's events above", likelihood: 50 };
}

/** Findings in the service's events that stopped tasks do not show (placement, health checks reported by the load balancer). */
export function diagnoseEvents(events: { message: string }[]): Finding[] {
  const out: Finding[] = [];
  if (events.some((e) => /unable to place a task/i.test(e.message))) {
    out.push({ diagnosis: "cannot-place", cause: "ECS is unable to place the service's tasks", fix: "see the event's reason: subnets without free addresses, or a capacity or quota limit", likelihood: 85 });
  }
  if (events.some((e) => /unhealthy in \(target-group|failed (ELB|container) health checks/i.test(e.message))) {
    out.push(HEALTH_CHECKS);
  }
  return out;
}

function taskEvidence(t: StoppedTask): string[] {
  const lines = [`task ${t.taskId} stopped: ${t.stopCode ?? "?"}: ${t.stoppedReason ?? "no reason given"}`];
  for (const c of t.containers) {
    lines.push(`  container ${c.name}: ${c.exitCode !== undefined ? `exit code ${c.exitCode}` : "no exit code (it did not run)"}${c.reason ? `, ${c.reason}` : ""}`);
    if (c.lastLines.length) lines.push(`  last log lines of ${c.logStream}:`, ...c.lastLines.map((l) => `    ${l}`));
  }
  return lines;
}

function serviceEvidence(s: ServiceView): string[] {
  const primary = s.raw.deployments?.find((d) => d.status === "PRIMARY");
  return [
    `${s.serviceName} in ${s.cluster}: ${s.status}, running ${s.raw.runningCount ?? 0} of ${s.raw.desiredCount ?? 0}${s.raw.pendingCount ? `, ${s.raw.pendingCount} pending` : ""}, task definition ${s.taskDefinitionArn.split("/").at(-1)}`,
    ...(primary ? [`deployment ${primary.rolloutState ?? "?"}${primary.rolloutStateReason ? `: ${primary.rolloutStateReason}` : ""}${primary.failedTasks ? ` (${primary.failedTasks} failed tasks)` : ""}`] : []),
  ];
}

export async function checkService(tc: EcsTasksContext, ref: ServiceRef): Promise<CheckResult> {
  const env = tc.ctx.identity.environment;
  const service = await findService(tc.ctx, ref);
  if (!service) return failed([`${ref.serviceName} in ${ref.cluster}: not found`], `service ${ref.serviceName} does not exist`, `run 'platform up --env ${env}' to create it`, 100);
  const stopped = await recentlyStoppedTasks(tc.ctx, ref.cluster, { serviceName: ref.serviceName });
  const failures = stopped.filter((t) => !isOrdinaryStop(t));
  const events = service.events.slice(0, RECENT_EVENTS);
  const evidence = [
    ...serviceEvidence(service),
    ...(stopped.length ? stopped.flatMap(taskEvidence) : ["no recently stopped tasks"]),
    ...events.map((e) => `event${e.createdAt ? ` ${e.createdAt.toISOString()}` : ""}: ${e.message}`),
  ];
  const findings = [...failures.map((t) => diagnoseTask(t, env)), ...diagnoseEvents(events)];
  const desired = service.raw.desiredCount ?? 0;
  const running = service.raw.runningCount ?? 0;
  if (!findings.length && running < desired) {
    findings.push({ diagnosis: "other", cause: `the service runs ${running} of ${desired} tasks`, fix: "see its events above; run again in a minute if a deployment is in progress", likelihood: 60 });
  }
  if (!findings.length) return passed(evidence);
  const unique = [...new Map(findings.map((f) => [f.diagnosis + f.cause, f])).values()];
  return combine([passed(evidence), ...unique.map((f) => failed([`diagnosis: ${f.diagnosis}`], f.cause, f.fix, f.likelihood))]);
}

/** One check per recorded service (or the one asked for). */
export function ecsTasksChecks(tc: EcsTasksContext): Check<EcsTasksContext>[] {
  return recordedServices(tc.state)
    .filter((r) => !tc.service || r.name === tc.service)
    .map((ref) => ({ id: `service:${ref.name}`, title: `Service ${ref.name}`, run: (c: EcsTasksContext) => checkService(c, ref) }));
}
