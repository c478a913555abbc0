import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { MASK, redact, redactDeep, redactingIo } from "../../src/ui/redact.js";

describe("redact", () => {
  const masked: [string, string, string][] = [
    ["an access key id", "The security token AKIAIOSFODNN7EXAMPLE is invalid", `The security token AKIA${MASK} is invalid`],
    ["a temporary access key id", "credentials ASIAY34FZKBOKMUTVV7A expired", `credentials ASIA${MASK} expired`],
    ["a secret access key", "aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here", `aws_secret_access_key ${MASK} here`],
    ["key=value", "connecting with password=hunter2!x and user=app", `connecting with password=${MASK} and user=app`],
    ["an env-style key", "DB_PASSWORD='p@ss w0rd' PGUSER=app", `DB_PASSWORD='${MASK}' PGUSER=app`],
    ["a JSON secret", '{"username":"app","password":"s3cr3t\\"x","port":5432}', `{"username":"app","password":"${MASK}","port":5432}`],
    ["SecretString in an echoed request", 'input: { SecretId: "clinical/db", SecretString: "{\\"password\\":\\"abc\\"}" }', `input: { SecretId: "clinical/db", SecretString: "${MASK}" }`],
    ["a token", "GITHUB_TOKEN=ghp_1234567890abcdefghijklmnopqrstuvwxyz", `GITHUB_TOKEN=${MASK}`],
    ["a secret in an inspected object", "{ client_secret: 'abcdef123456', user: 'app' }", `{ client_secret: '${MASK}', user: 'app' }`],
    ["a SigV4 signature", "Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/ec2/aws4_request, Signature=3f1c0a9e", `Credential=${MASK}, Signature=${MASK}`],
    ["a bearer token", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", `Authorization: Bearer ${MASK}`],
    ["a postgres URL", "could not connect to postgres://app:Xy9%40pw@db.example.com:5432/clinical", `could not connect to postgres://app:${MASK}@db.example.com:5432/clinical`],
    ["a postgresql URL", "DATABASE_URL=postgresql://admin:topsecret@host/db", `DATABASE_URL=postgresql://admin:${MASK}@host/db`],
    [
      "a PEM private key",
      "key: -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1\nabc\n-----END RSA PRIVATE KEY----- done",
      `key: -----BEGIN RSA PRIVATE KEY----- ${MASK} -----END RSA PRIVATE KEY----- done`,
    ],
  ];
  it.each(masked)("masks %s", (_name, text, expected) => {
    expect(redact(text)).toBe(expected);
  });

  const kept: [string, string][] = [
    ["ARNs, ids and names", "secrets.database-credentials arn:aws:secretsmanager:us-east-1:123456789012:secret:clinical-platform-dev/db-AbCdEf vpc-0a1b2c3d4e5f60001"],
    ["secret ARNs and ids named as such", 'secretArn=arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf "SecretId": "clinical/db"'],
    ["client and pagination tokens", "ClientToken=platform-0123456789abcdef NextToken=abc"],
    ["flags and counts", '"manageMasterUserPassword": true, "forceDeleteSecrets": false, password_length=32'],
    ["hex digests (git, sha1)", "lineage 3f786850e387550fdab836ed7e6dc881de23001b serial 12"],
    ["URLs without a password", "https://console.aws.amazon.com/ec2/home?region=us-east-1 postgres://db.example.com:5432/app"],
    ["request ids", "AWS request id 4b8f5a2c-1d3e-4f5a-9b8c-7d6e5f4a3b2c, HTTP 400"],
    ["a secret word followed by prose", "rotating the database password: RDS DB instance x refused the new master password"],
    ["secret names in prose", "openai-api-key: no value yet: supply it with --set-secret openai-api-key; app-secret-key: generated"],
    ["AWS error codes that end in a secret word", "ExpiredToken: The security token included in the request is expired; IncompleteSignature: The request signature does not conform"],
  ];
  it.each(kept)("keeps %s", (_name, text) => {
    expect(redact(text)).toBe(text);
  });

  it("redacts what is written to the CLI's streams, keeping their terminal properties", () => {
    const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    const stderr = new PassThrough();
    let out = "";
    let err = "";
    stdout.on("data", (d) => (out += d));
    stderr.on("data", (d) => (err += d));
    const io = redactingIo({ stdout, stderr, stdin: new PassThrough(), env: {} });
    io.stdout.write("password=abc123\n");
    io.stderr.write(Buffer.from("key AKIAIOSFODNN7EXAMPLE\n"));
    expect(io.stdout.isTTY).toBe(true);
    expect(io.stdout.columns).toBe(120);
    expect(out).toBe(`password=${MASK}\n`);
    expect(err).toBe(`key AKIA${MASK}\n`);
  });
});

describe("redactDeep", () => {
  it("masks secrets in every string of a document, which JSON encoding would otherwise hide behind escaped quotes", () => {
    const doc = { message: `{"password": "hunter2-very-secret"}`, nested: [{ url: "postgres://u:pw-123456@h/db" }], count: 3, ok: true };
    expect(redact(JSON.stringify(doc))).toContain("hunter2-very-secret"); // the stream's redaction alone misses it
    expect(redactDeep(doc)).toEqual({ message: `{"password": "****"}`, nested: [{ url: "postgres://u:****@h/db" }], count: 3, ok: true });
  });
});
