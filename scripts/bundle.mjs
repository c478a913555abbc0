// The shipped build: src/bin.ts bundled by esbuild into dist/bundle/platform.mjs plus chunks that load on demand.
// ESM with code splitting (each command module and each resource implementation is its own dynamic import), the AWS
// SDK's ES modules (`dist-es`, through the `module` field), minified, and the schema plugin below. `npm run build` runs
// it after tsc; the tsc output (dist/*.js) stays for the tests. Writes dist/bundle/meta.json for the size check.
import { build } from "esbuild";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { bundleSize, kib } from "./bundle-size.mjs";
import { sdkSchemaShaking } from "./esbuild-sdk-schemas.mjs";

const root = path.resolve(import.meta.dirname, "..");
// --outdir DIR: build elsewhere (the bundle tests build a fresh copy from the current source).
const at = process.argv.indexOf("--outdir");
const outdir = at > 0 ? path.resolve(process.argv[at + 1]) : path.join(root, "dist", "bundle");
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
  // pg is CommonJS that require()s pg-pool, whose "import" condition is an ES module: bundled with the conditions
  // above, Pool became a module namespace ("Class extends value #<Object> is not a constructor"). Node loads pg (a
  // dependency, installed beside the bundle) itself, only when the local connectivity probe runs.
  external: ["pg"],
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
  // CommonJS dependencies bundled into ES modules (commander, pg, ...) still call require() for Node's own modules.
  banner: { js: 'import{createRequire as __platformRequire}from"node:module";const require=__platformRequire(import.meta.url);' },
  // --no-schema-shaking: without the plugin, to see what it saves (the size check's own test builds this way).
  plugins: process.argv.includes("--no-schema-shaking") ? [] : [sdkSchemaShaking()],
});

writeFileSync(path.join(outdir, "meta.json"), JSON.stringify(result.metafile));
const size = bundleSize(result.metafile);
console.log(
  `${path.relative(root, outdir)}: ${size.files} files, ${kib(size.totalBytes)} KiB; status of the full stack loads ${kib(size.statusBytes)} KiB; ` +
    `AWS SDK schemas ${kib(size.sdkSchemaBytes)} KiB (entry ${path.relative(root, path.join(outdir, "platform.mjs"))})`,
);
