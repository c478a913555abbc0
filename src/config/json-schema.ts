import { z } from "zod";
import { ConfigSchema } from "./schema.js";

/** The JSON Schema of config files, generated from the same zod source that validates them. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { ...schema, title: "platform environment config" };
}
