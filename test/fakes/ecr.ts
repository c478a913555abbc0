import { createHash, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ECRClient,
  EmptyUploadException,
  ImageAlreadyExistsException,
  ImageDigestDoesNotMatchException,
  ImageNotFoundException,
  ImageTagAlreadyExistsException,
  InvalidLayerException,
  InvalidLayerPartException,
  InvalidParameterException,
  InvalidTagParameterException,
  LayerAlreadyExistsException,
  LayerPartTooSmallException,
  LayersNotFoundException,
  LifecyclePolicyNotFoundException,
  ReferencedImagesNotFoundException,
  RepositoryAlreadyExistsException,
  RepositoryNotEmptyException,
  RepositoryNotFoundException,
  TooManyTagsException,
  UploadNotFoundException,
} from "@aws-sdk/client-ecr";
import { type FakeCloud, fromTagList, type ServiceModel, type Tags, toTagList } from "./cloud.js";
import type { TagSource } from "./tagging.js";

/**
 * The ECR part of the fake: repositories with their scanning, tag mutability, encryption, tags, lifecycle policy and
 * images. Images are seeded with `pushImage` (or `pushImageIndex`), as `docker push` leaves them: blobs (config and
 * layers) in the repository and a manifest whose sha256 is the image digest. DeleteRepository refuses a repository that
 * holds images (RepositoryNotEmptyException) unless `force`; encryption is fixed at creation, as in ECR.
 *
 * The ECR API's push and pull calls are modelled as ECR checks them: BatchGetImage, BatchCheckLayerAvailability,
 * GetDownloadUrlForLayer (a URL of the blob server `serveBlobs` starts), InitiateLayerUpload / UploadLayerPart
 * (contiguous byte ranges, parts of at least `partSize` but the last) / CompleteLayerUpload (the bytes' sha256 must be
 * the digest), and PutImage (the manifest's sha256 must be imageDigest; its blobs, or an index's manifests, must be in
 * the repository already: PutImage does not reach into other repositories).
 */
export interface FakeImage {
  imageDigest: string;
  imageTags: string[];
  imagePushedAt: Date;
  imageSizeInBytes: number;
  /** The manifest exactly as pushed: its sha256 is imageDigest. */
  imageManifest: string;
  imageManifestMediaType: string;
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
  /** Layer and config blobs by digest: what pushes (or uploads) left in this repository. */
  blobs: Map<string, Buffer>;
}

interface FakeUpload {
  repositoryName: string;
  parts: Buffer[];
  received: number;
}

export interface EcrState {
  repositories: Map<string, FakeRepository>;
  /** Layer uploads in progress, by upload id. */
  uploads: Map<string, FakeUpload>;
  /** The partSize InitiateLayerUpload answers: every part but the last must be at least this large. */
  partSize: number;
  /** The base URL GetDownloadUrlForLayer's URLs point at (set by `serveBlobs`). */
  blobUrl?: string;
}

export function newEcrState(): EcrState {
  return { repositories: new Map(), uploads: new Map(), partSize: 10 * 1024 * 1024 };
}

export const MEDIA_TYPES = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
} as const;
const INDEX_TYPES: string[] = [MEDIA_TYPES.dockerList, MEDIA_TYPES.ociIndex];
/** UploadLayerPart: at most 20971520 bytes a part (ECR API reference). */
const MAX_PART = 20_971_520;

type ExceptionClass = new (options: { message: string; $metadata: Record<string, unknown> }) => Error;
const fail = (Exception: unknown, message: string) => new (Exception as ExceptionClass)({ message, $metadata: { httpStatusCode: 400, requestId: "fake-request-id" } });
const invalid = (message: string) => fail(InvalidParameterException, message);

