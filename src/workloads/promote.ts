import { DescribeImagesCommand, ECRClient, type ImageIdentifier } from "@aws-sdk/client-ecr";
import { DescribeServicesCommand, DescribeTasksCommand, paginateListTasks, type Deployment, type Task } from "@aws-sdk/client-ecs";
import { hasCode } from "../aws/errors.js";
import { AwsFailure, RunFailure, UserError } from "../errors.js";
import { parseEcrImage } from "../resources/ecs-images.js";
import { assertOnlyMissing, ecs } from "../resources/ecs-shared.js";
import { findTaskDefinition } from "../resources/ecs-task-definition.js";
import type { ResourceContext } from "../resources/types.js";
import type { StateDocument } from "../state/document.js";
import { type DeployTarget, revisionName, step } from "./deploy.js";
import type { StackRepository } from "./images.js";

/**
 * `platform promote`: the release one environment runs, shipped unchanged to another. What "runs" means is decided by
 * ECS, not by a tag (tags move): the service's PRIMARY deployment, once complete, names the revision; the revision
 * names the app container's image; the running tasks of that revision report the digest they pulled. Only when no
 * task reports one does the image's own @sha256 digest, or else the digest its tag has in ECR now, stand in.
 */
export type DigestEvidence = "running-tasks" | "image-digest" | "tag";

export interface RunningRelease {
  environment: string;
  service: string;
  taskDefinitionArn: string;
  /** The app container's image as the revision names it. */
  image: string;
  digest: string;
  evidence: DigestEvidence;
  /** Running tasks of the revision that report the digest. */
  runningTasks: number;
  /** The environment's repository the image is in (one of the stack's). */
  repository: StackRepository;
}

/** DescribeTasks takes 1–100 tasks a call. */
const TASK_BATCH = 100;

/** What `source` (a deploy target of the environment promoted from) runs now; refuses a release still rolling out. */
export async function findRunningRelease(ctx: ResourceContext, state: StateDocument, environment: string, source: DeployTarget): Promise<RunningRelease> {
  const what = `${environment}'s ${source.service} service`;
  const primary = await completedPrimary(ctx, state, environment, source);
  const revision = await step(`reading ECS task definition (${primary.taskDefinition})`, () => findTaskDefinition(ctx, primary.taskDefinition!));
  const image = revision?.containerDefinitions.find((c) => c.name === source.container)?.image;
  if (!image) throw new RunFailure(`${what} runs ${revisionName(primary.taskDefinition)}, which has no ${source.container} container; run 'platform up --env ${environment}' to restore it`);
  const ref = parseEcrImage(image);
  const repository = source.repositories.find((r) => image.startsWith(`${r.uri}:`) || image.startsWith(`${r.uri}@`) || image === r.uri);
  if (!ref || !repository) {
    throw new RunFailure(
      `${what} runs ${image}, which is not in ${environment}'s ECR repositories: promote ships images between the environments' own repositories; deploy it directly with 'platform deploy --service ${source.service} --image ${image}'`,
    );
  }
  const reported = await digestsOfRunningTasks(ctx, source, primary.taskDefinition!);
  const base = { environment, service: source.service, taskDefinitionArn: primary.taskDefinition!, image, repository };
  if (reported.size > 1) {
    const counts = [...reported].map(([digest, n]) => `${digest} (${n} task${n === 1 ? "" : "s"})`).join(", ");
    throw new RunFailure(
      `${what} runs ${image} as more than one image: ${counts}. Its tag was pushed anew while tasks were replaced; deploy one digest to ${environment} first ('platform deploy --env ${environment} --service ${source.service} --image <digest>'), then promote`,
    );
  }
  const [running] = [...reported];
  if (running) return { ...base, digest: running[0], evidence: "running-tasks", runningTasks: running[1] };
  if (ref.digest) return { ...base, digest: ref.digest, evidence: "image-digest", runningTasks: 0 };
  return { ...base, digest: await digestOfTag(ctx, repository, ref.tag!, image), evidence: "tag", runningTasks: 0 };
}

