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
