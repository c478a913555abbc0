import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { UserError } from "../errors.js";

/**
 * The project folder: the one holding `config/<env>.json`, against which config files and local state
 * (`state/<env>.json`) resolve. Commands find it as git finds `.git`: from the working directory upwards.
 */

/** How a command was told where its project is. */
export interface ProjectLookup {
  /** The working directory. */
  cwd: string;
  /** --config PATH: a project folder, its config/ folder, or one config file. */
  configFlag?: string;
  /** The PLATFORM_HOME environment variable: a project folder. */
  home?: string;
}

export const HOME_VARIABLE = "PLATFORM_HOME";

const HOW_TO_FIX = `run 'platform init --env dev' here to start one, pass --config with the folder holding config/, or set ${HOME_VARIABLE} to that folder`;

/** True when `dir` holds a config/ folder with at least one `<env>.json` (a src/config/ of code does not count). */
export function isProjectFolder(dir: string): boolean {
  const config = path.join(dir, "config");
  if (!isDirectory(config)) return false;
  return readdirSync(config).some((f) => f.endsWith(".json") && f !== "schema.json");
}

/** The nearest folder from `start` upwards that is a project folder, or undefined. */
export function findProjectFolder(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (isProjectFolder(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** What --config PATH names: the project folder when PATH is a folder, a config file otherwise. */
export type ConfigFlag = { kind: "folder"; root: string } | { kind: "file"; file: string };

export function readConfigFlag(flag: string, cwd: string): ConfigFlag {
  const full = path.resolve(cwd, flag);
  if (!isDirectory(full)) return { kind: "file", file: full };
  if (isDirectory(path.join(full, "config"))) return { kind: "folder", root: full };
  if (path.basename(full) === "config") return { kind: "folder", root: path.dirname(full) };
  throw new UserError(`--config ${flag}: no config/ folder in it; pass the folder holding config/, or one config file`);
}

/**
 * The project folder of a command, in this order: --config DIR, PLATFORM_HOME, the nearest project folder from the
 * working directory upwards. With --config FILE: the folder above the file's config/ folder, else the project found
 * as above, else the working directory. Undefined when none is found (see requireProjectFolder).
 */
export function projectFolder(lookup: ProjectLookup): string | undefined {
  const flag = lookup.configFlag ? readConfigFlag(lookup.configFlag, lookup.cwd) : undefined;
  if (flag?.kind === "folder") return flag.root;
  if (flag?.kind === "file" && path.basename(path.dirname(flag.file)) === "config") return path.dirname(path.dirname(flag.file));
  const found = homeFolder(lookup) ?? findProjectFolder(lookup.cwd);
  if (found) return found;
  return flag?.kind === "file" ? lookup.cwd : undefined;
}

/** projectFolder, or a UserError (exit 2) saying how to make or name one. */
export function requireProjectFolder(lookup: ProjectLookup): string {
  const root = projectFolder(lookup);
  if (root) return root;
  throw new UserError(`no platform project in ${lookup.cwd} or any folder above it (none holds config/<env>.json): ${HOW_TO_FIX}`);
}

function homeFolder(lookup: ProjectLookup): string | undefined {
  if (!lookup.home) return undefined;
  const home = path.resolve(lookup.cwd, lookup.home);
  if (!isDirectory(home)) throw new UserError(`${HOME_VARIABLE}=${lookup.home}: no such folder; set it to the folder holding config/, or unset it`);
  if (!isDirectory(path.join(home, "config")) && path.basename(home) === "config") return path.dirname(home);
  return home;
}

function isDirectory(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}
