import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { DeleteRoleCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, NoSuchEntityException, SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { iamRole, type IamRoleSpec } from "../../src/resources/iam-role.js";
import { logGroup, type LogGroupSpec } from "../../src/resources/log-group.js";
import { testContext, testTags } from "../helpers.js";
import { FakeCloud } from "./cloud.js";
import { addInstanceProfile, iamModel, type IamState, newIamState } from "./iam.js";
import { logsModel, type LogsState, newLogsState, putLogEvents } from "./logs.js";

const KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const groupSpec: LogGroupSpec = { name: "/vpc/clinical-platform-dev/flow-logs", retentionDays: 30, tags: testTags("network.flow-logs.log-group") };
const GROUP_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/vpc/clinical-platform-dev/flow-logs";
const roleSpec: IamRoleSpec = {
  name: "clinical-platform-dev-vpc-flow-logs",
  description: "Lets VPC Flow Logs write to the flow-log group",
  assumeRolePolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" }] },
  inlinePolicies: {
    "write-flow-logs": { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${GROUP_ARN}:*` }] },
  },
  managedPolicyArns: ["arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"],
  tags: testTags("network.flow-logs.role"),
};

let cloud: FakeCloud;
let logsState: LogsState;
let iamState: IamState;
let fakes: { logs: ReturnType<typeof logsModel>; iam: ReturnType<typeof iamModel> };

beforeEach(() => {
  cloud = new FakeCloud();
  logsState = newLogsState();
  iamState = newIamState();
  fakes = { logs: logsModel(cloud, logsState), iam: iamModel(cloud, iamState) };
  cloud.install([fakes.logs.model, fakes.iam.model]);
});

afterEach(() => cloud.restore());

const logs = () => testContext().aws.get(CloudWatchLogsClient);
const iam = () => testContext().aws.get(IAMClient);

describe("logs:log-group against the fake", () => {
  it("creates, finds, updates and destroys; a second reconcile changes nothing", async () => {
    const ctx = testContext();
    const created = await logGroup.create(ctx, groupSpec, { logicalId: "network.flow-logs.log-group" });
    expect(created).toEqual({ ...groupSpec, kmsKeyArn: undefined, arn: GROUP_ARN });

    const found = await logGroup.find(ctx, { logicalId: "network.flow-logs.log-group", recorded: created });
    expect(logGroup.diff(groupSpec, found!)).toEqual([]);

    const want = { ...groupSpec, retentionDays: 90, kmsKeyArn: KMS, tags: { ...groupSpec.tags, Owner: "data" } };
    const updated = await logGroup.update!(ctx, want, found!, logGroup.diff(want, found!));
    expect(updated).toEqual({ ...want, arn: GROUP_ARN });
    const before = cloud.mutatingCalls().length;
    expect(logGroup.diff(want, (await logGroup.find(ctx, { logicalId: "x", recorded: updated }))!)).toEqual([]);
    expect(cloud.mutatingCalls()).toHaveLength(before);

    const unencrypted = await logGroup.update!(ctx, groupSpec, updated, logGroup.diff(groupSpec, updated));
    expect(unencrypted.kmsKeyArn).toBeUndefined();
    expect(unencrypted.tags).toEqual(groupSpec.tags);

    await logGroup.destroy(ctx, unencrypted);
    expect(await logGroup.find(ctx, { logicalId: "x", recorded: unencrypted })).toBeUndefined();
    await expect(logGroup.destroy(ctx, unencrypted)).resolves.toBeUndefined();
  });

  it("a group left by a crashed run: create meets ResourceAlreadyExistsException, find by the wanted name returns it with its tags (the engine decides)", async () => {
    const ctx = testContext();
    await logs().send(new CreateLogGroupCommand({ logGroupName: groupSpec.name, tags: groupSpec.tags }));
    await expect(logGroup.create(ctx, groupSpec, { logicalId: "network.flow-logs.log-group" })).rejects.toMatchObject({ name: "ResourceAlreadyExistsException" });
    expect(await logGroup.find(ctx, { logicalId: "network.flow-logs.log-group", wanted: groupSpec })).toMatchObject({ name: groupSpec.name, tags: groupSpec.tags });

    await logs().send(new CreateLogGroupCommand({ logGroupName: "/someone/else", tags: { Project: "other" } }));
    expect(await logGroup.find(ctx, { logicalId: "network.flow-logs.log-group", wanted: { ...groupSpec, name: "/someone/else" } })).toMatchObject({ tags: { Project: "other" } });
  });

  it("pages DescribeLogGroups by prefix and finds the exact name among many", async () => {
    for (let i = 0; i < 60; i++) await logs().send(new CreateLogGroupCommand({ logGroupName: `/vpc/a-${String(i).padStart(2, "0")}` }));
    await logs().send(new CreateLogGroupCommand({ logGroupName: "/vpc/b", tags: groupSpec.tags }));
    const first = await logs().send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/vpc/a-" }));
    expect(first.logGroups).toHaveLength(50);
    expect(first.nextToken).toBeDefined();
    expect((await logs().send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/vpc/a-", nextToken: first.nextToken }))).logGroups).toHaveLength(10);
    expect((await logGroup.find(testContext(), { logicalId: "x", recorded: { ...groupSpec, name: "/vpc/a-59", arn: "", retentionDays: undefined } }))?.name).toBe("/vpc/a-59");
  });

  it("rejects what CloudWatch Logs rejects", async () => {
    await logs().send(new CreateLogGroupCommand({ logGroupName: "/g" }));
    await expect(logs().send(new CreateLogGroupCommand({ logGroupName: "/g" }))).rejects.toMatchObject({ name: "ResourceAlreadyExistsException" });
    await expect(logs().send(new PutRetentionPolicyCommand({ logGroupName: "/g", retentionInDays: 10 }))).rejects.toMatchObject({ name: "InvalidParameterException" });
    await expect(logs().send(new ListTagsForResourceCommand({ resourceArn: "arn:aws:logs:us-east-1:123456789012:log-group:/g:*" }))).rejects.toMatchObject({ name: "ValidationException" });
    await expect(logGroup.create(testContext(), { ...groupSpec, name: "/h", retentionDays: 10 }, { logicalId: "x" })).rejects.toMatchObject({ name: "InvalidParameterException" });
    await expect(logs().send(new CreateLogGroupCommand({ logGroupName: "aws/reserved" }))).rejects.toMatchObject({ name: "InvalidParameterException" });
    await expect(logs().send(new CreateLogGroupCommand({ logGroupName: "/t", tags: { Owner: "a!b" } }))).rejects.toMatchObject({ name: "InvalidParameterException" });
  });

  it("reads seeded events with GetLogEvents and FilterLogEvents", async () => {
    await logs().send(new CreateLogGroupCommand({ logGroupName: "/task" }));
    putLogEvents(logsState, "/task", "probe/1", [
      { timestamp: 1, message: "connecting to db:5432" },
      { timestamp: 3, message: "probe OK" },
    ]);
    putLogEvents(logsState, "/task", "probe/2", [{ timestamp: 2, message: "probe FAILED: timeout" }]);

    const got = await logs().send(new GetLogEventsCommand({ logGroupName: "/task", logStreamName: "probe/1", startFromHead: true }));
    expect(got.events?.map((e) => e.message)).toEqual(["connecting to db:5432", "probe OK"]);

    const filtered = await logs().send(new FilterLogEventsCommand({ logGroupIdentifier: `arn:aws:logs:us-east-1:123456789012:log-group:/task`, filterPattern: "probe" }));
    expect(filtered.events?.map((e) => [e.logStreamName, e.message])).toEqual([
      ["probe/2", "probe FAILED: timeout"],
      ["probe/1", "probe OK"],
    ]);
    await expect(logs().send(new GetLogEventsCommand({ logGroupName: "/task", logStreamName: "nope" }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });
});

describe("tagging sources", () => {
  it("list log groups by the ARN without ':*' and roles by their ARN, with current tags", async () => {
    const group = await logGroup.create(testContext(), groupSpec, { logicalId: "network.flow-logs.log-group" });
    const role = await iamRole.create(testContext(), roleSpec, { logicalId: "network.flow-logs.role" });
    expect(fakes.logs.taggingSources.flatMap((s) => s())).toEqual([{ arn: group.arn, tags: groupSpec.tags }]);
    expect(fakes.iam.taggingSources.flatMap((s) => s())).toEqual([{ arn: role.arn, tags: roleSpec.tags }]);
  });
});

describe("iam:role against the fake", () => {
  it("creates, finds, updates and destroys; a second reconcile changes nothing", async () => {
    const ctx = testContext();
    const created = await iamRole.create(ctx, roleSpec, { logicalId: "network.flow-logs.role" });
    expect(created).toMatchObject({ name: roleSpec.name, path: "/", arn: `arn:aws:iam::123456789012:role/${roleSpec.name}`, maxSessionDuration: 3600 });
    expect(created.roleId).toMatch(/^AROA[0-9A-Z]{17}$/);

    const found = await iamRole.find(ctx, { logicalId: "network.flow-logs.role", recorded: created });
    expect(iamRole.diff(roleSpec, found!)).toEqual([]);

    const want: IamRoleSpec = {
      ...roleSpec,
      description: "changed",
      maxSessionDuration: 7200,
      assumeRolePolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }] },
      inlinePolicies: { "read-logs": { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "logs:GetLogEvents", Resource: "*" }] } },
      managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
      tags: { ...roleSpec.tags, Owner: "data" },
    };
    const changes = iamRole.diff(want, found!);
    expect(changes.map((c) => c.field).sort()).toEqual(["assumeRolePolicy", "description", "inlinePolicies", "managedPolicyArns", "maxSessionDuration", "tags"]);
    const updated = await iamRole.update!(ctx, want, found!, changes);
    expect(iamRole.diff(want, updated)).toEqual([]);
    expect(updated.inlinePolicies).toEqual(want.inlinePolicies);

    const before = cloud.mutatingCalls().length;
    expect(iamRole.diff(want, (await iamRole.find(ctx, { logicalId: "x", recorded: updated }))!)).toEqual([]);
    expect(cloud.mutatingCalls()).toHaveLength(before);

    addInstanceProfile(cloud, iamState, "ip-1", roleSpec.name);
    await iamRole.destroy(ctx, updated);
    expect(await iamRole.find(ctx, { logicalId: "x", recorded: updated })).toBeUndefined();
    expect(iamState.instanceProfiles.get("ip-1")!.roleNames).toEqual([]);
    await expect(iamRole.destroy(ctx, updated)).resolves.toBeUndefined();
  });

  it("returns documents URL-encoded, as IAM does", async () => {
    await iamRole.create(testContext(), roleSpec, { logicalId: "network.flow-logs.role" });
    const role = await iam().send(new GetRoleCommand({ RoleName: roleSpec.name }));
    expect(role.Role!.AssumeRolePolicyDocument).toMatch(/^%7B/);
    const policy = await iam().send(new GetRolePolicyCommand({ RoleName: roleSpec.name, PolicyName: "write-flow-logs" }));
    expect(JSON.parse(decodeURIComponent(policy.PolicyDocument!))).toEqual(roleSpec.inlinePolicies["write-flow-logs"]);
  });

  it("rejects what IAM rejects", async () => {
    const ctx = testContext();
    await expect(iamRole.create(ctx, { ...roleSpec, name: "x".repeat(65) }, { logicalId: "r" })).rejects.toMatchObject({ name: "ValidationError" });
    await expect(iamRole.create(ctx, { ...roleSpec, description: "Flow logs \u2014 writer" }, { logicalId: "r" })).rejects.toMatchObject({ name: "ValidationError" });
    await expect(iamRole.create(ctx, { ...roleSpec, maxSessionDuration: 60 }, { logicalId: "r" })).rejects.toMatchObject({ name: "ValidationError" });
    const principalInPermissions = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" }] };
    await expect(iamRole.create(ctx, { ...roleSpec, name: "r2", inlinePolicies: { p: principalInPermissions } }, { logicalId: "r" })).rejects.toMatchObject({ name: "MalformedPolicyDocumentException" });
    await expect(iamRole.create(ctx, { ...roleSpec, name: "r3", managedPolicyArns: ["arn:aws:iam::123456789012:policy/missing"] }, { logicalId: "r" })).rejects.toMatchObject({ name: "NoSuchEntityException" });
    // Role names are unique regardless of case: another-cased name is the same role.
    await iamRole.create(ctx, roleSpec, { logicalId: "network.flow-logs.role" });
    await expect(iamRole.create(ctx, { ...roleSpec, name: roleSpec.name.toUpperCase() }, { logicalId: "another.role" })).rejects.toMatchObject({ name: "EntityAlreadyExistsException" });
  });

  it("refuses DeleteRole while policies remain, with DeleteConflict", async () => {
    await iamRole.create(testContext(), roleSpec, { logicalId: "network.flow-logs.role" });
    await expect(iam().send(new DeleteRoleCommand({ RoleName: roleSpec.name }))).rejects.toMatchObject({ name: "DeleteConflictException" });
    await expect(iam().send(new GetRoleCommand({ RoleName: "missing" }))).rejects.toBeInstanceOf(NoSuchEntityException);
  });

  it("a role left by a crashed run is found by the wanted name, and what it lacks is a diff for update", async () => {
    const ctx = testContext();
    await iamRole.create(ctx, { ...roleSpec, inlinePolicies: {}, managedPolicyArns: [] }, { logicalId: "network.flow-logs.role" });
    const found = (await iamRole.find(ctx, { logicalId: "network.flow-logs.role", wanted: roleSpec }))!;
    expect(found.tags).toEqual(roleSpec.tags);
    const updated = await iamRole.update!(ctx, roleSpec, found, iamRole.diff(roleSpec, found));
    expect(iamRole.diff(roleSpec, updated)).toEqual([]);
  });

  it("simulates the role's inline policies with wildcards", async () => {
    const created = await iamRole.create(testContext(), roleSpec, { logicalId: "network.flow-logs.role" });
    const out = await iam().send(
      new SimulatePrincipalPolicyCommand({ PolicySourceArn: created.arn, ActionNames: ["logs:PutLogEvents", "logs:DeleteLogGroup"], ResourceArns: [`${GROUP_ARN}:log-stream:eni-1`] }),
    );
    expect(out.EvaluationResults?.map((r) => [r.EvalActionName, r.EvalDecision])).toEqual([
      ["logs:PutLogEvents", "allowed"],
      ["logs:DeleteLogGroup", "implicitDeny"],
    ]);
    const other = await iam().send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: created.arn, ActionNames: ["logs:PutLogEvents"], ResourceArns: ["arn:aws:logs:us-east-1:123456789012:log-group:/other:*"] }));
    expect(other.EvaluationResults?.[0]?.EvalDecision).toBe("implicitDeny");
  });
});
