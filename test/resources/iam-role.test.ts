import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteConflictException,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  IAMServiceException,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from "@aws-sdk/client-iam";
import { iamRole, type IamRoleAttrs, type IamRoleSpec } from "../../src/resources/iam-role.js";
import { isIamPropagationError, retryWhileIamPropagates } from "../../src/resources/iam-propagation.js";
import { testContext, testTags } from "../helpers.js";

const iam = mockClient(IAMClient);
const LOGICAL_ID = "network.flow-logs.role";
const NAME = "clinical-platform-dev-vpc-flow-logs";
const ARN = `arn:aws:iam::123456789012:role/${NAME}`;
const READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const CLOUDWATCH = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy";
const tags = testTags(LOGICAL_ID);
const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" }] };
const write = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: "*" }] };
const spec: IamRoleSpec = {
  name: NAME,
  description: "Lets VPC Flow Logs write to the flow-log group",
  assumeRolePolicy: trust,
  inlinePolicies: { "write-flow-logs": write },
  managedPolicyArns: [READ_ONLY],
  tags,
};
const actual: IamRoleAttrs = {
  name: NAME,
  arn: ARN,
  roleId: "AROAEXAMPLE123456789",
  path: "/",
  description: spec.description,
  assumeRolePolicy: trust,
  inlinePolicies: { "write-flow-logs": write },
  managedPolicyArns: [READ_ONLY],
  maxSessionDuration: 3600,
  tags,
};
const meta = { $metadata: {} };
const noSuchEntity = () => new NoSuchEntityException({ message: `The role with name ${NAME} cannot be found.`, ...meta });
/** IAM returns documents URL-encoded, in whatever layout they were submitted. */
const encoded = (doc: object) => encodeURIComponent(JSON.stringify(doc, null, 2));

function stubRole(role: { tags?: Record<string, string> | null; trust?: object; inline?: Record<string, object>; managed?: string[] } = {}) {
  const roleTags = role.tags === null ? undefined : Object.entries(role.tags ?? tags).map(([Key, Value]) => ({ Key, Value }));
  iam.on(GetRoleCommand, { RoleName: NAME }).resolves({
    Role: { RoleName: NAME, Arn: ARN, RoleId: actual.roleId, Path: "/", CreateDate: new Date(), Description: spec.description, MaxSessionDuration: 3600, AssumeRolePolicyDocument: encoded(role.trust ?? trust), Tags: roleTags },
  });
  const inline = role.inline ?? { "write-flow-logs": write };
  iam.on(ListRolePoliciesCommand, { RoleName: NAME }).resolves({ PolicyNames: Object.keys(inline), IsTruncated: false });
  for (const [PolicyName, doc] of Object.entries(inline)) {
    iam.on(GetRolePolicyCommand, { RoleName: NAME, PolicyName }).resolves({ RoleName: NAME, PolicyName, PolicyDocument: encoded(doc) });
  }
  iam.on(ListAttachedRolePoliciesCommand, { RoleName: NAME }).resolves({ AttachedPolicies: (role.managed ?? [READ_ONLY]).map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split("/").pop() })), IsTruncated: false });
}

const commandNames = () => iam.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ""));

beforeEach(() => iam.reset());

