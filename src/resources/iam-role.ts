import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  paginateGetAccountAuthorizationDetails,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  paginateListAttachedRolePolicies,
  paginateListInstanceProfilesForRole,
  paginateListRolePolicies,
  paginateListRoleTags,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  type Role,
  type RoleDetail,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from "@aws-sdk/client-iam";
import { orUndefined } from "../aws/errors.js";
import { tagList, tagRecord } from "../aws/tags.js";
import { retryWhile } from "./retry.js";
import { batchedRead } from "./read-batch.js";
import { compareFields, compareTags, sameValue, tagDelta, type Change, type ResourceContext, type ResourceType, knownKey } from "./types.js";

/** An IAM policy document as JSON ({ Version, Statement }). */
export type PolicyDocument = Record<string, unknown>;

export interface IamRoleSpec {
  /** ≤ 64 characters; unique in the account (case-insensitively). */
  name: string;
  /** Defaults to "/". */
  path?: string;
  description: string;
  /** The trust policy: who may assume the role. */
  assumeRolePolicy: PolicyDocument;
  /** Inline policies by name. */
  inlinePolicies: Record<string, PolicyDocument>;
  managedPolicyArns: string[];
  /** Seconds, 3600–43200; defaults to 3600. */
  maxSessionDuration?: number;
  tags: Record<string, string>;
}

export interface IamRoleAttrs {
  name: string;
  arn: string;
  roleId: string;
  path: string;
  description: string;
  assumeRolePolicy: PolicyDocument;
  inlinePolicies: Record<string, PolicyDocument>;
  /** Sorted. */
  managedPolicyArns: string[];
  maxSessionDuration: number;
  tags: Record<string, string>;
}

const DEFAULT_PATH = "/";
const DEFAULT_MAX_SESSION = 3600;
// SDK v3 names IAM exceptions "<Code>Exception"; the wire code (also kept on err.Code) lacks the suffix. Both are accepted.
const NO_SUCH_ENTITY = ["NoSuchEntityException", "NoSuchEntity"];
const DELETE_CONFLICT = ["DeleteConflictException", "DeleteConflict"];

const iamClient = (ctx: ResourceContext) => ctx.aws.get(IAMClient);

/**
 * IAM returns policy documents URL-encoded (RFC 3986), exactly as they were submitted otherwise: whitespace and key order
 * vary, so documents are compared structurally (sameValue). Equivalent spellings such as `"Action": "x"` versus
 * `"Action": ["x"]` are NOT normalised: a document edited outside platform in another spelling shows as drift and is rewritten.
 * A document that already starts with "{" (some emulators do not encode) is parsed as it is; an encoded one cannot, "{" being "%7B".
 */
export function decodePolicyDocument(raw: string | undefined): PolicyDocument {
  if (!raw) return {};
  const text = raw.trimStart().startsWith("{") ? raw : decodeURIComponent(raw);
  return JSON.parse(text) as PolicyDocument;
}

async function listInlineNames(ctx: ResourceContext, roleName: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListRolePolicies({ client: iamClient(ctx) }, { RoleName: roleName })) names.push(...(page.PolicyNames ?? []));
  return names;
}

async function readInlinePolicies(ctx: ResourceContext, roleName: string): Promise<Record<string, PolicyDocument>> {
  const names = await listInlineNames(ctx, roleName);
  // A policy deleted between the listing and its read is skipped, not taken for the role being gone.
  const docs = await Promise.all(names.map((PolicyName) => orUndefined(iamClient(ctx).send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName })))));
  return Object.fromEntries(docs.filter((d) => d !== undefined).map((d) => [d.PolicyName!, decodePolicyDocument(d.PolicyDocument)]));
}

async function listManagedArns(ctx: ResourceContext, roleName: string): Promise<string[]> {
  const arns: string[] = [];
  for await (const page of paginateListAttachedRolePolicies({ client: iamClient(ctx) }, { RoleName: roleName })) {
    arns.push(...(page.AttachedPolicies ?? []).map((p) => p.PolicyArn!));
  }
  return arns.sort();
}

async function readTags(ctx: ResourceContext, role: Role): Promise<Record<string, string>> {
  if (role.Tags) return tagRecord(role.Tags);
  const tags: { Key?: string; Value?: string }[] = [];
  for await (const page of paginateListRoleTags({ client: iamClient(ctx) }, { RoleName: role.RoleName })) tags.push(...(page.Tags ?? []));
  return tagRecord(tags);
}

