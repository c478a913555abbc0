import { UserError } from "../errors.js";
import { backendFor } from "../state/index.js";
import { describeLock, isStale } from "../state/lock.js";
import { interactive } from "../ui/io.js";
import { confirm } from "../ui/prompt.js";
import type { CommandContext } from "./runtime.js";

/** `platform state unlock`: shows who holds the lock and removes it after confirmation (or --force). */
export async function stateUnlockCommand(cc: CommandContext, flags: { force?: boolean }): Promise<number> {
  const { config } = cc.loadConfig();
  const backend = backendFor(config, cc.cwd);
  const holder = await backend.readLock();
  if (!holder) {
    cc.say(`${backend.location} is not locked.`);
    return 0;
  }
  cc.say(`Locked by ${describeLock(holder)}${isStale(holder) ? `; expired at ${holder.expiresAt}` : ""}.`);
  if (!flags.force) {
    if (!interactive(cc.io)) throw new UserError("not unlocking: there is no terminal to confirm on; pass --force once you are sure that run is gone");
    if (!(await confirm(cc.io, "Break this lock? Only do this if that run is no longer running."))) return 1;
  }
  await backend.breakLock(holder);
  cc.say(`Unlocked ${backend.location}.`);
  return 0;
}
