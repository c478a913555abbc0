// `node --import bench/peer/report-hwm.mjs …`: at exit, writes the process's own peak resident memory (VmHWM, Linux) in
// bytes to the file named by PLATFORM_BENCH_HWM. The benchmark loads it into the platform processes it measures, as
// the /proc sampling of a short process can miss its peak.
import { readFileSync, writeFileSync } from "node:fs";

const out = process.env.PLATFORM_BENCH_HWM;
if (out) {
  process.on("exit", () => {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (kb) writeFileSync(out, String(Number(kb) * 1024));
  });
}
