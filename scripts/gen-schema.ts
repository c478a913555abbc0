// Writes config/schema.json from the zod schema, so editors complete and check config files.
import { writeFileSync } from "node:fs";
import { configJsonSchema } from "../src/config/json-schema.js";

writeFileSync(new URL("../config/schema.json", import.meta.url), JSON.stringify(configJsonSchema(), null, 2) + "\n");
console.log("wrote config/schema.json");
