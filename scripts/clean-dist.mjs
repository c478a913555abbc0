// Empties dist/ before a build, so a module removed from src/ leaves no stale copy behind to be run or packed.
import { rmSync } from "node:fs";
import path from "node:path";

rmSync(path.resolve(import.meta.dirname, "..", "dist"), { recursive: true, force: true });
