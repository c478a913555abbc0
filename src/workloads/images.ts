import { DescribeImagesCommand, ECRClient, type ImageIdentifier } from "@aws-sdk/client-ecr";
import { awsFailure, hasCode } from "../aws/errors.js";
import { IMAGE_TAG_PATTERN, IMAGE_TAG_RULE } from "../config/schema.js";
import { AwsFailure, UserError } from "../errors.js";
import { parseEcrImage } from "../resources/ecs-images.js";
import { imageName } from "../resources/ecs-task-definition.js";
import type { ResourceContext } from "../resources/types.js";

/**
 * What `deploy --image` accepts: a tag (or sha256 digest) of the service's own ECR repository, or a full image name.
 * ECR images are checked with DescribeImages before anything is registered, and their digest is recorded. An ECR image
 * must be in one of the stack's repositories: the task execution role may pull from those only.
 */
export interface StackRepository {
  name: string;
  uri: string;
  registryId: string;
}

export interface ResolvedImage {
  /** What the task definition names. */
  image: string;
  /** The digest ECR reports; absent for other registries' images given by tag. */
  digest?: string;
}

/** ECS: up to 255 characters before "@" of letters, digits, - _ : . / # (RegisterTaskDefinition, ContainerDefinition.image). */
const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/:#]{0,254}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * Whether an image outside the stack's ECR may run: it must start with one of images.allowedRegistries and be pinned
 * by digest (a tag can be moved to other code by whoever controls that registry). Undefined when it may; else why not.
 */
export function foreignImageProblem(image: string, allowedRegistries: readonly string[]): string | undefined {
  if (!allowedRegistries.some((prefix) => image.startsWith(prefix))) {
    return `not in this environment's ECR repositories nor under images.allowedRegistries (${allowedRegistries.length ? allowedRegistries.join(", ") : "none configured"})`;
  }
  const [, digest] = image.split("@");
  if (!digest || !DIGEST.test(digest)) return "an image outside this environment's ECR must be pinned by digest (<name>@sha256:<64 hex digits>)";
  return undefined;
}

export async function resolveImage(ctx: ResourceContext, own: StackRepository, stackRepositories: StackRepository[], input: string, allowedRegistries: readonly string[] = []): Promise<ResolvedImage> {
  if (IMAGE_TAG_PATTERN.test(input)) return inEcr(ctx, own, input.startsWith("sha256:") ? { imageDigest: input } : { imageTag: input }, imageName({ repositoryUri: own.uri, tag: input }));
  if (!/[/:@]/.test(input)) throw new UserError(`--image ${input}: expected ${IMAGE_TAG_RULE}, or a full image name (<registry>/<repository>:<tag>)`);
  const [name = "", digest] = input.split("@");
  if (!IMAGE_NAME.test(name) || (digest !== undefined && !DIGEST.test(digest))) {
    throw new UserError(`--image ${input}: not an image name ECS accepts (up to 255 letters, digits, - _ : . / # before an optional @sha256:<64 hex digits>)`);
  }
  const ecr = parseEcrImage(input);
  if (!ecr && /\.dkr\.ecr\./.test(name)) throw new UserError(`--image ${input}: name an ECR image as <repository uri>:<tag> or <repository uri>@sha256:<digest>`);
  if (!ecr) {
    const problem = foreignImageProblem(input, allowedRegistries);
    if (problem) throw new UserError(`--image ${input}: ${problem}; push it to the service's ECR repository and pass its tag, or add its registry to images.allowedRegistries in the config and pass it by digest`);
    return { image: input, digest: digest! };
  }
  // The URI names account, region and repository: it must be one of the stack's.
  const repository = stackRepositories.find((r) => input === r.uri || input.startsWith(`${r.uri}:`) || input.startsWith(`${r.uri}@`));
  if (!repository) {
    throw new UserError(
      `--image ${input}: the tasks' execution role may pull only from this environment's ECR repositories (${stackRepositories.map((r) => r.uri).join(", ")}); push the image to one of them, or pass a tag of the service's own`,
    );
  }
  return inEcr(ctx, repository, ecr.digest ? { imageDigest: ecr.digest } : { imageTag: ecr.tag! }, input);
}

/** DescribeImages by tag or digest: the image must be there; its digest is what was verified. */
async function inEcr(ctx: ResourceContext, repository: StackRepository, id: ImageIdentifier, image: string): Promise<ResolvedImage> {
  const action = `reading ECR image ${image}`;
  try {
    const out = await ctx.aws.get(ECRClient).send(new DescribeImagesCommand({ registryId: repository.registryId, repositoryName: repository.name, imageIds: [id] }));
    const digest = out.imageDetails?.[0]?.imageDigest;
    if (!digest) throw new AwsFailure(action, "ImageNotFoundException", `${repository.name} has no image ${id.imageTag ?? id.imageDigest}`, pushHint(image));
    return { image, digest };
  } catch (err) {
    if (err instanceof AwsFailure) throw err;
    if (hasCode(err, "ImageNotFoundException", "RepositoryNotFoundException")) {
      throw new AwsFailure(action, hasCode(err, "ImageNotFoundException") ? "ImageNotFoundException" : "RepositoryNotFoundException", (err as Error).message, pushHint(image));
    }
    throw awsFailure(action, err);
  }
}

const pushHint = (image: string) => `push it first (docker push ${image}), or deploy a tag that exists (aws ecr list-images)`;
