// Run by `prepare` after the build. package.json's "bin" is the one place that says which file is the command; this
// script makes that file executable and links node_modules/.bin/platform to it, so `npx platform` inside the checkout
// runs the build here (a link, never a copy: rebuilding is enough, nothing goes stale). `npm install -g .`, `npm link`
// and installing a packed tarball link the same "bin" entry themselves.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const { bin } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
for (const [name, file] of Object.entries(bin ?? {})) {
  const target = path.join(root, file);
  if (!existsSync(target)) throw new Error(`${file} (the "${name}" command in package.json's bin) is missing: the build did not make it`);
  chmodSync(target, 0o755);
  if (!existsSync(path.join(root, "node_modules"))) continue; // installed without dependencies: nothing to link into
  const binDir = path.join(root, "node_modules", ".bin");
  mkdirSync(binDir, { recursive: true });
  const link = path.join(binDir, name);
  rmSync(link, { force: true });
  symlinkSync(path.relative(binDir, target), link);
}
