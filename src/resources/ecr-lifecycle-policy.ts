import { ECRClient, GetLifecyclePolicyCommand, PutLifecyclePolicyCommand } from "@aws-sdk/client-ecr";
import { orUndefined } from "../aws/errors.js";
import { compareFields, sameValue, type Change, type ResourceContext, type ResourceType, knownKey } from "./types.js";
import { keepLastImagesPolicy } from "./spec-helpers.js";
export { keepLastImagesPolicy };

export interface EcrLifecyclePolicySpec {
  /** A ref to the repository's name. */
  repository: string;
  /** The lifecycle policy document, as an object. */
  policy: Record<string, unknown>;
}

export type EcrLifecyclePolicyAttrs = EcrLifecyclePolicySpec;

const ecr = (ctx: ResourceContext) => ctx.aws.get(ECRClient);

/** One call. Undefined when the repository has no policy (LifecyclePolicyNotFoundException) or is gone (RepositoryNotFoundException). */
export async function findLifecyclePolicy(ctx: ResourceContext, repository: string): Promise<EcrLifecyclePolicyAttrs | undefined> {
  const out = await orUndefined(ecr(ctx).send(new GetLifecyclePolicyCommand({ repositoryName: repository })));
  return out?.lifecyclePolicyText ? { repository, policy: JSON.parse(out.lifecyclePolicyText) as Record<string, unknown> } : undefined;
}

async function putPolicy(ctx: ResourceContext, spec: EcrLifecyclePolicySpec): Promise<EcrLifecyclePolicyAttrs> {
  await ecr(ctx).send(new PutLifecyclePolicyCommand({ repositoryName: spec.repository, lifecyclePolicyText: JSON.stringify(spec.policy) }));
  return (await findLifecyclePolicy(ctx, spec.repository)) ?? { ...spec };
}

export const ecrLifecyclePolicy: ResourceType<EcrLifecyclePolicySpec, EcrLifecyclePolicyAttrs> = {
  type: "ecr:lifecycle-policy",

  find: async (ctx, { recorded, wanted }) => {
    const repository = knownKey(recorded?.repository, wanted?.repository);
    return repository ? findLifecyclePolicy(ctx, repository) : undefined;
  },

  diff(spec, actual) {
    const changes: Change[] = compareFields(spec, actual, [{ field: "repository", action: "replace" }]);
    if (!sameValue(spec.policy, actual.policy)) changes.push({ field: "policy", from: actual.policy, to: spec.policy, action: "update" });
    return changes;
  },

  create: (ctx, spec) => putPolicy(ctx, spec),
  update: (ctx, spec) => putPolicy(ctx, spec),

  /**
   * Leaves the policy in place: deleting the repository removes it, and a repository that `down` keeps (it holds images
   * and there is no --delete-data) should keep expiring old images.
   */
  async destroy() {},

  physicalId: (a) => a.repository,
};