/** The attributes from a role as GetRole returns it, with what GetRole leaves out read by the caller. */
function attrsOf(role: Role, inlinePolicies: Record<string, PolicyDocument>, managedPolicyArns: string[], tags: Record<string, string>): IamRoleAttrs {
  return {
    name: role.RoleName!,
    arn: role.Arn!,
    roleId: role.RoleId!,
    path: role.Path ?? DEFAULT_PATH,
    description: role.Description ?? "",
    assumeRolePolicy: decodePolicyDocument(role.AssumeRolePolicyDocument),
    inlinePolicies,
    managedPolicyArns,
    maxSessionDuration: role.MaxSessionDuration ?? DEFAULT_MAX_SESSION,
    tags,
  };
}

async function readAttrs(ctx: ResourceContext, role: Role): Promise<IamRoleAttrs> {
  const name = role.RoleName!;
  const [inlinePolicies, managedPolicyArns, tags] = await Promise.all([readInlinePolicies(ctx, name), listManagedArns(ctx, name), readTags(ctx, role)]);
  return attrsOf(role, inlinePolicies, managedPolicyArns, tags);
}

/** The role and everything attached to it; undefined when it does not exist (or vanished while being read). */
export async function findRoleByName(ctx: ResourceContext, name: string): Promise<IamRoleAttrs | undefined> {
  const out = await orUndefined(iamClient(ctx).send(new GetRoleCommand({ RoleName: name })));
  return out?.Role ? orUndefined(readAttrs(ctx, out.Role)) : undefined;
}

/**
 * Roles asked for within one window from which one GetAccountAuthorizationDetails sweep replaces the per-role listings.
 * Per role the listings cost ListRolePolicies + ListAttachedRolePolicies + one GetRolePolicy per inline policy (~3.3 reads);
 * the sweep costs one call per page of every role in the account (up to DETAILS_PAGE roles a page), so it pays from a few roles on.
 */
export const ROLE_BATCH_MIN = 3;
/** GetAccountAuthorizationDetails' MaxItems ceiling (API reference); IAM may still truncate a page earlier. */
const DETAILS_PAGE = 1000;

/**
 * Like findRoleByName, but reads made within a few milliseconds of each other share their calls: with at least ROLE_BATCH_MIN
 * distinct roles, one GetAccountAuthorizationDetails sweep (Filter Role, paginated) supplies every role's inline policies,
 * managed policies and tags, and a role absent from it is not found. RoleDetail carries neither Description nor
 * MaxSessionDuration, which diff compares, so each role still costs one GetRole (sent alongside the sweep). With fewer roles,
 * or when the sweep fails (e.g. iam:GetAccountAuthorizationDetails not granted), each role is read as findRoleByName reads it.
 */
export const findRoleBatched = batchedRead<string, IamRoleAttrs>({
  // One sweep serves every role, however many.
  size: Number.MAX_SAFE_INTEGER,
  // IAM role names are unique case-insensitively, and GetRole ignores case.
  id: (name) => name.toLowerCase(),
  async read(ctx, names) {
    const found = new Map<string, IamRoleAttrs | Error>();
    const settle = async (name: string, read: () => Promise<IamRoleAttrs | undefined>) => {
      try {
        const attrs = await read();
        if (attrs) found.set(name.toLowerCase(), attrs);
      } catch (err) {
        found.set(name.toLowerCase(), err instanceof Error ? err : new Error(String(err)));
      }
    };
    if (names.length < ROLE_BATCH_MIN) {
      await Promise.all(names.map((name) => settle(name, () => findRoleByName(ctx, name))));
      return found;
    }
    // undefined when the sweep failed: each role then falls back to its own listings.
    const details = listRoleDetails(ctx).catch(() => undefined);
    const read = async (name: string): Promise<IamRoleAttrs | undefined> => {
      const [all, out] = await Promise.all([details, orUndefined(iamClient(ctx).send(new GetRoleCommand({ RoleName: name })))]);
      if (!out?.Role) return undefined;
      if (!all) return orUndefined(readAttrs(ctx, out.Role));
      const detail = all.get(name.toLowerCase());
      return detail ? attrsFromDetail(out.Role, detail) : undefined;
    };
    await Promise.all(names.map((name) => settle(name, () => read(name))));
    return found;
  },
});

