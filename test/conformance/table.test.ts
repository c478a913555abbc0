/** docs/conformance.md's call table lists every AWS call src makes (regenerate it with write-doc.ts after a run). */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { toolCalls } from "./calls.js";

it("docs/conformance.md has a row for every AWS call in src", () => {
  const doc = readFileSync(path.resolve(import.meta.dirname, "../../docs/conformance.md"), "utf8");
  const rows = new Set([...doc.matchAll(/^\| (\S+) \| (\w+) \| /gm)].map((m) => `${m[1]}:${m[2]}`));
  const calls = toolCalls();
  expect(calls.length).toBeGreaterThan(100);
  expect(calls.map((c) => `${c.service}:${c.action}`).filter((k) => !rows.has(k))).toEqual([]);
});
