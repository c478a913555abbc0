import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient, RDSServiceException } from "@aws-sdk/client-rds";
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, SecretsManagerServiceException } from "@aws-sdk/client-secrets-manager";
import { AwsFailure, RunFailure } from "../../src/errors.js";
import { rotateDatabasePassword } from "../../src/secrets/database-password.js";
import { TEST_WAITS, testContext } from "../helpers.js";

const sm = mockClient(SecretsManagerClient);
const rds = mockClient(RDSClient);
const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:clinical-platform-dev/database/credentials-AbCdEf";
const DB = "clinical-platform-dev-db";
const template = { username: "platform_admin", engine: "postgres", port: 5432, dbname: "clinical" };
const OLD = JSON.stringify({ ...template, host: "db.example", password: "Old-Passw0rd" });
const NEW = "New-Passw0rd_123";
const rdsError = (name: string) => new RDSServiceException({ name, message: `${name} happened`, $fault: "client", $metadata: {} });
const smError = (name: string) => new SecretsManagerServiceException({ name, message: `${name} happened`, $fault: "client", $metadata: {} });

/** Every call to either service, in order, as "Command" or "Command:detail". */
let log: string[];
/** What the secret holds at each moment, as the fake sees it. */
let stored: string;

beforeEach(() => {
  sm.reset();
  rds.reset();
  log = [];
  stored = OLD;
  sm.on(GetSecretValueCommand).callsFake(() => (log.push("GetSecretValue"), { SecretString: stored }));
  sm.on(PutSecretValueCommand).callsFake((input) => {
    log.push(`PutSecretValue:${JSON.parse(input.SecretString).password}`);
    stored = input.SecretString;
    return {};
  });
});

const rotation = (over: Partial<Parameters<typeof rotateDatabasePassword>[1]> = {}) => ({ secretArn: ARN, template, password: NEW, dbInstanceIdentifier: DB, ...over });

describe("rotating the database password", () => {
  it("puts the new password in the secret first, then changes the database's, then waits until it is applied", async () => {
    rds.on(ModifyDBInstanceCommand).callsFake((input) => {
      // By the time RDS is asked, the secret already holds the password it is given.
      log.push(`ModifyDBInstance:${JSON.parse(stored).password === input.MasterUserPassword ? "secret-already-new" : "secret-still-old"}`);
      return { DBInstance: { DBInstanceIdentifier: DB, PendingModifiedValues: { MasterUserPassword: "****" } } };
    });
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [{ DBInstanceStatus: "resetting-master-credentials", PendingModifiedValues: { MasterUserPassword: "****" } }] })
      .resolvesOnce({ DBInstances: [{ DBInstanceStatus: "available", PendingModifiedValues: { MasterUserPassword: "****" } }] })
      .resolves({ DBInstances: [{ DBInstanceStatus: "available", PendingModifiedValues: {} }] });

    const note = await rotateDatabasePassword(testContext(), rotation());

    expect(log).toEqual(["GetSecretValue", `PutSecretValue:${NEW}`, "ModifyDBInstance:secret-already-new"]);
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, { DBInstanceIdentifier: DB, MasterUserPassword: NEW, ApplyImmediately: true });
    expect(rds).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 3);
    expect(JSON.parse(stored)).toEqual({ ...template, host: "db.example", password: NEW });
    expect(note).toBe(`database ${DB} master password updated`);
  });

  it("only updates the secret when there is no database yet", async () => {
    const note = await rotateDatabasePassword(testContext(), rotation({ dbInstanceIdentifier: undefined }));
    expect(log).toEqual(["GetSecretValue", `PutSecretValue:${NEW}`]);
    expect(rds).not.toHaveReceivedAnyCommand();
    expect(note).toMatch(/no database yet/);
  });

  it("keeps the new password when the database is gone (a new one is created with it)", async () => {
    rds.on(ModifyDBInstanceCommand).rejects(rdsError("DBInstanceNotFoundFault"));
    const note = await rotateDatabasePassword(testContext(), rotation());
    expect(JSON.parse(stored).password).toBe(NEW);
    expect(note).toMatch(/not found/);
  });

  it("puts the previous value back when RDS refuses the new password, and says so", async () => {
    rds.on(ModifyDBInstanceCommand).rejects(rdsError("InvalidDBInstanceState"));
    const failure = await rotateDatabasePassword(testContext(), rotation()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AwsFailure);
    expect((failure as AwsFailure).code).toBe("InvalidDBInstanceState");
    expect((failure as Error).message).toMatch(/refused the new master password \(the secret was put back to its previous value/);
    expect((failure as Error).message).not.toContain(NEW);
    expect(log).toEqual(["GetSecretValue", `PutSecretValue:${NEW}`, "PutSecretValue:Old-Passw0rd"]);
    expect(stored).toBe(OLD);
    expect(rds).not.toHaveReceivedCommand(DescribeDBInstancesCommand);
  });

  it("says plainly when putting the previous value back fails too", async () => {
    rds.on(ModifyDBInstanceCommand).rejects(rdsError("InvalidDBInstanceState"));
    sm.on(PutSecretValueCommand).callsFakeOnce((input) => ((stored = input.SecretString), {})).rejects(smError("InternalServiceError"));
    await expect(rotateDatabasePassword(testContext(), rotation())).rejects.toThrow(/putting the secret's previous value back failed too, so the secret holds a password the database does not/);
  });

  it("does not put the old value back when RDS accepted the change but is slow to apply it", async () => {
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: "resetting-master-credentials", PendingModifiedValues: { MasterUserPassword: "****" } }] });
    const ctx = testContext({ waits: { ...TEST_WAITS, scale: 0.0001 } }); // a 90 ms budget
    await expect(rotateDatabasePassword(ctx, rotation())).rejects.toBeInstanceOf(RunFailure);
    expect(JSON.parse(stored).password).toBe(NEW);
  });

  it("starts from the template when the secret holds no JSON object", async () => {
    stored = "not json";
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: "available" }] });
    await rotateDatabasePassword(testContext(), rotation());
    expect(JSON.parse(stored)).toEqual({ ...template, password: NEW });
  });
});
