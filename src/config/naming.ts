import type { Config } from "./schema.js";

/** `<project>-<env>`: the prefix of every physical name (validated at load to fit the 32-character names). */
export function namePrefix(config: Pick<Config, "project" | "environment">): string {
  return `${config.project}-${config.environment}`;
}

/** `<project>-<env>-<role>`, checked against the service's length limit. */
export function physicalName(config: Pick<Config, "project" | "environment">, role: string, limit: number): string {
  const name = `${namePrefix(config)}-${role}`;
  if (name.length > limit) throw new Error(`internal: name ${name} exceeds ${limit} characters`);
  return name;
}

export const NAME_LIMITS = {
  iamRole: 64,
  loadBalancer: 32,
  targetGroup: 32,
  securityGroup: 255,
  rdsIdentifier: 63,
  bucket: 63,
} as const;
