import net from "node:net";
import { describe, expect, it } from "vitest";
import { authDecision, classifyPgError, type LocalProbeInput, probeLocal, RDS_CA_BUNDLE, sslOptions } from "../../src/troubleshoot/probe-local.js";

/**
 * The local probe against a real PostgreSQL on loopback, which scripts/test-postgres.sh starts (.ci/run sources it):
 * TLS on with a self-signed certificate, one user admitted with or without TLS, one over TLS only (as RDS with
 * rds.force_ssl=1). Without those variables the tests are skipped, except in CI, where that is a failure.
 */
const env = process.env;
const pg = env.PLATFORM_TEST_PG_HOST
  ? {
      host: env.PLATFORM_TEST_PG_HOST,
      port: Number(env.PLATFORM_TEST_PG_PORT),
      user: env.PLATFORM_TEST_PG_USER!,
      tlsUser: env.PLATFORM_TEST_PG_TLS_USER!,
      password: env.PLATFORM_TEST_PG_PASSWORD!,
      database: env.PLATFORM_TEST_PG_DB!,
      ca: env.PLATFORM_TEST_PG_CA!,
    }
  : undefined;

const SKIP_REASON = "no PostgreSQL for the local probe tests: run `. scripts/test-postgres.sh` first (CI does)";

if (!pg) console.warn(`probe-local.test.ts: ${SKIP_REASON}`);

describe("a test PostgreSQL", () => {
  it.runIf(env.CI === "true")("is running in CI (scripts/test-postgres.sh exported PLATFORM_TEST_PG_*)", () => {
    expect(pg, SKIP_REASON).toBeDefined();
  });
});

function input(overrides: Partial<LocalProbeInput> = {}): LocalProbeInput {
  return { host: pg!.host, port: pg!.port, user: pg!.user, password: pg!.password, credential: "password", database: pg!.database, tls: "verify", caFile: pg!.ca, timeoutMs: 5_000, ...overrides };
}

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe.skipIf(!pg)("the local probe against a real PostgreSQL", () => {
  it("passes with the right password: TCP, TLS with the certificate verified, authentication, SELECT 1", async () => {
    const r = await probeLocal(input());
    expect(r.ok).toBe(true);
    expect(r.evidence[0]).toMatch(new RegExp(`^TCP: connected to 127\\.0\\.0\\.1:${pg!.port} in \\d+ ms$`));
    expect(r.evidence.slice(1)).toEqual([expect.stringMatching(/^TLS: TLSv1\.[23], certificate verified$/), `authenticated as ${pg!.user} to database ${pg!.database}`, "SELECT 1 returned 1"]);
  });

  it("fails with the wrong password, diagnosed as authentication, and never shows a password", async () => {
    const r = await probeLocal(input({ password: "not-the-password" }));
    expect(r).toMatchObject({ ok: false, diagnosis: "authentication", cause: `the server refused user ${pg!.user}'s credentials from the secret` });
    expect(r.evidence.at(-1)).toMatch(/28P01: password authentication failed for user "probe"/);
    expect(JSON.stringify(r)).not.toContain("not-the-password");
    expect(JSON.stringify(r)).not.toContain(pg!.password);
  });

  it("fails on a closed port, diagnosed as network, before any PostgreSQL talk", async () => {
    const port = await closedPort();
    const r = await probeLocal(input({ port }));
    expect(r).toMatchObject({ ok: false, diagnosis: "network", cause: `this machine cannot reach 127.0.0.1:${port}` });
    expect(r.evidence).toEqual([expect.stringMatching(new RegExp(`^TCP connection to 127\\.0\\.0\\.1:${port}: failed: ECONNREFUSED`))]);
    expect(r.fix).toMatch(/--host localhost/);
  });

  it("honours TLS required: the TLS-only user is refused without TLS (diagnosed as such) and admitted with it", async () => {
    const plain = await probeLocal(input({ user: pg!.tlsUser, tls: "off" }));
    expect(plain).toMatchObject({ ok: false, diagnosis: "tls-required", cause: "the server requires TLS and the probe connected without it" });
    expect(plain.evidence.at(-1)).toMatch(/no pg_hba\.conf entry .* no encryption/);
    const secure = await probeLocal(input({ user: pg!.tlsUser }));
    expect(secure.ok).toBe(true);
    expect(secure.evidence).toContain(`authenticated as ${pg!.tlsUser} to database ${pg!.database}`);
  });

  it("refuses a certificate it cannot verify unless told not to check it", async () => {
    const untrusted = await probeLocal(input({ caFile: undefined }));
    expect(untrusted).toMatchObject({ ok: false, diagnosis: "tls-certificate" });
    expect(untrusted.fix).toContain("https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem");
    // Without verification it reaches the server's authentication request, and sends nothing.
    const insecure = await probeLocal(input({ caFile: undefined, tls: "no-verify" }));
    expect(insecure.ok).toBe(true);
    expect(insecure.evidence).toContainEqual(expect.stringMatching(/certificate NOT verified \(--insecure-tls\)/));
    expect(insecure.evidence.at(-1)).toMatch(/^PostgreSQL answered; not logged in: the server asked for scram authentication; no credential is sent over a connection whose server is not verified$/);
    expect(insecure.evidence.join("\n")).not.toMatch(/authenticated as/);
  });

  it("checks the certificate against the endpoint's name when connecting through a tunnel", async () => {
    // The certificate is for localhost and 127.0.0.1: as if tunnelled to an endpoint of another name, it must fail.
    const wrongName = await probeLocal(input({ verifyHostname: "db.example.internal" }));
    expect(wrongName).toMatchObject({ ok: false, diagnosis: "tls-certificate" });
    const rightName = await probeLocal(input({ verifyHostname: "localhost" }));
    expect(rightName.ok).toBe(true);
    expect(rightName.evidence).toContainEqual(expect.stringMatching(/certificate verified for localhost$/));
  });

  it("names a database that does not exist", async () => {
    const r = await probeLocal(input({ database: "no_such_db" }));
    expect(r).toMatchObject({ ok: false, diagnosis: "database" });
  });
});

