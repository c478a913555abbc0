import type { Config } from "../config/schema.js";
import { addBudget } from "./budget.js";
import { StackBuilder, type StackFacts } from "./builder.js";
import { addCompute } from "./compute.js";
import { addDatabase } from "./database.js";
import type { Stack } from "./model.js";
import { addLoadBalancer } from "./load-balancer.js";
import { addNetwork } from "./network.js";
import { addProtectionNotes } from "./protection-notes.js";
import { addOperations } from "./operations.js";
import { addSecrets, addSecretWiring } from "./secrets.js";
import { addStorage } from "./storage.js";

/** The desired resource graph for a validated config. Pure: every AWS read it needs comes in through `facts`. */
export function buildStack(config: Config, facts: StackFacts): Stack {
  const b = new StackBuilder(config, facts);
  addSecrets(b, config);
  addNetwork(b, config, facts.availabilityZones);
  addStorage(b, config); // before the database: its instance waits for the RDS log group
  addDatabase(b, config);
  addLoadBalancer(b, config);
  addCompute(b, config);
  addOperations(b, config); // after compute: alarms and the dashboard watch the load balancer, database and services
  addSecretWiring(b, config); // after the database layer: needs data.database.instance
  addBudget(b, config);
  addProtectionNotes(b, config);
  return b.build();
}

export type { StackFacts };
