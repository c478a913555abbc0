import { z } from "zod";
import { ConfigSchema } from "../src/config/schema.js";

/** Optional parts switched on when the schema has them; missing paths are skipped, so layers can land later. */
const EXPLICIT_TOGGLES: [string, unknown][] = [
  ["network.natGateway", true],
  ["network.flowLogs.enabled", true],
  ["services.worker.enabled", true],
  ["services.containerInsights", true], // as prod runs it
  ["database.enhancedMonitoringInterval", 60], // adds the enhanced-monitoring IAM role
  ["audit.dataEvents", true], // as prod runs it
  ["github.repository", "acme/clinical"], // adds the OIDC provider and the GitHub Actions role
  ["bi.principalArns", ["arn:aws:iam::123456789012:role/analyst"]], // bi.enabled needs a principal
  ["alarms.email", ["oncall@example.org"]], // adds an alarm subscription
  ["services.api.deployment.strategy", "blue-green"], // adds the green slot, its target group and the test listener, as prod runs it
];
/** Besides those: every boolean named `enabled`, and every boolean under these sections (not guards such as deletionProtection). */
const TOGGLE_SECTIONS = ["monitoring"];

/** `--set` overrides for every optional part the current schema knows. */
export function toggleSets(schema: z.ZodType = ConfigSchema): string[] {
  const fields = new Map<string, string>();
  const walk = (s: z.ZodType, at: string[]) => {
    const inner = unwrap(s);
    if (inner instanceof z.ZodObject) for (const [k, v] of Object.entries(inner.shape)) walk(v as z.ZodType, [...at, k]);
    else fields.set(at.join("."), (inner._zod.def as { type: string }).type);
  };
  walk(schema, []);
  const sets: string[] = [];
  for (const [key, value] of EXPLICIT_TOGGLES) {
    const type = Array.isArray(value) ? "array" : typeof value;
    if (fields.get(key) === type || (type === "string" && fields.get(key) === "enum")) sets.push(`${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
  for (const [key, type] of fields) {
    if (type !== "boolean" || sets.some((s) => s.startsWith(`${key}=`))) continue;
    if (key.endsWith(".enabled") || TOGGLE_SECTIONS.includes(key.split(".")[0]!)) sets.push(`${key}=true`);
  }
  return sets;
}

function unwrap(s: z.ZodType): z.ZodType {
  for (let i = 0; i < 20; i++) {
    const def = s._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if (def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else break;
  }
  return s;
}
