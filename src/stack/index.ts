import type { Config } from "../config/schema.js";
import { StackBuilder, type StackFacts } from "./builder.js";
import type { Stack } from "./model.js";
import { addNetwork } from "./network.js";

/** The desired resource graph for a validated config. Pure: every AWS read it needs comes in through `facts`. */
export function buildStack(config: Config, facts: StackFacts): Stack {
  const b = new StackBuilder(config, facts);
  addNetwork(b, config, facts.availabilityZones);
  return b.build();
}

export type { StackFacts };
