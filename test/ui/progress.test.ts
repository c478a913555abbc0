import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createProgress } from "../../src/ui/progress.js";
import { colors } from "../../src/ui/io.js";

function stream(columns: number, tty: boolean) {
  const out = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  out.isTTY = tty;
  out.columns = columns;
  let text = "";
  out.on("data", (d) => (text += d));
  return { out, text: () => text };
}
const io = (out: NodeJS.WritableStream) => ({ stdout: out, stderr: new PassThrough(), stdin: new PassThrough(), env: {} });
// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "");

describe("progress", () => {
  it("prints one plain line per event when not on a terminal, and nothing for unchanged resources", () => {
    const s = stream(80, false);
    const p = createProgress(io(s.out), colors(false), { live: false });
    p.onEvent({ kind: "start", logicalId: "network.vpc", type: "ec2:vpc", action: "create" });
    p.onEvent({ kind: "note", logicalId: "network.vpc", message: "waiting for available" });
    p.onEvent({ kind: "done", logicalId: "network.vpc", type: "ec2:vpc", action: "create", physicalId: "vpc-1", elapsedMs: 1234 });
    p.onEvent({ kind: "start", logicalId: "network.subnet.public-a", type: "ec2:subnet", action: "noop" });
    p.onEvent({ kind: "done", logicalId: "network.subnet.public-a", type: "ec2:subnet", action: "noop", elapsedMs: 1 });
    p.onEvent({ kind: "failed", logicalId: "data.bucket.raw", type: "s3:bucket", action: "delete", message: "holds 2 objects", elapsedMs: 5 });
    p.onEvent({ kind: "skipped", logicalId: "network.vpc", type: "ec2:vpc", reason: "dependency data.bucket.raw failed" });
    p.stop();
    expect(s.text()).toBe(
      [
        "network.vpc: creating",
        "network.vpc: waiting for available",
        "✔ network.vpc created vpc-1 1.2s",
        "✖ data.bucket.raw deleting failed: holds 2 objects",
        "- network.vpc not attempted: dependency data.bucket.raw failed",
        "",
      ].join("\n"),
    );
  });

  it("keeps every live line within the terminal's width on a terminal", () => {
    const s = stream(60, true);
    const p = createProgress(io(s.out), colors(true), { live: true });
    p.onEvent({ kind: "start", logicalId: "data.database.instance", type: "rds:db-instance", action: "create" });
    p.onEvent({ kind: "note", logicalId: "data.database.instance", message: "creating PostgreSQL 16 on db.t3.micro: waiting until it is available (usually 5-20 minutes)" });
    p.stop();
    const lines = plain(s.text()).split("\n").filter((l) => l.startsWith("… data.database.instance"));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(59);
    expect(lines.at(-1)).toMatch(/^… data\.database\.instance creating \d\.\ds creating PostgreSQL.*…$/);
  });

  it("on a terminal, keeps each note and finished line in the scrollback and draws nothing while no resource is in progress", () => {
    const s = stream(100, true);
    const p = createProgress(io(s.out), colors(false), { live: true });
    // Nothing in progress: no frame, so nothing that a later redraw could erase (a line the command printed meanwhile).
    expect(s.text()).toBe("");
    p.onEvent({ kind: "start", logicalId: "compute.service.api", type: "ecs:service", action: "create" });
    p.onEvent({ kind: "note", logicalId: "compute.service.api", message: "no image pushed to api yet" });
    p.onEvent({ kind: "note", logicalId: "compute.service.api", message: "no image pushed to api yet" });
    p.onEvent({ kind: "done", logicalId: "compute.service.api", type: "ecs:service", action: "create", physicalId: "api", elapsedMs: 1000 });
    p.stop();
    const kept = plain(s.text()).split("\n").filter((l) => l && !l.startsWith("…"));
    expect(kept).toEqual(["compute.service.api: no image pushed to api yet", "✔ compute.service.api created api 1.0s"]);
  });
});
