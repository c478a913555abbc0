import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  IAMClient,
  TagOpenIDConnectProviderCommand,
  UntagOpenIDConnectProviderCommand,
} from "@aws-sdk/client-iam";
import { hasCode, orUndefined } from "../aws/errors.js";
import { MANAGED_BY, TAG_MANAGED_BY, tagList, tagRecord } from "../aws/tags.js";
import { partitionOf } from "./bucket.js";
import type { Change, ResourceContext, ResourceType } from "./types.js";

/**
 * An IAM OIDC identity provider. There is one per URL per account, shared by every environment that uses it:
 * each environment marks its use with a tag `platform:used-by:<project>-<env>` = "true", removes only its own tag on
 * `down`, and the provider is deleted only when no such tag remains and platform created it (ManagedBy=platform).
 * A provider someone else created is adopted (tagged) but never deleted.
 */
export interface OidcProviderSpec {
  /** "https://token.actions.githubusercontent.com". */
  url: string;
  clientIds: string[];
}

export interface OidcProviderAttrs {
  arn: string;
  /** As IAM reports it: without "https://". */
  url: string;
  clientIds: string[];
  /**
   * Not `tags`: the engine refuses to destroy a resource whose `tags` do not prove it is this environment's, and a shared
   * provider carries no environment's tags. destroy makes its own, stricter check (used-by tags and ManagedBy).
   */
  providerTags: Record<string, string>;
  /** True when this environment's used-by tag is on it (another environment's `down` leaves it, a foreign provider lacks it). */
  usedByThisEnvironment: boolean;
}

const KIND = "IAM OIDC provider";
export const USED_BY_PREFIX = "platform:used-by:";
const ALREADY_EXISTS = ["EntityAlreadyExistsException", "EntityAlreadyExists"];
const iam = (ctx: ResourceContext) => ctx.aws.get(IAMClient);

export const usedByTag = (ctx: ResourceContext) => `${USED_BY_PREFIX}${ctx.identity.project}-${ctx.identity.environment}`;
const hostOf = (url: string) => url.replace(/^https:\/\//, "").replace(/\/$/, "");

export function oidcProviderArn(ctx: ResourceContext, url: string): string {
  return `arn:${partitionOf(ctx.region)}:iam::${ctx.accountId}:oidc-provider/${hostOf(url)}`;
}

export async function findOidcProvider(ctx: ResourceContext, arn: string): Promise<OidcProviderAttrs | undefined> {
  const out = await orUndefined(iam(ctx).send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })));
  if (!out) return undefined;
  const tags = tagRecord(out.Tags);
  return { arn, url: out.Url ?? "", clientIds: [...(out.ClientIDList ?? [])].sort(), providerTags: tags, usedByThisEnvironment: tags[usedByTag(ctx)] === "true" };
}

async function readBack(ctx: ResourceContext, arn: string): Promise<OidcProviderAttrs> {
  const found = await findOidcProvider(ctx, arn);
  if (!found) throw new Error(`reading ${KIND} (${arn}): not found right after it was written; run again`);
  return found;
}

function diff(spec: OidcProviderSpec, actual: OidcProviderAttrs): Change[] {
  const missing = spec.clientIds.filter((c) => !actual.clientIds.includes(c));
  return [
    ...(hostOf(spec.url) !== hostOf(actual.url) ? [{ field: "url", from: actual.url, to: hostOf(spec.url), action: "replace" as const }] : []),
    // Client ids other environments added stay: only missing ones are added.
    ...(missing.length ? [{ field: "clientIds", from: actual.clientIds, to: [...actual.clientIds, ...missing].sort(), action: "update" as const }] : []),
    ...(actual.usedByThisEnvironment ? [] : [{ field: "usedByThisEnvironment", from: false, to: true, action: "update" as const }]),
  ];
}

async function markUsed(ctx: ResourceContext, spec: OidcProviderSpec, actual: OidcProviderAttrs): Promise<OidcProviderAttrs> {
  for (const clientId of spec.clientIds.filter((c) => !actual.clientIds.includes(c))) {
    await iam(ctx).send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: actual.arn, ClientID: clientId }));
  }
  if (!actual.usedByThisEnvironment) {
    await iam(ctx).send(new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: actual.arn, Tags: [{ Key: usedByTag(ctx), Value: "true" }] }));
  }
  return readBack(ctx, actual.arn);
}

export const oidcProvider: ResourceType<OidcProviderSpec, OidcProviderAttrs> = {
  type: "iam:oidc-provider",

  async find(ctx, { recorded }) {
    return recorded?.arn ? findOidcProvider(ctx, recorded.arn) : undefined;
  },

  diff,

  async create(ctx, spec) {
    const arn = oidcProviderArn(ctx, spec.url);
    try {
      // No ThumbprintList: IAM no longer needs one for providers whose certificates a public CA signs (GitHub's does),
      // and the parameter is optional in the API since 2024.
      await iam(ctx).send(
        new CreateOpenIDConnectProviderCommand({
          Url: spec.url,
          ClientIDList: spec.clientIds,
          Tags: tagList({ [TAG_MANAGED_BY]: MANAGED_BY, [usedByTag(ctx)]: "true" }),
        }),
      );
    } catch (err) {
      // Once per account: another environment (or someone else) created it; use it and mark our use.
      if (!hasCode(err, ...ALREADY_EXISTS)) throw err;
      const existing = await findOidcProvider(ctx, arn);
      if (!existing) throw new Error(`creating ${KIND} (${spec.url}): AWS reports it exists, but it cannot be read; run again`);
      return markUsed(ctx, spec, existing);
    }
    return readBack(ctx, arn);
  },

  async update(ctx, spec, actual) {
    return markUsed(ctx, spec, (await findOidcProvider(ctx, actual.arn)) ?? actual);
  },

  async destroy(ctx, actual) {
    const now = await findOidcProvider(ctx, actual.arn);
    if (!now) return;
    if (usedByTag(ctx) in now.providerTags) {
      await orUndefined(iam(ctx).send(new UntagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: actual.arn, TagKeys: [usedByTag(ctx)] })));
    }
    const after = await findOidcProvider(ctx, actual.arn);
    if (!after) return;
    const users = Object.keys(after.providerTags).filter((k) => k.startsWith(USED_BY_PREFIX));
    // Still used by another environment, or created outside platform: not ours to delete.
    if (users.length || after.providerTags[TAG_MANAGED_BY] !== MANAGED_BY) return;
    await orUndefined(iam(ctx).send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: actual.arn })));
  },

  physicalId: (a) => a.arn,

  // It carries no environment's tags (see providerTags): ours to let go of when our used-by tag is on it, or when
  // platform made it and no environment uses it any more (a down interrupted after removing our tag). destroy then
  // removes only our tag and deletes it only when no environment uses it.
  owns: (_ctx, actual) =>
    actual.usedByThisEnvironment || (actual.providerTags[TAG_MANAGED_BY] === MANAGED_BY && !Object.keys(actual.providerTags).some((k) => k.startsWith(USED_BY_PREFIX))),
};
