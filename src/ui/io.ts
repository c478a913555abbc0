import pc from "picocolors";

/** Where a command writes, and whether it may use colour and redraw lines. Tests pass their own. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/** Colour only on a terminal, never with NO_COLOR (any value) or TERM=dumb; --no-color turns it off too. */
export function colorEnabled(io: Io, flag = true): boolean {
  if (!flag) return false;
  if ("NO_COLOR" in io.env && io.env.NO_COLOR !== undefined) return false;
  if (io.env.TERM === "dumb") return false;
  return Boolean(io.stdout.isTTY);
}

export type Colors = ReturnType<typeof pc.createColors>;

export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

/** Can we ask the user a question? */
export function interactive(io: Io): boolean {
  return Boolean(io.stdin.isTTY && io.stdout.isTTY) && io.env.CI !== "true";
}