/** ECR's repository name pattern (API reference, CreateRepository repositoryName), 2-256 characters. */
const NAME = /^(?=.{2,256}$)((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)$/;
const MUTABILITY = ["MUTABLE", "IMMUTABLE", "MUTABLE_WITH_EXCLUSION", "IMMUTABLE_WITH_EXCLUSION"];
const DEFAULT_PAGE = 100;

export const sha256 = (bytes: Buffer | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

function repositoryOf(state: EcrState, repositoryName: string): FakeRepository {
  const repo = state.repositories.get(repositoryName);
  if (!repo) throw new Error(`fake ecr: no repository ${repositoryName}`);
  return repo;
}

/** Stores a manifest as an image of the repository, moving the tag to it; returns its digest. */
function storeImage(repo: FakeRepository, manifest: string, mediaType: string, tag: string | undefined, size: number): string {
  const imageDigest = sha256(manifest);
  if (tag) {
    const holder = repo.images.find((i) => i.imageTags.includes(tag));
    if (holder && holder.imageDigest !== imageDigest && repo.imageTagMutability.startsWith("IMMUTABLE")) throw new Error(`fake ecr: tag ${tag} is immutable in ${repo.repositoryName}`);
    if (holder) holder.imageTags = holder.imageTags.filter((t) => t !== tag);
  }
  const existing = repo.images.find((i) => i.imageDigest === imageDigest);
  if (existing) {
    if (tag) existing.imageTags.push(tag);
    return imageDigest;
  }
  repo.images.push({ imageDigest, imageTags: tag ? [tag] : [], imagePushedAt: new Date(), imageSizeInBytes: size, imageManifest: manifest, imageManifestMediaType: mediaType });
  return imageDigest;
}

/**
 * Seeds an image as `docker push` leaves it: a config blob and layer blobs (by default one layer unique to this push;
 * `layers` names their contents, so images can share layers), a Docker v2 manifest; returns its digest.
 */
export function pushImage(state: EcrState, repositoryName: string, tag?: string, layers?: string[]): string {
  const repo = repositoryOf(state, repositoryName);
  const contents = layers ?? [`layer of ${repositoryName}:${repo.images.length}:${tag ?? ""}`];
  const blobs = contents.map((c) => Buffer.from(c));
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: blobs.map(sha256) }, pushed: `${repositoryName}:${repo.images.length}:${tag ?? ""}` }));
  for (const blob of [config, ...blobs]) repo.blobs.set(sha256(blob), blob);
  const descriptor = (mediaType: string, blob: Buffer) => ({ mediaType, size: blob.length, digest: sha256(blob) });
  const manifest = JSON.stringify(
    { schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, config: descriptor(MEDIA_TYPES.dockerConfig, config), layers: blobs.map((b) => descriptor(MEDIA_TYPES.dockerLayer, b)) },
    null,
    3,
  );
  return storeImage(repo, manifest, MEDIA_TYPES.dockerManifest, tag, blobs.reduce((n, b) => n + b.length, config.length));
}

/** Seeds a multi-platform image: one pushed image per platform (untagged), and an OCI index over them that gets the tag. */
export function pushImageIndex(state: EcrState, repositoryName: string, tag: string, platforms: { architecture: string; layers: string[] }[]): string {
  const repo = repositoryOf(state, repositoryName);
  const manifests = platforms.map((p) => {
    const digest = pushImage(state, repositoryName, undefined, p.layers);
    const image = repo.images.find((i) => i.imageDigest === digest)!;
    return { mediaType: image.imageManifestMediaType, size: Buffer.byteLength(image.imageManifest), digest, platform: { architecture: p.architecture, os: "linux" } };
  });
  const index = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests });
  return storeImage(repo, index, MEDIA_TYPES.ociIndex, tag, 0);
}

/**
 * Serves every repository's blobs over HTTP on loopback, as the presigned S3 URLs GetDownloadUrlForLayer answers
 * with (a query string stands in for the signature). `tamper` may change the bytes served (a corrupted download).
 */
