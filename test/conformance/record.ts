/** Measurements and seen actions of conformance runs, written under test/conformance/.record/ for docs/conformance.md. */
import { mkdirSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";

const DIR = path.join(import.meta.dirname, ".record");

export function recordMeasurement(name: string, value: number): void {
  mkdirSync(DIR, { recursive: true });
  const file = path.join(DIR, "measurements.json");
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, number>) : {};
  all[name] = value;
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
}

/** Adds the actions a test file's proxy saw to .record/actions.json (service → sorted action names). */
export function recordActions(seen: Map<string, Set<string>>): void {
  mkdirSync(DIR, { recursive: true });
  const file = path.join(DIR, "actions.json");
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, string[]>) : {};
  for (const [service, actions] of seen) all[service] = [...new Set([...(all[service] ?? []), ...actions])].sort();
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
}
