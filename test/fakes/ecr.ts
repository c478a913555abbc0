import { createHash } from "node:crypto";
import {
  ECRClient,
  ImageNotFoundException,
  InvalidParameterException,
  InvalidTagParameterException,
  LifecyclePolicyNotFoundException,
  RepositoryAlreadyExistsException,
  RepositoryNotEmptyException,
  RepositoryNotFoundException,
  TooManyTagsException,
} from "@aws-sdk/client-ecr";
import { type FakeCloud, fromTagList, type ServiceModel, type Tags, toTagList } from "./cloud.js";
import type { TagSource } from "./tagging.js";

/**
 * The ECR part of the fake: repositories with their scanning, tag mutability, encryption, tags, lifecycle policy and
 * images. Images are seeded with `pushImage` (the push protocol is not modelled). DeleteRepository refuses a repository
 * that holds images (RepositoryNotEmptyException) unless `force`; encryption is fixed at creation, as in ECR.
 */
export interface FakeImage {
  imageDigest: string;
  imageTags: string[];
  imagePushedAt: Date;
  imageSizeInBytes: number;
}

export interface FakeRepository {
  repositoryName: string;
  repositoryArn: string;
  registryId: string;
  repositoryUri: string;
  createdAt: Date;
  imageTagMutability: string;
  imageScanningConfiguration: { scanOnPush: boolean };
  encryptionConfiguration: { encryptionType: string; kmsKey?: string };
  tags: Tags;
  lifecyclePolicyText?: string;
  images: FakeImage[];
}

export interface EcrState {
  repositories: Map<string, FakeRepository>;
}

export function newEcrState(): EcrState {
  return { repositories: new Map() };
}

type ExceptionClass = new (options: { message: string; $metadata: Record<string, unknown> }) => Error;
const fail = (Exception: unknown, message: string) => new (Exception as ExceptionClass)({ message, $metadata: { httpStatusCode: 400, requestId: "fake-request-id" } });
const invalid = (message: string) => fail(InvalidParameterException, message);

