import {
  DeleteConflictException,
  EntityAlreadyExistsException,
  IAMClient,
  IAMServiceException,
  InvalidInputException,
  LimitExceededException,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
} from "@aws-sdk/client-iam";
import { awsError, type FakeCloud, fromTagList, type ServiceModel, type Tags, toTagList } from "./cloud.js";
import type { TagSource } from "./tagging.js";

/**
 * The IAM part of the fake: roles with their inline policies, attached managed policies, tags and instance profiles.
 * Like IAM, it stores policy documents as submitted and returns them URL-encoded; role names are unique case-insensitively.
 */
export interface FakeRole {
  RoleName: string;
  RoleId: string;
  Arn: string;
  Path: string;
  CreateDate: Date;
  /** As submitted (JSON text), not encoded. */
  AssumeRolePolicyDocument: string;
  Description?: string;
  MaxSessionDuration: number;
  Tags: Tags;
  /** Inline policies by name, as submitted. */
  inline: Map<string, string>;
  attached: Set<string>;
}

export interface FakeInstanceProfile {
  InstanceProfileName: string;
  InstanceProfileId: string;
  Arn: string;
  Path: string;
  CreateDate: Date;
  roleNames: string[];
}

/** An OIDC identity provider, by ARN (one per URL per account). */
export interface FakeOidcProvider {
  Url: string;
  ClientIDList: string[];
  ThumbprintList: string[];
  Tags: Tags;
  CreateDate: Date;
}

export interface IamState {
  /** By lower-cased role name. */
  roles: Map<string, FakeRole>;
  oidcProviders?: Map<string, FakeOidcProvider>;
  instanceProfiles: Map<string, FakeInstanceProfile>;
  /** Customer managed policy ARNs that exist; AWS managed ones (arn:aws:iam::aws:policy/...) always exist. */
  managedPolicies: Set<string>;
}

export function newIamState(): IamState {
  return { roles: new Map(), instanceProfiles: new Map(), managedPolicies: new Set() };
}

type ExceptionClass = new (options: { message: string; $metadata: Record<string, unknown> }) => Error;
const meta = { httpStatusCode: 400, requestId: "fake-request-id" };
const fail = (Exception: unknown, message: string) => new (Exception as ExceptionClass)({ message, $metadata: meta });
/** IAM has no exception class for ValidationError; the SDK throws its base exception with that name. */
const validation = (message: string) => awsError(IAMServiceException, "ValidationError", message);
const noSuchEntity = (message: string) => fail(NoSuchEntityException, message);

const NAME = /^[\w+=,.@-]+$/;
const PATH = /^\/([\x21-\x7E]*\/)?$/;
const DEFAULT_PAGE = 100;

/** An instance profile holding `roleName`, for tests of DeleteRole's DeleteConflict and of RemoveRoleFromInstanceProfile. */
export function addInstanceProfile(cloud: FakeCloud, state: IamState, name: string, roleName?: string): FakeInstanceProfile {
  const profile = {
    InstanceProfileName: name,
    InstanceProfileId: `AIPA${cloud.id("ip").slice(-16).toUpperCase()}`,
    Arn: `arn:aws:iam::${cloud.accountId}:instance-profile/${name}`,
    Path: "/",
    CreateDate: new Date(),
    roleNames: roleName ? [roleName] : [],
  };
  state.instanceProfiles.set(name, profile);
  return profile;
}

function validateName(value: string | undefined, what: string, max: number): void {
  if (!value || value.length > max || !NAME.test(value)) {
    throw validation(`1 validation error detected: Value '${value}' at '${what}' failed to satisfy constraint: Member must have length less than or equal to ${max} and match pattern [\\w+=,.@-]+`);
  }
}

/** Tag keys and values: [\p{L}\p{Z}\p{N}_.:/=+\-@]*, keys 1–128, values ≤ 256, at most 50 per role. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function validateTags(tags: Tags): void {
  if (Object.keys(tags).length > 50) throw fail(LimitExceededException, "Cannot exceed quota for TagsPerRole: 50.");
  for (const [k, v] of Object.entries(tags)) {
    if (!k || k.length > 128 || v.length > 256 || k.startsWith("aws:") || !TAG_TEXT.test(k) || !TAG_TEXT.test(v)) throw fail(InvalidInputException, `Invalid tag ${k}.`);
  }
}

function statementsOf(text: string): Record<string, any>[] {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch {
    throw fail(MalformedPolicyDocumentException, "Syntax errors in policy.");
  }
  if (!doc || typeof doc !== "object" || !doc.Statement) throw fail(MalformedPolicyDocumentException, "Missing required field Statement");
  return Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
}

/** A trust policy names who may assume the role; a permissions policy must not name a principal. */
function validatePolicy(text: string | undefined, kind: "trust" | "permissions"): string {
  const statements = statementsOf(text ?? "");
  for (const s of statements) {
    if (kind === "trust" && !s.Principal) throw fail(MalformedPolicyDocumentException, "AssumeRolepolicy contained an invalid principal: Missing required field Principal");
    if (kind === "permissions" && s.Principal) throw fail(MalformedPolicyDocumentException, "Policy document should not specify a principal.");
  }
  return text!;
}

