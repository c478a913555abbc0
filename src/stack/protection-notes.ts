import { isProtected, protectionOptOuts, protectionProblems, protectionReason } from "../config/protection.js";
import type { Config } from "../config/schema.js";
import type { StackBuilder } from "./builder.js";

/** plan: whether the environment is protected, each opt-out it takes (a finding), and what up would refuse. */
export function addProtectionNotes(b: StackBuilder, config: Config): void {
  if (!isProtected(config)) return;
  b.note(`${config.environment} is protected (${protectionReason(config)}): typed confirmations, HTTPS, encrypted logs, immutable tags, no ECS Exec by default`);
  for (const o of protectionOptOuts(config)) b.note(`finding: ${o.field} gives up ${o.givesUp}`);
  for (const p of protectionProblems(config)) b.note(`up and deploy refuse ${p.field}: ${p.message}`);
}
