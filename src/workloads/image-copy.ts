import { createHash } from "node:crypto";
import {
  BatchCheckLayerAvailabilityCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  ECRClient,
  GetDownloadUrlForLayerCommand,
  InitiateLayerUploadCommand,
  PutImageCommand,
  UploadLayerPartCommand,
} from "@aws-sdk/client-ecr";
import { hasCode } from "../aws/errors.js";
import { AwsFailure } from "../errors.js";
import type { ResourceContext } from "../resources/types.js";
import { step } from "./deploy.js";
import type { StackRepository } from "./images.js";

/**
 * Copies one image, by digest, from one ECR repository to another with the ECR API alone (no Docker daemon, nothing
 * on disk). Verified against the ECR API reference: PutImage stores a manifest only when every blob it references
 * (config and layers; an index's manifests) is already in the destination repository, and fails with
 * LayersNotFoundException (ReferencedImagesNotFoundException for an index) otherwise. It does not reach into other
 * repositories of the registry; ECR's blob mounting does, but only for OCI-protocol pushes with mount parameters and
 * when enabled for the registry. So the copy does what `docker push` does:
 *
 *   1. BatchGetImage by digest, accepting Docker v2 and OCI manifests and indexes, so ECR hands back the manifest as
 *      it was pushed (its sha256 must be the digest: anything else would be another image);
 *   2. for an index, each platform's manifest first (steps 3–5), pushed by digest without a tag;
 *   3. BatchCheckLayerAvailability in the destination: blobs already there are not copied;
 *   4. each missing blob: GetDownloadUrlForLayer in the source (a presigned S3 URL, never printed), streamed down with
 *      fetch and up with InitiateLayerUpload / UploadLayerPart (contiguous byte ranges of ECR's partSize; at most one
 *      part in memory) / CompleteLayerUpload, its sha256 checked before the upload is completed;
 *   5. PutImage with the manifest exactly as read, its media type, its digest and the tag; ImageAlreadyExistsException
 *      means it is there already, which is the goal.
 *
 * Source and destination have their own clients (contexts): the two environments' runs.
 */
export interface ImageEndpoint {
  ctx: ResourceContext;
  repository: StackRepository;
}

/** Progress of a copy, for the command to render. Sizes in bytes. */
export type CopyEvent =
  | { kind: "manifest"; digest: string; mediaType: string; blobs: number; missing: number; platforms: number }
  | { kind: "blob-start"; digest: string; size: number }
  | { kind: "blob-progress"; digest: string; bytes: number; size: number }
  | { kind: "blob-done"; digest: string; size: number }
  | { kind: "image-put"; digest: string; tag?: string; existed: boolean };

export interface CopyResult {
  digest: string;
  mediaType: string;
  tag?: string;
  /** Manifests put: 1, or 1 + the platforms of an index. */
  manifests: number;
  blobsCopied: number;
  blobsPresent: number;
  bytesCopied: number;
}

export const MANIFEST_MEDIA_TYPES = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
} as const;
const ACCEPTED_MEDIA_TYPES = Object.values(MANIFEST_MEDIA_TYPES);
const INDEX_MEDIA_TYPES: string[] = [MANIFEST_MEDIA_TYPES.dockerList, MANIFEST_MEDIA_TYPES.ociIndex];

/** UploadLayerPart takes at most 20971520 bytes a part (ECR API reference); used when ECR names no partSize. */
const MAX_PART_BYTES = 20_971_520;
const DEFAULT_PART_BYTES = 10 * 1024 * 1024;
/** BatchCheckLayerAvailability takes 1–100 digests a call. */
const LAYER_CHECK_BATCH = 100;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  urls?: string[];
}

interface Manifest {
  text: string;
  mediaType: string;
  digest: string;
  /** Config and layers (a manifest) or manifests (an index). */
  blobs: Descriptor[];
  children: Descriptor[];
}

const ecr = (ctx: ResourceContext) => ctx.aws.get(ECRClient);
const where = (e: ImageEndpoint) => `ECR repository (${e.repository.name})`;

export async function copyImage(from: ImageEndpoint, to: ImageEndpoint, digest: string, tag: string | undefined, onEvent: (e: CopyEvent) => void): Promise<CopyResult> {
  const result: CopyResult = { digest, mediaType: "", ...(tag ? { tag } : {}), manifests: 0, blobsCopied: 0, blobsPresent: 0, bytesCopied: 0 };
  const top = await readManifest(from, digest);
  result.mediaType = top.mediaType;
  // An index's platform manifests must be in the destination before the index (ReferencedImagesNotFoundException).
  if (top.children.length) onEvent({ kind: "manifest", digest, mediaType: top.mediaType, blobs: 0, missing: 0, platforms: top.children.length });
  for (const child of top.children) await copyManifest(from, to, await readManifest(from, child.digest), undefined, onEvent, result);
  await copyManifest(from, to, top, tag, onEvent, result);
  return result;
}

