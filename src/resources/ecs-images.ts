import { ECRClient, paginateListImages } from "@aws-sdk/client-ecr";
import { hasCode } from "../aws/errors.js";
import { findTaskDefinition } from "./ecs-task-definition.js";
import type { ResourceContext } from "./types.js";

/**
 * Whether the ECR images a revision runs have been pushed. A new environment's repositories are empty until CI pushes
 * to them (they are created by the same `up`), so services start with 0 tasks then; a tag missing from a repository that
 * has images is a mistake, reported before ECS spends minutes failing to pull it.
 */
export interface UnpushedImage {
  image: string;
  repository: string;
  /** "empty": the repository holds no image at all (a new environment); "missing": it has images, not this one. */
  state: "empty" | "missing";
}

/** `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>(:<tag>|@<digest>)`; other registries are not checked. */
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?::([^@]+)|@(sha256:[a-f0-9]{64}))?$/;

export function parseEcrImage(image: string): { registryId: string; repository: string; tag?: string; digest?: string } | undefined {
  const m = ECR_IMAGE.exec(image);
  if (!m) return undefined;
  return { registryId: m[1]!, repository: m[2]!, ...(m[4] ? { digest: m[4] } : { tag: m[3] ?? "latest" }) };
}

/** Whether one image is in ECR: undefined when it is (or is not an ECR image), else why not. */
export async function imageState(ctx: ResourceContext, image: string): Promise<UnpushedImage | undefined> {
  const ref = parseEcrImage(image);
  if (!ref) return undefined;
  let count = 0;
  try {
    for await (const page of paginateListImages({ client: ctx.aws.get(ECRClient) }, { registryId: ref.registryId, repositoryName: ref.repository, maxResults: 1000 })) {
      const ids = page.imageIds ?? [];
      count += ids.length;
      if (ids.some((i) => (ref.digest ? i.imageDigest === ref.digest : i.imageTag === ref.tag))) return undefined;
    }
  } catch (err) {
    if (!hasCode(err, "RepositoryNotFoundException")) throw err;
  }
  return { image, repository: ref.repository, state: count === 0 ? "empty" : "missing" };
}

/** The revision's ECR images that are not in their repositories (none when the revision itself is gone). */
export async function unpushedImages(ctx: ResourceContext, taskDefinitionArn: string): Promise<UnpushedImage[]> {
  const td = await findTaskDefinition(ctx, taskDefinitionArn);
  const images = [...new Set((td?.containerDefinitions ?? []).map((c) => c.image).filter(Boolean))];
  const states = await Promise.all(images.map((i) => imageState(ctx, i)));
  return states.filter((s): s is UnpushedImage => s !== undefined);
}
