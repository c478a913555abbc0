import { redactDeep } from "../ui/redact.js";
import { namePrefix } from "../config/naming.js";
import { UserError } from "../errors.js";
import { enabledWorkloads } from "../stack/compute.js";
import { parseSince, streamLogs, type LogLine } from "../workloads/logs.js";
import { openEnvironment, type CommandContext } from "./runtime.js";

export interface LogsFlags {
  service: string;
  /** 15m, 2h, 1d or an ISO 8601 time. */
  since: string;
  follow?: boolean;
}

/** `dbt` is what `platform run` calls the dbt runner; its streams are under dbt-runner/. */
const ALIASES: Record<string, string> = { dbt: "dbt-runner" };

/**
 * `platform logs --service api [--since 15m] [--follow]`: the service's log events from the environment's ECS log
 * group, merged across its tasks in time order, one line each: `<ISO time> <task id> <message>` (--json: JSON lines).
 * --follow polls until Ctrl-C (exit 130). Messages are printed as the application wrote them.
 */
export async function logsCommand(cc: CommandContext, flags: LogsFlags): Promise<number> {
  const startTime = parseSince(flags.since);
  const env = await openEnvironment(cc, { command: "logs", lock: false });
  try {
    const service = ALIASES[flags.service] ?? flags.service;
    const known = enabledWorkloads(env.config);
    if (!(known as string[]).includes(service)) throw new UserError(`--service ${flags.service}: ${env.config.environment} has no such service (its workloads: ${known.join(", ")})`);
    const group = `/ecs/${namePrefix(env.config)}`;
    const emit = (line: LogLine) =>
      cc.io.stdout.write(
        cc.opts.json
          ? // Redacted before encoding, as the text line is (src/ui/redact.ts: escaped quotes would hide secrets).
            JSON.stringify(redactDeep({ timestamp: new Date(line.timestamp).toISOString(), taskId: line.taskId, container: line.container, stream: line.stream, message: line.message })) + "\n"
          : `${cc.c.dim(new Date(line.timestamp).toISOString())} ${cc.c.cyan(line.container === service ? line.taskId : `${line.taskId} ${line.container}`)} ${line.message}\n`,
      );
    let count = 0;
    await streamLogs(env.ctx, { group, service, startTime, follow: Boolean(flags.follow), signal: cc.main.signal }, (line) => {
      count += 1;
      emit(line);
    });
    if (!count && !flags.follow) cc.io.stderr.write(`no log events from ${service} in ${group} since ${new Date(startTime).toISOString()}\n`);
    return cc.main.signal?.aborted ? 130 : 0;
  } finally {
    await env.close();
  }
}
