import {
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { awsFailure } from "../aws/errors.js";
import type { Config } from "../config/schema.js";
import { AwsFailure, UserError } from "../errors.js";
import type { EcrRepositoryAttrs } from "../resources/ecr-repository.js";
import { ecsService, findService, waitForSteadyState, type EcsServiceAttrs } from "../resources/ecs-service.js";
import { ecs } from "../resources/ecs-shared.js";
import { ecsTaskDefinition, findTaskDefinition, isTaskDefinitionMissing, type EcsTaskDefinitionAttrs } from "../resources/ecs-task-definition.js";
import { retryWhileIamPropagates } from "../resources/iam-propagation.js";
import type { ResourceContext } from "../resources/types.js";
import { computeIds, slotService } from "../stack/compute.js";
import { isBlueGreen } from "../stack/load-balancer.js";
import { liveSlot, recordRelease } from "../state/releases.js";
import { REPOSITORIES, storageIds } from "../stack/storage.js";
import { DEPLOYABLE_SERVICES, type DeployableService, isDeployable, recordDeployment, serviceEnabled } from "../state/deployments.js";
import type { DeploymentRecord } from "../state/document.js";
import type { StateStore } from "../state/store.js";
import { requireRecorded } from "./environment.js";
import type { ResolvedImage, StackRepository } from "./images.js";

/**
 * `platform deploy`: one service to one image. Its task definition gets a new revision that differs from the family's
 * latest only in the app container's image; the service rolls to it (the circuit breaker rolls back if the new tasks
 * keep failing); the wait and its diagnosis are the service module's. State records the new revision, the service,
 * and the deployment (src/state/deployments.ts), so `up` keeps the image.
 */
export interface DeployTarget {
  service: DeployableService;
  cluster: string;
  serviceName: string;
  /** The service's logical id (a blue-green API: the live slot's). */
  serviceId: string;
  /** The family whose latest ACTIVE revision the new one copies. */
  family: string;
  /** The app container: named like the service. */
  container: string;
  repository: StackRepository;
  repositories: StackRepository[];
  /** The config's task count, for a service still at 0 because nothing had been pushed when up created it. */
  configuredCount: number;
}

export type DeployStatus = "steady" | "started" | "rolled-back";

/** What every release of an image reports, rolling or blue-green. */
export interface ReleasedImage {
  service: string;
  image: string;
  digest?: string;
  /** The revision the service was rolled to: registered by deploy, or the latest one when it already named the image. */
  taskDefinitionArn: string;
  registered: boolean;
  /** What the service ran before. */
  previousTaskDefinitionArn: string;
  desiredCount: number;
}

export interface DeployOutcome extends ReleasedImage {
  status: DeployStatus;
  /** After a rollback: what the service runs again. */
  running?: { taskDefinitionArn: string; image?: string };
  /** After a rollback: why, with the stopped tasks' reasons and log lines. */
  failure?: AwsFailure;
}

const toRepository = (a: EcrRepositoryAttrs): StackRepository => ({ name: a.name, uri: a.uri, registryId: a.registryId });

/** What deploy works on, from state; a UserError for a service that cannot be deployed or is not up. */
export function deployTarget(store: StateStore, config: Config, service: string): DeployTarget {
  const env = config.environment;
  if (!isDeployable(service)) {
    throw new UserError(`--service ${service}: deploy rolls out images to ${DEPLOYABLE_SERVICES.join(" and ")} (the services built from this project's repositories)`);
  }
  if (!serviceEnabled(config, service)) throw new UserError(`--service ${service}: the ${service} service is not enabled in ${env}'s config (services.${service}.enabled)`);
  const state = store.document;
  // A blue-green API rolls (deploy --strategy rolling) the slot that serves production.
  const serviceId = service === "api" && isBlueGreen(config) ? slotService(liveSlot(state, "api")) : computeIds.service(service);
  const svc = requireRecorded<EcsServiceAttrs>(state, env, serviceId, `${service} service`);
  const td = requireRecorded<EcsTaskDefinitionAttrs>(state, env, computeIds.taskDefinition(service), `${service} task definition`);
  const repositories = REPOSITORIES.map((r) => requireRecorded<EcrRepositoryAttrs>(state, env, storageIds.repository(r), `${r} image repository`)).map(toRepository);
  return {
    service,
    cluster: svc.cluster,
    serviceName: svc.name,
    serviceId,
    family: td.family,
    container: service,
    repository: repositories[REPOSITORIES.indexOf(service)]!,
    repositories,
    configuredCount: service === "api" ? config.services.api.desiredCount : config.services.worker.desiredCount,
  };
}

export async function deployImage(ctx: ResourceContext, store: StateStore, config: Config, target: DeployTarget, image: ResolvedImage, wait: boolean, say: (line: string) => void): Promise<DeployOutcome> {
  const what = `ECS service (${target.serviceName})`;
  const service = await step(`reading ${what}`, () => findService(ctx, target.cluster, target.serviceName));
  if (!service) throw new UserError(`${config.environment} has no ACTIVE ${target.service} service in cluster ${target.cluster}: run 'platform up --env ${config.environment}' first`);
  const { revision, registered } = await nextRevision(ctx, target, image.image, service.taskDefinitionArn);
  if (registered) {
    await putRecord(store, computeIds.taskDefinition(target.service), ecsTaskDefinition.physicalId(revision), revision);
    say(`registered ${ecsTaskDefinition.physicalId(revision)}`);
  } else {
    say(`${ecsTaskDefinition.physicalId(revision)} already names this image: new tasks of it pull the image again`);
  }

  // What runs now is what `platform rollback` goes back to (read before the service moves).
  const running = service.taskDefinitionArn === revision.arn ? undefined : await step(`reading ECS task definition (${service.taskDefinitionArn})`, () => findTaskDefinition(ctx, service.taskDefinitionArn));
  const priorRelease = store.document.releases?.[target.service];
  // A service still at 0 because its image had not been pushed when up created it starts with the config's count.
  const desiredCount = service.desiredCount > 0 ? service.desiredCount : target.configuredCount;
  await step(`updating ${what}`, () =>
    retryWhileIamPropagates(ctx, () =>
      ecs(ctx).send(
        new UpdateServiceCommand({
          cluster: target.cluster,
          service: target.serviceName,
          taskDefinition: revision.arn,
          ...(desiredCount !== service.desiredCount ? { desiredCount } : {}),
          // The same revision again (a tag pushed anew): only a forced deployment replaces the tasks.
          ...(registered ? {} : { forceNewDeployment: true }),
        }),
      ),
    ),
  );
  const previous = store.document.deployments?.[target.service];
  const record: DeploymentRecord = {
    image: image.image,
    ...(image.digest ? { digest: image.digest } : {}),
    configImageTag: config.services.imageTag,
    taskDefinitionArn: revision.arn,
    deployedAt: new Date().toISOString(),
  };
  // Recorded before the wait: from here on the service is rolling to this image, whatever happens to this process.
  await recordDeployment(store, target.service, record);
  const runningImage = running?.containerDefinitions.find((c) => c.name === target.container)?.image;
  if (running && runningImage) {
    const digest = previous?.image === runningImage ? previous.digest : undefined;
    await recordRelease(store, target.service, { ...priorRelease, previous: { image: runningImage, ...(digest ? { digest } : {}), taskDefinitionArn: running.arn } });
  }
  const outcome: DeployOutcome = {
    status: "started",
    service: target.service,
    image: image.image,
    ...(image.digest ? { digest: image.digest } : {}),
    taskDefinitionArn: revision.arn,
    registered,
    previousTaskDefinitionArn: service.taskDefinitionArn,
    desiredCount,
  };
  const tasks = `${desiredCount} task${desiredCount === 1 ? "" : "s"}`;
  say(registered ? `rolling ${target.serviceName} from ${revisionName(service.taskDefinitionArn)} to ${revisionName(revision.arn)} (${tasks})` : `replacing the tasks of ${target.serviceName} (${tasks})`);
  if (!wait) {
    await recordService(ctx, store, target);
    return outcome;
  }
  try {
    await waitForSteadyState(ctx, {
      cluster: target.cluster,
      service: target.serviceName,
      logicalId: target.serviceId,
      taskDefinitionArn: revision.arn,
      desiredCount,
      targetGroupArns: service.loadBalancers.map((l) => l.targetGroupArn),
    });
  } catch (err) {
    if (!(err instanceof AwsFailure) || err.code !== "ServiceDeploymentRolledBack") throw err;
    await recordRelease(store, target.service, priorRelease);
    return { ...outcome, ...(await afterRollback(ctx, store, target, registered ? revision.arn : undefined, previous)), failure: err };
  }
  await recordService(ctx, store, target);
  return { ...outcome, status: "steady" };
}

/**
 * The circuit breaker put the previous revision back. The failed revision is deregistered, so the family's latest
 * ACTIVE revision is again what runs and `up` has nothing to redo; the deployment record is what it was before.
 */
async function afterRollback(ctx: ResourceContext, store: StateStore, target: DeployTarget, failedArn: string | undefined, previous: DeploymentRecord | undefined): Promise<Pick<DeployOutcome, "status" | "running">> {
  await recordDeployment(store, target.service, previous);
  const service = await recordService(ctx, store, target);
  const runningArn = service?.taskDefinitionArn ?? "";
  if (failedArn && failedArn !== runningArn) {
    await ecs(ctx)
      .send(new DeregisterTaskDefinitionCommand({ taskDefinition: failedArn }))
      .catch(() => undefined); // best effort: a revision left ACTIVE only means the next up registers one more
  }
  const running = runningArn ? await findTaskDefinition(ctx, runningArn) : undefined;
  if (running) await putRecord(store, computeIds.taskDefinition(target.service), ecsTaskDefinition.physicalId(running), running);
  const image = running?.containerDefinitions.find((c) => c.name === target.container)?.image;
  return { status: "rolled-back", running: { taskDefinitionArn: runningArn, ...(image ? { image } : {}) } };
}

/**
 * A copy of the family's latest ACTIVE revision with the app container's image replaced, registered as the next
 * revision; or that latest revision itself when it already names the image and the service runs it.
 */
export async function nextRevision(ctx: ResourceContext, target: DeployTarget, image: string, running: string): Promise<{ revision: EcsTaskDefinitionAttrs; registered: boolean }> {
  const action = `registering ECS task definition (${target.family})`;
  const current = await step(`reading ECS task definition (${target.family})`, async () => {
    try {
      return await ecs(ctx).send(new DescribeTaskDefinitionCommand({ taskDefinition: target.family, include: ["TAGS"] }));
    } catch (err) {
      if (isTaskDefinitionMissing(err)) throw new UserError(`task definition family ${target.family} has no ACTIVE revision: run 'platform up --env ${ctx.identity.environment}' first`);
      throw err;
    }
  });
  const td = current.taskDefinition!;
  if (!td.containerDefinitions?.some((c) => c.name === target.container)) {
    throw new AwsFailure(action, "ContainerNotFound", `${revisionName(td.taskDefinitionArn)} has no container named ${target.container}`, `run 'platform up --env ${ctx.identity.environment}' to restore the task definition, then deploy again`);
  }
  if (td.taskDefinitionArn === running && td.containerDefinitions.find((c) => c.name === target.container)?.image === image) {
    const same = await step(`reading ECS task definition (${running})`, () => findTaskDefinition(ctx, running));
    if (same) return { revision: same, registered: false };
  }
  const input = registrationOf(td, target.container, image, (current.tags ?? []).filter((t) => !t.key?.startsWith("aws:")));
  const out = await step(action, () => retryWhileIamPropagates(ctx, () => ecs(ctx).send(new RegisterTaskDefinitionCommand(input))));
  const arn = out.taskDefinition!.taskDefinitionArn!;
  const revision = await step(`reading ECS task definition (${arn})`, () => findTaskDefinition(ctx, arn));
  if (!revision) throw new Error(`reading ECS task definition (${arn}) back: DescribeTaskDefinition does not find it; run again`);
  return { revision, registered: true };
}

/** RegisterTaskDefinition's input from a described revision: its settable fields as they are, one image changed. */
export function registrationOf(td: TaskDefinition, container: string, image: string, tags: RegisterTaskDefinitionCommandInput["tags"]): RegisterTaskDefinitionCommandInput {
  const copied: RegisterTaskDefinitionCommandInput = {
    family: td.family,
    taskRoleArn: td.taskRoleArn,
    executionRoleArn: td.executionRoleArn,
    networkMode: td.networkMode,
    containerDefinitions: (td.containerDefinitions ?? []).map((c) => (c.name === container ? { ...c, image } : c)),
    volumes: td.volumes,
    placementConstraints: td.placementConstraints,
    requiresCompatibilities: td.requiresCompatibilities,
    cpu: td.cpu,
    memory: td.memory,
    pidMode: td.pidMode,
    ipcMode: td.ipcMode,
    proxyConfiguration: td.proxyConfiguration,
    inferenceAccelerators: td.inferenceAccelerators,
    ephemeralStorage: td.ephemeralStorage,
    runtimePlatform: td.runtimePlatform,
    enableFaultInjection: td.enableFaultInjection,
    tags: tags?.length ? tags : undefined,
  };
  return Object.fromEntries(Object.entries(copied).filter(([, v]) => v !== undefined)) as RegisterTaskDefinitionCommandInput;
}

/** Reads the service back and records it; undefined when it is gone. */
async function recordService(ctx: ResourceContext, store: StateStore, target: DeployTarget): Promise<EcsServiceAttrs | undefined> {
  const found = await step(`reading ECS service (${target.serviceName})`, () => findService(ctx, target.cluster, target.serviceName));
  if (found) await putRecord(store, target.serviceId, ecsService.physicalId(found), found);
  return found;
}

export async function putRecord(store: StateStore, logicalId: string, physicalId: string, attributes: object): Promise<void> {
  const existing = store.get(logicalId);
  if (!existing) return;
  await store.put(logicalId, { type: existing.type, physicalId, attributes: attributes as Record<string, unknown>, dependsOn: existing.dependsOn });
}

/** An AWS call under a name: its failure reads "verb-ing kind (id): code: message". */
export async function step<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof UserError || err instanceof AwsFailure || (err as Error)?.name === "AbortError") throw err;
    throw awsFailure(action, err);
  }
}

export const revisionName = (arn: string | undefined) => arn?.split("/").at(-1) ?? "?";
