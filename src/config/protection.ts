import { UserError } from "../errors.js";
import { PROTECTED_CLASSIFICATIONS, type Config } from "./schema.js";

/**
 * Which environments are protected, decided once. Protection follows the data, not the name: an environment is
 * protected when its config says `protected: true`, or when `dataClassification` is PHI or Confidential (which cannot
 * be combined with `protected: false`). Protected environments get typed confirmations and --force-prod on `down`,
 * `db restore` and `promote`, required deletion protection, and the secure defaults below; their insecure settings are
 * refused by `up` and `deploy` before any AWS call unless the config opts out with a field named for what it gives up.
 */
export function isProtected(config: Pick<Config, "protected" | "dataClassification">): boolean {
  if (config.protected !== undefined) return config.protected;
  return config.dataClassification !== undefined && PROTECTED_CLASSIFICATIONS.includes(config.dataClassification);
}

/** How `isProtected` came to its answer, for messages ("prd (dataClassification PHI)"). */
export function protectionReason(config: Config): string {
  if (config.protected !== undefined) return `protected: ${config.protected}`;
  return config.dataClassification ? `dataClassification ${config.dataClassification}` : "no dataClassification";
}

/** ECS Exec on the services: the config's choice, else off in protected environments. */
export const ecsExecEnabled = (config: Config): boolean => config.services.ecsExec ?? !isProtected(config);

/** VPC endpoints for the AWS APIs the tasks call: the config's choice, else on in protected environments. */
export const vpcEndpointsEnabled = (config: Config): boolean => config.network.vpcEndpoints ?? isProtected(config);

/** ECR tag mutability: the config's choice, else IMMUTABLE in protected environments. */
export const ecrTagMutability = (config: Config): "MUTABLE" | "IMMUTABLE" => config.ecr.imageTagMutability ?? (isProtected(config) ? "IMMUTABLE" : "MUTABLE");

/** A setting a protected environment refuses: the field, why, and the fix. */
export interface ProtectionProblem {
  field: string;
  message: string;
}

/** An explicit opt-out a protected environment carries: the field and what it gives up (plan and audit report it). */
export interface OptOut {
  field: string;
  givesUp: string;
}

const ANYWHERE = ["0.0.0.0/0", "::/0"];

/** What `up` and `deploy` refuse in a protected environment (nothing for an unprotected one). */
export function protectionProblems(config: Config): ProtectionProblem[] {
  if (!isProtected(config)) return [];
  const file = `config/${config.environment}.json`;
  const problems: ProtectionProblem[] = [];
  const lb = config.loadBalancer;
  if (!lb.certificateArn && !lb.allowPlainHttp) {
    problems.push({
      field: "loadBalancer.certificateArn",
      message: `a protected environment serves HTTPS only: set loadBalancer.certificateArn to an ACM certificate in ${config.region} in ${file} (or, giving up encryption in transit, loadBalancer.allowPlainHttp: true)`,
    });
  }
  const deployment = config.services.api.deployment;
  const openTest = (deployment.strategy === "blue-green" ? (deployment.testListenerCidrs ?? []) : []).filter((c) => ANYWHERE.includes(c));
  if (openTest.length && !deployment.allowPublicTestListener) {
    problems.push({
      field: "services.api.deployment.testListenerCidrs",
      message: `${openTest.join(", ")} opens the release candidate to the internet: list your CI runners' and office ranges in ${file} (or, giving that up, services.api.deployment.allowPublicTestListener: true)`,
    });
  }
  const openUi = config.monitoring.uiAccessCidrs.filter((c) => ANYWHERE.includes(c));
  if (openUi.length) {
    problems.push({
      field: "monitoring.uiAccessCidrs",
      message: `${openUi.join(", ")} routes Grafana and Marquez (which has no login) from the internet: list only your office or VPN ranges in ${file}, or none and use 'platform exec' port forwarding`,
    });
  }
  if (!config.logs.kmsKeyArn && !config.logs.allowAwsOwnedKey) {
    problems.push({
      field: "logs.kmsKeyArn",
      message: `a protected environment encrypts its logs with a key it controls: set logs.kmsKeyArn to a KMS key whose policy allows logs.${config.region}.amazonaws.com in ${file} (or, giving that up, logs.allowAwsOwnedKey: true)`,
    });
  }
  if (config.ecr.imageTagMutability === "MUTABLE" && !config.ecr.allowMutableTags) {
    problems.push({
      field: "ecr.imageTagMutability",
      message: `a protected environment's image tags are immutable: remove ecr.imageTagMutability (or set "IMMUTABLE") in ${file} (or, giving that up, ecr.allowMutableTags: true)`,
    });
  }
  return problems;
}

/** The opt-outs a protected environment's config takes; each is a finding for plan and audit. */
export function protectionOptOuts(config: Config): OptOut[] {
  if (!isProtected(config)) return [];
  const out: OptOut[] = [];
  if (!config.loadBalancer.certificateArn && config.loadBalancer.allowPlainHttp) out.push({ field: "loadBalancer.allowPlainHttp", givesUp: "encryption in transit: the API serves plain HTTP" });
  const d = config.services.api.deployment;
  if (d.allowPublicTestListener && d.strategy === "blue-green" && (d.testListenerCidrs ?? []).some((c) => ANYWHERE.includes(c))) {
    out.push({ field: "services.api.deployment.allowPublicTestListener", givesUp: "keeping the blue-green test listener off the internet" });
  }
  if (!config.logs.kmsKeyArn && config.logs.allowAwsOwnedKey) out.push({ field: "logs.allowAwsOwnedKey", givesUp: "log encryption with a key you control (an AWS-owned key is used)" });
  if (config.ecr.imageTagMutability === "MUTABLE" && config.ecr.allowMutableTags) out.push({ field: "ecr.allowMutableTags", givesUp: "immutable image tags" });
  if (config.services.ecsExec === true) out.push({ field: "services.ecsExec", givesUp: "no interactive shells in tasks holding PHI (sessions are logged)" });
  if (config.network.vpcEndpoints === false) out.push({ field: "network.vpcEndpoints", givesUp: "keeping the tasks' traffic to AWS off the internet (tasks keep 443 egress to anywhere)" });
  return out;
}

/** `up` and `deploy`: exit 2, naming each field and its fix, before any AWS call. */
export function assertProtectionSatisfied(config: Config): void {
  const problems = protectionProblems(config);
  if (!problems.length) return;
  const lines = problems.map((p) => `${p.field}: ${p.message}`);
  throw new UserError(`${config.environment} is protected (${protectionReason(config)}); refusing:\n${lines.join("\n")}`);
}