describe("iam:role find", () => {
  it("reads the role, decodes its documents, sorts managed policies and takes tags from GetRole", async () => {
    stubRole({ managed: [READ_ONLY, CLOUDWATCH] });
    const found = await iamRole.find(testContext(), { logicalId: LOGICAL_ID, recorded: actual });
    expect(found).toEqual({ ...actual, managedPolicyArns: [CLOUDWATCH, READ_ONLY] });
    expect(iam).not.toHaveReceivedCommand(ListRoleTagsCommand);
  });

  it("lists tags with ListRoleTags when GetRole returns none", async () => {
    stubRole({ tags: null });
    iam.on(ListRoleTagsCommand, { RoleName: NAME }).resolves({ Tags: [{ Key: "Project", Value: "clinical-platform" }], IsTruncated: false });
    const found = await iamRole.find(testContext(), { logicalId: LOGICAL_ID, recorded: actual });
    expect(found?.tags).toEqual({ Project: "clinical-platform" });
  });

  it("returns undefined when the role does not exist", async () => {
    iam.on(GetRoleCommand).rejects(noSuchEntity());
    expect(await iamRole.find(testContext(), { logicalId: LOGICAL_ID, recorded: actual })).toBeUndefined();
  });

  it("does not look anything up without a recorded name", async () => {
    expect(await iamRole.find(testContext(), { logicalId: LOGICAL_ID })).toBeUndefined();
    expect(iam).not.toHaveReceivedAnyCommand();
  });
});

describe("iam:role create", () => {
  it("creates with the trust policy and tags, then puts inline and attaches managed policies", async () => {
    iam.on(CreateRoleCommand).resolves({ Role: { RoleName: NAME, Arn: ARN, RoleId: actual.roleId, Path: "/", CreateDate: new Date() } });
    iam.on(PutRolePolicyCommand).resolves({});
    iam.on(AttachRolePolicyCommand).resolves({});
    stubRole();

    const created = await iamRole.create(testContext(), spec, { logicalId: LOGICAL_ID });

    expect(iam.commandCalls(CreateRoleCommand)[0]!.args[0].input).toEqual({
      RoleName: NAME,
      Path: "/",
      AssumeRolePolicyDocument: JSON.stringify(trust),
      Description: spec.description,
      MaxSessionDuration: undefined,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    });
    expect(iam).toHaveReceivedCommandWith(PutRolePolicyCommand, { RoleName: NAME, PolicyName: "write-flow-logs", PolicyDocument: JSON.stringify(write) });
    expect(iam).toHaveReceivedCommandWith(AttachRolePolicyCommand, { RoleName: NAME, PolicyArn: READ_ONLY });
    expect(created).toEqual(actual);
  });

  it("retries a put that does not see the new role yet", async () => {
    iam.on(CreateRoleCommand).resolves({ Role: { RoleName: NAME, Arn: ARN, RoleId: actual.roleId, Path: "/", CreateDate: new Date() } });
    iam.on(PutRolePolicyCommand).rejectsOnce(noSuchEntity()).resolves({});
    iam.on(AttachRolePolicyCommand).resolves({});
    stubRole();
    await iamRole.create(testContext(), spec, { logicalId: LOGICAL_ID });
    expect(iam).toHaveReceivedCommandTimes(PutRolePolicyCommand, 2);
  });

});

