import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-ecr";
import { UserError } from "../../src/errors.js";
import { countRepositoryImages, ecrRepository, type EcrRepositoryAttrs, type EcrRepositorySpec } from "../../src/resources/ecr-repository.js";
import { testContext, testTags } from "../helpers.js";

const ecr = mockClient(ECRClient);
const ID = "data.ecr.api";
const NAME = "clinical-platform-dev/api";
const ARN = `arn:aws:ecr:us-east-1:123456789012:repository/${NAME}`;
const URI = `123456789012.dkr.ecr.us-east-1.amazonaws.com/${NAME}`;
const KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const tags = testTags(ID);
const spec: EcrRepositorySpec = { name: NAME, scanOnPush: true, imageTagMutability: "MUTABLE", encryption: { type: "AES256" }, tags };
const attrs: EcrRepositoryAttrs = { ...spec, arn: ARN, uri: URI, registryId: "123456789012" };
const ecrError = (name: string) => new ECRServiceException({ name, message: name, $fault: "client", $metadata: { httpStatusCode: 400 } });
const tagList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

function stubRepository(over: { scanOnPush?: boolean; imageTagMutability?: string; tags?: Record<string, string>; encryption?: { encryptionType: string; kmsKey?: string } } = {}) {
  ecr.on(DescribeRepositoriesCommand, { repositoryNames: [NAME] }).resolves({
    repositories: [
      {
        repositoryName: NAME,
        repositoryArn: ARN,
        repositoryUri: URI,
        registryId: "123456789012",
        imageTagMutability: (over.imageTagMutability ?? "MUTABLE") as never,
        imageScanningConfiguration: { scanOnPush: over.scanOnPush ?? true },
        encryptionConfiguration: (over.encryption ?? { encryptionType: "AES256" }) as never,
      },
    ],
  });
  ecr.on(ListTagsForResourceCommand, { resourceArn: ARN }).resolves({ tags: tagList(over.tags ?? tags) });
}

beforeEach(() => ecr.reset());

describe("ecr:repository find", () => {
  it("describes the recorded repository and reads its tags: two calls", async () => {
    stubRepository();
    expect(await ecrRepository.find(testContext(), { logicalId: ID, recorded: attrs })).toEqual(attrs);
    expect(ecr.calls()).toHaveLength(2);
  });

  it("returns undefined when the repository is gone (RepositoryNotFoundException)", async () => {
    ecr.on(DescribeRepositoriesCommand).rejects(ecrError("RepositoryNotFoundException"));
    expect(await ecrRepository.find(testContext(), { logicalId: ID, recorded: attrs })).toBeUndefined();
    expect(ecr).not.toHaveReceivedCommand(ListTagsForResourceCommand);
  });

  it("looks nothing up without a recorded name", async () => {
    expect(await ecrRepository.find(testContext(), { logicalId: ID })).toBeUndefined();
    expect(ecr.calls()).toHaveLength(0);
  });
});

describe("ecr:repository create", () => {
  it("creates with scan on push, tag mutability, AES256 encryption and tags", async () => {
    ecr.on(CreateRepositoryCommand).resolves({ repository: { repositoryName: NAME } });
    stubRepository();
    expect(await ecrRepository.create(testContext(), spec, { logicalId: ID })).toEqual(attrs);
    expect(ecr.commandCalls(CreateRepositoryCommand)[0]!.args[0].input).toEqual({
      repositoryName: NAME,
      imageTagMutability: "MUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: "AES256" },
      tags: tagList(tags),
    });
  });

  it("creates with a KMS key when one is configured", async () => {
    ecr.on(CreateRepositoryCommand).resolves({});
    stubRepository({ encryption: { encryptionType: "KMS", kmsKey: KEY }, imageTagMutability: "IMMUTABLE" });
    const kms = { ...spec, imageTagMutability: "IMMUTABLE" as const, encryption: { type: "KMS" as const, kmsKeyArn: KEY } };
    const created = await ecrRepository.create(testContext(), kms, { logicalId: ID });
    expect(ecr).toHaveReceivedCommandWith(CreateRepositoryCommand, { imageTagMutability: "IMMUTABLE", encryptionConfiguration: { encryptionType: "KMS", kmsKey: KEY } });
    expect(ecrRepository.diff(kms, created)).toEqual([]);
  });

});

