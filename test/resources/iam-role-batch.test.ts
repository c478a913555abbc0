import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  GetAccountAuthorizationDetailsCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  IAMServiceException,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  type RoleDetail,
} from "@aws-sdk/client-iam";
import { iamRole, ROLE_BATCH_MIN, type IamRoleAttrs, type PolicyDocument } from "../../src/resources/iam-role.js";
import { testContext, testTags } from "../helpers.js";
import { FakeCloud } from "../fakes/cloud.js";
import { iamModel } from "../fakes/iam.js";

const iam = mockClient(IAMClient);
const meta = { $metadata: {} };
const READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const CLOUDWATCH = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy";
const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }] };
const write = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["logs:PutLogEvents"], Resource: "*" }] };
const encoded = (doc: object) => encodeURIComponent(JSON.stringify(doc, null, 2));

const names = ["role-a", "role-b", "role-c", "role-d"];
const roleOf = (name: string) => ({
  RoleName: name,
  Arn: `arn:aws:iam::123456789012:role/${name}`,
  RoleId: `AROA${name.toUpperCase()}`,
  Path: "/",
  CreateDate: new Date(),
  AssumeRolePolicyDocument: encoded(trust),
  Tags: Object.entries(testTags(name)).map(([Key, Value]) => ({ Key, Value })),
});
const detailOf = (name: string): RoleDetail => ({
  ...roleOf(name),
  RolePolicyList: [{ PolicyName: "write", PolicyDocument: encoded(write) }],
  AttachedManagedPolicies: [READ_ONLY, CLOUDWATCH].map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split("/").pop() })),
  RoleLastUsed: {},
});
const expected = (name: string): IamRoleAttrs => ({
  name,
  arn: `arn:aws:iam::123456789012:role/${name}`,
  roleId: `AROA${name.toUpperCase()}`,
  path: "/",
  description: `role ${name}`,
  assumeRolePolicy: trust,
  inlinePolicies: { write },
  managedPolicyArns: [CLOUDWATCH, READ_ONLY],
  maxSessionDuration: 7200,
  tags: testTags(name),
});

/** Both paths stubbed: GetRole (with what RoleDetail lacks), the per-role listings, and the account's details in pages. */
function stubRoles(present: string[], pageSize = 100) {
  iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: "The role cannot be found.", ...meta }));
  for (const name of present) {
    iam.on(GetRoleCommand, { RoleName: name }).resolves({ Role: { ...roleOf(name), Description: `role ${name}`, MaxSessionDuration: 7200 } });
    iam.on(ListRolePoliciesCommand, { RoleName: name }).resolves({ PolicyNames: ["write"], IsTruncated: false });
    iam.on(GetRolePolicyCommand, { RoleName: name, PolicyName: "write" }).resolves({ RoleName: name, PolicyName: "write", PolicyDocument: encoded(write) });
    iam.on(ListAttachedRolePoliciesCommand, { RoleName: name }).resolves({
      AttachedPolicies: [READ_ONLY, CLOUDWATCH].map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split("/").pop() })),
      IsTruncated: false,
    });
  }
  const details = [...present, "someone-elses-role"].map(detailOf);
  const pages = Math.ceil(details.length / pageSize);
  for (let i = 0; i < pages; i++) {
    iam.on(GetAccountAuthorizationDetailsCommand, { Filter: ["Role"], Marker: i ? `page-${i}` : undefined }).resolves({
      RoleDetailList: details.slice(i * pageSize, (i + 1) * pageSize),
      IsTruncated: i < pages - 1,
      ...(i < pages - 1 ? { Marker: `page-${i + 1}` } : {}),
    });
  }
}

const findAll = (list: string[], ctx = testContext()) => Promise.all(list.map((name) => iamRole.find(ctx, { logicalId: name, recorded: expected(name) })));

beforeEach(() => iam.reset());

