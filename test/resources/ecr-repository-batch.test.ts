import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { DescribeRepositoriesCommand, ECRClient, ECRServiceException, ListTagsForResourceCommand, type Repository } from "@aws-sdk/client-ecr";
import { ecrRepository, type EcrRepositoryAttrs } from "../../src/resources/ecr-repository.js";
import { testContext, testTags } from "../helpers.js";

const ecr = mockClient(ECRClient);
beforeEach(() => ecr.reset());

const ecrError = (name: string) => new ECRServiceException({ name, message: name, $fault: "client", $metadata: { httpStatusCode: 400 } });
const arnOf = (name: string) => `arn:aws:ecr:us-east-1:123456789012:repository/${name}`;
const repositoryOf = (name: string): Repository => ({
  repositoryName: name,
  repositoryArn: arnOf(name),
  repositoryUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${name}`,
  registryId: "123456789012",
  imageTagMutability: "MUTABLE",
  imageScanningConfiguration: { scanOnPush: true },
  encryptionConfiguration: { encryptionType: "AES256" },
});

/** ECR as DescribeRepositories behaves with repositoryNames: every name must exist, or the whole call fails. */
function stubRepositories(existing: string[]) {
  ecr.on(DescribeRepositoriesCommand).callsFake((input: { repositoryNames: string[] }) => {
    if (input.repositoryNames.some((n) => !existing.includes(n))) throw ecrError("RepositoryNotFoundException");
    return { repositories: input.repositoryNames.map(repositoryOf) };
  });
  ecr.on(ListTagsForResourceCommand).callsFake((input: { resourceArn: string }) => ({
    tags: Object.entries(testTags(input.resourceArn.split("repository/")[1]!)).map(([Key, Value]) => ({ Key, Value })),
  }));
}

const NAMES = ["clinical-platform-dev/api", "clinical-platform-dev/worker", "clinical-platform-dev/dbt"];
const findAll = (list: string[], ctx = testContext()) => Promise.all(list.map((name) => ecrRepository.find(ctx, { logicalId: name, recorded: { name } as EcrRepositoryAttrs })));

describe("ecr:repository find, several repositories at once", () => {
  it("reads them with one DescribeRepositories naming them all, then each repository's tags", async () => {
    stubRepositories(NAMES);
    const found = await findAll(NAMES);
    expect(found.map((r) => r?.name)).toEqual(NAMES);
    expect(found[1]).toMatchObject({ arn: arnOf(NAMES[1]!), scanOnPush: true, tags: testTags(NAMES[1]!) });
    expect(ecr).toHaveReceivedCommandTimes(DescribeRepositoriesCommand, 1);
    expect(ecr).toHaveReceivedCommandWith(DescribeRepositoriesCommand, { repositoryNames: NAMES });
    expect(ecr).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 3);
  });

  it("when one is gone (the whole call fails), reads them one by one and answers undefined only for that one", async () => {
    stubRepositories([NAMES[0]!, NAMES[2]!]);
    const found = await findAll(NAMES);
    expect(found.map((r) => r?.name)).toEqual([NAMES[0], undefined, NAMES[2]]);
    const asked = ecr.commandCalls(DescribeRepositoriesCommand).map((c) => c.args[0].input.repositoryNames);
    expect(asked).toEqual([NAMES, [NAMES[0]], [NAMES[1]], [NAMES[2]]]);
  });

  it("a single repository that is gone is not found, with one call", async () => {
    stubRepositories([]);
    expect(await findAll([NAMES[0]!])).toEqual([undefined]);
    expect(ecr).toHaveReceivedCommandTimes(DescribeRepositoriesCommand, 1);
  });

  it("any other error fails every read it carried instead of being taken for 'not found'", async () => {
    ecr.on(DescribeRepositoriesCommand).rejects(ecrError("AccessDeniedException"));
    const ctx = testContext();
    const results = await Promise.allSettled(NAMES.map((name) => ecrRepository.find(ctx, { logicalId: name, recorded: { name } as EcrRepositoryAttrs })));
    expect(results).toMatchObject(NAMES.map(() => ({ status: "rejected", reason: { name: "AccessDeniedException" } })));
    expect(ecr).toHaveReceivedCommandTimes(DescribeRepositoriesCommand, 1);
  });
});