function validateMaxSession(value: number | undefined): void {
  if (value !== undefined && (value < 3600 || value > 43200)) {
    throw validation(`1 validation error detected: Value '${value}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200`);
  }
}

/** Role descriptions: ≤ 1000 characters of tab, newlines, printable ASCII and Latin-1 (no em dash, no emoji). */
const DESCRIPTION = /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/;

function validateDescription(value: string | undefined): void {
  if (value !== undefined && (value.length > 1000 || !DESCRIPTION.test(value))) {
    throw validation(`1 validation error detected: Value '${value}' at 'description' failed to satisfy constraint: Member must satisfy the description pattern and have length less than or equal to 1000`);
  }
}

/** IAM's Marker/IsTruncated pagination over an already sorted list. */
function page<T>(items: T[], input: { Marker?: string; MaxItems?: number }): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const start = input.Marker ? Number(Buffer.from(input.Marker, "base64").toString()) : 0;
  if (!Number.isInteger(start)) throw fail(InvalidInputException, "Invalid Marker.");
  const end = start + (input.MaxItems ?? DEFAULT_PAGE);
  const truncated = end < items.length;
  return { items: items.slice(start, end), IsTruncated: truncated, ...(truncated ? { Marker: Buffer.from(String(end)).toString("base64") } : {}) };
}

const encode = (doc: string) => encodeURIComponent(doc);

function roleShape(role: FakeRole) {
  return {
    Path: role.Path,
    RoleName: role.RoleName,
    RoleId: role.RoleId,
    Arn: role.Arn,
    CreateDate: role.CreateDate,
    AssumeRolePolicyDocument: encode(role.AssumeRolePolicyDocument),
    ...(role.Description !== undefined ? { Description: role.Description } : {}),
    MaxSessionDuration: role.MaxSessionDuration,
    // GetRole lists tags only when there are some.
    ...(Object.keys(role.Tags).length ? { Tags: toTagList(role.Tags) } : {}),
  };
}

/** The model to install, its state, and what it lists to the tagging fake; the object is itself the model. */
export interface IamFake extends ServiceModel {
  model: ServiceModel;
  state: IamState;
  taggingSources: TagSource[];
}