/** The service's PRIMARY deployment, refused unless it has completed (and, blue-green, the bake is over). */
async function completedPrimary(ctx: ResourceContext, state: StateDocument, environment: string, source: DeployTarget): Promise<Deployment> {
  const what = `${environment}'s ${source.service} service`;
  const action = `reading ECS service (${source.serviceName})`;
  const out = await step(action, async () => {
    try {
      return await ecs(ctx).send(new DescribeServicesCommand({ cluster: source.cluster, services: [source.serviceName] }));
    } catch (err) {
      if (hasCode(err, "ClusterNotFoundException")) return { services: [], failures: [] };
      throw err;
    }
  });
  assertOnlyMissing(out.failures, `ECS service ${source.serviceName}`);
  const service = out.services?.find((s) => s.status === "ACTIVE");
  if (!service) throw new UserError(`${environment} has no ACTIVE ${source.service} service in cluster ${source.cluster}: run 'platform up --env ${environment}' and deploy there first`);
  const primary = service.deployments?.find((d) => d.status === "PRIMARY");
  if (!primary?.taskDefinition) throw new RunFailure(`${what} has no PRIMARY deployment; look at it with 'platform status --env ${environment}'`);
  const settled = primary.rolloutState ? primary.rolloutState === "COMPLETED" : service.deployments!.length === 1;
  if (!settled) {
    const state = primary.rolloutState ?? "IN_PROGRESS";
    throw new RunFailure(
      `${what} is mid-rollout: its deployment to ${revisionName(primary.taskDefinition)} is ${state}${primary.rolloutStateReason ? ` (${primary.rolloutStateReason})` : ""}, ` +
        `${primary.runningCount ?? 0} of ${primary.desiredCount ?? 0} tasks running. Promoting a half-rolled-out release is refused; ` +
        `wait until 'platform status --env ${environment}' shows the deployment COMPLETED, then promote`,
    );
  }
  const bakingUntil = state.releases?.[source.service]?.bakingUntil;
  if (bakingUntil && Date.parse(bakingUntil) > Date.now()) {
    throw new RunFailure(`${what} is still baking its last blue-green release until ${bakingUntil} (the previous slot still runs for rollback); promote once the bake is over`);
  }
  return primary;
}

/** Digest → number of the revision's RUNNING tasks whose app container reports it (ECS's imageDigest). */
async function digestsOfRunningTasks(ctx: ResourceContext, source: DeployTarget, taskDefinitionArn: string): Promise<Map<string, number>> {
  const listing = `listing ECS tasks of service (${source.serviceName})`;
  const arns: string[] = [];
  await step(listing, async () => {
    for await (const page of paginateListTasks({ client: ecs(ctx) }, { cluster: source.cluster, serviceName: source.serviceName, desiredStatus: "RUNNING" })) arns.push(...(page.taskArns ?? []));
  });
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += TASK_BATCH) {
    const out = await step(`describing ECS tasks of service (${source.serviceName})`, () => ecs(ctx).send(new DescribeTasksCommand({ cluster: source.cluster, tasks: arns.slice(i, i + TASK_BATCH) })));
    tasks.push(...(out.tasks ?? []));
  }
  const digests = new Map<string, number>();
  for (const task of tasks) {
    if (task.lastStatus !== "RUNNING" || task.taskDefinitionArn !== taskDefinitionArn) continue;
    const digest = task.containers?.find((c) => c.name === source.container)?.imageDigest;
    if (digest) digests.set(digest, (digests.get(digest) ?? 0) + 1);
  }
  return digests;
}

/** The digest a tag names in ECR now: the last resort, when no task runs to say what it pulled. */
async function digestOfTag(ctx: ResourceContext, repository: StackRepository, tag: string, image: string): Promise<string> {
  const action = `reading ECR image ${image}`;
  const digest = await step(action, () => findImageDigest(ctx, repository, { imageTag: tag }));
  if (!digest) throw new AwsFailure(action, "ImageNotFoundException", `${repository.name} has no image tagged ${tag} any more, and no running task reports a digest`, "deploy a tag or digest that exists to the source environment first");
  return digest;
}

/** Whether `repository` holds the image `digest` (DescribeImages by digest). */
export async function hasImage(ctx: ResourceContext, repository: StackRepository, digest: string): Promise<boolean> {
  return Boolean(await step(`reading ECR image ${repository.uri}@${digest}`, () => findImageDigest(ctx, repository, { imageDigest: digest })));
}

/** The digest of one image of `repository` (by tag or digest); undefined when ECR has no such image. */
async function findImageDigest(ctx: ResourceContext, repository: StackRepository, id: ImageIdentifier): Promise<string | undefined> {
  try {
    const out = await ctx.aws.get(ECRClient).send(new DescribeImagesCommand({ registryId: repository.registryId, repositoryName: repository.name, imageIds: [id] }));
    return out.imageDetails?.[0]?.imageDigest;
  } catch (err) {
    if (hasCode(err, "ImageNotFoundException")) return undefined;
    throw err;
  }
}

/**
 * The tag a promoted image gets in the target repository: its origin and short digest, the same on every run (a
 * re-run finds it in place), valid in MUTABLE and IMMUTABLE repositories alike. ECR tags: up to 128 characters.
 */
export function promotedTag(fromEnvironment: string, digest: string): string {
  return `promoted-from-${fromEnvironment}`.slice(0, 114) + `-${digest.replace(/^sha256:/, "").slice(0, 12)}`;
}

/** The registry host of a repository URI (`<account>.dkr.ecr.<region>.amazonaws.com`): account and region. */
export const registryOf = (repository: StackRepository) => repository.uri.split("/")[0]!;
