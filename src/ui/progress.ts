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

  // log-update redraws the lines it last wrote, counting back from the cursor: anything else written meanwhile (a
  // command's own line, the SIGINT message) would be taken for part of the view and erased. So the view is on screen
  // only while a resource is in progress, and every line meant to stay is written through `above`: view off, line, view on.
  const log = createLogUpdate(io.stdout as NodeJS.WriteStream, { showCursor: false });
  let shown = false;
  const render = () => {
    if (!active.size) {
      if (shown) log.clear();
      shown = false;
      return;
    }
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
    shown = true;
  };
  /** Writes `text` to stay in the scrollback, above the live lines (which are redrawn below it). */
  const above = (stream: NodeJS.WritableStream, text: string) => {
    if (shown) log.clear();
    shown = false;
    stream.write(text);
    render();
  };
  const timer = setInterval(render, 250);
  timer.unref();
  const view = { above };
  liveViews.add(view);
  return {
    onEvent(e) {
      if (e.kind === "start") active.set(e.logicalId, { action: e.action, started: Date.now() });
      else if (e.kind === "note") {
        const a = active.get(e.logicalId);
        // Notes stay in the scrollback, as they do in a log (the missing-image hint, a final snapshot's name), once each
        // in a row; the live line shows the latest beside the resource.
        if (!a || a.note !== e.message) {
          if (a) a.note = e.message;
          above(io.stdout, `${c.dim(`${e.logicalId}: ${e.message}`)}\n`);
          return;
        }
      } else {
        active.delete(e.logicalId);
        const line = finished(e);
        if (line) {
          above(io.stdout, `${line}\n`);
          return;
        }
      }
      render();
    },
    stop() {
      clearInterval(timer);
      liveViews.delete(view);
      if (shown) log.clear();
      shown = false;
      log.done();
    },
  };
}

/** Live views on screen now (at most one): what bin.ts's signal handler writes goes above them, not into them. */
const liveViews = new Set<{ above: (stream: NodeJS.WritableStream, text: string) => void }>();

/** Writes `text` to `stream` so that it stays in the terminal's scrollback: above the live view when one is on screen. */
export function writeAboveLiveView(stream: NodeJS.WritableStream, text: string): void {
  const [view] = liveViews;
  if (view) view.above(stream, text);
  else stream.write(text);
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}
