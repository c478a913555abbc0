/**
 * `platform` against the in-process fake AWS, in a process of its own with the real terminal: how the live view is
 * checked through a pseudo-terminal (tmux) by test/tty/live-view.test.ts, and how to look at it by hand:
 *
 *   node --import tsx test/tty/fake-cli.ts PROJECT_DIR up --env dev --yes + down --env dev --yes
 *
 * Commands separated by `+` run one after the other against the same fake (the first failing one ends the run; its
 * exit code is the process's). Waits are short, and the fake keeps an RDS instance "creating" for FAKE_RDS_CREATE_MS
 * (default 1500) so that resources stay in progress long enough to be seen. Ctrl-C and SIGTERM are handled as
 * src/bin.ts handles them.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
import { main } from "../../src/cli.js";
import { processIo } from "../../src/ui/io.js";
import { writeAboveLiveView } from "../../src/ui/progress.js";
import { installFakeAws } from "../fakes/index.js";

const [cwd, ...rest] = process.argv.slice(2);
if (!cwd || !rest.length) {
  process.stderr.write("usage: fake-cli.ts PROJECT_DIR COMMAND... [+ COMMAND...]\n");
  process.exit(2);
}
const commands = rest.join(" ").split(" + ").map((c) => c.split(" ").filter(Boolean));

const interrupt = new AbortController();
let signalled: NodeJS.Signals | undefined;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (signalled) process.exit(sig === "SIGINT" ? 130 : 143);
    signalled = sig;
    writeAboveLiveView(process.stderr, `\n${sig}: finishing the calls in flight and saving state; press Ctrl-C again to quit at once\n`);
    interrupt.abort();
  });
}

const ms = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const aws = installFakeAws({ latencyMs: ms("FAKE_LATENCY_MS", 5), provisioningMs: { rdsCreate: ms("FAKE_RDS_CREATE_MS", 1500), rdsDelete: ms("FAKE_RDS_DELETE_MS", 1500) } });
let code = 0;
for (const argv of commands) {
  code = await main(argv, processIo(), { cwd, waits: { minDelay: 0.05, maxDelay: 0.2, scale: 0.002 }, signal: interrupt.signal });
  if (code !== 0 || signalled) break;
}
aws.restore();
process.exitCode = signalled ? (signalled === "SIGINT" ? 130 : 143) : code;
