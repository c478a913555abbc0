import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from "@aws-sdk/client-secrets-manager";
import { secret, type SecretAttrs, type SecretSpec } from "../../src/resources/secret.js";
import { UserError } from "../../src/errors.js";
import { testContext, testTags } from "../helpers.js";

const sm = mockClient(SecretsManagerClient);
const ID = "secrets.database-credentials";
const NAME = "clinical-platform-dev/database/credentials";
const ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${NAME}-AbCdEf`;
const tags = testTags(ID);
const tagList = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const template = { username: "platform_admin", engine: "postgres", port: 5432, dbname: "clinical" };
const spec: SecretSpec = { name: NAME, description: "Master credentials", recoveryWindowDays: 7, generator: "database-credentials", template, tags };
const CHANGED = new Date("2025-11-20T10:00:00Z");

const err = (Exception: unknown, message = "x") => new (Exception as new (o: object) => Error)({ message, $metadata: {} });
const described = (over: Record<string, unknown> = {}) => ({
  ARN,
  Name: NAME,
  Description: "Master credentials",
  Tags: tagList,
  LastChangedDate: CHANGED,
  VersionIdsToStages: { "v-1": ["AWSCURRENT"] },
  ...over,
});
const attrs = (over: Partial<SecretAttrs> = {}): SecretAttrs => ({
  arn: ARN,
  name: NAME,
  description: "Master credentials",
  tags,
  lastChangedDate: CHANGED.toISOString(),
  hasValue: true,
  recoveryWindowDays: 7,
  ...over,
});

beforeEach(() => sm.reset());

describe("secretsmanager:secret find", () => {
  it("describes the recorded ARN and never reads the value", async () => {
    sm.on(DescribeSecretCommand, { SecretId: ARN }).resolves(described());
    const found = await secret.find(testContext(), { logicalId: ID, recorded: attrs({ recoveryWindowDays: 21 }) });
    expect(found).toEqual(attrs({ recoveryWindowDays: 21 }));
    expect(sm).not.toHaveReceivedCommand(GetSecretValueCommand);
  });

  it("reports a secret scheduled for deletion, and one without a current value", async () => {
    const deleted = new Date("2025-11-25T00:00:00Z");
    sm.on(DescribeSecretCommand).resolves(described({ DeletedDate: deleted, VersionIdsToStages: {} }));
    const found = await secret.find(testContext(), { logicalId: ID, recorded: attrs() });
    expect(found).toMatchObject({ deletedDate: deleted.toISOString(), hasValue: false });
  });

  it("falls back to the tags, including secrets scheduled for deletion, and checks them exactly", async () => {
    sm.on(DescribeSecretCommand, { SecretId: ARN }).rejectsOnce(err(ResourceNotFoundException)).resolves(described());
    sm.on(ListSecretsCommand).resolves({
      SecretList: [
        { ARN: "arn:other", Name: "other", Tags: Object.entries(testTags(`${ID}.connection`)).map(([Key, Value]) => ({ Key, Value })) },
        { ARN, Name: NAME, Tags: tagList },
      ],
    });
    const found = await secret.find(testContext(), { logicalId: ID, recorded: attrs() });
    expect(found?.arn).toBe(ARN);
    expect(sm).toHaveReceivedCommandWith(ListSecretsCommand, {
      IncludePlannedDeletion: true,
      Filters: [
        { Key: "tag-key", Values: ["platform:logical-id"] },
        { Key: "tag-value", Values: [ID] },
      ],
    });
  });

  it("returns undefined when nothing is recorded or tagged", async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [] });
    expect(await secret.find(testContext(), { logicalId: ID })).toBeUndefined();
  });

  it("refuses to pick one of two secrets with the same tags", async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [{ ARN: "a", Tags: tagList }, { ARN: "b", Tags: tagList }] });
    await expect(secret.find(testContext(), { logicalId: ID })).rejects.toThrow(/found 2 secrets tagged/);
  });
});

describe("secretsmanager:secret create", () => {
  it("creates the secret tagged and encrypted, with a generated value that is never returned", async () => {
    sm.on(CreateSecretCommand).resolves({ ARN, Name: NAME });
    sm.on(DescribeSecretCommand).resolves(described());
    const created = await secret.create(testContext(), { ...spec, kmsKeyId: "alias/platform" }, { logicalId: ID });

    const input = sm.commandCalls(CreateSecretCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ Name: NAME, Description: "Master credentials", KmsKeyId: "alias/platform", Tags: expect.arrayContaining(tagList) });
    const value = JSON.parse(input.SecretString!);
    expect(value).toEqual({ ...template, password: expect.any(String) });
    expect(value.password).toHaveLength(32);
    expect(value.password).not.toMatch(/[/@" ]/);
    expect(JSON.stringify(created)).not.toContain(value.password);
    expect(created).toEqual(attrs());
  });

  it("creates an external secret without a value", async () => {
    sm.on(CreateSecretCommand).resolves({ ARN, Name: NAME });
    sm.on(DescribeSecretCommand).resolves(described({ VersionIdsToStages: {} }));
    const created = await secret.create(testContext(), { ...spec, generator: "external", template: undefined }, { logicalId: ID });
    expect(sm.commandCalls(CreateSecretCommand)[0]!.args[0].input.SecretString).toBeUndefined();
    expect(created.hasValue).toBe(false);
  });

  it("restores a secret of ours scheduled for deletion instead of failing, and keeps its value", async () => {
    sm.on(CreateSecretCommand).rejects(err(InvalidRequestException, "You can't create this secret because a secret with this name is already scheduled for deletion."));
    sm.on(DescribeSecretCommand).resolvesOnce(described({ DeletedDate: new Date() })).resolvesOnce(described({ DeletedDate: new Date() })).resolves(described());
    sm.on(RestoreSecretCommand).resolves({ ARN });
    const created = await secret.create(testContext(), spec, { logicalId: ID });
    expect(sm).toHaveReceivedCommandWith(RestoreSecretCommand, { SecretId: ARN });
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(created.deletedDate).toBeUndefined();
  });

  it("restores, then stores a generated value when the restored secret has none", async () => {
    const empty = described({ DeletedDate: new Date(), VersionIdsToStages: {} });
    sm.on(CreateSecretCommand).rejects(err(InvalidRequestException));
    sm.on(DescribeSecretCommand).resolvesOnce(empty).resolvesOnce(empty).resolves(described());
    sm.on(RestoreSecretCommand).resolves({});
    sm.on(PutSecretValueCommand).resolves({});
    await secret.create(testContext(), { ...spec, generator: "token-64", template: undefined }, { logicalId: ID });
    const order = sm.calls().map((c) => c.args[0].constructor.name);
    expect(order.indexOf("RestoreSecretCommand")).toBeLessThan(order.indexOf("PutSecretValueCommand"));
    expect(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString).toMatch(/^[A-Za-z0-9]{64}$/);
  });

  it("passes on an InvalidRequestException that is not about a scheduled deletion", async () => {
    sm.on(CreateSecretCommand).rejects(err(InvalidRequestException, "something else"));
    sm.on(DescribeSecretCommand).resolves(described());
    await expect(secret.create(testContext(), spec, { logicalId: ID })).rejects.toMatchObject({ name: "InvalidRequestException" });
    expect(sm).not.toHaveReceivedCommand(RestoreSecretCommand);
  });

  it("retries while a force-deleted secret of that name is still being deleted in the background", async () => {
    sm.on(CreateSecretCommand).rejectsOnce(err(InvalidRequestException, "scheduled for deletion")).resolves({ ARN });
    sm.on(DescribeSecretCommand, { SecretId: NAME }).rejects(err(ResourceNotFoundException));
    sm.on(DescribeSecretCommand, { SecretId: ARN }).resolves(described());
    const created = await secret.create(testContext(), spec, { logicalId: ID });
    expect(created.arn).toBe(ARN);
    expect(sm).toHaveReceivedCommandTimes(CreateSecretCommand, 2);
  });

  it("adopts a live secret of ours that a crashed run created, without touching its value", async () => {
    sm.on(CreateSecretCommand).rejects(err(ResourceExistsException));
    sm.on(DescribeSecretCommand).resolves(described());
    const created = await secret.create(testContext(), spec, { logicalId: ID });
    expect(created.arn).toBe(ARN);
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(sm).not.toHaveReceivedCommand(UpdateSecretCommand);
  });

  it("never adopts a secret of that name that is not ours", async () => {
    sm.on(CreateSecretCommand).rejects(err(ResourceExistsException));
    sm.on(DescribeSecretCommand).resolves(described({ Tags: [{ Key: "Owner", Value: "someone" }] }));
    await expect(secret.create(testContext(), spec, { logicalId: ID })).rejects.toThrow(/already exists and is not tagged as secrets.database-credentials/);
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(sm).not.toHaveReceivedCommand(RestoreSecretCommand);
  });
});

describe("secretsmanager:secret diff and update", () => {
  it("is clean when nothing changed, whatever form the KMS key is reported in", () => {
    expect(secret.diff(spec, attrs())).toEqual([]);
    const keyArn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    expect(secret.diff({ ...spec, kmsKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" }, attrs({ kmsKeyId: keyArn }))).toEqual([]);
    expect(secret.diff({ ...spec, kmsKeyId: "alias/platform" }, attrs({ kmsKeyId: "arn:aws:kms:us-east-1:123456789012:alias/platform" }))).toEqual([]);
  });

  it("plans a restore, a description, a key and a missing generated value as in-place changes", () => {
    const changes = secret.diff({ ...spec, description: "new", kmsKeyId: "alias/k" }, attrs({ deletedDate: "2025-11-25T00:00:00.000Z", hasValue: false }));
    expect(changes.map((c) => [c.field, c.action])).toEqual([
      ["deletedDate", "update"],
      ["description", "update"],
      ["kmsKeyId", "update"],
      ["hasValue", "update"],
    ]);
    expect(secret.diff({ ...spec, generator: "external" }, attrs({ hasValue: false }))).toEqual([]);
    expect(secret.diff({ ...spec, name: "other" }, attrs())[0]).toMatchObject({ field: "name", action: "replace" });
  });

  it("restores first, then updates description, key and tags", async () => {
    sm.on(DescribeSecretCommand).resolves(described());
    const actual = attrs({ deletedDate: "2025-11-25T00:00:00.000Z", tags: { ...tags, Stale: "1" } });
    const want = { ...spec, description: "new", kmsKeyId: "alias/k", tags: { ...tags, CostCenter: "data" } };
    await secret.update!(testContext(), want, actual, secret.diff(want, actual));
    expect(sm.calls().map((c) => c.args[0].constructor.name).slice(0, 4)).toEqual(["RestoreSecretCommand", "UpdateSecretCommand", "TagResourceCommand", "UntagResourceCommand"]);
    expect(sm).toHaveReceivedCommandWith(UpdateSecretCommand, { SecretId: ARN, Description: "new", KmsKeyId: "alias/k" });
    expect(sm).toHaveReceivedCommandWith(TagResourceCommand, { SecretId: ARN, Tags: [{ Key: "CostCenter", Value: "data" }] });
    expect(sm).toHaveReceivedCommandWith(UntagResourceCommand, { SecretId: ARN, TagKeys: ["Stale"] });
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  it("goes back to the AWS-managed key when the config drops its KMS key", async () => {
    sm.on(DescribeSecretCommand).resolves(described());
    const actual = attrs({ kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/k" });
    await secret.update!(testContext(), spec, actual, secret.diff(spec, actual));
    expect(sm).toHaveReceivedCommandWith(UpdateSecretCommand, { SecretId: ARN, KmsKeyId: "alias/aws/secretsmanager" });
  });
});

describe("secretsmanager:secret destroy", () => {
  it("schedules the deletion with the recorded recovery window", async () => {
    sm.on(DeleteSecretCommand).resolves({});
    await secret.destroy(testContext(), attrs({ recoveryWindowDays: 14 }));
    expect(sm).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: ARN, RecoveryWindowInDays: 14 });
    expect(sm.commandCalls(DeleteSecretCommand)[0]!.args[0].input.ForceDeleteWithoutRecovery).toBeUndefined();
  });

  it("deletes without recovery with --force-delete-secrets", async () => {
    sm.on(DeleteSecretCommand).resolves({});
    await secret.destroy(testContext({ flags: { forceDeleteSecrets: true } }), attrs());
    expect(sm).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: ARN, ForceDeleteWithoutRecovery: true });
    expect(sm.commandCalls(DeleteSecretCommand)[0]!.args[0].input.RecoveryWindowInDays).toBeUndefined();
  });

  it("refuses to force-delete in a protected environment without --force-prod, and honours it with", async () => {
    sm.on(DeleteSecretCommand).resolves({});
    // Protection follows the config (isProtected: dataClassification or protected), passed as flags.protectedEnvironment, not the name.
    const prod = { project: "clinical-platform", environment: "prod" };
    await expect(secret.destroy(testContext({ identity: prod, flags: { forceDeleteSecrets: true, protectedEnvironment: true } }), attrs())).rejects.toBeInstanceOf(UserError);
    expect(sm).not.toHaveReceivedCommand(DeleteSecretCommand);
    await secret.destroy(testContext({ identity: prod, flags: { forceDeleteSecrets: true, protectedEnvironment: true, forceProd: true } }), attrs());
    expect(sm).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: ARN, ForceDeleteWithoutRecovery: true });
  });

  it("leaves a secret already scheduled for deletion alone, and treats a missing one as deleted", async () => {
    await secret.destroy(testContext(), attrs({ deletedDate: "2025-11-25T00:00:00.000Z" }));
    expect(sm).not.toHaveReceivedCommand(DeleteSecretCommand);
    sm.on(DeleteSecretCommand).rejects(err(ResourceNotFoundException));
    await expect(secret.destroy(testContext(), attrs())).resolves.toBeUndefined();
  });
});
