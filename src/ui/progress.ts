import { createLogUpdate } from "log-update";
import type { Action, EngineEvent } from "../engine/events.js";
import type { Colors, Io } from "./io.js";

/**
 * Shows engine events. On a terminal: a live view, one line per resource being worked on, redrawn in place,
 * with finished resources printed above it. Elsewhere (CI, pipes): one plain line per event.
 */
export interface ProgressView {
  onEvent(event: EngineEvent): void;
  stop(): void;
}

const VERB: Record<Action, [string, string]> = {
  create: ["creating", "created"],
  update: ["updating", "updated"],
  replace: ["replacing", "replaced"],
  delete: ["deleting", "deleted"],
  noop: ["checking", "unchanged"],
  read: ["reading", "read"],
  adopt: ["adopting", "adopted"],
};

export function createProgress(io: Io, c: Colors, options: { live: boolean; quiet?: boolean }): ProgressView {
  const active = new Map<string, { action: Action; started: number; note?: string }>();
  const write = (line: string) => io.stdout.write(line + "\n");
  const finished = (e: Extract<EngineEvent, { kind: "done" | "failed" | "skipped" }>): string | undefined => {
    if (e.kind === "done") {
      if (e.action === "noop") return undefined;
      return `${c.green("✔")} ${e.logicalId} ${VERB[e.action][1]}${e.physicalId ? ` ${c.dim(e.physicalId)}` : ""} ${c.dim(seconds(e.elapsedMs))}`;
    }
    // Ctrl-C ended its wait: not a failure; AWS carries on with what was asked.
    if (e.kind === "failed" && e.code === "AbortError") return `${c.yellow("■")} ${e.logicalId} ${VERB[e.action][0]} interrupted: AWS carries on with it; the next run picks it up`;
    if (e.kind === "failed") return `${c.red("✖")} ${e.logicalId} ${VERB[e.action][0]} failed: ${e.message}`;
    return `${c.yellow("-")} ${e.logicalId} not attempted: ${e.reason}`;
  };

  if (!options.live) {
    return {
      onEvent(e) {
        if (options.quiet) return;
        if (e.kind === "start") {
          if (e.action !== "noop") write(`${e.logicalId}: ${VERB[e.action][0]}`);
        } else if (e.kind === "note") write(`${e.logicalId}: ${e.message}`);
        else {
          const line = finished(e);
          if (line) write(line);
        }
      },
      stop() {},
    };
  }

  const log = createLogUpdate(io.stdout as NodeJS.WriteStream, { showCursor: false });
  const render = () => {
    const now = Date.now();
    // Each live line fits the terminal: a wrapped line would break the redraw. Notes are cut, never the resource.
    const width = Math.max(40, (io.stdout.columns ?? 100) - 1);
    log(
      [...active]
        .map(([id, a]) => {
          const head = `… ${id} ${VERB[a.action][0]} ${seconds(now - a.started)}`;
          const note = a.note ? ` ${a.note}` : "";
          const room = width - head.length;
          const shown = note.length <= room ? note : room > 1 ? `${note.slice(0, room - 1)}…` : "";
          return `${c.cyan("…")} ${id} ${VERB[a.action][0]} ${c.dim(seconds(now - a.started))}${shown ? c.dim(shown) : ""}`;
        })
        .join("\n"),
    );
  };
  const timer = setInterval(render, 250);
  timer.unref();
  return {
    onEvent(e) {
      if (e.kind === "start") active.set(e.logicalId, { action: e.action, started: Date.now() });
      else if (e.kind === "note") {
        const a = active.get(e.logicalId);
        if (a) a.note = e.message;
      } else {
        active.delete(e.logicalId);
        const line = finished(e);
        if (line) {
          log.clear();
          write(line);
        }
      }
      render();
    },
    stop() {
      clearInterval(timer);
      log.clear();
      log.done();
    },
  };
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}