describe("iam:role diff and update", () => {
  it("compares documents structurally: layout and key order are not changes", () => {
    const reordered = { Statement: [{ Action: "sts:AssumeRole", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Effect: "Allow" }], Version: "2012-10-17" };
    expect(iamRole.diff({ ...spec, assumeRolePolicy: reordered, managedPolicyArns: [READ_ONLY] }, actual)).toEqual([]);
  });

  it("treats managed policy order as irrelevant, and name or path changes as replacements", () => {
    const have = { ...actual, managedPolicyArns: [CLOUDWATCH, READ_ONLY] };
    expect(iamRole.diff({ ...spec, managedPolicyArns: [READ_ONLY, CLOUDWATCH] }, have)).toEqual([]);
    expect(iamRole.diff({ ...spec, name: "other", path: "/svc/" }, actual).map((c) => [c.field, c.action])).toEqual([
      ["name", "replace"],
      ["path", "replace"],
    ]);
  });

  it("updates the trust policy with UpdateAssumeRolePolicy", async () => {
    stubRole();
    iam.on(UpdateAssumeRolePolicyCommand).resolves({});
    const have = { ...actual, assumeRolePolicy: { Version: "2012-10-17", Statement: [] } };
    await iamRole.update!(testContext(), spec, have, iamRole.diff(spec, have));
    expect(iam).toHaveReceivedCommandWith(UpdateAssumeRolePolicyCommand, { RoleName: NAME, PolicyDocument: JSON.stringify(trust) });
    expect(iam).not.toHaveReceivedCommand(UpdateRoleCommand);
  });

  it("updates description and maximum session with UpdateRole", async () => {
    stubRole();
    iam.on(UpdateRoleCommand).resolves({});
    const want = { ...spec, description: "new", maxSessionDuration: 7200 };
    await iamRole.update!(testContext(), want, actual, iamRole.diff(want, actual));
    expect(iam.commandCalls(UpdateRoleCommand)[0]!.args[0].input).toEqual({ RoleName: NAME, Description: "new", MaxSessionDuration: 7200 });
  });

  it("puts changed inline policies and deletes the ones no longer wanted", async () => {
    stubRole();
    iam.on(PutRolePolicyCommand).resolves({});
    iam.on(DeleteRolePolicyCommand).resolves({});
    const read = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "logs:DescribeLogStreams", Resource: "*" }] };
    const have = { ...actual, inlinePolicies: { "write-flow-logs": read, stale: read } };
    await iamRole.update!(testContext(), spec, have, iamRole.diff(spec, have));
    expect(iam).toHaveReceivedCommandWith(PutRolePolicyCommand, { RoleName: NAME, PolicyName: "write-flow-logs", PolicyDocument: JSON.stringify(write) });
    expect(iam).toHaveReceivedCommandWith(DeleteRolePolicyCommand, { RoleName: NAME, PolicyName: "stale" });
    expect(commandNames().indexOf("PutRolePolicy")).toBeLessThan(commandNames().indexOf("DeleteRolePolicy"));
  });

  it("attaches missing managed policies and detaches extra ones", async () => {
    stubRole();
    iam.on(AttachRolePolicyCommand).resolves({});
    iam.on(DetachRolePolicyCommand).resolves({});
    const have = { ...actual, managedPolicyArns: [CLOUDWATCH] };
    await iamRole.update!(testContext(), spec, have, iamRole.diff(spec, have));
    expect(iam.commandCalls(AttachRolePolicyCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: NAME, PolicyArn: READ_ONLY }]);
    expect(iam.commandCalls(DetachRolePolicyCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: NAME, PolicyArn: CLOUDWATCH }]);
  });

  it("tags and untags, leaving aws: tags alone", async () => {
    stubRole();
    iam.on(TagRoleCommand).resolves({});
    iam.on(UntagRoleCommand).resolves({});
    const have = { ...actual, tags: { ...tags, Owner: "old", Stale: "x", "aws:cloudformation:stack-id": "s" } };
    const want = { ...spec, tags: { ...tags, Owner: "new" } };
    await iamRole.update!(testContext(), want, have, iamRole.diff(want, have));
    expect(iam).toHaveReceivedCommandWith(TagRoleCommand, { RoleName: NAME, Tags: [{ Key: "Owner", Value: "new" }] });
    expect(iam).toHaveReceivedCommandWith(UntagRoleCommand, { RoleName: NAME, TagKeys: ["Stale"] });
  });
});

