/**
 * The memory floor of a full-stack command: a bare Node process that loads every AWS SDK client package platform depends
 * on and creates one client of each, as `up`, `status`, `plan` and `down` of the full stack do, and nothing else. Run by
 * bench/run.ts in a process of its own; prints its peak RSS in MB as JSON.
 *
 *   node <compiled>/bench/sdk-floor.js --root REPO
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { peakRssMb } from "./memory.js";

export interface SdkFloor {
  clients: number;
  /** Peak RSS of the bare process, before any client is loaded. */
  bareRssMb: number;
  /** Peak RSS once every client package is loaded and one client of each is created. */
  peakRssMb: number;
}

async function sdkFloor(root: string): Promise<SdkFloor> {
  const bareRssMb = peakRssMb();
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  const names = Object.keys(pkg.dependencies).filter((n) => n.startsWith("@aws-sdk/client-"));
  for (const name of names) {
    const mod = (await import(name)) as Record<string, unknown>;
    const Client = Object.entries(mod).find(([key, value]) => key.endsWith("Client") && key !== "__Client" && typeof value === "function")?.[1] as
      | (new (config: Record<string, unknown>) => unknown)
      | undefined;
    if (!Client) throw new Error(`${name}: no client class found`);
    new Client({ region: "us-east-1" });
  }
  return { clients: names.length, bareRssMb, peakRssMb: peakRssMb() };
}

const { values } = parseArgs({ options: { root: { type: "string" } } });
if (!values.root) throw new Error("usage: sdk-floor.js --root REPO (bench/run.ts passes it)");
process.stdout.write(JSON.stringify(await sdkFloor(values.root)) + "\n");
