import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A recording proxy between a tool and the AWS-compatible server: every request waits `latencyMs` (the round trip to
 * a nearby region) and is forwarded as is; each is counted by action as a read or a mutating call. Both tools talk to
 * the same proxy, so their counts are comparable.
 */
export interface CallCounts {
  reads: number;
  mutating: number;
  /** "service:Action" (S3: "s3:METHOD ?subresource") → count. */
  byAction: Record<string, number>;
}

const READ = /^(Describe|List|Get|Head|Lookup|Simulate|Check|BatchGet|BatchCheck|Search|Select|Query|Scan|Estimate|Validate)/;

/** The service and action of an AWS request: x-amz-target (JSON), Action= (query), /service/…/operation/X (CBOR), else S3 REST. */
export function classify(method: string, url: string, headers: http.IncomingHttpHeaders, body: Buffer): { action: string; read: boolean } {
  const scope = /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(String(headers.authorization ?? ""))?.[1] ?? "?";
  const target = headers["x-amz-target"];
  let name: string | undefined;
  if (typeof target === "string") name = target.split(".").pop();
  const cbor = /\/service\/[^/]+\/operation\/([A-Za-z]+)/.exec(url);
  if (!name && cbor) name = cbor[1];
  if (!name && String(headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
    name = new URLSearchParams(body.toString("utf8")).get("Action") ?? undefined;
  }
  if (!name && /[?&]Action=/.test(url)) name = new URL(url, "http://x").searchParams.get("Action") ?? undefined;
  if (name) return { action: `${scope}:${name}`, read: READ.test(name) };
  // S3's REST API: the method says whether it reads; the subresource (?tagging, ?policy, …) says what.
  const query = url.includes("?") ? url.slice(url.indexOf("?") + 1).split("&")[0]!.split("=")[0] : "";
  const read = method === "GET" || method === "HEAD";
  return { action: `${scope}:${method}${query ? ` ?${query}` : ""}`, read };
}

export class RecordingProxy {
  counts: CallCounts = { reads: 0, mutating: 0, byAction: {} };
  private server?: http.Server;

  constructor(
    readonly upstream: { host: string; port: number },
    readonly latencyMs: number,
  ) {}

  reset(): CallCounts {
    const before = this.counts;
    this.counts = { reads: 0, mutating: 0, byAction: {} };
    return before;
  }

  async start(): Promise<number> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const { action, read } = classify(req.method ?? "GET", req.url ?? "/", req.headers, body);
        if (read) this.counts.reads++;
        else this.counts.mutating++;
        this.counts.byAction[action] = (this.counts.byAction[action] ?? 0) + 1;
        setTimeout(() => {
          const upstream = http.request(
            { host: this.upstream.host, port: this.upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
            (answer) => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
            },
          );
          upstream.on("error", (err) => {
            res.writeHead(502, { "content-type": "text/plain" });
            res.end(`recording proxy: ${err.message}`);
          });
          upstream.end(body);
        }, this.latencyMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
