// Sizes of the bundle from esbuild's metafile (dist/bundle/meta.json), for the build's summary line, the size check in
// test/bundle/bundle.test.ts and the benchmark.

export const kib = (bytes) => (bytes / 1024).toFixed(0);

/** The JavaScript files of the bundle: path (as the metafile names it, relative to the project) → output record. */
function scripts(metafile) {
  return Object.fromEntries(Object.entries(metafile.outputs).filter(([file]) => file.endsWith(".mjs")));
}

/**
 * Every file a process loads once it has imported the given chunks: their static imports, transitively. Dynamic imports
 * are followed only into chunks whose entry point `follow` accepts (a module the command is known to import).
 */
export function loadedFiles(metafile, start, follow = () => false) {
  const outputs = scripts(metafile);
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file) || !outputs[file]) return;
    seen.add(file);
    for (const i of outputs[file].imports) {
      if (i.external) continue;
      if (i.kind === "import-statement") visit(i.path);
      else if (i.kind === "dynamic-import" && follow(outputs[i.path]?.entryPoint ?? "")) visit(i.path);
    }
  };
  start.forEach(visit);
  return seen;
}

/**
 * totalBytes: every script of the bundle. statusBytes: what `platform status` of the full stack loads (the entry, the
 * status command, the command runtime and every resource type's module, with their static imports). sdkSchemaBytes:
 * the AWS SDK's generated schemas kept in the bundle (the part tree shaking must keep small). clientBytes: per SDK
 * client package.
 */
export function bundleSize(metafile) {
  const outputs = scripts(metafile);
  const entry = Object.keys(outputs).find((file) => outputs[file].entryPoint === "src/bin.ts");
  const statusModules = /^src\/(commands\/(status|runtime)\.ts|cli\.ts|resources\/[\w-]+\.ts|engine\/[\w-]+\.ts)$/;
  const status = loadedFiles(metafile, [entry], (entryPoint) => statusModules.test(entryPoint));
  const clientBytes = {};
  let sdkSchemaBytes = 0;
  for (const o of Object.values(outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(o.inputs)) {
      const client = input.match(/node_modules\/@aws-sdk\/(client-[^/]+)\//)?.[1];
      if (client) clientBytes[client] = (clientBytes[client] ?? 0) + bytesInOutput;
      if (/node_modules\/@aws-sdk\/client-[^/]+\/dist-(es|cjs)\/schemas\//.test(input)) sdkSchemaBytes += bytesInOutput;
    }
  }
  const bytesOf = (files) => [...files].reduce((n, f) => n + outputs[f].bytes, 0);
  return {
    files: Object.keys(outputs).length,
    totalBytes: bytesOf(Object.keys(outputs)),
    statusBytes: bytesOf(status),
    sdkSchemaBytes,
    clientBytes,
  };
}