async function copyManifest(from: ImageEndpoint, to: ImageEndpoint, manifest: Manifest, tag: string | undefined, onEvent: (e: CopyEvent) => void, result: CopyResult): Promise<void> {
  const missing = manifest.blobs.length ? await missingBlobs(to, manifest.blobs) : [];
  if (!manifest.children.length) onEvent({ kind: "manifest", digest: manifest.digest, mediaType: manifest.mediaType, blobs: manifest.blobs.length, missing: missing.length, platforms: 0 });
  result.blobsPresent += manifest.blobs.length - missing.length;
  for (const blob of missing) {
    onEvent({ kind: "blob-start", digest: blob.digest, size: blob.size });
    await copyBlob(from, to, blob, (bytes) => onEvent({ kind: "blob-progress", digest: blob.digest, bytes, size: blob.size }));
    onEvent({ kind: "blob-done", digest: blob.digest, size: blob.size });
    result.blobsCopied += 1;
    result.bytesCopied += blob.size;
  }
  const existed = await putManifest(to, manifest, tag);
  onEvent({ kind: "image-put", digest: manifest.digest, ...(tag ? { tag } : {}), existed });
  result.manifests += 1;
}

/** BatchGetImage by digest: the manifest as pushed, checked against the digest, with what it references. */
export async function readManifest(from: ImageEndpoint, digest: string): Promise<Manifest> {
  const action = `reading image manifest ${digest} from ${where(from)}`;
  const out = await step(action, () =>
    ecr(from.ctx).send(
      new BatchGetImageCommand({ registryId: from.repository.registryId, repositoryName: from.repository.name, imageIds: [{ imageDigest: digest }], acceptedMediaTypes: ACCEPTED_MEDIA_TYPES }),
    ),
  );
  const image = out.images?.[0];
  if (!image?.imageManifest) {
    const failure = out.failures?.[0];
    throw new AwsFailure(action, failure?.failureCode ?? "ImageNotFound", failure?.failureReason ?? "BatchGetImage returned no manifest", `the image may have been deleted (lifecycle policy) from ${from.repository.name}`);
  }
  const text = image.imageManifest;
  if (sha256(Buffer.from(text, "utf8")) !== digest) {
    throw new AwsFailure(action, "ImageDigestDoesNotMatch", `the manifest ECR returned (${image.imageManifestMediaType ?? "unknown media type"}) does not hash to ${digest}`, "it is stored in a format ECR converted on the way out; re-push the image with a current Docker or BuildKit");
  }
  let parsed: { schemaVersion?: number; mediaType?: string; config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AwsFailure(action, "InvalidManifest", "the manifest is not JSON", undefined);
  }
  const mediaType = image.imageManifestMediaType ?? parsed.mediaType ?? "";
  if (!(ACCEPTED_MEDIA_TYPES as string[]).includes(mediaType) || parsed.schemaVersion !== 2) {
    throw new AwsFailure(action, "UnsupportedManifest", `media type ${mediaType || "unknown"}, schema version ${parsed.schemaVersion ?? "?"}`, "promote copies Docker v2 and OCI images; re-push the image with a current Docker or BuildKit");
  }
  const index = INDEX_MEDIA_TYPES.includes(mediaType);
  const references = index ? (parsed.manifests ?? []) : [...(parsed.config ? [parsed.config] : []), ...(parsed.layers ?? [])];
  const bad = references.find((d) => !DIGEST.test(d?.digest ?? "") || !Number.isSafeInteger(d.size) || d.size < 0);
  if (bad || (!index && !parsed.config)) throw new AwsFailure(action, "InvalidManifest", `a descriptor without a sha256 digest and size${bad ? ` (${bad.digest})` : ""}`, undefined);
  // Foreign (non-distributable) layers live at their own URLs, not in the registry: nothing to copy.
  const blobs = index ? [] : dedupe(references.filter((d) => !d.urls?.length));
  return { text, mediaType, digest, blobs, children: index ? dedupe(references) : [] };
}

/** The blobs the destination lacks (BatchCheckLayerAvailability: MissingLayerDigest, or not AVAILABLE). */
async function missingBlobs(to: ImageEndpoint, blobs: Descriptor[]): Promise<Descriptor[]> {
  const action = `checking layers in ${where(to)}`;
  const available = new Set<string>();
  for (let i = 0; i < blobs.length; i += LAYER_CHECK_BATCH) {
    const batch = blobs.slice(i, i + LAYER_CHECK_BATCH);
    const out = await step(action, () =>
      ecr(to.ctx).send(new BatchCheckLayerAvailabilityCommand({ registryId: to.repository.registryId, repositoryName: to.repository.name, layerDigests: batch.map((b) => b.digest) })),
    );
    const invalid = (out.failures ?? []).find((f) => f.failureCode !== "MissingLayerDigest");
    if (invalid) throw new AwsFailure(action, invalid.failureCode ?? "LayerFailure", `${invalid.layerDigest}: ${invalid.failureReason ?? ""}`, undefined);
    for (const layer of out.layers ?? []) if (layer.layerAvailability === "AVAILABLE" && layer.layerDigest) available.add(layer.layerDigest);
  }
  return blobs.filter((b) => !available.has(b.digest));
}

/**
 * One blob from the source's presigned download URL into a layer upload of the destination, part by part as the
 * bytes arrive (at most one part held), its size and sha256 checked before CompleteLayerUpload.
 */
