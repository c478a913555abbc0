import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ECSServiceException,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  type TaskDefinition,
  UntagResourceCommand,
} from "@aws-sdk/client-ecs";
import { containerInput, ecsTaskDefinition, type EcsTaskDefinitionSpec, isTaskDefinitionMissing } from "../../src/resources/ecs-task-definition.js";
import { testContext, testTags } from "../helpers.js";

const ecs = mockClient(ECSClient);
const ecsError = (name: string, message = name) => new ECSServiceException({ name, message, $fault: "client", $metadata: {} });
const ID = "compute.task-definition.api";
const tags = testTags(ID);
const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:clinical-platform-dev/database/credentials-AbCdEf";
const ARN = (rev: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/clinical-platform-dev-api:${rev}`;

const spec: EcsTaskDefinitionSpec = {
  family: "clinical-platform-dev-api",
  cpu: 256,
  memory: 512,
  executionRoleArn: "arn:aws:iam::123456789012:role/clinical-platform-dev-ecs-task-execution",
  taskRoleArn: "arn:aws:iam::123456789012:role/clinical-platform-dev-api-task",
  containerDefinitions: [
    {
      name: "api",
      image: { repositoryUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev/api", tag: "v1" },
      portMappings: [{ containerPort: 8000 }],
      environment: { PORT: "8000", ENVIRONMENT: "dev" },
      secrets: [
        { name: "DB_PASSWORD", secretArn: SECRET, jsonKey: "password" },
        { name: "DB_USER", secretArn: SECRET, jsonKey: "username" },
      ],
      log: { group: "/ecs/clinical-platform-dev", region: "us-east-1", streamPrefix: "api" },
    },
  ],
  tags,
};

/** The revision as DescribeTaskDefinition returns it: AWS's defaults filled in, lists in its own order. */
function described(s: EcsTaskDefinitionSpec, revision: number): TaskDefinition {
  return {
    taskDefinitionArn: ARN(revision),
    family: s.family,
    revision,
    status: "ACTIVE",
    cpu: String(s.cpu),
    memory: String(s.memory),
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    compatibilities: ["EC2", "FARGATE"],
    executionRoleArn: s.executionRoleArn,
    taskRoleArn: s.taskRoleArn,
    volumes: [],
    containerDefinitions: s.containerDefinitions.map((c) => {
      const input = containerInput(c);
      return {
        ...input,
        cpu: 0,
        mountPoints: [],
        volumesFrom: [],
        systemControls: [],
        environment: [...(input.environment ?? [])].reverse(),
        secrets: [...(input.secrets ?? [])].reverse(),
      };
    }),
  };
}

const tagList = Object.entries(tags).map(([key, value]) => ({ key, value }));

beforeEach(() => ecs.reset());

describe("ecs:task-definition", () => {
  it("finds the family's latest ACTIVE revision, and nothing when ECS cannot describe it", async () => {
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: spec.family, include: ["TAGS"] }).resolves({ taskDefinition: described(spec, 3), tags: tagList });
    const found = await ecsTaskDefinition.find(testContext(), { logicalId: ID, recorded: { family: spec.family } as never });
    expect(found).toMatchObject({ arn: ARN(3), revision: 3, cpu: 256, memory: 512, networkMode: "awsvpc" });

    ecs.reset();
    ecs.on(DescribeTaskDefinitionCommand).rejects(ecsError("ClientException", "Unable to describe task definition."));
    await expect(ecsTaskDefinition.find(testContext(), { logicalId: ID, recorded: { family: spec.family } as never })).resolves.toBeUndefined();
  });

  it("classifies only that ClientException as not found; other ClientExceptions propagate", () => {
    expect(isTaskDefinitionMissing(ecsError("ClientException", "Unable to describe task definition."))).toBe(true);
    expect(isTaskDefinitionMissing(ecsError("ClientException", "Family contains invalid characters."))).toBe(false);
    expect(isTaskDefinitionMissing(ecsError("AccessDeniedException", "Unable to describe task definition."))).toBe(false);
  });

  it("a revision read back from AWS (defaults added, lists reordered) diffs as no change: a no-op up registers nothing", async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: described(spec, 3), tags: tagList });
    const actual = (await ecsTaskDefinition.find(testContext(), { logicalId: ID, recorded: { family: spec.family } as never }))!;
    expect(ecsTaskDefinition.diff(spec, actual)).toEqual([]);
    // State lost: find looks up the family create would register into, and its latest revision is the same content.
    const adopted = (await ecsTaskDefinition.find(testContext(), { logicalId: ID, wanted: spec }))!;
    expect(adopted.arn).toBe(ARN(3));
    expect(ecsTaskDefinition.diff(spec, adopted)).toEqual([]);
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("a changed image is one field change, and the update registers exactly one new revision with it", async () => {
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: spec.family, include: ["TAGS"] }).resolves({ taskDefinition: described(spec, 3), tags: tagList });
    const actual = (await ecsTaskDefinition.find(testContext(), { logicalId: ID, recorded: { family: spec.family } as never }))!;
    const next = { ...spec, containerDefinitions: [{ ...spec.containerDefinitions[0]!, image: { repositoryUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev/api", tag: "v2" } }] };
    const changes = ecsTaskDefinition.diff(next, actual);
    expect(changes).toEqual([
      expect.objectContaining({
        field: "container.api.image",
        from: "123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev/api:v1",
        to: "123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev/api:v2",
        action: "update",
      }),
    ]);
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: described(next, 4) });
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: ARN(4), include: ["TAGS"] }).resolves({ taskDefinition: described(next, 4), tags: tagList });

    const updated = await ecsTaskDefinition.update!(testContext(), next, actual, changes);

    expect(updated).toMatchObject({ arn: ARN(4), revision: 4 });
    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 1);
    expect(ecs).toHaveReceivedCommandWith(RegisterTaskDefinitionCommand, {
      family: spec.family,
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: "256",
      memory: "512",
      executionRoleArn: spec.executionRoleArn,
      taskRoleArn: spec.taskRoleArn,
      tags: expect.arrayContaining([{ key: "platform:logical-id", value: ID }]),
    });
    const sent = ecs.commandCalls(RegisterTaskDefinitionCommand)[0]!.args[0].input.containerDefinitions![0]!;
    expect(sent.image).toBe("123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev/api:v2");
    // Secrets by ARN (JSON fields as <arn>:<key>::), plain settings as environment, the stream prefix per service.
    expect(sent.secrets).toEqual([
      { name: "DB_PASSWORD", valueFrom: `${SECRET}:password::` },
      { name: "DB_USER", valueFrom: `${SECRET}:username::` },
    ]);
    expect(sent.environment).toEqual([{ name: "ENVIRONMENT", value: "dev" }, { name: "PORT", value: "8000" }]);
    expect(sent.portMappings).toEqual([{ containerPort: 8000, hostPort: 8000, protocol: "tcp" }]);
    expect(sent.logConfiguration!.options).toEqual({ "awslogs-group": "/ecs/clinical-platform-dev", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "api" });
  });

  it("finds the recorded revision while it is ACTIVE, even when the family has a newer one (a killed deploy's)", async () => {
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: ARN(3), include: ["TAGS"] }).resolves({ taskDefinition: described(spec, 3), tags: tagList });
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: spec.family, include: ["TAGS"] }).resolves({ taskDefinition: described(spec, 5), tags: tagList });
    const found = await ecsTaskDefinition.find(testContext(), { logicalId: ID, recorded: { family: spec.family, arn: ARN(3) } as never });
    expect(found).toMatchObject({ arn: ARN(3), revision: 3 });
    expect(ecs).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 1);
  });

  it("an update whose content the family's latest revision already has (registered by a run that died before recording it) uses that revision", async () => {
    const next = { ...spec, containerDefinitions: [{ ...spec.containerDefinitions[0]!, image: { repositoryUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev/api", tag: "v2" } }] };
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: ARN(3), include: ["TAGS"] }).resolves({ taskDefinition: described(spec, 3), tags: tagList });
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: spec.family, include: ["TAGS"] }).resolves({ taskDefinition: described(next, 4), tags: tagList });
    const actual = (await ecsTaskDefinition.find(testContext(), { logicalId: ID, recorded: { family: spec.family, arn: ARN(3) } as never }))!;
    const updated = await ecsTaskDefinition.update!(testContext(), next, actual, ecsTaskDefinition.diff(next, actual));
    expect(updated).toMatchObject({ arn: ARN(4), revision: 4 });
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("a tag change alone tags the current revision instead of registering a new one", async () => {
    const actual = { ...(await findFrom(described(spec, 3))), tags: { ...tags, Owner: "old" } };
    ecs.on(UntagResourceCommand).resolves({});
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: described(spec, 3), tags: tagList });
    const changes = ecsTaskDefinition.diff(spec, actual);
    expect(changes.map((c) => c.field)).toEqual(["tags"]);
    await ecsTaskDefinition.update!(testContext(), spec, actual, changes);
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(ecs).not.toHaveReceivedCommand(TagResourceCommand);
    expect(ecs).toHaveReceivedCommandWith(UntagResourceCommand, { resourceArn: ARN(3), tagKeys: ["Owner"] });
  });

  it("retries RegisterTaskDefinition while a just-created role is not assumable yet, then registers", async () => {
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: spec.family, include: ["TAGS"] }).rejects(ecsError("ClientException", "Unable to describe task definition."));
    ecs.on(RegisterTaskDefinitionCommand)
      .rejectsOnce(ecsError("InvalidParameterException", `ECS was unable to assume the role '${spec.taskRoleArn}' that was provided for this task.`))
      .rejectsOnce(ecsError("InvalidParameterException", `ECS was unable to assume the role '${spec.taskRoleArn}' that was provided for this task.`))
      .resolves({ taskDefinition: described(spec, 1) });
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: ARN(1), include: ["TAGS"] }).resolves({ taskDefinition: described(spec, 1), tags: tagList });

    const created = await ecsTaskDefinition.create(testContext(), spec, { logicalId: ID });

    expect(created.revision).toBe(1);
    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 3);
  });

  it("does not retry other InvalidParameterExceptions", async () => {
    ecs.on(DescribeTaskDefinitionCommand).rejects(ecsError("ClientException", "Unable to describe task definition."));
    ecs.on(RegisterTaskDefinitionCommand).rejects(ecsError("ClientException", "No Fargate configuration exists for given values"));
    await expect(ecsTaskDefinition.create(testContext(), spec, { logicalId: ID })).rejects.toMatchObject({ name: "ClientException" });
    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 1);
  });

  it("destroy deregisters every ACTIVE revision of the family, then deletes every INACTIVE one", async () => {
    const actual = await findFrom(described(spec, 2));
    const otherFamily = "arn:aws:ecs:us-east-1:123456789012:task-definition/clinical-platform-dev-api-v2:1";
    ecs.on(ListTaskDefinitionsCommand, { status: "ACTIVE" }).resolves({ taskDefinitionArns: [ARN(1), ARN(2), otherFamily] });
    // Revision 0 was deregistered by a run that died before DeleteTaskDefinitions.
    ecs.on(ListTaskDefinitionsCommand, { status: "INACTIVE" }).resolves({ taskDefinitionArns: [ARN(0), ARN(1), ARN(2), otherFamily] });
    ecs.on(DeregisterTaskDefinitionCommand).resolves({});
    ecs.on(DeleteTaskDefinitionsCommand).resolves({ taskDefinitions: [], failures: [] });
    await ecsTaskDefinition.destroy(testContext(), actual);
    expect(ecs).toHaveReceivedCommandWith(ListTaskDefinitionsCommand, { familyPrefix: spec.family, status: "ACTIVE" });
    expect(ecs.commandCalls(DeregisterTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition)).toEqual([ARN(1), ARN(2)]);
    expect(ecs).toHaveReceivedCommandWith(DeleteTaskDefinitionsCommand, { taskDefinitions: [ARN(0), ARN(1), ARN(2)] });
    const sequence = ecs.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    expect(sequence).toEqual(["ListTaskDefinitionsCommand", "DeregisterTaskDefinitionCommand", "DeregisterTaskDefinitionCommand", "ListTaskDefinitionsCommand", "DeleteTaskDefinitionsCommand"]);
  });

  it("finds a recorded revision left INACTIVE by an interrupted down, so down deletes it and up registers anew", async () => {
    const recorded = await findFrom(described(spec, 2));
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: spec.family }).rejects(ecsError("ClientException", "Unable to describe task definition."));
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: ARN(2) }).resolves({ taskDefinition: { ...described(spec, 2), status: "INACTIVE" }, tags: tagList });
    const found = await ecsTaskDefinition.find(testContext(), { logicalId: ID, recorded });
    expect(found).toMatchObject({ arn: ARN(2), inactive: true });
    expect(ecsTaskDefinition.diff(spec, found!)).toEqual([expect.objectContaining({ field: "status", from: "INACTIVE", to: "ACTIVE", action: "update" })]);
  });

  it("destroy tolerates an emulator without DeleteTaskDefinitions", async () => {
    const actual = await findFrom(described(spec, 1));
    ecs.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [ARN(1)] });
    ecs.on(DeregisterTaskDefinitionCommand).resolves({});
    ecs.on(DeleteTaskDefinitionsCommand).rejects(ecsError("UnknownOperationException"));
    const ctx = testContext();
    await expect(ecsTaskDefinition.destroy(ctx, actual)).resolves.toBeUndefined();
    expect(ctx.notes.join(" ")).toMatch(/not supported/);
  });
});

/** Attributes as find reads them from `td`; the stubs are reset afterwards, so call it before stubbing the test's calls. */
async function findFrom(td: TaskDefinition) {
  ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: td, tags: tagList });
  const found = (await ecsTaskDefinition.find(testContext(), { logicalId: ID, recorded: { family: td.family } as never }))!;
  ecs.reset();
  return found;
}
