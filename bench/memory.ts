import { readFileSync } from "node:fs";

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * This process's peak resident set size in MB. On Linux it is VmHWM from /proc/self/status, the high-water mark of this
 * process's own memory: process.resourceUsage().maxRSS is not, because Linux carries the parent's RSS at fork into the
 * child's maxRSS across exec, so a process spawned by the benchmark's runner (tsx and the TypeScript compiler, 150 MB or
 * more) would report at least the runner's size. Elsewhere maxRSS is the best there is.
 */
export function peakRssMb(): number {
  try {
    const kb = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (kb) return round1(Number(kb) / 1024);
  } catch {
    // not Linux
  }
  return round1(process.resourceUsage().maxRSS / 1024);
}
