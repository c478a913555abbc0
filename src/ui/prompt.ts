import type { Io } from "./io.js";

/** Asks a yes/no question on the terminal; the prompt library is loaded only when a question is asked. */
export async function confirm(io: Io, message: string): Promise<boolean> {
  const { default: ask } = await import("@inquirer/confirm");
  return ask({ message, default: false }, { input: io.stdin, output: io.stdout as NodeJS.WritableStream });
}

/** Asks the user to type a word (the environment's name before a prod teardown). */
export async function confirmByTyping(io: Io, message: string, expected: string): Promise<boolean> {
  const { default: input } = await import("@inquirer/input");
  const answer = await input({ message }, { input: io.stdin, output: io.stdout as NodeJS.WritableStream });
  return answer.trim() === expected;
}