/** ECR's repository name pattern (API reference, CreateRepository repositoryName), 2-256 characters. */
const NAME = /^(?=.{2,256}$)((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)$/;
const MUTABILITY = ["MUTABLE", "IMMUTABLE", "MUTABLE_WITH_EXCLUSION", "IMMUTABLE_WITH_EXCLUSION"];
const DEFAULT_PAGE = 100;

/** Seeds an image (as `docker push` would leave it); returns its digest. */
export function pushImage(state: EcrState, repositoryName: string, tag?: string): string {
  const repo = state.repositories.get(repositoryName);
  if (!repo) throw new Error(`fake ecr: no repository ${repositoryName}`);
  const imageDigest = `sha256:${createHash("sha256").update(`${repositoryName}:${repo.images.length}:${tag ?? ""}`).digest("hex")}`;
  if (tag) {
    const holder = repo.images.find((i) => i.imageTags.includes(tag));
    if (holder && repo.imageTagMutability.startsWith("IMMUTABLE")) throw new Error(`fake ecr: tag ${tag} is immutable in ${repositoryName}`);
    if (holder) holder.imageTags = holder.imageTags.filter((t) => t !== tag);
  }
  repo.images.push({ imageDigest, imageTags: tag ? [tag] : [], imagePushedAt: new Date(), imageSizeInBytes: 1024 });
  return imageDigest;
}

function validateTags(tags: Tags): void {
  if (Object.keys(tags).length > 50) throw fail(TooManyTagsException, "A repository can have at most 50 tags.");
  for (const [k, v] of Object.entries(tags)) {
    if (!k || k.length > 128 || v.length > 256 || k.toLowerCase().startsWith("aws:")) throw fail(InvalidTagParameterException, `Invalid tag ${k}.`);
  }
}

/** The checks PutLifecyclePolicy makes on the rules platform writes. */
function validateLifecyclePolicy(text: string | undefined): void {
  let policy: { rules?: Record<string, any>[] };
  try {
    policy = JSON.parse(text ?? "");
  } catch {
    throw invalid("Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure'");
  }
  if (!Array.isArray(policy.rules) || !policy.rules.length) throw invalid("Lifecycle policy validation failure: rules are required");
  for (const rule of policy.rules) {
    const s = rule.selection ?? {};
    const ok =
      Number.isInteger(rule.rulePriority) &&
      rule.rulePriority >= 1 &&
      ["tagged", "untagged", "any"].includes(s.tagStatus) &&
      ["imageCountMoreThan", "sinceImagePushed"].includes(s.countType) &&
      Number.isInteger(s.countNumber) &&
      s.countNumber >= 1 &&
      rule.action?.type === "expire";
    if (!ok) throw invalid(`Lifecycle policy validation failure: invalid rule ${JSON.stringify(rule)}`);
  }
}

export function ecrModel(cloud: FakeCloud, state: EcrState = newEcrState()): { model: ServiceModel; state: EcrState; taggingSources: TagSource[] } {
  const registryId = cloud.accountId;
  const arnPrefix = `arn:aws:ecr:${cloud.region}:${registryId}:repository/`;

  const byName = (name: string | undefined): FakeRepository => {
    const repo = name === undefined ? undefined : state.repositories.get(name);
    if (!repo) throw fail(RepositoryNotFoundException, `The repository with name '${name}' does not exist in the registry with id '${registryId}'`);
    return repo;
  };
  const byArn = (arn: string | undefined): FakeRepository => {
    if (!arn?.startsWith(arnPrefix)) throw invalid(`Invalid parameter at 'resourceArn' failed to satisfy constraint: 'must be a valid ECR repository ARN'`);
    return byName(arn.slice(arnPrefix.length));
  };
  const checkRegistry = (input: { registryId?: string }) => {
    if (input.registryId !== undefined && input.registryId !== registryId) throw invalid(`Invalid registryId ${input.registryId}`);
  };
  const describe = (r: FakeRepository) => ({
    repositoryArn: r.repositoryArn,
    registryId: r.registryId,
    repositoryName: r.repositoryName,
    repositoryUri: r.repositoryUri,
    createdAt: r.createdAt,
    imageTagMutability: r.imageTagMutability,
    imageScanningConfiguration: { ...r.imageScanningConfiguration },
    encryptionConfiguration: { ...r.encryptionConfiguration },
  });
  const page = <T>(items: T[], nextToken: string | undefined, maxResults: number | undefined, max: number) => {
    if (maxResults !== undefined && (maxResults < 1 || maxResults > max)) throw invalid(`maxResults must be between 1 and ${max}`);
    const start = nextToken ? Number(Buffer.from(nextToken, "base64").toString()) : 0;
    const end = start + (maxResults ?? DEFAULT_PAGE);
    return { items: items.slice(start, end), nextToken: end < items.length ? Buffer.from(String(end)).toString("base64") : undefined };
  };
  const imagesOf = (repo: FakeRepository, filter?: { tagStatus?: string }) =>
    repo.images.filter((i) => !filter?.tagStatus || filter.tagStatus === "ANY" || (filter.tagStatus === "TAGGED") === i.imageTags.length > 0);

  const handlers: Record<string, (input: any) => unknown> = {
    CreateRepository: (input) => {
      checkRegistry(input);
      const name: string = input.repositoryName ?? "";
      if (!NAME.test(name)) throw invalid(`Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${NAME.source}''`);
      if (state.repositories.has(name)) throw fail(RepositoryAlreadyExistsException, `The repository with name '${name}' already exists in the registry with id '${registryId}'`);
      const mutability = input.imageTagMutability ?? "MUTABLE";
      if (!MUTABILITY.includes(mutability)) throw invalid(`Invalid imageTagMutability ${mutability}`);
      const encryption = input.encryptionConfiguration ?? { encryptionType: "AES256" };
      if (!["AES256", "KMS", "KMS_DSSE"].includes(encryption.encryptionType)) throw invalid(`Invalid encryptionType ${encryption.encryptionType}`);
      if (encryption.encryptionType === "AES256" && encryption.kmsKey) throw invalid("kmsKey can only be specified with the KMS encryption type");
      const tags = fromTagList(input.tags);
      validateTags(tags);
      const repo: FakeRepository = {
        repositoryName: name,
        repositoryArn: `${arnPrefix}${name}`,
        registryId,
        repositoryUri: `${registryId}.dkr.ecr.${cloud.region}.amazonaws.com/${name}`,
        createdAt: new Date(),
        imageTagMutability: mutability,
        imageScanningConfiguration: { scanOnPush: input.imageScanningConfiguration?.scanOnPush ?? false },
        // With KMS and no key, ECR uses the AWS managed key aws/ecr and reports its ARN.
        encryptionConfiguration:
          encryption.encryptionType === "AES256"
            ? { encryptionType: "AES256" }
            : { encryptionType: encryption.encryptionType, kmsKey: encryption.kmsKey ?? `arn:aws:kms:${cloud.region}:${registryId}:key/aws-managed-ecr` },
        tags,
        images: [],
      };
      state.repositories.set(name, repo);
      return { repository: describe(repo) };
    },
    DescribeRepositories: (input) => {
      checkRegistry(input);
      if (input.repositoryNames?.length) {
        if (input.maxResults !== undefined || input.nextToken !== undefined) throw invalid("maxResults and nextToken cannot be used with repositoryNames");
        return { repositories: input.repositoryNames.map((n: string) => describe(byName(n))) };
      }
      const all = [...state.repositories.values()].sort((a, b) => (a.repositoryName < b.repositoryName ? -1 : 1));
      const p = page(all, input.nextToken, input.maxResults, 1000);
      return { repositories: p.items.map(describe), ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
    },
    DeleteRepository: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      if (repo.images.length && !input.force) {
        throw fail(RepositoryNotEmptyException, `The repository with name '${repo.repositoryName}' in registry with id '${registryId}' cannot be deleted because it still contains images`);
      }
      state.repositories.delete(repo.repositoryName);
      return { repository: describe(repo) };
    },
    PutImageScanningConfiguration: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      if (typeof input.imageScanningConfiguration?.scanOnPush !== "boolean") throw invalid("imageScanningConfiguration.scanOnPush is required");
      repo.imageScanningConfiguration = { scanOnPush: input.imageScanningConfiguration.scanOnPush };
      return { registryId, repositoryName: repo.repositoryName, imageScanningConfiguration: { ...repo.imageScanningConfiguration } };
    },
    PutImageTagMutability: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      if (!MUTABILITY.includes(input.imageTagMutability)) throw invalid(`Invalid imageTagMutability ${input.imageTagMutability}`);
      repo.imageTagMutability = input.imageTagMutability;
      return { registryId, repositoryName: repo.repositoryName, imageTagMutability: repo.imageTagMutability };
    },

    GetLifecyclePolicy: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      if (!repo.lifecyclePolicyText) throw fail(LifecyclePolicyNotFoundException, `Lifecycle policy does not exist for the repository with name '${repo.repositoryName}' in the registry with id '${registryId}'`);
      return { registryId, repositoryName: repo.repositoryName, lifecyclePolicyText: repo.lifecyclePolicyText };
    },
    PutLifecyclePolicy: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      validateLifecyclePolicy(input.lifecyclePolicyText);
      repo.lifecyclePolicyText = input.lifecyclePolicyText;
      return { registryId, repositoryName: repo.repositoryName, lifecyclePolicyText: repo.lifecyclePolicyText };
    },
    DeleteLifecyclePolicy: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      if (!repo.lifecyclePolicyText) throw fail(LifecyclePolicyNotFoundException, `Lifecycle policy does not exist for the repository with name '${repo.repositoryName}'`);
      const text = repo.lifecyclePolicyText;
      delete repo.lifecyclePolicyText;
      return { registryId, repositoryName: repo.repositoryName, lifecyclePolicyText: text };
    },

    ListImages: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      const images = imagesOf(repo, input.filter).flatMap((i) => (i.imageTags.length ? i.imageTags.map((imageTag) => ({ imageDigest: i.imageDigest, imageTag })) : [{ imageDigest: i.imageDigest }]));
      const p = page(images, input.nextToken, input.maxResults, 1000);
      return { imageIds: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
    },
    DescribeImages: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      if (input.imageIds) {
        // By id, every image must exist (ImageNotFoundException otherwise), and paging parameters are refused.
        if (input.maxResults !== undefined || input.nextToken !== undefined || input.filter) throw invalid("maxResults, nextToken and filter cannot be used with imageIds");
        const found = (input.imageIds as { imageTag?: string; imageDigest?: string }[]).map((id) => {
          const image = repo.images.find((i) => (id.imageDigest ? i.imageDigest === id.imageDigest : true) && (id.imageTag ? i.imageTags.includes(id.imageTag) : true));
          if (!image || (!id.imageTag && !id.imageDigest)) {
            throw fail(ImageNotFoundException, `The image with imageId {imageDigest:'${id.imageDigest ?? "null"}', imageTag:'${id.imageTag ?? "null"}'} does not exist within the repository with name '${repo.repositoryName}' in the registry with id '${registryId}'`);
          }
          return image;
        });
        return { imageDetails: found.map((i) => ({ registryId, repositoryName: repo.repositoryName, ...i, imageTags: [...i.imageTags] })) };
      }
      const p = page(imagesOf(repo, input.filter), input.nextToken, input.maxResults, 1000);
      return {
        imageDetails: p.items.map((i) => ({ registryId, repositoryName: repo.repositoryName, ...i, imageTags: [...i.imageTags] })),
        ...(p.nextToken ? { nextToken: p.nextToken } : {}),
      };
    },

    ListTagsForResource: (input) => ({ tags: toTagList(byArn(input.resourceArn).tags) }),
    TagResource: (input) => {
      const repo = byArn(input.resourceArn);
      const merged = { ...repo.tags, ...fromTagList(input.tags) };
      validateTags(merged);
      repo.tags = merged;
      return {};
    },
    UntagResource: (input) => {
      const repo = byArn(input.resourceArn);
      for (const key of input.tagKeys ?? []) delete repo.tags[key];
      return {};
    },
  };

  const taggingSources: TagSource[] = [() => [...state.repositories.values()].map((r) => ({ arn: r.repositoryArn, tags: { ...r.tags } }))];
  return { model: { service: "ecr", client: ECRClient, handlers }, state, taggingSources };
}