describe("classifyPgError", () => {
  it.each([
    [{ code: "ECONNREFUSED", message: "connect ECONNREFUSED 10.0.2.5:5432" }, "network"],
    [{ code: "ENOTFOUND", message: "getaddrinfo ENOTFOUND db.example" }, "network"],
    [{ code: "ETIMEDOUT", message: "connect ETIMEDOUT" }, "network"],
    [{ message: "Connection terminated due to connection timeout" }, "network"],
    [{ code: "28P01", message: 'password authentication failed for user "x"' }, "authentication"],
    [{ code: "28000", message: 'no pg_hba.conf entry for host "1.2.3.4", user "x", database "y", SSL off' }, "tls-required"],
    [{ code: "28000", message: 'no pg_hba.conf entry for host "1.2.3.4", user "x", database "y", no encryption' }, "tls-required"],
    [{ code: "28000", message: 'no pg_hba.conf entry for host "1.2.3.4", user "x", database "y", SSL encryption' }, "authentication"],
    [{ message: "The server does not support SSL connections" }, "tls-unavailable"],
    [{ code: "SELF_SIGNED_CERT_IN_CHAIN", message: "self-signed certificate in certificate chain" }, "tls-certificate"],
    [{ code: "3D000", message: 'database "x" does not exist' }, "database"],
    [{ code: "XX000", message: "internal" }, "other"],
  ])("%o is %s", (err, diagnosis) => {
    expect(classifyPgError(Object.assign(new Error(err.message), err))).toBe(diagnosis);
  });
});

describe("what the probe sends, and to whom", () => {
  it("answers the master password only to SCRAM over verified TLS, an IAM token only to RDS's cleartext request over verified TLS", () => {
    expect(authDecision({ tls: "verify", credential: "password" }, "scram")).toBeUndefined();
    expect(authDecision({ tls: "verify", credential: "password" }, "md5")).toMatchObject({ code: "PLATFORM_AUTH_METHOD_REFUSED", message: expect.stringMatching(/asked for MD5 password authentication; the probe sends the master password through SCRAM-SHA-256 only/) });
    expect(authDecision({ tls: "verify", credential: "password" }, "cleartext")).toMatchObject({ code: "PLATFORM_AUTH_METHOD_REFUSED" });
    expect(authDecision({ tls: "verify", credential: "iam-token" }, "cleartext")).toBeUndefined();
    expect(authDecision({ tls: "verify", credential: "iam-token" }, "md5")).toMatchObject({ code: "PLATFORM_AUTH_METHOD_REFUSED" });
    for (const tls of ["no-verify", "off"] as const) {
      for (const method of ["scram", "md5", "cleartext"] as const) expect(authDecision({ tls, credential: "password" }, method)).toMatchObject({ code: "PLATFORM_CREDENTIAL_NOT_SENT" });
    }
    expect(classifyPgError({ code: "PLATFORM_AUTH_METHOD_REFUSED", message: "x" })).toBe("auth-method");
  });

  it("trusts the RDS global CA bundle shipped with the tool, besides Node's store and --ca-file", () => {
    expect(RDS_CA_BUNDLE.length).toBeGreaterThan(50);
    expect(RDS_CA_BUNDLE.every((pem) => pem.includes("BEGIN CERTIFICATE"))).toBe(true);
    const options = sslOptions({ tls: "verify" }) as { ca: string[]; rejectUnauthorized: boolean };
    expect(options.rejectUnauthorized).toBe(true);
    expect(options.ca).toEqual(expect.arrayContaining([...RDS_CA_BUNDLE]));
  });

  it("a server asking for an MD5 password over plain TCP gets no password message at all", async () => {
    // A scripted PostgreSQL: answers the startup message with AuthenticationMD5Password and records what comes back.
    const received: Buffer[] = [];
    const server = net.createServer((socket) => {
      socket.once("data", () => {
        const md5 = Buffer.alloc(13);
        md5.write("R", 0);
        md5.writeInt32BE(12, 1);
        md5.writeInt32BE(5, 5);
        md5.write("salt", 9);
        socket.write(md5);
        socket.on("data", (d) => received.push(d));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as net.AddressInfo;
    try {
      const r = await probeLocal({ host: "127.0.0.1", port, user: "u", password: "the-master-password", credential: "password", database: "d", tls: "off", timeoutMs: 3_000 });
      expect(r.ok).toBe(true);
      expect(r.evidence.at(-1)).toBe("PostgreSQL answered; not logged in: the server asked for md5 authentication; no credential is sent over a connection whose server is not verified");
      // no PasswordMessage ('p') reached the server
      expect(received.filter((b) => b[0] === 0x70)).toEqual([]);
    } finally {
      server.close();
    }
  });
});
