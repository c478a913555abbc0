/**
 * Regenerates the generated parts of docs/conformance.md from the last conformance run's record
 * (test/conformance/.record/: the actions the proxy saw, the measured call counts) and from moto_patches.py.
 * Run after `npx vitest run test/conformance`: node --import tsx test/conformance/write-doc.ts
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { toolCalls } from "./calls.js";

const DOC = path.resolve(import.meta.dirname, "../../docs/conformance.md");
const RECORD = path.join(import.meta.dirname, ".record");

export function callTable(seen: Record<string, string[]>): string {
  const rows = toolCalls().map((c) => {
    const hit = seen[c.service]?.includes(c.action) ?? false;
    return `| ${c.service} | ${c.action} | ${hit ? "yes" : "**no**"} | ${c.files.join(", ")} |`;
  });
  const calls = toolCalls();
  const hits = calls.filter((c) => seen[c.service]?.includes(c.action)).length;
  return [`${hits} of ${calls.length} calls exercised against moto.`, "", "| service | call | exercised against moto | called from |", "|---|---|---|---|", ...rows].join("\n");
}

export function patchList(): string {
  const py = readFileSync(path.join(import.meta.dirname, "moto_patches.py"), "utf8");
  const out: string[] = [];
  for (const m of py.matchAll(/def (_\w+)\(\) -> None:\n\s+"""\n([\s\S]*?)"""/g)) {
    const text = m[2]!.split("\n").map((l) => l.trim()).filter(Boolean).join(" ");
    out.push(`- \`${m[1]}\`: ${text.replace(/(https:\/\/\S+)/g, "<$1>")}`);
  }
  return out.join("\n");
}

function replaceBetween(doc: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < 0) throw new Error(`docs/conformance.md lacks the ${start} ... ${end} markers`);
  return `${doc.slice(0, i + start.length)}\n${body}\n${doc.slice(j)}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const seen = JSON.parse(readFileSync(path.join(RECORD, "actions.json"), "utf8")) as Record<string, string[]>;
  const measured = existsSync(path.join(RECORD, "measurements.json")) ? (JSON.parse(readFileSync(path.join(RECORD, "measurements.json"), "utf8")) as Record<string, number>) : {};
  let doc = readFileSync(DOC, "utf8");
  doc = replaceBetween(doc, "calls", callTable(seen));
  doc = replaceBetween(doc, "patches", patchList());
  doc = replaceBetween(doc, "counts", Object.entries(measured).map(([k, v]) => `- ${k}: ${v}`).join("\n"));
  writeFileSync(DOC, doc);
  console.log(`wrote ${DOC}`);
}
