import { sleep } from "../run/wait-for.js";
import { CloudWatchLogsClient, type FilteredLogEvent, paginateFilterLogEvents } from "@aws-sdk/client-cloudwatch-logs";
import { awsFailure, hasCode } from "../aws/errors.js";
import { AwsFailure, UserError } from "../errors.js";
import type { ResourceContext } from "../resources/types.js";
import { parseTaskStream } from "./environment.js";

/**
 * A service's log events: every stream of the environment's ECS log group under `<service>/` (awslogs names them
 * `<service>/<container>/<task id>`), read with FilterLogEvents page by page and merged across tasks in time order.
 * Following polls again from just before the newest event seen and skips events already shown (by event id), so an
 * event is printed once even when CloudWatch ingests it after a later one.
 */
export interface LogLine {
  timestamp: number;
  taskId: string;
  container: string;
  stream: string;
  message: string;
  eventId: string;
}

/** Seconds between polls of --follow (real world; scaled like every wait). */
export const FOLLOW_INTERVAL_SECONDS = 2;
/** Each poll re-reads this far behind the newest event seen, for events that reach CloudWatch late (awslogs batches). */
const LATE_EVENTS_MS = 5_000;

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "15m", "2h", "1d" (s, m, h, d, w) back from `now`, or an ISO 8601 time; epoch milliseconds. */
export function parseSince(text: string, now = Date.now()): number {
  const relative = /^(\d+)([smhdw])$/.exec(text.trim());
  if (relative) return now - Number(relative[1]) * UNITS[relative[2]!]!;
  const absolute = /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(text.trim()) ? Date.parse(text.trim()) : NaN;
  if (!Number.isNaN(absolute)) return absolute;
  throw new UserError(`--since ${text}: expected a duration such as 30s, 15m, 2h, 1d or 1w, or an ISO 8601 time such as 2025-01-31T08:00:00Z`);
}

function toLine(e: FilteredLogEvent): LogLine {
  const stream = e.logStreamName ?? "";
  const { container, taskId } = parseTaskStream(stream);
  return { timestamp: e.timestamp ?? 0, taskId, container, stream, message: (e.message ?? "").replace(/\r?\n$/, ""), eventId: e.eventId ?? `${stream}/${e.timestamp}/${e.message}` };
}

const byTime = (a: LogLine, b: LogLine) => a.timestamp - b.timestamp || (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0);

/** Every event of the service's streams from `startTime` on, all pages, in time order. */
export async function readLogEvents(ctx: ResourceContext, group: string, service: string, startTime: number): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  try {
    // FilterLogEvents may answer a page with no events but a nextToken (it searches in chunks): keep paging.
    const pages = paginateFilterLogEvents({ client: ctx.aws.get(CloudWatchLogsClient) }, { logGroupName: group, logStreamNamePrefix: `${service}/`, startTime });
    for await (const page of pages) lines.push(...(page.events ?? []).map(toLine));
  } catch (err) {
    if (hasCode(err, "ResourceNotFoundException")) {
      throw new AwsFailure(`reading CloudWatch Logs group (${group})`, "ResourceNotFoundException", `log group ${group} does not exist`, "bring the environment up first (platform up)");
    }
    throw awsFailure(`reading CloudWatch Logs group (${group})`, err);
  }
  return lines.sort(byTime);
}

/**
 * Prints the service's events from `startTime`; with `follow`, keeps polling every FOLLOW_INTERVAL_SECONDS until
 * `signal` aborts. Each event is emitted once.
 */
export async function streamLogs(ctx: ResourceContext, options: { group: string; service: string; startTime: number; follow: boolean; signal?: AbortSignal }, emit: (line: LogLine) => void): Promise<void> {
  const seen = new Map<string, number>();
  let from = options.startTime;
  for (;;) {
    const lines = await readLogEvents(ctx, options.group, options.service, from);
    for (const line of lines) {
      if (seen.has(line.eventId)) continue;
      seen.set(line.eventId, line.timestamp);
      emit(line);
    }
    if (!options.follow || options.signal?.aborted) return;
    const newest = lines.at(-1)?.timestamp;
    if (newest !== undefined) from = Math.max(from, newest - LATE_EVENTS_MS);
    // Ids older than the next read's start cannot come back: forget them, so a long follow stays small.
    for (const [id, timestamp] of seen) if (timestamp < from) seen.delete(id);
    await sleep(FOLLOW_INTERVAL_SECONDS * ctx.waits.scale * 1000, options.signal).catch(() => undefined);
    if (options.signal?.aborted) return;
  }
}
