import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { ECRClient, ECRServiceException, GetLifecyclePolicyCommand, PutLifecyclePolicyCommand } from "@aws-sdk/client-ecr";
import { ecrLifecyclePolicy, keepLastImagesPolicy } from "../../src/resources/ecr-lifecycle-policy.js";
import { testContext } from "../helpers.js";

const ecr = mockClient(ECRClient);
const REPO = "clinical-platform-dev/api";
const policy = keepLastImagesPolicy(20);
const spec = { repository: REPO, policy };
const ecrError = (name: string) => new ECRServiceException({ name, message: name, $fault: "client", $metadata: { httpStatusCode: 400 } });

beforeEach(() => ecr.reset());

describe("ecr:lifecycle-policy", () => {
  it("keeps the newest N images, tagged or not", () => {
    expect(policy).toEqual({
      rules: [
        {
          rulePriority: 1,
          description: "Keep only the newest 20 images",
          selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 20 },
          action: { type: "expire" },
        },
      ],
    });
  });

  it("reads the policy with one call and compares it as parsed JSON", async () => {
    ecr.on(GetLifecyclePolicyCommand, { repositoryName: REPO }).resolves({ lifecyclePolicyText: JSON.stringify(policy, null, 2) });
    const found = await ecrLifecyclePolicy.find(testContext(), { logicalId: "data.ecr.api.lifecycle", recorded: spec });
    expect(found).toEqual(spec);
    expect(ecrLifecyclePolicy.diff(spec, found!)).toEqual([]);
    expect(ecr.calls()).toHaveLength(1);
  });

  it.each(["LifecyclePolicyNotFoundException", "RepositoryNotFoundException"])("reads %s as absent", async (code) => {
    ecr.on(GetLifecyclePolicyCommand).rejects(ecrError(code));
    expect(await ecrLifecyclePolicy.find(testContext(), { logicalId: "x", recorded: spec })).toBeUndefined();
  });

  it("shows a different count as drift and puts the new policy as JSON text", async () => {
    const actual = { repository: REPO, policy: keepLastImagesPolicy(5) };
    const changes = ecrLifecyclePolicy.diff(spec, actual);
    expect(changes).toEqual([{ field: "policy", from: actual.policy, to: policy, action: "update" }]);
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    ecr.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: JSON.stringify(policy) });
    expect(await ecrLifecyclePolicy.update!(testContext(), spec, actual, changes)).toEqual(spec);
    expect(ecr).toHaveReceivedCommandWith(PutLifecyclePolicyCommand, { repositoryName: REPO, lifecyclePolicyText: JSON.stringify(policy) });
  });

  it("leaves the policy in place on destroy (the repository's deletion removes it)", async () => {
    await ecrLifecyclePolicy.destroy(testContext({ flags: { deleteData: true } }), spec);
    expect(ecr.calls()).toHaveLength(0);
  });
});
