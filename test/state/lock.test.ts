import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { describeTime, LockHeldError, newLockInfo, staleReason, withLockId } from "../../src/state/lock.js";

describe("lock messages", () => {
  const now = new Date("2026-12-08T04:00:00.000Z");

  it("says times in UTC, with how far from now", () => {
    expect(describeTime("2026-12-08T03:48:00.123Z", now)).toBe("2026-12-08 03:48:00 UTC (12 min ago)");
    expect(describeTime("2026-12-08T06:00:00.000Z", now)).toBe("2026-12-08 06:00:00 UTC (in 2 h 0 min)");
    expect(describeTime("2026-12-08T01:00:00.000Z", now)).toBe("2026-12-08 01:00:00 UTC (3 h 0 min ago)");
  });

  it("a lock whose process is gone is stale without claiming it expired (its expiry is still ahead)", () => {
    // A pid above Linux's pid_max: no process has it.
    const holder = withLockId({ ...newLockInfo("up --env staging", now), host: hostname(), pid: 4_194_305 });
    expect(staleReason(holder, now)).toBe("that process is no longer running on this host, so the lock is stale");
    const message = new LockHeldError(holder, "state/staging.json").message;
    expect(message).not.toMatch(/expired/);
    expect(message).toMatch(/since 2026-12-08 04:00:00 UTC \(.+\); that process is no longer running on this host, so the lock is stale: run 'platform state unlock --env staging', then run again/);
  });

  it("an expired lock names when it expired, in the past", () => {
    const holder = withLockId({ ...newLockInfo("deploy --config ../other/config/dev.json --service api", new Date(now.getTime() - 3 * 3600_000)), host: "elsewhere" });
    expect(staleReason(holder, now)).toBe("the lock expired at 2026-12-08 03:00:00 UTC (1 h 0 min ago) and looks stale");
    expect(new LockHeldError(holder, "x").message).toMatch(/run 'platform state unlock --config \.\.\/other\/config\/dev\.json'$/);
  });
});
