/** What the engine reports while it works; the UI subscribes, resources never print. */
export type Action = "create" | "update" | "replace" | "delete" | "noop" | "read" | "adopt";

export type EngineEvent =
  | { kind: "start"; logicalId: string; type: string; action: Action }
  | { kind: "note"; logicalId: string; message: string }
  | { kind: "done"; logicalId: string; type: string; action: Action; physicalId?: string; elapsedMs: number }
  | { kind: "failed"; logicalId: string; type: string; action: Action; message: string; code?: string; elapsedMs: number }
  | { kind: "skipped"; logicalId: string; type: string; reason: string };

export type EventSink = (event: EngineEvent) => void;
