import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/**
 * Runs a command as a child process and measures what a user would see: wall time, exit code, and the peak resident
 * memory of its whole process tree (Terraform runs its provider as a second process), sampled from /proc every 20 ms
 * as the sum over the tree at each instant. Linux only.
 */
export interface Measured {
  code: number | null;
  wallMs: number;
  /** Peak of the summed VmRSS of the process and its descendants, MB (10^6 bytes). */
  peakTreeMb: number;
  /** The largest number of processes seen at once. */
  processes: number;
  stdout: string;
  stderr: string;
}

const MB = 1e6;

function children(): Map<number, number[]> {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = byParent.get(ppid) ?? [];
      list.push(Number(entry));
      byParent.set(ppid, list);
    } catch {
      // gone between readdir and read
    }
  }
  return byParent;
}

function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function treeRss(root: number): { bytes: number; count: number } {
  const byParent = children();
  let bytes = 0;
  let count = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    const rss = rssBytes(pid);
    if (rss) {
      bytes += rss;
      count++;
    }
    stack.push(...(byParent.get(pid) ?? []));
  }
  return { bytes, count };
}

export function measure(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Measured> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    let peak = 0;
    let processes = 0;
    const sample = () => {
      if (child.pid === undefined) return;
      const { bytes, count } = treeRss(child.pid);
      peak = Math.max(peak, bytes);
      processes = Math.max(processes, count);
    };
    const timer = setInterval(sample, 20);
    const kill = setTimeout(() => child.kill("SIGTERM"), options.timeoutMs ?? 900_000);
    child.on("close", (code) => {
      clearInterval(timer);
      clearTimeout(kill);
      resolve({ code, wallMs: performance.now() - started, peakTreeMb: peak / MB, processes, stdout, stderr });
    });
  });
}
