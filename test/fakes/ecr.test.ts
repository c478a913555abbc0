import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DeleteLifecyclePolicyCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetLifecyclePolicyCommand,
  InitiateLayerUploadCommand,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  PutLifecyclePolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UploadLayerPartCommand,
} from "@aws-sdk/client-ecr";
import { FakeCloud } from "./cloud.js";
import { ecrModel, pushImage, sha256, type EcrState } from "./ecr.js";

let cloud: FakeCloud;
let ecr: ReturnType<typeof ecrModel>;
let state: EcrState;
const client = new ECRClient({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
const send = (command: unknown) => client.send(command as never) as Promise<any>;
const NAME = "clinical-platform-dev/api";

beforeEach(async () => {
  cloud = new FakeCloud();
  ecr = ecrModel(cloud);
  state = ecr.state;
  cloud.install([ecr.model]);
  await send(new CreateRepositoryCommand({ repositoryName: NAME, tags: [{ Key: "Project", Value: "p" }], imageScanningConfiguration: { scanOnPush: true } }));
});
afterEach(() => cloud.restore());

describe("fake ECR", () => {
  it("creates with ECR's ARN and URI, refuses duplicates and invalid names", async () => {
    const { repositories } = await send(new DescribeRepositoriesCommand({ repositoryNames: [NAME] }));
    expect(repositories[0]).toMatchObject({
      repositoryArn: `arn:aws:ecr:us-east-1:123456789012:repository/${NAME}`,
      repositoryUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${NAME}`,
      imageTagMutability: "MUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: "AES256" },
    });
    await expect(send(new CreateRepositoryCommand({ repositoryName: NAME }))).rejects.toMatchObject({ name: "RepositoryAlreadyExistsException" });
    await expect(send(new CreateRepositoryCommand({ repositoryName: "Upper/Case" }))).rejects.toMatchObject({ name: "InvalidParameterException" });
    await expect(send(new DescribeRepositoriesCommand({ repositoryNames: ["nope"] }))).rejects.toMatchObject({ name: "RepositoryNotFoundException" });
    expect(ecr.taggingSources[0]!()).toEqual([{ arn: `arn:aws:ecr:us-east-1:123456789012:repository/${NAME}`, tags: { Project: "p" } }]);
  });

  it("refuses to delete a repository with images unless forced", async () => {
    pushImage(state, NAME, "v1");
    pushImage(state, NAME);
    expect((await send(new ListImagesCommand({ repositoryName: NAME }))).imageIds).toHaveLength(2);
    expect((await send(new DescribeImagesCommand({ repositoryName: NAME }))).imageDetails.map((i: { imageTags: string[] }) => i.imageTags)).toEqual([["v1"], []]);
    await expect(send(new DeleteRepositoryCommand({ repositoryName: NAME }))).rejects.toMatchObject({ name: "RepositoryNotEmptyException" });
    await send(new DeleteRepositoryCommand({ repositoryName: NAME, force: true }));
    expect(state.repositories.size).toBe(0);
  });

  it("validates, stores and deletes lifecycle policies", async () => {
    await expect(send(new GetLifecyclePolicyCommand({ repositoryName: NAME }))).rejects.toMatchObject({ name: "LifecyclePolicyNotFoundException" });
    await expect(send(new PutLifecyclePolicyCommand({ repositoryName: NAME, lifecyclePolicyText: '{"rules":[{"rulePriority":1}]}' }))).rejects.toMatchObject({ name: "InvalidParameterException" });
    const text = JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 3 }, action: { type: "expire" } }] });
    await send(new PutLifecyclePolicyCommand({ repositoryName: NAME, lifecyclePolicyText: text }));
    expect((await send(new GetLifecyclePolicyCommand({ repositoryName: NAME }))).lifecyclePolicyText).toBe(text);
    await send(new DeleteLifecyclePolicyCommand({ repositoryName: NAME }));
    await expect(send(new DeleteLifecyclePolicyCommand({ repositoryName: NAME }))).rejects.toMatchObject({ name: "LifecyclePolicyNotFoundException" });
  });

  it("tags by ARN and rejects aws: keys", async () => {
    const arn = `arn:aws:ecr:us-east-1:123456789012:repository/${NAME}`;
    await send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: "Env", Value: "dev" }] }));
    await send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["Project"] }));
    expect((await send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([{ Key: "Env", Value: "dev" }]);
    await expect(send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: "aws:x", Value: "1" }] }))).rejects.toMatchObject({ name: "InvalidTagParameterException" });
    await expect(send(new ListTagsForResourceCommand({ resourceArn: "arn:aws:ecr:us-east-1:123456789012:repository/nope" }))).rejects.toMatchObject({ name: "RepositoryNotFoundException" });
  });

  it("push protocol: PutImage needs the manifest's blobs in this repository; parts must be contiguous; uploads must hash to their digest", async () => {
    await send(new CreateRepositoryCommand({ repositoryName: "other/api" }));
    const digest = pushImage(state, NAME, "v1", ["layer bytes"]);
    const { images } = await send(new BatchGetImageCommand({ repositoryName: NAME, imageIds: [{ imageDigest: digest }] }));
    const manifest: string = images[0].imageManifest;
    expect(sha256(manifest)).toBe(digest);
    for (const [blobDigest, bytes] of state.repositories.get(NAME)!.blobs) expect(sha256(bytes)).toBe(blobDigest);
    // The same manifest in a repository without its blobs: PutImage does not reach into other repositories.
    await expect(send(new PutImageCommand({ repositoryName: "other/api", imageManifest: manifest, imageDigest: digest, imageTag: "v1" }))).rejects.toMatchObject({ name: "LayersNotFoundException" });
    await expect(send(new PutImageCommand({ repositoryName: NAME, imageManifest: manifest, imageDigest: `sha256:${"0".repeat(64)}` }))).rejects.toMatchObject({ name: "ImageDigestDoesNotMatchException" });
    await expect(send(new PutImageCommand({ repositoryName: NAME, imageManifest: manifest, imageTag: "v1" }))).rejects.toMatchObject({ name: "ImageAlreadyExistsException" });

    state.partSize = 4;
    const { uploadId } = await send(new InitiateLayerUploadCommand({ repositoryName: "other/api" }));
    const part = (first: number, bytes: string) => send(new UploadLayerPartCommand({ repositoryName: "other/api", uploadId, partFirstByte: first, partLastByte: first + bytes.length - 1, layerPartBlob: Buffer.from(bytes) }));
    await part(0, "laye");
    await expect(part(5, "r bytes")).rejects.toMatchObject({ name: "InvalidLayerPartException", lastValidByteReceived: 3 });
    await part(4, "r by");
    await part(8, "t");
    await expect(part(9, "es")).rejects.toMatchObject({ name: "LayerPartTooSmallException" });
    await expect(send(new CompleteLayerUploadCommand({ repositoryName: "other/api", uploadId, layerDigests: [sha256("layer bytes")] }))).rejects.toMatchObject({ name: "InvalidLayerException" });
  });
});