export function iamModel(cloud: FakeCloud, state: IamState = newIamState()): IamFake {
  const roleOf = (name: string | undefined): FakeRole => {
    const role = name ? state.roles.get(name.toLowerCase()) : undefined;
    if (!role) throw noSuchEntity(`The role with name ${name} cannot be found.`);
    return role;
  };

  const oidc = () => (state.oidcProviders ??= new Map());
  const providerOf = (arn: string | undefined): FakeOidcProvider => {
    const p = arn ? oidc().get(arn) : undefined;
    if (!p) throw noSuchEntity(`OpenIDConnect Provider not found for arn ${arn}`);
    return p;
  };

  const policyExists = (arn: string) => /^arn:aws:iam::aws:policy\/.+/.test(arn) || state.managedPolicies.has(arn);

  const handlers: Record<string, (input: any) => unknown> = {
    CreateRole: (input) => {
      validateName(input.RoleName, "roleName", 64);
      const path = input.Path ?? "/";
      if (!PATH.test(path) || path.length > 512) throw validation(`The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.`);
      if (state.roles.has(input.RoleName.toLowerCase())) throw fail(EntityAlreadyExistsException, `Role with name ${input.RoleName} already exists.`);
      validateDescription(input.Description);
      validateMaxSession(input.MaxSessionDuration);
      const tags = fromTagList(input.Tags);
      validateTags(tags);
      const role: FakeRole = {
        RoleName: input.RoleName,
        RoleId: `AROA${cloud.id("role").slice(-17).toUpperCase()}`,
        Arn: `arn:aws:iam::${cloud.accountId}:role${path}${input.RoleName}`,
        Path: path,
        CreateDate: new Date(),
        AssumeRolePolicyDocument: validatePolicy(input.AssumeRolePolicyDocument, "trust"),
        Description: input.Description,
        MaxSessionDuration: input.MaxSessionDuration ?? 3600,
        Tags: tags,
        inline: new Map(),
        attached: new Set(),
      };
      state.roles.set(role.RoleName.toLowerCase(), role);
      return { Role: roleShape(role) };
    },
    GetRole: (input) => ({ Role: { ...roleShape(roleOf(input.RoleName)), RoleLastUsed: {} } }),
    DeleteRole: (input) => {
      const role = roleOf(input.RoleName);
      if (role.inline.size) throw fail(DeleteConflictException, "Cannot delete entity, must delete policies first.");
      if (role.attached.size) throw fail(DeleteConflictException, "Cannot delete entity, must detach all policies first.");
      if ([...state.instanceProfiles.values()].some((p) => p.roleNames.includes(role.RoleName))) {
        throw fail(DeleteConflictException, "Cannot delete entity, must remove roles from instance profile first.");
      }
      state.roles.delete(role.RoleName.toLowerCase());
      return {};
    },
    UpdateRole: (input) => {
      const role = roleOf(input.RoleName);
      validateDescription(input.Description);
      validateMaxSession(input.MaxSessionDuration);
      if (input.Description !== undefined) role.Description = input.Description;
      if (input.MaxSessionDuration !== undefined) role.MaxSessionDuration = input.MaxSessionDuration;
      return {};
    },
    UpdateAssumeRolePolicy: (input) => {
      const role = roleOf(input.RoleName);
      role.AssumeRolePolicyDocument = validatePolicy(input.PolicyDocument, "trust");
      return {};
    },

    PutRolePolicy: (input) => {
      const role = roleOf(input.RoleName);
      validateName(input.PolicyName, "policyName", 128);
      role.inline.set(input.PolicyName, validatePolicy(input.PolicyDocument, "permissions"));
      return {};
    },
    GetRolePolicy: (input) => {
      const role = roleOf(input.RoleName);
      const doc = role.inline.get(input.PolicyName);
      if (doc === undefined) throw noSuchEntity(`The role policy with name ${input.PolicyName} cannot be found.`);
      return { RoleName: role.RoleName, PolicyName: input.PolicyName, PolicyDocument: encode(doc) };
    },
    DeleteRolePolicy: (input) => {
      const role = roleOf(input.RoleName);
      if (!role.inline.delete(input.PolicyName)) throw noSuchEntity(`The role policy with name ${input.PolicyName} cannot be found.`);
      return {};
    },
    ListRolePolicies: (input) => {
      const p = page([...roleOf(input.RoleName).inline.keys()].sort(), input);
      return { PolicyNames: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
    },

    AttachRolePolicy: (input) => {
      const role = roleOf(input.RoleName);
      if (!/^arn:aws[\w-]*:iam::(aws|\d{12}):policy\//.test(input.PolicyArn ?? "")) throw fail(InvalidInputException, `ARN ${input.PolicyArn} is not valid.`);
      if (!policyExists(input.PolicyArn)) throw noSuchEntity(`Policy ${input.PolicyArn} does not exist or is not attachable.`);
      role.attached.add(input.PolicyArn);
      return {};
    },
    DetachRolePolicy: (input) => {
      const role = roleOf(input.RoleName);
      if (!role.attached.delete(input.PolicyArn)) throw noSuchEntity(`Policy ${input.PolicyArn} was not found.`);
      return {};
    },
    ListAttachedRolePolicies: (input) => {
      const arns = [...roleOf(input.RoleName).attached].filter((a) => policyPath(a).startsWith(input.PathPrefix ?? "/")).sort();
      const p = page(arns, input);
      return { AttachedPolicies: p.items.map((PolicyArn) => ({ PolicyName: PolicyArn.split("/").pop(), PolicyArn })), IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
    },

    TagRole: (input) => {
      const role = roleOf(input.RoleName);
      const tags = { ...role.Tags, ...fromTagList(input.Tags) };
      validateTags(tags);
      role.Tags = tags;
      return {};
    },
    UntagRole: (input) => {
      const role = roleOf(input.RoleName);
      for (const key of input.TagKeys ?? []) delete role.Tags[key];
      return {};
    },
    ListRoleTags: (input) => {
      const p = page(toTagList(roleOf(input.RoleName).Tags), input);
      return { Tags: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
    },

    ListInstanceProfilesForRole: (input) => {
      const role = roleOf(input.RoleName);
      const profiles = [...state.instanceProfiles.values()].filter((ip) => ip.roleNames.includes(role.RoleName));
      const p = page(profiles, input);
      return {
        InstanceProfiles: p.items.map(({ roleNames: _roles, ...ip }) => ({ ...ip, Roles: [roleShape(role)] })),
        IsTruncated: p.IsTruncated,
        ...(p.Marker ? { Marker: p.Marker } : {}),
      };
    },
    RemoveRoleFromInstanceProfile: (input) => {
      const role = roleOf(input.RoleName);
      const profile = state.instanceProfiles.get(input.InstanceProfileName);
      if (!profile) throw noSuchEntity(`Instance Profile ${input.InstanceProfileName} cannot be found.`);
      if (!profile.roleNames.includes(role.RoleName)) throw noSuchEntity(`The role with name ${role.RoleName} cannot be found in instance profile ${input.InstanceProfileName}.`);
      profile.roleNames = profile.roleNames.filter((n) => n !== role.RoleName);
      return {};
    },

    /** Roles only (Filter without "Role" lists none); RoleDetail has no Description or MaxSessionDuration, as in IAM. */
    GetAccountAuthorizationDetails: (input) => {
      const roles = input.Filter?.length && !input.Filter.includes("Role") ? [] : [...state.roles.values()].sort((a, b) => a.RoleName.localeCompare(b.RoleName));
      const p = page(roles, input);
      const RoleDetailList = p.items.map((role) => {
        const { Description: _d, MaxSessionDuration: _m, ...shape } = roleShape(role);
        return {
          ...shape,
          InstanceProfileList: [...state.instanceProfiles.values()].filter((ip) => ip.roleNames.includes(role.RoleName)).map(({ roleNames: _r, ...ip }) => ({ ...ip, Roles: [roleShape(role)] })),
          RolePolicyList: [...role.inline].sort(([a], [b]) => a.localeCompare(b)).map(([PolicyName, doc]) => ({ PolicyName, PolicyDocument: encode(doc) })),
          AttachedManagedPolicies: [...role.attached].sort().map((PolicyArn) => ({ PolicyName: PolicyArn.split("/").pop(), PolicyArn })),
          RoleLastUsed: {},
        };
      });
      return { UserDetailList: [], GroupDetailList: [], RoleDetailList, Policies: [], IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
    },

    SimulatePrincipalPolicy: (input) => simulate(state, input),

    CreateOpenIDConnectProvider: (input) => {
      if (!/^https:\/\/[^\s/]+(\/\S*)?$/.test(input.Url ?? "")) throw fail(InvalidInputException, `Invalid URL ${input.Url}.`);
      for (const t of input.ThumbprintList ?? []) if (!/^[0-9a-fA-F]{40}$/.test(t)) throw fail(InvalidInputException, "Thumbprints are 40 hex characters.");
      const arn = `arn:aws:iam::${cloud.accountId}:oidc-provider/${input.Url.replace(/^https:\/\//, "")}`;
      if (oidc().has(arn)) throw fail(EntityAlreadyExistsException, `Provider with url ${input.Url} already exists.`);
      const tags = fromTagList(input.Tags);
      validateTags(tags);
      oidc().set(arn, { Url: input.Url.replace(/^https:\/\//, ""), ClientIDList: [...(input.ClientIDList ?? [])], ThumbprintList: [...(input.ThumbprintList ?? [])], Tags: tags, CreateDate: new Date() });
      return { OpenIDConnectProviderArn: arn, Tags: toTagList(tags) };
    },
    GetOpenIDConnectProvider: (input) => {
      const p = providerOf(input.OpenIDConnectProviderArn);
      return { Url: p.Url, ClientIDList: p.ClientIDList, ThumbprintList: p.ThumbprintList, CreateDate: p.CreateDate, Tags: toTagList(p.Tags) };
    },
    ListOpenIDConnectProviders: () => ({ OpenIDConnectProviderList: [...oidc().keys()].map((Arn) => ({ Arn })) }),
    DeleteOpenIDConnectProvider: (input) => {
      providerOf(input.OpenIDConnectProviderArn);
      oidc().delete(input.OpenIDConnectProviderArn);
      return {};
    },
    AddClientIDToOpenIDConnectProvider: (input) => {
      const p = providerOf(input.OpenIDConnectProviderArn);
      if (!p.ClientIDList.includes(input.ClientID)) p.ClientIDList.push(input.ClientID);
      return {};
    },
    TagOpenIDConnectProvider: (input) => {
      const p = providerOf(input.OpenIDConnectProviderArn);
      const tags = { ...p.Tags, ...fromTagList(input.Tags) };
      validateTags(tags);
      p.Tags = tags;
      return {};
    },
    UntagOpenIDConnectProvider: (input) => {
      const p = providerOf(input.OpenIDConnectProviderArn);
      for (const key of input.TagKeys ?? []) delete p.Tags[key];
      return {};
    },
    ListOpenIDConnectProviderTags: (input) => {
      const p = page(toTagList(providerOf(input.OpenIDConnectProviderArn).Tags), input);
      return { Tags: p.items, IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
    },
  };
  const model: ServiceModel = { service: "iam", client: IAMClient, handlers };
  const taggingSources: TagSource[] = [
    () => [...state.roles.values()].map((r) => ({ arn: r.Arn, tags: { ...r.Tags } })),
    () => [...oidc().entries()].map(([arn, p]) => ({ arn, tags: { ...p.Tags } })),
  ];
  return { ...model, model, state, taggingSources };
}

function policyPath(arn: string): string {
  const resource = arn.split(":policy")[1] ?? "/";
  return resource.slice(0, resource.lastIndexOf("/") + 1);
}

// --- SimulatePrincipalPolicy -------------------------------------------------------------------------------------

type Decision = "allowed" | "explicitDeny" | "implicitDeny";

/** IAM wildcards: "*" matches any run of characters, "?" one character. Actions compare case-insensitively. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`, caseInsensitive ? "i" : "").test(value);
}

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** Whether one statement applies to (action, resource). Conditions are ignored: the fake treats them as met. */
function statementApplies(s: Record<string, any>, action: string, resource: string): boolean {
  if (s.NotAction !== undefined || s.NotResource !== undefined) throw new Error("fake iam: NotAction/NotResource are not modelled in SimulatePrincipalPolicy");
  return asList(s.Action).some((a) => wildcardMatch(a, action, true)) && asList(s.Resource).some((r) => wildcardMatch(r, resource));
}

function decide(policies: [string, string][], action: string, resource: string): { decision: Decision; matched: string[] } {
  let allowedBy: string[] = [];
  for (const [name, text] of policies) {
    for (const s of statementsOf(text)) {
      if (!statementApplies(s, action, resource)) continue;
      if (s.Effect === "Deny") return { decision: "explicitDeny", matched: [name] };
      if (s.Effect === "Allow") allowedBy = [...allowedBy, name];
    }
  }
  return { decision: allowedBy.length ? "allowed" : "implicitDeny", matched: allowedBy };
}

const RESTRICTIVENESS: Decision[] = ["allowed", "implicitDeny", "explicitDeny"];
const mostRestrictive = (ds: Decision[]) => ds.reduce((a, b) => (RESTRICTIVENESS.indexOf(b) > RESTRICTIVENESS.indexOf(a) ? b : a), "allowed" as Decision);

const statementsFrom = (policyIds: string[]) =>
  policyIds.map((SourcePolicyId) => ({ SourcePolicyId, SourcePolicyType: SourcePolicyId.startsWith("PolicyInputList.") ? "none" : "role" }));

/**
 * One result per action (as IAM now returns), the aggregate decision being the most restrictive across the resources,
 * and one ResourceSpecificResult per resource. Only the role's inline policies and PolicyInputList are evaluated.
 */
function simulate(state: IamState, input: { PolicySourceArn?: string; ActionNames?: string[]; ResourceArns?: string[]; PolicyInputList?: string[] }) {
  const role = [...state.roles.values()].find((r) => r.Arn === input.PolicySourceArn);
  if (!role) throw noSuchEntity(`Could not find policy source ${input.PolicySourceArn}.`);
  if (!input.ActionNames?.length) throw fail(InvalidInputException, "ActionNames must not be empty.");
  const policies: [string, string][] = [...role.inline, ...(input.PolicyInputList ?? []).map((doc, i): [string, string] => [`PolicyInputList.${i + 1}`, doc])];
  const resources = input.ResourceArns?.length ? input.ResourceArns : ["*"];
  const EvaluationResults = input.ActionNames.map((action) => {
    const perResource = resources.map((resource) => ({ resource, ...decide(policies, action, resource) }));
    const matched = [...new Set(perResource.flatMap((r) => r.matched))];
    return {
      EvalActionName: action,
      ...(resources.length === 1 ? { EvalResourceName: resources[0] } : {}),
      EvalDecision: mostRestrictive(perResource.map((r) => r.decision)),
      MatchedStatements: statementsFrom(matched),
      MissingContextValues: [],
      ResourceSpecificResults: perResource.map((r) => ({
        EvalResourceName: r.resource,
        EvalResourceDecision: r.decision,
        MatchedStatements: statementsFrom(r.matched),
        MissingContextValues: [],
      })),
    };
  });
  return { EvaluationResults, IsTruncated: false };
}