describe("iam:role destroy", () => {
  function stubAttachments() {
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ["write-flow-logs"], IsTruncated: false });
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [{ PolicyArn: READ_ONLY, PolicyName: "ReadOnlyAccess" }], IsTruncated: false });
    iam.on(ListInstanceProfilesForRoleCommand).resolves({ InstanceProfiles: [{ InstanceProfileName: "ip-1", InstanceProfileId: "AIPA1", Arn: "arn:aws:iam::123456789012:instance-profile/ip-1", Path: "/", CreateDate: new Date(), Roles: [] }], IsTruncated: false });
    iam.on(DeleteRolePolicyCommand).resolves({});
    iam.on(DetachRolePolicyCommand).resolves({});
    iam.on(RemoveRoleFromInstanceProfileCommand).resolves({});
  }

  it("removes inline policies, managed policies and instance profiles, as AWS lists them, before deleting the role", async () => {
    stubAttachments();
    iam.on(DeleteRoleCommand).resolves({});
    await iamRole.destroy(testContext(), { ...actual, inlinePolicies: {}, managedPolicyArns: [] });
    const mutations = commandNames().filter((n) => !n.startsWith("List"));
    expect(mutations).toEqual(["DeleteRolePolicy", "DetachRolePolicy", "RemoveRoleFromInstanceProfile", "DeleteRole"]);
    expect(iam).toHaveReceivedCommandWith(DeleteRolePolicyCommand, { RoleName: NAME, PolicyName: "write-flow-logs" });
    expect(iam).toHaveReceivedCommandWith(DetachRolePolicyCommand, { RoleName: NAME, PolicyArn: READ_ONLY });
    expect(iam).toHaveReceivedCommandWith(RemoveRoleFromInstanceProfileCommand, { RoleName: NAME, InstanceProfileName: "ip-1" });
    expect(iam).toHaveReceivedCommandWith(DeleteRoleCommand, { RoleName: NAME });
  });

  it("is idempotent: a role already gone is deleted", async () => {
    iam.on(ListRolePoliciesCommand).rejects(noSuchEntity());
    iam.on(DeleteRoleCommand).rejects(noSuchEntity());
    await expect(iamRole.destroy(testContext(), actual)).resolves.toBeUndefined();
  });

  it("retries DeleteConflict briefly while detachments settle", async () => {
    stubAttachments();
    iam.on(DeleteRoleCommand).rejectsOnce(new DeleteConflictException({ message: "Cannot delete entity, must detach all policies first.", ...meta })).resolves({});
    await iamRole.destroy(testContext(), actual);
    expect(iam).toHaveReceivedCommandTimes(DeleteRoleCommand, 2);
  });
});

describe("retryWhileIamPropagates", () => {
  const serviceError = (name: string, message: string) => new IAMServiceException({ name, message, $fault: "client", $metadata: {} });
  const notYet = () => serviceError("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.");

  it("retries while another service cannot assume the new role, then returns its result", async () => {
    let calls = 0;
    const result = await retryWhileIamPropagates(testContext(), async () => {
      calls += 1;
      if (calls < 3) throw notYet();
      return "created";
    });
    expect(result).toBe("created");
    expect(calls).toBe(3);
  });

  it("does not retry an AccessDenied that is a missing permission", async () => {
    let calls = 0;
    const denied = serviceError("AccessDeniedException", "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: logs:CreateLogGroup");
    await expect(
      retryWhileIamPropagates(testContext(), async () => {
        calls += 1;
        throw denied;
      }),
    ).rejects.toBe(denied);
    expect(calls).toBe(1);
  });

  it("throws the service's own error once the budget is spent", async () => {
    const err = notYet();
    await expect(retryWhileIamPropagates(testContext(), async () => Promise.reject(err))).rejects.toBe(err);
  });

  it.each([
    ["InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.", true],
    ["InvalidParameterException", "ECS was unable to assume the role 'arn:aws:iam::1:role/x' that was provided for this task.", true],
    ["AccessDenied", "Service is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::1:role/x", true],
    ["ValidationError", "Unable to assume role arn:aws:iam::1:role/x", true],
    ["InvalidInputException", "Role arn:aws:iam::1:role/x cannot be assumed", true],
    ["AccessDeniedException", "User is not authorized to perform: ecs:RunTask", false],
    ["InvalidParameterException", "Log group name is invalid", false],
    ["ThrottlingException", "The role cannot be assumed", false],
  ])("classifies %s '%s' as propagation: %s", (name, message, expected) => {
    expect(isIamPropagationError(serviceError(name, message))).toBe(expected);
  });
});
