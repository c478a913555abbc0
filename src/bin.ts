#!/usr/bin/env node
import v8 from "node:v8";

// Memory: most of a command's peak is garbage made while code loads (the AWS SDK above all), not live data. V8 doubles
// the young generation each time it fills; growing it by a factor of 1 instead keeps each command's peak 20-25 MB lower
// (status of the dev stack 84 MB instead of 106-112; docs/benchmark.md). PLATFORM_V8_TUNING=off keeps V8's defaults.
if (process.env.PLATFORM_V8_TUNING !== "off") v8.setFlagsFromString("--semi-space-growth-factor=1");

// The SDK prints a multi-line NodeVersionSupportWarning on every start under Node 20 (SDK releases after January 2027
// need Node 22). platform pins SDK versions that support Node 20 in its lock file, so the warning tells users nothing
// they can act on per run; it is silenced here unless they set the variable themselves, and the README says when to move to Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// Ctrl-C or SIGTERM: start nothing new, let in-flight AWS calls finish, write state, release the lock, exit 130/143.
// A second signal exits at once (the lock is then left behind and reported as held by this pid).
const interrupt = new AbortController();
let signalled: NodeJS.Signals | undefined;
/** Writes a line that must stay in the scrollback: above the live progress view when one is on screen (src/ui/progress.ts). */
let say: (text: string) => void = (text) => {
  process.stderr.write(text);
};
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (signalled) process.exit(sig === "SIGINT" ? 130 : 143);
    signalled = sig;
    say(`\n${sig}: finishing the calls in flight and saving state; press Ctrl-C again to quit at once\n`);
    interrupt.abort();
  });
}

// Output piped into a command that stops reading (`platform cost | head`): stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const { main } = await import("./cli.js");
const { writeAboveLiveView } = await import("./ui/progress.js");
say = (text) => writeAboveLiveView(process.stderr, text);
const code = await main(process.argv.slice(2), undefined, { signal: interrupt.signal });
process.exitCode = signalled ? (signalled === "SIGINT" ? 130 : 143) : code;
