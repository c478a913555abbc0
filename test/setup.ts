import "aws-sdk-client-mock-jest/vitest";

// The SDK warns once per process that Node 20 support ends in 2027; the CLI handles this deliberately (see src/cli.ts).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
// Tests never reach real AWS: no credentials lookups, no endpoint from the developer's shell.
process.env.AWS_ACCESS_KEY_ID = "AKIDTEST";
process.env.AWS_SECRET_ACCESS_KEY = "test-secret";
delete process.env.AWS_PROFILE;
// Any client a test forgot to fake fails at once on a closed loopback port, instead of reaching for AWS.
process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:9";

// The CLI imports each resource type's module when the engine first uses it (src/resources/catalog.ts). Tests import
// them all up front, as the stack used to: a test's first `up` would otherwise pay the modules' transform inside its
// own (or its hook's) time limit.
const { loadResourceTypes } = await import("../src/resources/catalog.js");
const { registry } = await import("../src/resources/index.js");
await loadResourceTypes(registry.values());
