import { describe, expect, it } from "vitest";
import { checkSupplied, credentialsJson, PASSWORD_PUNCTUATION, randomString, RULES, secretString } from "../../src/secrets/generate.js";

const many = (n: number, make: () => string) => Array.from({ length: n }, make);

describe("generated values", () => {
  it("database passwords: 32 characters, never one RDS rejects, every class present", () => {
    const values = many(300, () => RULES["database-credentials"].generate!());
    for (const v of values) {
      expect(v).toHaveLength(32);
      expect(v).not.toMatch(/[/@" ]/);
      expect(v).toMatch(/^[A-Za-z0-9\-_.~!*()]+$/);
      expect(v).toMatch(/[a-z]/);
      expect(v).toMatch(/[A-Z]/);
      expect(v).toMatch(/[0-9]/);
      expect(v).toMatch(/[-_.~!*()]/);
      expect(checkSupplied("database-credentials", v)).toBeUndefined();
    }
    expect(new Set(values).size).toBe(values.length);
  });

  it("tokens: 64 letters and digits", () => {
    for (const v of many(200, () => RULES["token-64"].generate!())) {
      expect(v).toMatch(/^[A-Za-z0-9]{64}$/);
      expect(checkSupplied("token-64", v)).toBeUndefined();
    }
  });

  it("passwords: 32 characters of letters, digits and safe punctuation", () => {
    for (const v of many(200, () => RULES["password-32"].generate!())) {
      expect(v).toHaveLength(32);
      expect([...v].every((c) => /[A-Za-z0-9]/.test(c) || PASSWORD_PUNCTUATION.includes(c))).toBe(true);
    }
  });

  it("uses the whole alphabet (uniform draws, not a fixed subset)", () => {
    const seen = new Set(many(400, () => randomString(32, ["ab", "cd"])).join(""));
    expect([...seen].sort().join("")).toBe("abcd");
  });

  it("external secrets have no generator", () => {
    expect(RULES.external.generate).toBeUndefined();
    expect(secretString("external", undefined)).toBeUndefined();
  });

  it("wraps the database password in the credentials template, which never overrides the password", () => {
    const doc = JSON.parse(secretString("database-credentials", { username: "platform_admin", engine: "postgres", port: 5432, dbname: "clinical" })!);
    expect(doc).toEqual({ username: "platform_admin", engine: "postgres", port: 5432, dbname: "clinical", password: expect.stringMatching(/^.{32}$/) });
    expect(JSON.parse(credentialsJson({ password: "old", host: "db" }, "new-password"))).toEqual({ host: "db", password: "new-password" });
  });

  it("uses a supplied value instead of generating one", () => {
    expect(secretString("token-64", undefined, "x".repeat(40))).toBe("x".repeat(40));
    expect(JSON.parse(secretString("database-credentials", { username: "u" }, "Supplied-pass-1")!)).toEqual({ username: "u", password: "Supplied-pass-1" });
  });
});

describe("checks on supplied values", () => {
  const cases: [string, Parameters<typeof checkSupplied>[0], string, RegExp | undefined][] = [
    ["a good database password", "database-credentials", "Good-Pass_123", undefined],
    ["a database password with a slash", "database-credentials", "abc/defgh123", /RDS rejects/],
    ["a database password with an at sign", "database-credentials", "abc@defgh123", /RDS rejects/],
    ["a database password with a double quote", "database-credentials", 'abc"defgh123', /RDS rejects/],
    ["a database password with a space", "database-credentials", "abc defgh123", /RDS rejects/],
    ["a short database password", "database-credentials", "short", /5 characters; at least 8/],
    ["a database password over 128 characters", "database-credentials", "a".repeat(129), /at most 128/],
    ["a database password with a non-ASCII character", "database-credentials", "pässwörd-123", /printable ASCII/],
    ["a short token", "token-64", "abc", /at least 32/],
    ["a token with whitespace", "token-64", `${"a".repeat(40)} b`, /whitespace/],
    ["a short password", "password-32", "abc", /at least 12/],
    ["an empty external value", "external", "   ", /is empty/],
    ["an external value over 64 KiB", "external", "x".repeat(65_537), /65536/],
    ["an external value with spaces", "external", "sk live 123", undefined],
  ];
  it.each(cases)("%s", (_name, rule, value, problem) => {
    const result = checkSupplied(rule, value);
    if (problem) expect(result).toMatch(problem);
    else expect(result).toBeUndefined();
    // The message never quotes the value.
    if (result && value.trim().length > 3) expect(result).not.toContain(value);
  });
});