export async function serveBlobs(state: EcrState): Promise<{ url: string; downloads: string[]; tamper?: (digest: string, bytes: Buffer) => Buffer; close(): Promise<void> }> {
  const served = {
    url: "",
    downloads: [] as string[],
    tamper: undefined as ((digest: string, bytes: Buffer) => Buffer) | undefined,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://blobs");
    const [, repository, digest] = /^\/blobs\/(.+)\/(sha256:[a-f0-9]{64})$/.exec(url.pathname) ?? [];
    const blob = repository && digest ? state.repositories.get(decodeURIComponent(repository))?.blobs.get(digest) : undefined;
    if (req.method !== "GET" || !blob || url.searchParams.get("X-Amz-Signature") !== "fake-signature") {
      res.writeHead(blob ? 403 : 404).end();
      return;
    }
    served.downloads.push(digest!);
    const bytes = served.tamper ? served.tamper(digest!, blob) : blob;
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  served.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.blobUrl = served.url;
  return served;
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
  const imageDetail = (repo: FakeRepository, i: FakeImage) => ({
    registryId,
    repositoryName: repo.repositoryName,
    imageDigest: i.imageDigest,
    imageTags: [...i.imageTags],
    imagePushedAt: i.imagePushedAt,
    imageSizeInBytes: i.imageSizeInBytes,
    imageManifestMediaType: i.imageManifestMediaType,
  });
  const findImage = (repo: FakeRepository, id: { imageTag?: string; imageDigest?: string }) =>
    repo.images.find((i) => (id.imageDigest ? i.imageDigest === id.imageDigest : true) && (id.imageTag ? i.imageTags.includes(id.imageTag) : true));
  const DIGEST = /^sha256:[a-f0-9]{64}$/;
  const TAG = /^[\w][\w.-]{0,127}$/;
  const uploadOf = (repo: FakeRepository, uploadId: string | undefined): FakeUpload => {
    const upload = uploadId === undefined ? undefined : state.uploads.get(uploadId);
    if (!upload || upload.repositoryName !== repo.repositoryName) throw fail(UploadNotFoundException, `The upload with id '${uploadId}' does not exist in the repository '${repo.repositoryName}'`);
    return upload;
  };

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
        blobs: new Map(),
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
        return { imageDetails: found.map((i) => imageDetail(repo, i)) };
      }
      const p = page(imagesOf(repo, input.filter), input.nextToken, input.maxResults, 1000);
      return {
        imageDetails: p.items.map((i) => imageDetail(repo, i)),
        ...(p.nextToken ? { nextToken: p.nextToken } : {}),
      };
    },

    // ---- pull and push (the calls `docker` makes through the ECR proxy) ----
    BatchGetImage: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      const ids: { imageTag?: string; imageDigest?: string }[] = input.imageIds ?? [];
      if (!ids.length || ids.length > 100) throw invalid("imageIds must hold 1 to 100 image ids");
      // Without acceptedMediaTypes ECR answers Docker manifests only; an index or OCI manifest needs its type accepted.
      const accepted: string[] = input.acceptedMediaTypes ?? ["application/vnd.docker.distribution.manifest.v1+json", MEDIA_TYPES.dockerManifest];
      const images: unknown[] = [];
      const failures: unknown[] = [];
      for (const id of ids) {
        const image = findImage(repo, id);
        if (!image || !accepted.includes(image.imageManifestMediaType)) {
          // (ECR has no failure code for an unaccepted media type; the fake reports the image as not found.)
          failures.push({ imageId: id, failureCode: "ImageNotFound", failureReason: image ? `Requested image's media type ${image.imageManifestMediaType} is not accepted` : "Requested image not found" });
          continue;
        }
        images.push({ registryId, repositoryName: repo.repositoryName, imageId: { imageDigest: image.imageDigest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) }, imageManifest: image.imageManifest, imageManifestMediaType: image.imageManifestMediaType });
      }
      return { images, failures };
    },
    BatchCheckLayerAvailability: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      const digests: string[] = input.layerDigests ?? [];
      if (!digests.length || digests.length > 100) throw invalid("layerDigests must hold 1 to 100 digests");
      const layers: unknown[] = [];
      const failures: unknown[] = [];
      for (const digest of digests) {
        const blob = repo.blobs.get(digest);
        if (!DIGEST.test(digest)) failures.push({ layerDigest: digest, failureCode: "InvalidLayerDigest", failureReason: "Invalid layer digest" });
        else if (!blob) failures.push({ layerDigest: digest, failureCode: "MissingLayerDigest", failureReason: "Could not find layer" });
        else layers.push({ layerDigest: digest, layerAvailability: "AVAILABLE", layerSize: blob.length });
      }
      return { layers, failures };
    },
    GetDownloadUrlForLayer: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      if (!repo.blobs.has(input.layerDigest)) {
        throw fail(LayersNotFoundException, `The specified layer '${input.layerDigest}' does not exist in the repository '${repo.repositoryName}'`);
      }
      if (!state.blobUrl) throw new Error("fake ecr: GetDownloadUrlForLayer needs the blob server: call serveBlobs first");
      const downloadUrl = `${state.blobUrl}/blobs/${encodeURIComponent(repo.repositoryName)}/${input.layerDigest}?X-Amz-Signature=fake-signature`;
      return { downloadUrl, layerDigest: input.layerDigest };
    },
    InitiateLayerUpload: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      const uploadId = randomUUID();
      state.uploads.set(uploadId, { repositoryName: repo.repositoryName, parts: [], received: 0 });
      return { uploadId, partSize: state.partSize };
    },
    UploadLayerPart: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      const upload = uploadOf(repo, input.uploadId);
      const blob = Buffer.from(input.layerPartBlob ?? []);
      const partFail = (message: string) =>
        new InvalidLayerPartException({ message, registryId, repositoryName: repo.repositoryName, uploadId: input.uploadId, lastValidByteReceived: upload.received - 1, $metadata: { httpStatusCode: 400, requestId: "fake-request-id" } });
      if (blob.length > MAX_PART) throw partFail(`A layer part can be at most ${MAX_PART} bytes`);
      if (input.partFirstByte !== upload.received) throw partFail(`The first byte ${input.partFirstByte} does not follow the last byte received (${upload.received - 1})`);
      if (input.partLastByte !== input.partFirstByte + blob.length - 1) throw partFail(`partLastByte ${input.partLastByte} does not match the part's ${blob.length} bytes from ${input.partFirstByte}`);
      const previous = upload.parts.at(-1);
      if (previous && previous.length < state.partSize) throw fail(LayerPartTooSmallException, `Layer parts must be at least ${state.partSize} bytes, except the last one`);
      upload.parts.push(blob);
      upload.received += blob.length;
      return { registryId, repositoryName: repo.repositoryName, uploadId: input.uploadId, lastByteReceived: upload.received - 1 };
    },
    CompleteLayerUpload: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      const upload = uploadOf(repo, input.uploadId);
      const digests: string[] = input.layerDigests ?? [];
      if (digests.length !== 1 || !DIGEST.test(digests[0]!)) throw invalid("layerDigests must hold the layer's sha256 digest");
      if (!upload.parts.length) throw fail(EmptyUploadException, `The upload with id '${input.uploadId}' has no layer parts`);
      const bytes = Buffer.concat(upload.parts);
      state.uploads.delete(input.uploadId);
      if (sha256(bytes) !== digests[0]) throw fail(InvalidLayerException, `The layer digest ${digests[0]} does not match the digest ECR calculated for the upload (${sha256(bytes)})`);
      if (repo.blobs.has(digests[0]!)) throw fail(LayerAlreadyExistsException, `The layer '${digests[0]}' already exists in the repository '${repo.repositoryName}'`);
      repo.blobs.set(digests[0]!, bytes);
      return { registryId, repositoryName: repo.repositoryName, uploadId: input.uploadId, layerDigest: digests[0] };
    },
    PutImage: (input) => {
      checkRegistry(input);
      const repo = byName(input.repositoryName);
      const manifest: string = input.imageManifest ?? "";
      if (!manifest || manifest.length > 4_194_304) throw invalid("imageManifest must be 1 to 4194304 characters");
      const digest = sha256(manifest);
      if (input.imageDigest !== undefined && input.imageDigest !== digest) {
        throw fail(ImageDigestDoesNotMatchException, `The specified digest ${input.imageDigest} does not match the digest ${digest} calculated for the manifest`);
      }
      let parsed: { mediaType?: string; config?: { digest: string }; layers?: { digest: string }[]; manifests?: { digest: string }[] };
      try {
        parsed = JSON.parse(manifest);
      } catch {
        throw invalid("Invalid parameter at 'imageManifest': the manifest is not valid JSON");
      }
      const mediaType = input.imageManifestMediaType ?? parsed.mediaType;
      if (!mediaType) throw invalid("imageManifestMediaType is required for a manifest without a mediaType field");
      if (parsed.mediaType && input.imageManifestMediaType && parsed.mediaType !== input.imageManifestMediaType) throw invalid("imageManifestMediaType does not match the manifest's mediaType");
      if (input.imageTag !== undefined && !TAG.test(input.imageTag)) throw invalid(`Invalid parameter at 'imageTag': ${input.imageTag}`);
      if (INDEX_TYPES.includes(mediaType)) {
        const missing = (parsed.manifests ?? []).filter((m) => !repo.images.some((i) => i.imageDigest === m.digest));
        if (missing.length) throw fail(ReferencedImagesNotFoundException, `The manifest list references images that do not exist in the repository: ${missing.map((m) => m.digest).join(", ")}`);
      } else {
        const missing = [parsed.config, ...(parsed.layers ?? [])].filter((b): b is { digest: string } => Boolean(b) && !repo.blobs.has(b!.digest));
        if (missing.length) throw fail(LayersNotFoundException, `Layers not found in the repository '${repo.repositoryName}': ${missing.map((b) => b.digest).join(", ")}`);
      }
      const existing = repo.images.find((i) => i.imageDigest === digest);
      if (existing && (input.imageTag === undefined || existing.imageTags.includes(input.imageTag))) {
        throw fail(ImageAlreadyExistsException, `Image with digest '${digest}'${input.imageTag ? ` and tag '${input.imageTag}'` : ""} already exists in the repository with name '${repo.repositoryName}' in registry with id '${registryId}'`);
      }
      const holder = input.imageTag ? repo.images.find((i) => i.imageTags.includes(input.imageTag)) : undefined;
      if (holder && repo.imageTagMutability.startsWith("IMMUTABLE")) {
        throw fail(ImageTagAlreadyExistsException, `The image tag '${input.imageTag}' already exists in the '${repo.repositoryName}' repository and cannot be overwritten because the repository is immutable.`);
      }
      const size = [...(parsed.layers ?? []), ...(parsed.config ? [parsed.config] : [])].reduce((n, b) => n + (repo.blobs.get(b.digest)?.length ?? 0), 0);
      storeImage(repo, manifest, mediaType, input.imageTag, size);
      return { image: { registryId, repositoryName: repo.repositoryName, imageId: { imageDigest: digest, ...(input.imageTag ? { imageTag: input.imageTag } : {}) }, imageManifest: manifest, imageManifestMediaType: mediaType } };
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
