import { UserError } from "../errors.js";
import { backendFor } from "../state/index.js";
import { awsClientsFor, type CommandContext } from "./runtime.js";

/** `platform outputs [NAME]`: recorded outputs from state, as `terraform output` prints them. No AWS call but reading S3 state. */
export async function outputsCommand(cc: CommandContext, name: string | undefined): Promise<number> {
  const { config } = cc.loadConfig();
  const backend = await backendFor(config, awsClientsFor(cc, config), cc.root);
  const state = await backend.read();
  const outputs = state?.outputs ?? {};
  if (name !== undefined) {
    if (!(name in outputs)) {
      const known = Object.keys(outputs);
      throw new UserError(`no output named "${name}"${known.length ? ` (outputs: ${known.join(", ")})` : `: ${config.environment} has no outputs yet; run 'platform up --env ${config.environment}'`}`);
    }
    if (cc.opts.json) cc.json(outputs[name]);
    else cc.io.stdout.write(`${typeof outputs[name] === "string" ? outputs[name] : JSON.stringify(outputs[name])}\n`);
    return 0;
  }
  if (cc.opts.json) {
    cc.json(outputs);
    return 0;
  }
  if (!Object.keys(outputs).length) {
    cc.say(`${config.environment} has no outputs yet; run 'platform up --env ${config.environment}'.`);
    return 0;
  }
  const width = Math.max(...Object.keys(outputs).map((k) => k.length));
  for (const [k, v] of Object.entries(outputs)) cc.io.stdout.write(`${k.padEnd(width)} = ${typeof v === "string" ? v : JSON.stringify(v)}\n`);
  return 0;
}
