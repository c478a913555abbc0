import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Hints and errors name real values (the environment, the bucket, the interface ids), never placeholders such as a
 * literal `--env ENV`. Flag definitions (`.option("--env <name>")`), schema descriptions and comments are not hints.
 */
const SRC = path.resolve(import.meta.dirname, "../src");
const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(path.join(dir, f)).isDirectory() ? files(path.join(dir, f)) : f.endsWith(".ts") ? [path.join(dir, f)] : []));
// A flag followed by an upper-case metavariable, inside a string literal: --env ENV, --image TAG, --bucket NAME.
const PLACEHOLDER = /[`"'][^`"']*--[a-z][a-z-]* [A-Z][A-Z_|]+\b/;
const NOT_A_HINT = /\.option\(|requiredOption\(|\.argument\(|\.describe\(|\.description\(|^\s*(\*|\/\/|\/\*)/;
// `docker login --username AWS`: AWS is the literal user name ECR wants.
const LITERAL = /--username AWS/;

describe("hints", () => {
  it("contain no placeholder metavariables in any message the code builds", () => {
    const found = files(SRC).flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .map((line, i) => [`${path.relative(SRC, f)}:${i + 1}`, line] as const)
        .filter(([, line]) => PLACEHOLDER.test(line) && !NOT_A_HINT.test(line) && !LITERAL.test(line))
        .map(([where, line]) => `${where}: ${line.trim()}`),
    );
    expect(found).toEqual([]);
  });
});
