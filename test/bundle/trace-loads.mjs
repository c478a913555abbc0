// A Node module hook (`node --import ./trace-loads.mjs ...`) that appends every module URL the process loads to the
// file named by PLATFORM_TRACE_LOADS, one per line. The bundle tests use it to learn which chunks (and so which AWS SDK
// packages) a command loads.
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
      import { appendFileSync } from "node:fs";
      const out = process.env.PLATFORM_TRACE_LOADS;
      export async function load(url, context, next) {
        if (out && url.startsWith("file:")) appendFileSync(out, url + "\\n");
        return next(url, context);
      }
    `),
);