describe("iam:role find, several roles in one sweep", () => {
  it("reads them with one GetAccountAuthorizationDetails call and no per-role listings", async () => {
    stubRoles(names);
    const found = await findAll(names);
    expect(found).toEqual(names.map(expected));
    expect(iam).toHaveReceivedCommandTimes(GetAccountAuthorizationDetailsCommand, 1);
    expect(iam).toHaveReceivedCommandWith(GetAccountAuthorizationDetailsCommand, { Filter: ["Role"] });
    expect(iam).not.toHaveReceivedCommand(ListRolePoliciesCommand);
    expect(iam).not.toHaveReceivedCommand(GetRolePolicyCommand);
    expect(iam).not.toHaveReceivedCommand(ListAttachedRolePoliciesCommand);
    // RoleDetail has no Description or MaxSessionDuration: one GetRole per role supplies them.
    expect(iam).toHaveReceivedCommandTimes(GetRoleCommand, names.length);
  });

  it("gives the same attributes as the per-role path for the same role", async () => {
    stubRoles(names);
    const batched = await findAll(names);
    iam.resetHistory();
    const single = await iamRole.find(testContext(), { logicalId: "role-b", recorded: expected("role-b") });
    expect(iam).not.toHaveReceivedCommand(GetAccountAuthorizationDetailsCommand);
    expect(iam).toHaveReceivedCommand(ListRolePoliciesCommand);
    expect(batched[1]).toEqual(single);
  });

  it("follows the Marker through every page, one call per page", async () => {
    stubRoles(names, 2);
    expect(await findAll(names)).toEqual(names.map(expected));
    expect(iam).toHaveReceivedCommandTimes(GetAccountAuthorizationDetailsCommand, 3);
  });

  it("finds nothing for a role absent from the listing", async () => {
    stubRoles(["role-a", "role-b"]);
    const found = await findAll(["role-a", "role-b", "role-gone"]);
    expect(found).toEqual([expected("role-a"), expected("role-b"), undefined]);
    expect(iam).not.toHaveReceivedCommand(ListRolePoliciesCommand);
  });

  it("matches names case-insensitively, as GetRole does, and answers duplicate asks once", async () => {
    stubRoles(names);
    iam.on(GetRoleCommand, { RoleName: "ROLE-A" }).resolves({ Role: { ...roleOf("role-a"), Description: "role role-a", MaxSessionDuration: 7200 } });
    const found = await findAll(["ROLE-A", "role-b", "role-c", "role-c"]);
    expect(found).toEqual([expected("role-a"), expected("role-b"), expected("role-c"), expected("role-c")]);
    expect(iam).toHaveReceivedCommandTimes(GetRoleCommand, 3);
  });

  it("falls back to per-role reads when the sweep is refused", async () => {
    stubRoles(names);
    iam.on(GetAccountAuthorizationDetailsCommand).rejects(Object.assign(new IAMServiceException({ name: "AccessDenied", $fault: "client", message: "not authorized", ...meta })));
    expect(await findAll(names)).toEqual(names.map(expected));
    expect(iam).toHaveReceivedCommandTimes(ListRolePoliciesCommand, names.length);
  });

  it(`keeps per-role calls for fewer than ${ROLE_BATCH_MIN} roles`, async () => {
    stubRoles(names);
    const few = names.slice(0, ROLE_BATCH_MIN - 1);
    expect(await findAll(few)).toEqual(few.map(expected));
    expect(iam).not.toHaveReceivedCommand(GetAccountAuthorizationDetailsCommand);
    expect(iam).toHaveReceivedCommandTimes(ListRolePoliciesCommand, few.length);
  });
});

// Last: it hands IAMClient from the module's mock over to the fake.
describe("iam:role find, several roles against the fake", () => {
  let cloud: FakeCloud;
  beforeEach(() => {
    iam.restore();
    cloud = new FakeCloud();
    cloud.install([iamModel(cloud).model]);
  });
  afterEach(() => cloud.restore());

  it("reads created roles with one sweep per page, with the attributes create read back", async () => {
    const ctx = testContext();
    const created = [];
    for (const [i, name] of names.entries()) {
      const spec = { ...expected(name), maxSessionDuration: 3600 + i * 3600, description: i === 2 ? "" : `role ${name}`, inlinePolicies: (i === 3 ? {} : { write }) as Record<string, PolicyDocument> };
      created.push(await iamRole.create(ctx, spec, { logicalId: name }));
    }
    const before = cloud.calls.length;
    const found = await findAll([...names, "role-gone"], ctx);
    expect(found).toEqual([...created, undefined]);
    const commands = cloud.calls.slice(before).map((c) => c.command);
    expect(commands.filter((c) => c === "GetAccountAuthorizationDetails")).toHaveLength(1);
    expect(commands.filter((c) => c !== "GetAccountAuthorizationDetails" && c !== "GetRole")).toEqual([]);
  });
});
