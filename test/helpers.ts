import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AwsClients } from "../src/aws/clients.js";
import type { ResourceContext, WaitSettings } from "../src/resources/types.js";

/** Waits for tests: polling every millisecond, time budgets a thousandth of real AWS's. */
export const TEST_WAITS: WaitSettings = { minDelay: 0.001, maxDelay: 0.005, scale: 0.001 };

export const TEST_IDENTITY = { project: "clinical-platform", environment: "dev" };

/** A resource context against whatever mocks the test installed. `notes` collects progress notes. */
export function testContext(overrides: Partial<ResourceContext> = {}): ResourceContext & { notes: string[] } {
  const notes: string[] = [];
  return {
    aws: new AwsClients({ region: "us-east-1", maxAttempts: 1 }),
    identity: TEST_IDENTITY,
    flags: {},
    waits: TEST_WAITS,
    note: (_id, message) => notes.push(message),
    accountId: "123456789012",
    region: "us-east-1",
    notes,
    ...overrides,
  };
}

/** Standard tags as the stack writes them, for specs in unit tests. */
export function testTags(logicalId: string): Record<string, string> {
  return { Project: "clinical-platform", Environment: "dev", ManagedBy: "platform", "platform:logical-id": logicalId };
}

/**
 * A protected environment's config (staging and prod are PHI) taking the two opt-outs a fake-AWS test without an ACM
 * certificate or a KMS key needs: plain HTTP (loadBalancer.allowPlainHttp) and CloudWatch Logs' AWS-owned key
 * (logs.allowAwsOwnedKey). Everything else about protection (confirmations, immutable tags, no ECS Exec) stays.
 */
export function optingOutOfKeys<T extends Record<string, any>>(config: T): T {
  return { ...config, loadBalancer: { ...config.loadBalancer, allowPlainHttp: true }, logs: { ...config.logs, allowAwsOwnedKey: true } };
}

/** Rewrites config/<env>.json of a temporary project with optingOutOfKeys. */
export function optOutOfKeysIn(cwd: string, ...envs: string[]): void {
  for (const env of envs) {
    const file = path.join(cwd, "config", `${env}.json`);
    writeFileSync(file, JSON.stringify(optingOutOfKeys(JSON.parse(readFileSync(file, "utf8"))), null, 2));
  }
}

/** `config` holding PHI (so protected whatever its name), with optingOutOfKeys; its DataClassification tag follows. */
export function holdingPhi<T extends Record<string, any>>(config: T): T {
  return { ...optingOutOfKeys(config), dataClassification: "PHI", tags: { ...config.tags, DataClassification: "PHI" } };
}
