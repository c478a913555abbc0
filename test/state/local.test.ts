import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LocalBackend } from "../../src/state/local.js";
import { emptyState } from "../../src/state/document.js";
import { newLockInfo } from "../../src/state/lock.js";
import { LockHeldError } from "../../src/state/lock.js";
import { StateStore } from "../../src/state/store.js";
import { UserError } from "../../src/errors.js";

const identity = { project: "clinical-platform", environment: "dev", region: "us-east-1", accountId: "123456789012" };

function backend() {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-state-"));
  return { dir, file: path.join(dir, "state", "dev.json"), backend: new LocalBackend(path.join(dir, "state", "dev.json"), dir) };
}

describe("LocalBackend", () => {
  it("writes atomically with mode 0600 and reads back what it wrote", async () => {
    const { file, backend: b } = backend();
    const doc = emptyState(identity);
    await b.write(doc);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await b.read()).toEqual(doc);
    expect(readdirSync(path.dirname(file))).toEqual(["dev.json"]);
    expect(b.location).toBe("state/dev.json");
  });

  it("reports a corrupted state file as bad input, not a crash", async () => {
    const { file, backend: b } = backend();
    await b.write(emptyState(identity));
    writeFileSync(file, "{ half a docu");
    await expect(b.read()).rejects.toThrow(UserError);
    await expect(b.read()).rejects.toThrow(/state\/dev.json: corrupted state/);
  });

  it("reports a foreign JSON file as not a state file", async () => {
    const { file, backend: b } = backend();
    await b.write(emptyState(identity));
    writeFileSync(file, '{"hello":"world"}');
    await expect(b.read()).rejects.toThrow(/not a platform state file/);
  });

  it("lets one run hold the lock; a second run is told who holds it", async () => {
    const { backend: b } = backend();
    const first = await b.lock(newLockInfo("up --env dev"));
    const error = await b.lock(newLockInfo("down --env dev")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).exitCode).toBe(1);
    expect((error as Error).message).toMatch(new RegExp(`locked by .+ \\(pid ${process.pid}\\) running "up --env dev" since`));
    await first.release();
    const second = await b.lock(newLockInfo("down --env dev"));
    await second.release();
    expect(await b.readLock()).toBeUndefined();
  });

  it("waits up to --lock-timeout for the lock", async () => {
    const { backend: b } = backend();
    const first = await b.lock(newLockInfo("up"));
    setTimeout(() => void first.release(), 100);
    const second = await b.lock(newLockInfo("plan"), 5);
    expect(second.info.command).toBe("plan");
    await second.release();
  });

  it("reports an expired lock as stale, and breaks it only on request", async () => {
    const { backend: b } = backend();
    const old = newLockInfo("up --env dev", new Date(Date.now() - 3 * 3600 * 1000));
    await b.lock(old);
    const error = await b.lock(newLockInfo("up")).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/the lock expired at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(1 h 0 min ago\) and looks stale: if that run is gone, run 'platform state unlock --env dev'/);
    await b.breakLock((await b.readLock())!);
    expect(await b.readLock()).toBeUndefined();
  });

  it("does not release a lock that another run took after ours was broken", async () => {
    const { backend: b } = backend();
    const ours = await b.lock(newLockInfo("up"));
    await b.breakLock(ours.info);
    const theirs = await b.lock(newLockInfo("down"));
    await ours.release();
    expect((await b.readLock())?.id).toBe(theirs.info.id);
  });
});

describe("StateStore", () => {
  it("persists every change in order with an increasing serial", async () => {
    const { file, backend: b } = backend();
    const store = new StateStore(b, emptyState(identity));
    await Promise.all([
      store.put("a", { type: "t", physicalId: "a-1", attributes: {}, dependsOn: [] }),
      store.put("b", { type: "t", physicalId: "b-1", attributes: {}, dependsOn: ["a"] }),
    ]);
    await store.remove("a");
    await store.flush();
    const saved = JSON.parse(readFileSync(file, "utf8"));
    expect(saved.serial).toBe(3);
    expect(Object.keys(saved.resources)).toEqual(["b"]);
    expect(existsSync(file)).toBe(true);
  });
});
