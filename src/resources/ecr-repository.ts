import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  type Repository,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-ecr";
import { hasCode, orUndefined } from "../aws/errors.js";
import { TAG_LOGICAL_ID, tagList, tagRecord } from "../aws/tags.js";
import { UserError } from "../errors.js";
import { single } from "./find.js";
import { batchedRead } from "./read-batch.js";
import { compareFields, compareTags, knownKey, readAfterCreate, tagDelta, type Change, type ResourceContext, type ResourceType } from "./types.js";

export interface EcrRepositorySpec {
  /** `<project>-<env>/api`: lowercase, 2-256 characters, `/` separates namespaces. */
  name: string;
  scanOnPush: boolean;
  imageTagMutability: "MUTABLE" | "IMMUTABLE";
  /** AES256, or KMS with a key ARN. Fixed at creation: ECR cannot change a repository's encryption. */
  encryption: { type: "AES256" | "KMS"; kmsKeyArn?: string };
  tags: Record<string, string>;
}

export interface EcrRepositoryAttrs extends EcrRepositorySpec {
  arn: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>`: what `docker push` and task definitions use. */
  uri: string;
  registryId: string;
}

const KIND = "ECR repository";

const ecr = (ctx: ResourceContext) => ctx.aws.get(ECRClient);

async function describeRepository(ctx: ResourceContext, name: string): Promise<Repository | undefined> {
  const out = await orUndefined(ecr(ctx).send(new DescribeRepositoriesCommand({ repositoryNames: [name] })));
  return single(out?.repositories, `${KIND}s named ${name}`);
}

function toAttrs(r: Repository, tags: Record<string, string>): EcrRepositoryAttrs {
  const type = r.encryptionConfiguration?.encryptionType === "KMS" ? "KMS" : "AES256";
  return {
    name: r.repositoryName!,
    arn: r.repositoryArn!,
    uri: r.repositoryUri!,
    registryId: r.registryId!,
    scanOnPush: r.imageScanningConfiguration?.scanOnPush ?? false,
    imageTagMutability: (r.imageTagMutability ?? "MUTABLE") as EcrRepositorySpec["imageTagMutability"],
    encryption: { type, ...(type === "KMS" && r.encryptionConfiguration?.kmsKey ? { kmsKeyArn: r.encryptionConfiguration.kmsKey } : {}) },
    tags,
  };
}

/** DescribeRepositories takes up to 100 repository names (API reference). */
export const REPOSITORIES_PER_CALL = 100;

/**
 * Repositories by name, read together: repositories asked for within a few milliseconds of each other (the observe
 * sweep reads them all at once) share one DescribeRepositories. One missing name fails the whole call with
 * RepositoryNotFoundException, so such a batch is read again one name at a time, and only the missing ones are not found.
 */
const describeRepositoryShared = batchedRead<string, Repository>({
  size: REPOSITORIES_PER_CALL,
  async read(ctx, names) {
    const out = await orUndefined(ecr(ctx).send(new DescribeRepositoriesCommand({ repositoryNames: names })));
    let repos: (Repository | undefined)[];
    if (out) repos = out.repositories ?? [];
    else if (names.length === 1) repos = [];
    else repos = await Promise.all(names.map((name) => describeRepository(ctx, name)));
    return new Map(repos.flatMap((r) => (r?.repositoryName ? [[r.repositoryName, r] as const] : [])));
  },
});

/** DescribeRepositories (shared with the repositories read at the same time), then ListTagsForResource (Repository carries no tags). Undefined when either says it is gone. */
export async function findRepositoryByName(ctx: ResourceContext, name: string): Promise<EcrRepositoryAttrs | undefined> {
  const repo = await describeRepositoryShared(ctx, name);
  if (!repo) return undefined;
  const tagged = await orUndefined(ecr(ctx).send(new ListTagsForResourceCommand({ resourceArn: repo.repositoryArn })));
  return tagged && toAttrs(repo, tagRecord(tagged.tags));
}

/** Image count from one ListImages page (up to 1000): for status and for the refusal message. Undefined when the repository is gone. */
export async function countRepositoryImages(ctx: ResourceContext, name: string): Promise<{ count: number; more: boolean } | undefined> {
  const out = await orUndefined(ecr(ctx).send(new ListImagesCommand({ repositoryName: name, maxResults: 1000 })));
  return out && { count: out.imageIds?.length ?? 0, more: Boolean(out.nextToken) };
}

async function readBack(ctx: ResourceContext, name: string): Promise<EcrRepositoryAttrs> {
  return readAfterCreate(ctx, `${KIND} ${name}`, () => findRepositoryByName(ctx, name));
}

async function createRepository(ctx: ResourceContext, spec: EcrRepositorySpec): Promise<void> {
  // Tags on create: a repository whose creation outlived a crash is found by its name and proven ours by them.
  await ecr(ctx).send(
    new CreateRepositoryCommand({
      repositoryName: spec.name,
      imageTagMutability: spec.imageTagMutability,
      imageScanningConfiguration: { scanOnPush: spec.scanOnPush },
      encryptionConfiguration: { encryptionType: spec.encryption.type, ...(spec.encryption.type === "KMS" && spec.encryption.kmsKeyArn ? { kmsKey: spec.encryption.kmsKeyArn } : {}) },
      tags: tagList(spec.tags),
    }),
  );
}

function diff(spec: EcrRepositorySpec, actual: EcrRepositoryAttrs): Change[] {
  const changes = compareFields(spec, actual, [{ field: "name", action: "replace" }, { field: "scanOnPush" }, { field: "imageTagMutability" }]);
  const kmsMatters = spec.encryption.type === "KMS" && spec.encryption.kmsKeyArn !== undefined;
  if (spec.encryption.type !== actual.encryption.type || (kmsMatters && spec.encryption.kmsKeyArn !== actual.encryption.kmsKeyArn)) {
    changes.push({ field: "encryption", from: actual.encryption, to: spec.encryption, action: "replace", note: "ECR cannot change a repository's encryption" });
  }
  return [...changes, ...compareTags(spec.tags, actual.tags)];
}

async function applyTags(ctx: ResourceContext, arn: string, want: Record<string, string>, have: Record<string, string>): Promise<void> {
  const { set, remove } = tagDelta(want, have);
  if (Object.keys(set).length) await ecr(ctx).send(new TagResourceCommand({ resourceArn: arn, tags: tagList(set) }));
  if (remove.length) await ecr(ctx).send(new UntagResourceCommand({ resourceArn: arn, tagKeys: remove }));
}

async function applyChanges(ctx: ResourceContext, spec: EcrRepositorySpec, actual: EcrRepositoryAttrs, changes: Change[]): Promise<EcrRepositoryAttrs> {
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  if (fields.has("scanOnPush")) {
    await ecr(ctx).send(new PutImageScanningConfigurationCommand({ repositoryName: actual.name, imageScanningConfiguration: { scanOnPush: spec.scanOnPush } }));
  }
  if (fields.has("imageTagMutability")) await ecr(ctx).send(new PutImageTagMutabilityCommand({ repositoryName: actual.name, imageTagMutability: spec.imageTagMutability }));
  if (fields.has("tags")) await applyTags(ctx, actual.arn, spec.tags, actual.tags);
  return readBack(ctx, actual.name);
}

/** DeleteRepository; "not found" is success. Without force it fails with RepositoryNotEmptyException while images remain. */
async function deleteRepository(ctx: ResourceContext, name: string, force: boolean): Promise<void> {
  await orUndefined(ecr(ctx).send(new DeleteRepositoryCommand({ repositoryName: name, ...(force ? { force: true } : {}) })));
}

export const ecrRepository: ResourceType<EcrRepositorySpec, EcrRepositoryAttrs> = {
  type: "ecr:repository",

  // The name is the key: the recorded one, else the one create would use.
  async find(ctx, { recorded, wanted }) {
    const name = knownKey(recorded?.name, wanted?.name);
    return name ? findRepositoryByName(ctx, name) : undefined;
  },

  diff,

  async create(ctx, spec) {
    await createRepository(ctx, spec);
    return readBack(ctx, spec.name);
  },

  update: applyChanges,

  /** Images are deleted only with --delete-data; otherwise a repository that holds images is refused and kept. */
  async destroy(ctx, actual) {
    const logicalId = actual.tags[TAG_LOGICAL_ID] ?? actual.name;
    try {
      await deleteRepository(ctx, actual.name, false);
    } catch (err) {
      if (!hasCode(err, "RepositoryNotEmptyException")) throw err;
      if (!ctx.flags.deleteData) {
        const images = await countRepositoryImages(ctx, actual.name);
        const count = images ? (images.more ? `more than ${images.count} images` : `${images.count} ${images.count === 1 ? "image" : "images"}`) : "images";
        throw new UserError(
          `${logicalId}: ${KIND} ${actual.name} holds ${count} (RepositoryNotEmptyException); nothing was deleted. Run 'platform down --delete-data' to delete the images with it`,
        );
      }
      ctx.note(logicalId, `deleting ${actual.name} with its images (--delete-data)`);
      await deleteRepository(ctx, actual.name, true);
    }
  },

  physicalId: (a) => a.name,

  async details(ctx, actual) {
    const count = await countRepositoryImages(ctx, actual.name);
    return count && `${count.more ? `more than ${count.count}` : count.count} images`;
  },
};
