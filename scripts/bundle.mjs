// The shipped build: src/bin.ts bundled by esbuild into dist/bundle/platform.mjs plus chunks that load on demand.
// ESM with code splitting (each command module and each resource implementation is its own dynamic import), the AWS
// SDK's ES modules (`dist-es`, through the `module` field), minified, and the schema plugin below. `npm run build` runs
// it after tsc; the tsc output (dist/*.js) stays for the tests. Writes dist/bundle/meta.json for the size check.
import { build } from "esbuild";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { sdkSchemaShaking } from "./esbuild-sdk-schemas.mjs";

const root = path.resolve(import.meta.dirname, "..");
const outdir = path.join(root, "dist", "bundle");
rmSync(outdir, { recursive: true, force: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { platform: "src/bin.ts" },
  outdir,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  // The SDK's packages publish ES modules under `module` (dist-es) and CommonJS under `main` (dist-cjs); only the
  // ES modules can be tree-shaken.
  mainFields: ["module", "main"],
  conditions: ["module", "import", "node"],
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
  // CommonJS dependencies bundled into ES modules (commander, pg, ...) still call require() for Node's own modules.
  banner: { js: 'import{createRequire as __platformRequire}from"node:module";const require=__platformRequire(import.meta.url);' },
  plugins: [sdkSchemaShaking()],
});

writeFileSync(path.join(outdir, "meta.json"), JSON.stringify(result.metafile));
const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith(".mjs"));
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);
console.log(`dist/bundle: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB (entry dist/bundle/platform.mjs)`);
