import path from "node:path";
import type { Config } from "../config/schema.js";
import type { StateBackend } from "./backend.js";
import { LocalBackend } from "./local.js";

/** The backend an environment's config names; local `state/<env>.json` by default. */
export function backendFor(config: Config, cwd = process.cwd()): StateBackend {
  return new LocalBackend(path.join(cwd, "state", `${config.environment}.json`), cwd);
}
