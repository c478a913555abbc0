/** One moto + proxy per test file: started in beforeAll, stopped in afterAll. Fails (never skips) without moto. */
import { afterAll, beforeAll } from "vitest";
import { recordActions } from "./record.js";
import { cliEnv, makeTls, motoImportable, runChild, seenActions, startMoto, startProxy, type ChildRun, type MotoServer, type Proxy, type Tls } from "./moto.js";
import type { ChildProcess } from "node:child_process";

export interface Conformance {
  tls: Tls;
  moto: MotoServer;
  proxy: Proxy;
  /** Runs `platform <args>` in `cwd` against moto through the proxy. */
  cli(cwd: string, args: string[], options?: { env?: NodeJS.ProcessEnv; onSpawn?: (child: ChildProcess) => void }): Promise<ChildRun>;
}

export function useMoto(): Conformance {
  const c = {} as Conformance;
  beforeAll(async () => {
    const moto = motoImportable();
    if (!moto.ok) throw new Error(`the conformance suite needs moto for python3 (pip install 'moto[server]==5.2.1'): ${moto.detail}`);
    c.tls = makeTls();
    c.moto = await startMoto(c.tls);
    c.proxy = await startProxy(c.tls, c.moto.port);
    c.cli = (cwd, args, options = {}) => runChild(cwd, args, cliEnv(c.tls, c.proxy.port, options.env), options.onSpawn);
  }, 180_000);
  afterAll(async () => {
    recordActions(seenActions);
    await c.proxy?.stop();
    await c.moto?.stop();
  });
  return c;
}

/** A failed run's output, for assertion messages. */
export const show = (r: ChildRun): string => `exit ${r.code} signal ${r.signal}\n--- stdout\n${r.stdout.length > 9000 ? `${r.stdout.slice(0, 2000)}\n[...]\n` : ""}${r.stdout.slice(-6000)}\n--- stderr\n${r.stderr.slice(-6000)}`;
