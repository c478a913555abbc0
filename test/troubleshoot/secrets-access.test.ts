import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { DescribeKeyCommand } from "@aws-sdk/client-kms";
import { DescribeSecretCommand, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { runChecks } from "../../src/troubleshoot/checks.js";
import { secretArnOf, secretsAccessChecks, type SecretsContext } from "../../src/troubleshoot/secrets-access.js";
import { testContext } from "../helpers.js";
import { ACCOUNT, EXECUTION_ROLE_ARN, healthyWorld, mocks, restoreMocks, SECRET_ARN, stubWorld, type World, worldState } from "./world.js";

let w: World;
beforeEach(() => {
  w = healthyWorld();
  stubWorld(w);
});
afterAll(restoreMocks);

async function run(sc: Partial<SecretsContext> = {}) {
  const context: SecretsContext = { ctx: testContext(), state: worldState(), ...sc };
  const { checks, notes } = await secretsAccessChecks(context);
  return { outcomes: await runChecks(checks, context), notes };
}

const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

describe("secretArnOf", () => {
  it.each([
    [`${SECRET_ARN}:password::`, SECRET_ARN],
    [SECRET_ARN, SECRET_ARN],
    [`${SECRET_ARN}:password:AWSCURRENT:`, SECRET_ARN],
    [`arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/app/key`, undefined],
    ["plain-name", undefined],
  ])("%s → %s", (valueFrom, arn) => expect(secretArnOf(valueFrom)).toBe(arn));
});

describe("troubleshoot secrets-access", () => {
  it("checks each secret the services use against their execution role, without reading its value", async () => {
    const { outcomes } = await run();
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ id: "secret:clinical-platform-dev/database/credentials", title: "clinical-platform-dev/database/credentials readable by clinical-platform-dev-task-execution", status: "passed" });
    expect(outcomes[0]!.evidence).toEqual([
      "used by api/api (DB_PASSWORD)",
      "clinical-platform-dev/database/credentials: exists and holds a value, encrypted with the AWS-managed key aws/secretsmanager",
      "role clinical-platform-dev-task-execution: secretsmanager:GetSecretValue allowed (IAM policy simulation)",
    ]);
    expect(mocks.iam).toHaveReceivedCommandWith(SimulatePrincipalPolicyCommand, { PolicySourceArn: EXECUTION_ROLE_ARN, ActionNames: ["secretsmanager:GetSecretValue"], ResourceArns: [SECRET_ARN] });
    expect(mocks.iam).toHaveReceivedCommandTimes(SimulatePrincipalPolicyCommand, 1);
    expect(mocks.secrets).not.toHaveReceivedCommand(GetSecretValueCommand);
  });

  it("fails when the role may not read it, and says when an explicit Deny is why", async () => {
    w.decisions["secretsmanager:GetSecretValue"] = "explicitDeny";
    const { outcomes } = await run();
    expect(outcomes[0]).toMatchObject({ status: "failed", cause: `the execution role clinical-platform-dev-task-execution may not read ${SECRET_ARN}` });
    expect(outcomes[0]!.evidence).toContain("role clinical-platform-dev-task-execution: secretsmanager:GetSecretValue denied by an explicit Deny (IAM policy simulation)");
    expect(outcomes[0]!.fix).toMatch(/remove the Deny/);
  });

  it("also asks for kms:Decrypt on a customer-managed key, resolving an alias to the key's ARN", async () => {
    w.secretKmsKeyId = "alias/clinical-secrets";
    mocks.kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab", Arn: KEY_ARN, KeyManager: "CUSTOMER" } });
    w.decisions["kms:Decrypt"] = "implicitDeny";
    const { outcomes } = await run();
    expect(mocks.kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: "alias/clinical-secrets" });
    expect(mocks.iam).toHaveReceivedCommandWith(SimulatePrincipalPolicyCommand, { PolicySourceArn: EXECUTION_ROLE_ARN, ActionNames: ["kms:Decrypt"], ResourceArns: [KEY_ARN] });
    expect(outcomes[0]).toMatchObject({ status: "failed", cause: `the execution role clinical-platform-dev-task-execution may not decrypt with the secret's KMS key ${KEY_ARN}` });
  });

  it("asks no KMS question for the AWS-managed key", async () => {
    w.secretKmsKeyId = "alias/aws/secretsmanager";
    const { outcomes } = await run();
    expect(outcomes[0]!.status).toBe("passed");
    expect(mocks.kms).not.toHaveReceivedCommand(DescribeKeyCommand);
    expect(mocks.iam).toHaveReceivedCommandTimes(SimulatePrincipalPolicyCommand, 1);
  });

  it("fails when a secret the task definition references does not exist", async () => {
    w.secret = undefined;
    const { outcomes } = await run();
    expect(outcomes[0]).toMatchObject({ status: "failed", cause: `secret ${SECRET_ARN} does not exist` });
    expect(mocks.iam).not.toHaveReceivedCommand(SimulatePrincipalPolicyCommand);
  });

  it("fails when the secret is scheduled for deletion", async () => {
    mocks.secrets.on(DescribeSecretCommand).resolves({ ARN: SECRET_ARN, Name: "clinical-platform-dev/database/credentials", DeletedDate: new Date("2026-02-01T00:00:00Z"), VersionIdsToStages: { v1: ["AWSCURRENT"] } });
    const { outcomes } = await run();
    expect(outcomes[0]).toMatchObject({ status: "failed", cause: "secret clinical-platform-dev/database/credentials is scheduled for deletion (reads fail)" });
  });

  it("notes references it does not check (SSM parameters)", async () => {
    w.taskDefinition.containerDefinitions![0]!.secrets!.push({ name: "API_KEY", valueFrom: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/app/key` });
    const { outcomes, notes } = await run();
    expect(outcomes).toHaveLength(1);
    expect(notes).toEqual([`api/api (API_KEY): arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/app/key is not a Secrets Manager ARN (an SSM parameter?): not checked`]);
  });

  it("without deployed services, checks the secrets state records against the recorded execution role", async () => {
    const state = worldState();
    delete state.resources["compute.service.api"];
    const { outcomes, notes } = await run({ state });
    expect(notes[0]).toMatch(/no ECS service is deployed/);
    expect(outcomes).toEqual([expect.objectContaining({ id: "secret:clinical-platform-dev/database/credentials", status: "passed", evidence: expect.arrayContaining(["used by secrets.database-credentials"]) })]);
  });

  it("without an execution role either, says who may read it was not checked", async () => {
    const state = worldState();
    delete state.resources["compute.service.api"];
    delete state.resources["compute.role.task-execution"];
    const { outcomes } = await run({ state });
    expect(outcomes[0]!.status).toBe("skipped");
    expect(outcomes[0]!.evidence.at(-1)).toMatch(/no execution role is deployed yet/);
    expect(mocks.iam).not.toHaveReceivedCommand(SimulatePrincipalPolicyCommand);
  });
});
