import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 20_000,
    pool: "forks",
    // vitest runs cores - 1 workers by default: one on CI's 2 cores. The suite waits on timers more than it computes.
    maxWorkers: 3,
    setupFiles: ["test/setup.ts"],
  },
});