/** Every role in the account by lower-cased name (IAM role names are unique case-insensitively, and GetRole ignores case). */
async function listRoleDetails(ctx: ResourceContext): Promise<Map<string, RoleDetail>> {
  const roles = new Map<string, RoleDetail>();
  for await (const page of paginateGetAccountAuthorizationDetails({ client: iamClient(ctx), pageSize: DETAILS_PAGE }, { Filter: ["Role"] })) {
    for (const r of page.RoleDetailList ?? []) if (r.RoleName) roles.set(r.RoleName.toLowerCase(), r);
  }
  return roles;
}

/** The attributes of a role from GetRole (description, session duration) and its entry in the authorization details. */
function attrsFromDetail(role: Role, detail: RoleDetail): IamRoleAttrs {
  const inline = (detail.RolePolicyList ?? []).filter((p) => p.PolicyName !== undefined);
  return attrsOf(
    role,
    Object.fromEntries(inline.map((p) => [p.PolicyName!, decodePolicyDocument(p.PolicyDocument)])),
    (detail.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn!).sort(),
    tagRecord(role.Tags ?? detail.Tags),
  );
}

/** IAM is eventually consistent: a role just created can be briefly unknown to reads and to its own sub-resources. */
async function whileRoleUnknown<T>(ctx: ResourceContext, action: () => Promise<T>): Promise<T> {
  return retryWhile(ctx, NO_SUCH_ENTITY, 30, action);
}

async function readBack(ctx: ResourceContext, name: string): Promise<IamRoleAttrs> {
  return whileRoleUnknown(ctx, async () => readAttrs(ctx, (await iamClient(ctx).send(new GetRoleCommand({ RoleName: name }))).Role!));
}

async function createRole(ctx: ResourceContext, spec: IamRoleSpec): Promise<void> {
  const input = {
    RoleName: spec.name,
    Path: spec.path ?? DEFAULT_PATH,
    AssumeRolePolicyDocument: JSON.stringify(spec.assumeRolePolicy),
    Description: spec.description,
    MaxSessionDuration: spec.maxSessionDuration,
    // Tags on create: a role whose creation outlived a crash is found by its name and proven ours by them.
    Tags: tagList(spec.tags),
  };
  await iamClient(ctx).send(new CreateRoleCommand(input));
}

async function putInlinePolicy(ctx: ResourceContext, roleName: string, policyName: string, doc: PolicyDocument): Promise<void> {
  await iamClient(ctx).send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: JSON.stringify(doc) }));
}

/** Writes what differs first, then removes what is no longer wanted, so the role never lacks a permission it keeps. */
async function syncInlinePolicies(ctx: ResourceContext, roleName: string, want: Record<string, PolicyDocument>, have: Record<string, PolicyDocument>): Promise<void> {
  for (const [name, doc] of Object.entries(want)) if (!sameValue(doc, have[name])) await putInlinePolicy(ctx, roleName, name, doc);
  for (const name of Object.keys(have)) {
    if (!(name in want)) await orUndefined(iamClient(ctx).send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name })));
  }
}

async function syncManagedPolicies(ctx: ResourceContext, roleName: string, want: string[], have: string[]): Promise<void> {
  for (const arn of want.filter((a) => !have.includes(a))) await iamClient(ctx).send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn }));
  for (const arn of have.filter((a) => !want.includes(a))) {
    await orUndefined(iamClient(ctx).send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn })));
  }
}

async function syncTags(ctx: ResourceContext, roleName: string, want: Record<string, string>, have: Record<string, string>): Promise<void> {
  const { set, remove } = tagDelta(want, have);
  if (Object.keys(set).length) await iamClient(ctx).send(new TagRoleCommand({ RoleName: roleName, Tags: tagList(set) }));
  if (remove.length) await iamClient(ctx).send(new UntagRoleCommand({ RoleName: roleName, TagKeys: remove }));
}

/** What the spec means once defaults are filled in, in the shape of the attributes. */
function desired(spec: IamRoleSpec) {
  return {
    ...spec,
    path: spec.path ?? DEFAULT_PATH,
    maxSessionDuration: spec.maxSessionDuration ?? DEFAULT_MAX_SESSION,
    managedPolicyArns: [...spec.managedPolicyArns].sort(),
  };
}

