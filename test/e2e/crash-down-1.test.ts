import { crashSuite } from "./crash-harness.js";

// One of CRASH_CHUNKS files per command, so vitest runs the crash points of down on every core (see crash-harness.ts).
await crashSuite("down", 1);
