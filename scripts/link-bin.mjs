// `npx platform` inside this repository runs node_modules/.bin/platform, which this script (run by `prepare` after the
// build) links to dist/bin.js. package.json declares no "bin" on purpose: npm 11's npx, finding a bin of that name in the
// project's own package.json, copies the whole package into its cache and runs the copy instead of the build here.
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const target = path.join(root, "dist", "bin.js");
const binDir = path.join(root, "node_modules", ".bin");
if (!existsSync(target)) throw new Error("dist/bin.js is missing: the build did not run");
chmodSync(target, 0o755);
if (existsSync(path.join(root, "node_modules"))) {
  mkdirSync(binDir, { recursive: true });
  const link = path.join(binDir, "platform");
  rmSync(link, { force: true });
  symlinkSync(path.relative(binDir, target), link);
}
