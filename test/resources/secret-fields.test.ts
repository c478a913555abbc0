import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { GetSecretValueCommand, InvalidRequestException, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { secretFields } from "../../src/resources/secret-fields.js";
import { testContext } from "../helpers.js";

const sm = mockClient(SecretsManagerClient);
const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:clinical-platform-dev/database/credentials-AbCdEf";
const PASSWORD = "Sup3r-Secret_Passw0rd!";
const stored = { username: "platform_admin", password: PASSWORD, engine: "postgres", port: 5432, dbname: "clinical" };
const err = (Exception: unknown) => new (Exception as new (o: object) => Error)({ message: "x", $metadata: {} });

beforeEach(() => sm.reset());

describe("secretsmanager:secret-fields", () => {
  it("finds nothing without a record, and reads nothing", async () => {
    expect(await secretFields.find(testContext(), { logicalId: "x" })).toBeUndefined();
    expect(sm).not.toHaveReceivedAnyCommand();
  });

  it("exposes only the recorded non-secret fields, never the password", async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ ...stored, host: "db.example" }) });
    const found = await secretFields.find(testContext(), { logicalId: "x", recorded: { secretArn: ARN, fields: { host: "old", port: 1, password: "recorded?" } as never } });
    expect(found).toEqual({ secretArn: ARN, fields: { host: "db.example", port: 5432 } });
    expect(JSON.stringify(found)).not.toContain(PASSWORD);
  });

  it("treats a missing secret, or one scheduled for deletion, as absent", async () => {
    sm.on(GetSecretValueCommand).rejectsOnce(err(ResourceNotFoundException)).rejectsOnce(err(InvalidRequestException));
    const recorded = { secretArn: ARN, fields: { host: "h" } };
    expect(await secretFields.find(testContext(), { logicalId: "x", recorded })).toBeUndefined();
    expect(await secretFields.find(testContext(), { logicalId: "x", recorded })).toBeUndefined();
  });

  it("merges host and port into the JSON, keeping the password and every other field", async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(stored) });
    sm.on(PutSecretValueCommand).resolves({});
    const spec = { secretArn: ARN, fields: { host: "db.abc.us-east-1.rds.amazonaws.com", port: 5432 } };
    const attrs = await secretFields.create(testContext(), spec, { logicalId: "x" });
    const put = sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
    expect(put.SecretId).toBe(ARN);
    expect(JSON.parse(put.SecretString!)).toEqual({ ...stored, host: "db.abc.us-east-1.rds.amazonaws.com" });
    expect(attrs).toEqual(spec);
  });

  it("writes nothing when the fields already match", async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ ...stored, host: "h" }) });
    await secretFields.update!(testContext(), { secretArn: ARN, fields: { host: "h", port: 5432 } }, { secretArn: ARN, fields: {} }, []);
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  it("diffs field by field", () => {
    expect(secretFields.diff({ secretArn: ARN, fields: { host: "new", port: 5432 } }, { secretArn: ARN, fields: { host: "old", port: 5432 } })).toEqual([
      { field: "fields.host", from: "old", to: "new", action: "update" },
    ]);
  });

  it("refuses to manage a secret field such as the password", async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(stored) });
    await expect(secretFields.create(testContext(), { secretArn: ARN, fields: { password: "x" } }, { logicalId: "x" })).rejects.toThrow(/may only manage/);
    expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  it("fails without quoting a value that is not JSON", async () => {
    sm.on(GetSecretValueCommand).resolves({ Name: "n", SecretString: `not-json-${PASSWORD}` });
    const failure = secretFields.create(testContext(), { secretArn: ARN, fields: { host: "h" } }, { logicalId: "x" });
    await expect(failure).rejects.toThrow(/does not hold (valid JSON|a JSON object)/);
    await expect(failure).rejects.not.toThrow(PASSWORD);
  });
});
