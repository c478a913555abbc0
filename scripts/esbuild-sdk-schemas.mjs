// An esbuild plugin that makes the AWS SDK's generated schema files tree-shakable.
//
// Each client's dist-es/schemas/schemas_0.js declares every shape of the service (EC2: 3,404 of them, for 823
// commands) as an array literal, e.g. `export var X$ = [3, n0, _X, 0, [_A], [[0, { [_xN]: _a }]]]`. The member traits are
// object literals with computed keys (`[_xN]`), and esbuild keeps any statement whose object literal has a computed
// key, in case the key's conversion to a string has a side effect, so a plain bundle keeps all of them (550 KB of
// EC2's bundle). The keys are file-level `const _xN = "xmlName"` strings: writing the string in place of the computed
// key (`{ "xmlName": _a }`) gives the same object, and esbuild then drops every shape no kept command reaches.
import { readFile } from "node:fs/promises";

const SCHEMA_FILE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/** The schema file's source with every computed key that names a file-level string constant written as that string. */
export function inlineSchemaKeys(source) {
  const strings = new Map();
  for (const m of source.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)) strings.set(m[1], m[2]);
  let replaced = 0;
  const code = source.replace(/([{,]\s*)\[(_\w+)\]:/g, (all, before, name) => {
    const value = strings.get(name);
    if (value === undefined) return all;
    replaced++;
    return `${before}${value}:`;
  });
  return { code, replaced };
}

export function sdkSchemaShaking() {
  return {
    name: "sdk-schema-shaking",
    setup(build) {
      build.onLoad({ filter: SCHEMA_FILE }, async (args) => {
        const { code } = inlineSchemaKeys(await readFile(args.path, "utf8"));
        return { contents: code, loader: "js" };
      });
    },
  };
}