function diff(spec: IamRoleSpec, actual: IamRoleAttrs): Change[] {
  return [
    ...compareFields(desired(spec), actual, [
      { field: "name", action: "replace" },
      { field: "path", action: "replace" },
      { field: "description" },
      { field: "assumeRolePolicy" },
      { field: "maxSessionDuration" },
      { field: "inlinePolicies" },
      { field: "managedPolicyArns" },
    ]),
    ...compareTags(spec.tags, actual.tags),
  ];
}

/** Every in-place change; replacements (name, path) are left to the engine. */
async function applyChanges(ctx: ResourceContext, spec: IamRoleSpec, actual: IamRoleAttrs, changes: Change[]): Promise<IamRoleAttrs> {
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  const want = desired(spec);
  const RoleName = actual.name;
  if (fields.has("assumeRolePolicy")) await iamClient(ctx).send(new UpdateAssumeRolePolicyCommand({ RoleName, PolicyDocument: JSON.stringify(spec.assumeRolePolicy) }));
  if (fields.has("description") || fields.has("maxSessionDuration")) {
    await iamClient(ctx).send(new UpdateRoleCommand({ RoleName, Description: want.description, MaxSessionDuration: want.maxSessionDuration }));
  }
  if (fields.has("inlinePolicies")) await syncInlinePolicies(ctx, RoleName, want.inlinePolicies, actual.inlinePolicies);
  if (fields.has("managedPolicyArns")) await syncManagedPolicies(ctx, RoleName, want.managedPolicyArns, actual.managedPolicyArns);
  if (fields.has("tags")) await syncTags(ctx, RoleName, spec.tags, actual.tags);
  return readBack(ctx, RoleName);
}

async function attachEverything(ctx: ResourceContext, spec: IamRoleSpec): Promise<void> {
  for (const [name, doc] of Object.entries(spec.inlinePolicies)) await putInlinePolicy(ctx, spec.name, name, doc);
  for (const arn of spec.managedPolicyArns) await iamClient(ctx).send(new AttachRolePolicyCommand({ RoleName: spec.name, PolicyArn: arn }));
}

async function listInstanceProfileNames(ctx: ResourceContext, roleName: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListInstanceProfilesForRole({ client: iamClient(ctx) }, { RoleName: roleName })) {
    names.push(...(page.InstanceProfiles ?? []).map((p) => p.InstanceProfileName!));
  }
  return names;
}

/** DeleteRole fails with DeleteConflict while inline policies, attached policies or instance profiles remain: remove them, as AWS lists them now. */
async function emptyRole(ctx: ResourceContext, RoleName: string): Promise<void> {
  const iam = iamClient(ctx);
  for (const PolicyName of await listInlineNames(ctx, RoleName)) await orUndefined(iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName })));
  for (const PolicyArn of await listManagedArns(ctx, RoleName)) await orUndefined(iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn })));
  for (const InstanceProfileName of await listInstanceProfileNames(ctx, RoleName)) {
    await orUndefined(iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName, RoleName })));
  }
}

export const iamRole: ResourceType<IamRoleSpec, IamRoleAttrs> = {
  type: "iam:role",

  // The name is the key: the recorded one, else the one create would use.
  async find(ctx, { recorded, wanted }) {
    const name = knownKey(recorded?.name, wanted?.name);
    return name ? findRoleBatched(ctx, name) : undefined;
  },

  diff,

  async create(ctx, spec) {
    await createRole(ctx, spec);
    await whileRoleUnknown(ctx, () => attachEverything(ctx, spec));
    return readBack(ctx, spec.name);
  },

  update: applyChanges,

  async destroy(ctx, actual) {
    // Already gone (NoSuchEntity from the listings) is fine: DeleteRole then reports NoSuchEntity too, which is success.
    await orUndefined(emptyRole(ctx, actual.name));
    // Detaching is eventually consistent: DeleteRole can still see a policy for a moment.
    await retryWhile(ctx, DELETE_CONFLICT, 30, async () => {
      await orUndefined(iamClient(ctx).send(new DeleteRoleCommand({ RoleName: actual.name })));
    });
  },

  physicalId: (a) => a.name,
};
