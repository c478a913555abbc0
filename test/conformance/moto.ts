/**
 * The conformance harness: a throwaway CA and server certificate, moto (extended by moto_server.py) on a free
 * loopback port over TLS, a recording proxy in front of it, and the real CLI run as a child process.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, request as httpsRequest, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

const REPO = path.resolve(import.meta.dirname, "../..");

/** The CLI's entry: package.json's `bin` when present (a string, or the `platform` entry of an object), else dist/bin.js. */
export function cliEntry(): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === "string" ? pkg.bin : (pkg.bin?.platform ?? Object.values(pkg.bin ?? {})[0]);
  return path.join(REPO, bin ?? "dist/bin.js");
}

/** True when python3 can import moto; the suite refuses to run (never skips) otherwise. */
export function motoImportable(): { ok: boolean; detail: string } {
  const r = spawnSync("python3", ["-c", "import moto; print(moto.__version__)"], { encoding: "utf8" });
  return { ok: r.status === 0, detail: (r.status === 0 ? r.stdout : r.stderr || String(r.error)).trim() };
}

export interface Tls {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A throwaway CA and a certificate it signs for localhost and 127.0.0.1 (openssl; one day, never reused). */
export function makeTls(): Tls {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-conformance-tls-"));
  const f = (n: string) => path.join(dir, n);
  const ssl = (args: string[]) => {
    const r = spawnSync("openssl", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr || r.error}`);
  };
  ssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "1", "-subj", "/CN=platform conformance CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
  ssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=localhost"]);
  writeFileSync(f("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  ssl(["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("server.pem"), "-days", "1", "-extfile", f("ext.cnf")]);
  return { dir, caFile: f("ca.pem"), certFile: f("server.pem"), keyFile: f("server.key") };
}

export interface MotoServer {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts test/conformance/moto_server.py; resolves once it prints the port it listens on. */
export async function startMoto(tls: Tls): Promise<MotoServer> {
  const child = spawn("python3", [path.join(import.meta.dirname, "moto_server.py"), tls.certFile, tls.keyFile], {
    cwd: import.meta.dirname,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const m = /^PORT (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`moto_server.py exited with ${code} before listening:\n${stderr.slice(-4000)}`)));
  });
  return {
    port,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** One call the CLI made, as the proxy saw it. */
export interface RecordedCall {
  service: string;
  action: string;
  status: number;
  mutating: boolean;
  /** The answer moto gave for a failed call (error code), for messages. */
  error?: string;
}

/** What the proxy may do with a call instead of forwarding it: answer with an error, or hold it (and do something else). */
export type Intercept = (call: { service: string; action: string; mutating: boolean }) => { status: number; code: string; message: string; json: boolean } | "hold" | undefined;

export interface Proxy {
  port: number;
  calls: RecordedCall[];
  /** Every action ever seen in this process (the conformance table's record). */
  intercept?: Intercept;
  stop(): Promise<void>;
}

/** Every action any proxy of this test file saw, per service: written out for docs/conformance.md. */
export const seenActions = new Map<string, Set<string>>();

const READ_PREFIXES = ["Describe", "List", "Get", "Head", "Lookup", "Simulate", "Search", "BatchGet", "BatchCheck", "Filter", "Validate", "Estimate"];

export function isMutating(action: string): boolean {
  return !READ_PREFIXES.some((p) => action.startsWith(p));
}

/** The S3 REST operation a request is (the subset the tool uses), from method, path and query. */
export function s3Action(method: string, url: URL, headers: IncomingMessage["headers"]): string {
  const segments = url.pathname.split("/").filter(Boolean);
  const q = url.searchParams;
  const onBucket = segments.length <= 1;
  const sub = ["policy", "publicAccessBlock", "versioning", "encryption", "lifecycle", "logging", "ownershipControls", "tagging", "notification", "acl", "location", "cors", "replication", "object-lock", "accelerate", "uploads"].find((s) => q.has(s));
  const SUB_NAMES: Record<string, string> = {
    policy: "BucketPolicy",
    publicAccessBlock: "PublicAccessBlock",
    versioning: "BucketVersioning",
    encryption: "BucketEncryption",
    lifecycle: "BucketLifecycleConfiguration",
    logging: "BucketLogging",
    ownershipControls: "BucketOwnershipControls",
    tagging: "BucketTagging",
    notification: "BucketNotificationConfiguration",
    acl: "BucketAcl",
    location: "BucketLocation",
    cors: "BucketCors",
    replication: "BucketReplication",
    "object-lock": "ObjectLockConfiguration",
    accelerate: "BucketAccelerateConfiguration",
  };
  if (segments.length === 0 && method === "GET") return "ListBuckets";
  if (onBucket) {
    if (method === "POST" && q.has("delete")) return "DeleteObjects";
    if (sub === "uploads") return "ListMultipartUploads";
    if (sub) {
      const name = SUB_NAMES[sub]!;
      const verb = method === "GET" ? "Get" : method === "PUT" ? "Put" : method === "DELETE" ? "Delete" : method;
      return `${verb}${name === "BucketLifecycleConfiguration" && verb === "Delete" ? "BucketLifecycle" : name}`;
    }
    if (q.has("versions")) return "ListObjectVersions";
    if (method === "GET") return q.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
    if (method === "HEAD") return "HeadBucket";
    if (method === "PUT") return "CreateBucket";
    if (method === "DELETE") return "DeleteBucket";
  }
  if (q.has("tagging")) return method === "GET" ? "GetObjectTagging" : method === "PUT" ? "PutObjectTagging" : "DeleteObjectTagging";
  if (method === "GET") return "GetObject";
  if (method === "HEAD") return "HeadObject";
  if (method === "PUT") return headers["x-amz-copy-source"] ? "CopyObject" : "PutObject";
  if (method === "DELETE") return "DeleteObject";
  return `${method} object`;
}

function serviceOf(headers: IncomingMessage["headers"]): string {
  const auth = String(headers.authorization ?? "");
  return /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? "unknown";
}

function actionOf(service: string, method: string, url: URL, headers: IncomingMessage["headers"], body: Buffer): string {
  const target = headers["x-amz-target"];
  if (target) return String(target).split(".").pop()!;
  const cbor = /\/service\/[^/]+\/operation\/([^/?]+)/.exec(url.pathname);
  if (cbor) return cbor[1]!;
  if (service === "s3") return s3Action(method, url, headers);
  const fromQuery = url.searchParams.get("Action");
  if (fromQuery) return fromQuery;
  const fromBody = /(?:^|&)Action=([^&]+)/.exec(body.toString("utf8"))?.[1];
  if (fromBody) return decodeURIComponent(fromBody);
  return `${method} ${url.pathname}`;
}

function errorBody(service: string, json: boolean, code: string, message: string): { body: string; type: string } {
  if (json) return { body: JSON.stringify({ __type: code, message }), type: "application/x-amz-json-1.1" };
  if (service === "s3") return { body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`, type: "application/xml" };
  if (service === "ec2") return { body: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>injected</RequestID></Response>`, type: "text/xml" };
  return { body: `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>injected</RequestId></ErrorResponse>`, type: "text/xml" };
}

/** An HTTPS proxy (the same certificate) that forwards every call to moto and records service and action. */
export async function startProxy(tls: Tls, motoPort: number): Promise<Proxy> {
  const ca = readFileSync(tls.caFile);
  const held: ServerResponse[] = [];
  const proxy: Proxy = {
    port: 0,
    calls: [],
    stop: () => new Promise((resolve) => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? "/", "https://127.0.0.1");
      const service = serviceOf(req.headers);
      const action = actionOf(service, req.method ?? "GET", url, req.headers, body);
      const mutating = service === "s3" ? !["GET", "HEAD"].includes(req.method ?? "GET") : isMutating(action);
      if (!seenActions.has(service)) seenActions.set(service, new Set());
      seenActions.get(service)!.add(action);
      const call: RecordedCall = { service, action, status: 0, mutating };
      proxy.calls.push(call);
      const verdict = proxy.intercept?.({ service, action, mutating });
      if (verdict === "hold") {
        held.push(res);
        call.status = -1;
        return;
      }
      if (verdict) {
        const json = verdict.json && Boolean(req.headers["x-amz-target"]);
        const { body: errBody, type } = errorBody(service, json, verdict.code, verdict.message);
        call.status = verdict.status;
        call.error = verdict.code;
        res.writeHead(verdict.status, { "content-type": type, "x-amzn-errortype": verdict.code, "x-amzn-requestid": "injected" });
        res.end(errBody);
        return;
      }
      const upstream = httpsRequest(
        { host: "127.0.0.1", port: motoPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${motoPort}` }, ca, servername: "localhost" },
        (up) => {
          call.status = up.statusCode ?? 0;
          const out: Buffer[] = [];
          up.on("data", (c: Buffer) => out.push(c));
          up.on("end", () => {
            const answer = Buffer.concat(out);
            if (call.status >= 400) call.error = /<Code>([^<]+)<\/Code>|"__type"\s*:\s*"([^"]+)"/.exec(answer.toString("utf8"))?.slice(1).find(Boolean) ?? String(call.status);
            const headers = { ...up.headers };
            delete headers["transfer-encoding"];
            headers["content-length"] = String(answer.length);
            res.writeHead(call.status, headers);
            res.end(answer);
          });
        },
      );
      upstream.on("error", (e) => {
        call.status = 599;
        res.destroy(e);
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.port = (server.address() as { port: number }).port;
  return proxy;
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a CLI child: moto behind the proxy, the throwaway CA trusted, waits scaled down. */
export function cliEnv(tls: Tls, proxyPort: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_EXTRA_CA_CERTS: tls.caFile,
    AWS_ENDPOINT_URL: `https://127.0.0.1:${proxyPort}`,
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
    AWS_SECRET_ACCESS_KEY: "conformance-secret-not-real",
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    PLATFORM_WAIT_SCALE: "0.001",
    NO_COLOR: "1",
    ...extra,
  };
}

/** Runs `platform <args>` as a child process; `onSpawn` gets the child (to kill it). */
export function runChild(cwd: string, args: string[], env: NodeJS.ProcessEnv, onSpawn?: (child: ChildProcess) => void): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliEntry(), ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    onSpawn?.(child);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
