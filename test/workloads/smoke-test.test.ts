import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { nodeHttpGet, parseSmokeTest, runSmokeTest } from "../../src/workloads/smoke-test.js";

/** The smoke test's own HTTP client and command runner, against a local server and the shell. */
let server: http.Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function serve(status: number): Promise<{ base: string; requests: { path?: string; host?: string }[] }> {
  const requests: { path?: string; host?: string }[] = [];
  server = http.createServer((req, res) => {
    requests.push({ path: req.url, host: req.headers.host });
    res.writeHead(status, status === 302 ? { Location: "/elsewhere" } : {}).end("body");
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return { base: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, requests };
}

const settings = { attempts: 2, pauseMs: 1, requestTimeoutMs: 2000, commandTimeoutMs: 5000, say: () => undefined };

describe("nodeHttpGet", () => {
  it("GETs the URL with the API's host name as Host, and does not follow redirects", async () => {
    const { base, requests } = await serve(302);
    const answer = await nodeHttpGet(`${base}/health?deep=1`, { signal: AbortSignal.timeout(2000), host: "api.example.org" });
    expect(answer).toEqual({ status: 302 });
    expect(requests).toEqual([{ path: "/health?deep=1", host: "api.example.org" }]);
  });
});

describe("runSmokeTest failures", () => {
  it("a server that never answers: 'no answer in N s' (not an abort code)", async () => {
    server = http.createServer(() => undefined); // accepts, never responds
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const base = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
    const failed = await runSmokeTest({ kind: "path", path: "/health" }, base, { ...settings, attempts: 1, requestTimeoutMs: 50, http: nodeHttpGet });
    expect(failed).toBe(`GET ${base}/health failed: no answer in 0.05 s`);
    server!.closeAllConnections();
  });

  it("a closed port: Node's code", async () => {
    const failed = await runSmokeTest({ kind: "path", path: "/health" }, "http://127.0.0.1:9", { ...settings, attempts: 1, http: nodeHttpGet });
    expect(failed).toBe("GET http://127.0.0.1:9/health failed: ECONNREFUSED");
  });
});

describe("runSmokeTest", () => {
  it("a path passes on 2xx and 3xx, and fails naming the status after every attempt", async () => {
    const ok = await serve(204);
    expect(await runSmokeTest({ kind: "path", path: "/health" }, ok.base, { ...settings, http: nodeHttpGet })).toBeUndefined();
    await new Promise<void>((r) => server!.close(() => r()));
    const bad = await serve(500);
    expect(await runSmokeTest({ kind: "path", path: "/health" }, bad.base, { ...settings, http: nodeHttpGet })).toBe(`GET ${bad.base}/health answered 500`);
    expect(bad.requests).toHaveLength(2);
  });

  it("a command passes on exit 0 and sees SMOKE_TEST_URL and SMOKE_TEST_HOST; fails naming its exit code", async () => {
    const lines: string[] = [];
    const say = (line: string) => lines.push(line);
    const check = `node -e "console.log(process.env.SMOKE_TEST_URL + ' ' + process.env.SMOKE_TEST_HOST)"`;
    expect(await runSmokeTest({ kind: "command", command: check }, "http://lb:8443", { ...settings, say, host: "api.example.org", http: nodeHttpGet })).toBeUndefined();
    expect(lines).toEqual(["smoke test: http://lb:8443 api.example.org"]);
    expect(await runSmokeTest({ kind: "command", command: `node -e "process.exit(3)"` }, "http://lb:8443", { ...settings, http: nodeHttpGet })).toBe("smoke test command exited with 3");
  });

  it("parses a path or a command, and refuses an empty value or a path with a space", () => {
    expect(parseSmokeTest("/health")).toEqual({ kind: "path", path: "/health" });
    expect(parseSmokeTest("./smoke.sh --quick")).toEqual({ kind: "command", command: "./smoke.sh --quick" });
    expect(() => parseSmokeTest(" ")).toThrow(/--smoke-test: give a URL path/);
    expect(() => parseSmokeTest("/a b")).toThrow(/--smoke-test \/a b: not a URL path/);
  });
});
