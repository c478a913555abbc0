import { SimulatePrincipalPolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import { DescribeKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { DescribeSecretCommand, type DescribeSecretCommandOutput, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { errorCode, orUndefined } from "../aws/errors.js";
import type { ResourceContext } from "../resources/types.js";
import type { StateDocument } from "../state/document.js";
import { type Check, type CheckResult, combine, failed, once, passed, recordedString, skipped, unreadable } from "./checks.js";
import { findService, recordedServices, type ServiceView } from "./services.js";

/**
 * `platform troubleshoot secrets-access`: for each secret a service uses, does it exist (with a value, not scheduled
 * for deletion), and may the service's execution role read it? Asked of IAM's policy simulator
 * (SimulatePrincipalPolicy) for secretsmanager:GetSecretValue and, when a customer-managed KMS key encrypts the
 * secret, kms:Decrypt on that key. The simulator evaluates the role's identity policies (and permission boundary);
 * the secret's resource policy and the key policy are not part of it, which the evidence says.
 */
export const TASK_EXECUTION_ROLE_ID = "compute.role.task-execution";

/** Likelihoods (see checks.ts): a secret the tasks cannot read stops them from starting. */
const MISSING_SECRET = 85;
const ROLE_DENIED = 80;
const KMS_DENIED = 75;

export interface SecretsContext {
  ctx: ResourceContext;
  state: StateDocument;
  /** Only this service (its short name, "api"); all when absent. */
  service?: string;
}

/** One secret to check: who uses it, and the role that must read it (undefined: no execution role deployed). */
export interface SecretUse {
  secretArn: string;
  roleArn?: string;
  /** "api/api (DATABASE_URL)", or the logical id when no service is deployed. */
  usedBy: string[];
}

const GET_SECRET_VALUE = "secretsmanager:GetSecretValue";
const KMS_DECRYPT = "kms:Decrypt";
const AWS_MANAGED_SECRETS_KEY = "alias/aws/secretsmanager";

/** A Secrets Manager valueFrom without its JSON key, stage and version suffix; undefined for SSM parameters. */
export function secretArnOf(valueFrom: string): string | undefined {
  const parts = valueFrom.split(":");
  if (parts[0] !== "arn" || parts[2] !== "secretsmanager" || parts.length < 7) return undefined;
  return parts.slice(0, 7).join(":");
}

/** Which secrets the services use, grouped by (secret, execution role). */
export function secretUses(services: ServiceView[]): { uses: SecretUse[]; other: string[] } {
  const byKey = new Map<string, SecretUse>();
  const other: string[] = [];
  for (const s of services) {
    const td = s.taskDefinition;
    for (const c of td?.containers ?? []) {
      for (const ref of c.secrets) {
        const secretArn = secretArnOf(ref.valueFrom);
        const who = `${s.name}/${c.name} (${ref.name})`;
        if (!secretArn) {
          other.push(`${who}: ${ref.valueFrom} is not a Secrets Manager ARN (an SSM parameter?): not checked`);
          continue;
        }
        const key = `${secretArn}|${td?.executionRoleArn ?? ""}`;
        const use = byKey.get(key) ?? { secretArn, ...(td?.executionRoleArn ? { roleArn: td.executionRoleArn } : {}), usedBy: [] };
        use.usedBy.push(who);
        byKey.set(key, use);
      }
    }
  }
  return { uses: [...byKey.values()], other };
}

/** Without deployed services: the secrets state records (secrets.*, not their field records), read by the recorded execution role. */
export function recordedSecretUses(state: StateDocument): SecretUse[] {
  const roleArn = recordedString(state, TASK_EXECUTION_ROLE_ID, "arn");
  return Object.entries(state.resources)
    .filter(([, r]) => r.type === "secretsmanager:secret")
    .map(([id, r]) => ({ secretArn: typeof r.attributes.arn === "string" ? r.attributes.arn : r.physicalId, ...(roleArn ? { roleArn } : {}), usedBy: [id] }));
}

/** The key's ARN (what IAM evaluates kms:Decrypt against); undefined for the AWS-managed key. */
export async function customerKeyArn(ctx: ResourceContext, kmsKeyId: string | undefined): Promise<string | undefined> {
  if (!kmsKeyId || kmsKeyId === AWS_MANAGED_SECRETS_KEY || kmsKeyId.endsWith(`:${AWS_MANAGED_SECRETS_KEY}`)) return undefined;
  if (/^arn:aws[a-z-]*:kms:[^:]+:\d{12}:key\//.test(kmsKeyId)) return kmsKeyId;
  // A key id or an alias: KMS says which key it is, and whether AWS manages it.
  const out = await ctx.aws.get(KMSClient).send(new DescribeKeyCommand({ KeyId: kmsKeyId }));
  return out.KeyMetadata?.KeyManager === "AWS" ? undefined : out.KeyMetadata?.Arn;
}

/** The customer-managed KMS key a secret is encrypted with, as DescribeSecret reports it; undefined for the AWS-managed key. */
export async function secretKmsKeyId(ctx: ResourceContext, secretArn: string): Promise<string | undefined> {
  const d = await orUndefined(ctx.aws.get(SecretsManagerClient).send(new DescribeSecretCommand({ SecretId: secretArn })));
  return d?.KmsKeyId;
}

/** IAM's decision for one action on one resource: "allowed", "implicitDeny" or "explicitDeny". */
export async function simulate(ctx: ResourceContext, roleArn: string, action: string, resourceArn: string): Promise<string> {
  const out = await ctx.aws.get(IAMClient).send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: roleArn, ActionNames: [action], ResourceArns: [resourceArn] }));
  const result = out.EvaluationResults?.find((r) => r.EvalActionName?.toLowerCase() === action.toLowerCase());
  return result?.EvalDecision ?? "implicitDeny";
}

const roleName = (arn: string) => arn.slice(arn.lastIndexOf("/") + 1);

function describeDecision(decision: string): string {
  return decision === "explicitDeny" ? "denied by an explicit Deny" : decision === "allowed" ? "allowed" : "not allowed (no policy grants it)";
}

/** The secret exists, holds a value and is not scheduled for deletion. */
function secretState(secretArn: string, d: DescribeSecretCommandOutput | undefined): CheckResult {
  if (!d) {
    return failed([`${secretArn}: not found`], `secret ${secretArn} does not exist`, "run 'platform up' (or 'platform bootstrap-secrets') to create it, then redeploy the services", MISSING_SECRET);
  }
  if (d.DeletedDate) {
    return failed(
      [`${d.Name}: scheduled for deletion on ${new Date(d.DeletedDate).toISOString()}`],
      `secret ${d.Name} is scheduled for deletion (reads fail)`,
      `restore it: 'platform up' or 'aws secretsmanager restore-secret --secret-id ${d.Name}'`,
      MISSING_SECRET,
    );
  }
  const hasValue = Object.values(d.VersionIdsToStages ?? {}).some((stages) => stages.includes("AWSCURRENT"));
  if (!hasValue) return failed([`${d.Name}: exists but holds no value`], `secret ${d.Name} has no value`, "give it one: 'platform bootstrap-secrets'", MISSING_SECRET);
  return passed([`${d.Name}: exists and holds a value${d.KmsKeyId ? `, encrypted with ${d.KmsKeyId}` : ", encrypted with the AWS-managed key aws/secretsmanager"}`]);
}

/** May `roleArn` read the secret: GetSecretValue on it, and Decrypt on its customer-managed key if it has one. */
export async function roleMayRead(ctx: ResourceContext, roleArn: string, secretArn: string, kmsKeyId: string | undefined): Promise<CheckResult> {
  const role = roleName(roleArn);
  const get = await simulate(ctx, roleArn, GET_SECRET_VALUE, secretArn);
  const parts: CheckResult[] = [];
  parts.push(
    get === "allowed"
      ? passed([`role ${role}: ${GET_SECRET_VALUE} allowed (IAM policy simulation)`])
      : failed(
          [`role ${role}: ${GET_SECRET_VALUE} ${describeDecision(get)} (IAM policy simulation)`],
          `the execution role ${role} may not read ${secretArn}`,
          `grant ${GET_SECRET_VALUE} on ${secretArn} to ${role} (run 'platform up' to restore its policy)${get === "explicitDeny" ? ", and remove the Deny that matches it" : ""}`,
          ROLE_DENIED,
        ),
  );
  let keyArn: string | undefined;
  try {
    keyArn = await customerKeyArn(ctx, kmsKeyId);
  } catch (err) {
    parts.push(failed([`KMS key ${kmsKeyId}: could not be described (${errorCode(err) ?? (err as Error).message})`], `the secret's KMS key ${kmsKeyId} could not be read`, "check that the key exists and that you may call kms:DescribeKey on it", KMS_DENIED));
  }
  if (keyArn) {
    const decrypt = await simulate(ctx, roleArn, KMS_DECRYPT, keyArn);
    parts.push(
      decrypt === "allowed"
        ? passed([`role ${role}: ${KMS_DECRYPT} on ${keyArn} allowed (identity policies; the key policy must allow it too)`])
        : failed(
            [`role ${role}: ${KMS_DECRYPT} on ${keyArn} ${describeDecision(decrypt)} (IAM policy simulation)`],
            `the execution role ${role} may not decrypt with the secret's KMS key ${keyArn}`,
            `grant ${KMS_DECRYPT} on ${keyArn} to ${role}, and allow the role in the key policy`,
            KMS_DENIED,
          ),
    );
  }
  return combine(parts);
}

/** The whole check of one secret use. */
export async function checkSecretUse(ctx: ResourceContext, use: SecretUse): Promise<CheckResult> {
  const described = await orUndefined(ctx.aws.get(SecretsManagerClient).send(new DescribeSecretCommand({ SecretId: use.secretArn })));
  const exists = secretState(use.secretArn, described);
  const usedBy = [`used by ${use.usedBy.join(", ")}`];
  if (exists.status === "failed") return { ...exists, evidence: [...usedBy, ...exists.evidence] };
  if (!use.roleArn) return skipped("no execution role is deployed yet (the compute layer): who may read it was not checked", [...usedBy, ...exists.evidence]);
  let access: CheckResult;
  try {
    access = await roleMayRead(ctx, use.roleArn, described!.ARN ?? use.secretArn, described!.KmsKeyId);
  } catch (err) {
    access = unreadable(err);
  }
  return combine([passed(usedBy), exists, access]);
}

/** The services to look at: every recorded one, or the one asked for. */
async function services(sc: SecretsContext): Promise<ServiceView[]> {
  const refs = recordedServices(sc.state).filter((r) => !sc.service || r.name === sc.service);
  const found = await Promise.all(refs.map((r) => findService(sc.ctx, r)));
  return found.filter((s): s is ServiceView => s !== undefined);
}

/**
 * One check per secret use. With deployed services, the secrets their task definitions reference (read by each
 * definition's execution role); without, the secrets state records, read by the recorded execution role if any.
 */
export async function secretsAccessChecks(sc: SecretsContext): Promise<{ checks: Check<SecretsContext>[]; notes: string[] }> {
  const deployed = await services(sc);
  const { uses, other } = deployed.length ? secretUses(deployed) : { uses: recordedSecretUses(sc.state), other: [] };
  const notes = deployed.length ? other : ["no ECS service is deployed (compute layer): checking the environment's secrets against the recorded execution role"];
  const checks = uses.map((use) => {
    const run = once(() => checkSecretUse(sc.ctx, use));
    // The ARN's last part is the name plus "-" and six random characters.
    const name = (use.secretArn.split(":")[6] ?? use.secretArn).replace(/-[A-Za-z0-9]{6}$/, "");
    return { id: `secret:${name}`, title: `${name}${use.roleArn ? ` readable by ${roleName(use.roleArn)}` : ""}`, run: () => run() } satisfies Check<SecretsContext>;
  });
  return { checks, notes };
}