describe("ecr:repository diff and update", () => {
  it("updates scanning and mutability in place; encryption needs a replacement", () => {
    const actual = { ...attrs, scanOnPush: false, imageTagMutability: "IMMUTABLE" as const };
    expect(ecrRepository.diff(spec, actual)).toEqual([
      { field: "scanOnPush", from: false, to: true, action: "update" },
      { field: "imageTagMutability", from: "IMMUTABLE", to: "MUTABLE", action: "update" },
    ]);
    const kms = { ...spec, encryption: { type: "KMS" as const, kmsKeyArn: KEY } };
    expect(ecrRepository.diff(kms, attrs)).toEqual([
      { field: "encryption", from: { type: "AES256" }, to: { type: "KMS", kmsKeyArn: KEY }, action: "replace", note: "ECR cannot change a repository's encryption" },
    ]);
  });

  it("sends one call per drifted setting and fixes tags", async () => {
    stubRepository();
    ecr.on(PutImageScanningConfigurationCommand).resolves({});
    ecr.on(PutImageTagMutabilityCommand).resolves({});
    ecr.on(TagResourceCommand).resolves({});
    ecr.on(UntagResourceCommand).resolves({});
    const actual = { ...attrs, scanOnPush: false, imageTagMutability: "IMMUTABLE" as const, tags: { ...tags, Stray: "x", Project: "old" } };
    await ecrRepository.update!(testContext(), spec, actual, ecrRepository.diff(spec, actual));
    expect(ecr).toHaveReceivedCommandWith(PutImageScanningConfigurationCommand, { repositoryName: NAME, imageScanningConfiguration: { scanOnPush: true } });
    expect(ecr).toHaveReceivedCommandWith(PutImageTagMutabilityCommand, { repositoryName: NAME, imageTagMutability: "MUTABLE" });
    expect(ecr).toHaveReceivedCommandWith(TagResourceCommand, { resourceArn: ARN, tags: [{ Key: "Project", Value: "clinical-platform" }] });
    expect(ecr).toHaveReceivedCommandWith(UntagResourceCommand, { resourceArn: ARN, tagKeys: ["Stray"] });
  });
});

describe("ecr:repository destroy", () => {
  it("deletes an empty repository without force", async () => {
    ecr.on(DeleteRepositoryCommand).resolves({});
    await ecrRepository.destroy(testContext(), attrs);
    expect(ecr.commandCalls(DeleteRepositoryCommand).map((c) => c.args[0].input)).toEqual([{ repositoryName: NAME }]);
  });

  it("refuses a repository that holds images without --delete-data, naming it, the image count and the flag", async () => {
    ecr.on(DeleteRepositoryCommand).rejects(ecrError("RepositoryNotEmptyException"));
    ecr.on(ListImagesCommand).resolves({ imageIds: [{ imageDigest: "sha256:a", imageTag: "v1" }, { imageDigest: "sha256:b" }] });
    const err = await ecrRepository.destroy(testContext(), attrs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      `${ID}: ECR repository ${NAME} holds 2 images (RepositoryNotEmptyException); nothing was deleted. Run 'platform down --delete-data' to delete the images with it`,
    );
    expect(ecr).toHaveReceivedCommandTimes(DeleteRepositoryCommand, 1);
    expect(ecr).not.toHaveReceivedCommandWith(DeleteRepositoryCommand, { force: true });
  });

  it("with --delete-data deletes it with its images (force)", async () => {
    ecr.on(DeleteRepositoryCommand).callsFake((input: { force?: boolean }) => {
      if (!input.force) throw ecrError("RepositoryNotEmptyException");
      return {};
    });
    const ctx = testContext({ flags: { deleteData: true } });
    await ecrRepository.destroy(ctx, attrs);
    expect(ecr.commandCalls(DeleteRepositoryCommand).map((c) => c.args[0].input)).toEqual([{ repositoryName: NAME }, { repositoryName: NAME, force: true }]);
    expect(ctx.notes).toEqual([`deleting ${NAME} with its images (--delete-data)`]);
  });

  it("treats a repository that is already gone as deleted", async () => {
    ecr.on(DeleteRepositoryCommand).rejects(ecrError("RepositoryNotFoundException"));
    await expect(ecrRepository.destroy(testContext(), attrs)).resolves.toBeUndefined();
  });

  it("counts images from one ListImages page, saying when there are more", async () => {
    ecr.on(ListImagesCommand).resolves({ imageIds: [{ imageDigest: "sha256:a" }], nextToken: "t" });
    expect(await countRepositoryImages(testContext(), NAME)).toEqual({ count: 1, more: true });
    expect(ecr).toHaveReceivedCommandWith(ListImagesCommand, { repositoryName: NAME, maxResults: 1000 });
  });
});
