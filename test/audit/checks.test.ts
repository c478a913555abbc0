import { describe, expect, it } from "vitest";
import { deniesInsecureTransport } from "../../src/audit/checks.js";

describe("deniesInsecureTransport", () => {
  const deny = { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } };
  it.each([
    ["the platform's policy", { Statement: [deny] }, true],
    ["a boolean condition value and an AWS:* principal", { Statement: [{ ...deny, Principal: { AWS: "*" }, Condition: { Bool: { "aws:SecureTransport": false } } }] }, true],
    ["an Allow instead of a Deny", { Statement: [{ ...deny, Effect: "Allow" }] }, false],
    ["a deny for one action only", { Statement: [{ ...deny, Action: "s3:GetObject" }] }, false],
    ["a deny for one principal only", { Statement: [{ ...deny, Principal: { AWS: "arn:aws:iam::1:root" } }] }, false],
    ["no condition", { Statement: [{ ...deny, Condition: undefined }] }, false],
    ["no policy", undefined, false],
  ])("%s → %s", (_what, policy, expected) => {
    expect(deniesInsecureTransport(policy)).toBe(expected);
  });
});