async function copyBlob(from: ImageEndpoint, to: ImageEndpoint, blob: Descriptor, progress: (bytes: number) => void): Promise<void> {
  const uploading = `uploading layer ${blob.digest} to ${where(to)}`;
  const { downloadUrl } = await step(`getting the download URL of layer ${blob.digest} in ${where(from)}`, () =>
    ecr(from.ctx).send(new GetDownloadUrlForLayerCommand({ registryId: from.repository.registryId, repositoryName: from.repository.name, layerDigest: blob.digest })),
  );
  const started = await step(uploading, () => ecr(to.ctx).send(new InitiateLayerUploadCommand({ registryId: to.repository.registryId, repositoryName: to.repository.name })));
  const uploadId = started.uploadId!;
  const partSize = Math.min(started.partSize && started.partSize > 0 ? started.partSize : DEFAULT_PART_BYTES, MAX_PART_BYTES);

  const hash = createHash("sha256");
  let sent = 0;
  const sendPart = async (part: Buffer) => {
    const first = sent;
    await step(uploading, () =>
      ecr(to.ctx).send(
        new UploadLayerPartCommand({
          registryId: to.repository.registryId,
          repositoryName: to.repository.name,
          uploadId,
          partFirstByte: first,
          partLastByte: first + part.length - 1, // inclusive
          layerPartBlob: part,
        }),
      ),
    );
    sent += part.length;
    progress(sent);
  };

  const downloading = `downloading layer ${blob.digest} from ${where(from)}`;
  const body = await download(downloadUrl!, downloading, from.ctx.signal);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of body) {
    const bytes = Buffer.from(chunk);
    hash.update(bytes);
    pending.push(bytes);
    pendingBytes += bytes.length;
    while (pendingBytes >= partSize) {
      const joined = Buffer.concat(pending, pendingBytes);
      await sendPart(joined.subarray(0, partSize));
      pending = [joined.subarray(partSize)];
      pendingBytes -= partSize;
    }
  }
  if (pendingBytes > 0) await sendPart(Buffer.concat(pending, pendingBytes));
  const received = `sha256:${hash.digest("hex")}`;
  if (sent !== blob.size || received !== blob.digest) {
    throw new AwsFailure(downloading, "LayerDigestMismatch", `received ${sent} bytes hashing to ${received}, expected ${blob.size} bytes of ${blob.digest}`, "nothing was put in the destination; run promote again");
  }
  const done = await step(uploading, async () => {
    try {
      return await ecr(to.ctx).send(new CompleteLayerUploadCommand({ registryId: to.repository.registryId, repositoryName: to.repository.name, uploadId, layerDigests: [blob.digest] }));
    } catch (err) {
      if (hasCode(err, "LayerAlreadyExistsException")) return { layerDigest: blob.digest }; // ECR checked the digest: another run put it
      throw err;
    }
  });
  if (done.layerDigest !== blob.digest) throw new AwsFailure(uploading, "LayerDigestMismatch", `ECR computed ${done.layerDigest} for the upload`, "run promote again");
}

/** GET of a presigned URL; its failures name the layer, never the URL (it carries a signature). */
async function download(url: string, action: string, signal: AbortSignal | undefined): Promise<AsyncIterable<Uint8Array>> {
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (err) {
    if ((err as Error)?.name === "AbortError") throw err;
    const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
    throw new AwsFailure(action, cause?.code ?? "DownloadFailed", cause?.message ?? (err as Error)?.message ?? String(err), "check the network path to Amazon S3 in the registry's region, then run promote again");
  }
  if (!response.ok || !response.body) {
    throw new AwsFailure(action, `HTTP${response.status}`, `the presigned download URL answered ${response.status} ${response.statusText}`, "the URL may have expired; run promote again");
  }
  return response.body as unknown as AsyncIterable<Uint8Array>;
}

/** PutImage; true when the image (with this tag) was there already. */
async function putManifest(to: ImageEndpoint, manifest: Manifest, tag: string | undefined): Promise<boolean> {
  const action = `putting image ${manifest.digest}${tag ? ` (tag ${tag})` : ""} into ${where(to)}`;
  const out = await step(action, async () => {
    try {
      return await ecr(to.ctx).send(
        new PutImageCommand({
          registryId: to.repository.registryId,
          repositoryName: to.repository.name,
          imageManifest: manifest.text,
          imageManifestMediaType: manifest.mediaType,
          imageDigest: manifest.digest,
          ...(tag ? { imageTag: tag } : {}),
        }),
      );
    } catch (err) {
      if (hasCode(err, "ImageAlreadyExistsException")) return undefined;
      throw err;
    }
  });
  if (!out) return true;
  const stored = out.image?.imageId?.imageDigest;
  if (stored !== manifest.digest) throw new AwsFailure(action, "ImageDigestDoesNotMatch", `ECR stored the manifest as ${stored}`, undefined);
  return false;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

function dedupe(descriptors: Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return descriptors.filter((d) => !seen.has(d.digest) && Boolean(seen.add(d.digest)));
}
