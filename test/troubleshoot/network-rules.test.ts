import { describe, expect, it } from "vitest";
import type { NetworkAclEntry, SecurityGroupRule } from "@aws-sdk/client-ec2";
import { aclDecision, admittingRule, LINUX_EPHEMERAL } from "../../src/troubleshoot/network-rules.js";

const e = (RuleNumber: number, RuleAction: "allow" | "deny", CidrBlock: string, ports?: [number, number], Egress = false): NetworkAclEntry => ({
  RuleNumber,
  RuleAction,
  CidrBlock,
  Egress,
  Protocol: ports ? "6" : "-1",
  ...(ports ? { PortRange: { From: ports[0], To: ports[1] } } : {}),
});
const DENY_ALL = e(32767, "deny", "0.0.0.0/0");

describe("aclDecision: first matching entry by rule number decides each port; nothing matching is denied", () => {
  it.each<[string, NetworkAclEntry[], [number, number], ReturnType<typeof aclDecision>]>([
    ["an allow-all entry", [e(100, "allow", "10.0.0.0/16"), DENY_ALL], [5432, 5432], { allowed: true, rule: 100 }],
    ["a lower-numbered deny before the allow", [e(100, "allow", "10.0.0.0/16"), e(90, "deny", "10.0.2.0/24", [5432, 5432]), DENY_ALL], [5432, 5432], { allowed: false, rule: 90, ports: [5432, 5432] }],
    ["a deny numbered after the allow", [e(100, "allow", "10.0.0.0/16"), e(110, "deny", "10.0.2.0/24", [5432, 5432]), DENY_ALL], [5432, 5432], { allowed: true, rule: 100 }],
    ["no entry for the port: the final deny", [e(100, "allow", "0.0.0.0/0", [443, 443]), DENY_ALL], [5432, 5432], { allowed: false, rule: "*", ports: [5432, 5432] }],
    ["no entries at all (AWS's own * not listed)", [], [5432, 5432], { allowed: false, rule: "*", ports: [5432, 5432] }],
    ["a range covered by two allows", [e(100, "allow", "0.0.0.0/0", [1024, 40000]), e(110, "allow", "0.0.0.0/0", [40001, 65535]), DENY_ALL], LINUX_EPHEMERAL, { allowed: true, rule: 110 }],
    ["a range only partly allowed", [e(100, "allow", "0.0.0.0/0", [49152, 65535]), DENY_ALL], LINUX_EPHEMERAL, { allowed: false, rule: "*", ports: [32768, 49151] }],
    ["an allow holding only part of the peer's range does not count", [e(100, "allow", "10.0.2.0/25"), DENY_ALL], [5432, 5432], { allowed: false, rule: "*", ports: [5432, 5432] }],
    ["a deny touching part of the peer's range counts", [e(90, "deny", "10.0.2.128/25"), e(100, "allow", "10.0.0.0/16"), DENY_ALL], [5432, 5432], { allowed: false, rule: 90, ports: [5432, 5432] }],
    ["a UDP entry is no match for TCP", [{ ...e(100, "allow", "0.0.0.0/0", [5432, 5432]), Protocol: "17" }, DENY_ALL], [5432, 5432], { allowed: false, rule: "*", ports: [5432, 5432] }],
  ])("%s", (_name, entries, ports, want) => {
    expect(aclDecision(entries, false, "10.0.2.0/24", ports)).toEqual(want);
  });

  it("reads only the direction asked about", () => {
    const entries = [e(100, "allow", "0.0.0.0/0", undefined, true), DENY_ALL];
    expect(aclDecision(entries, true, "10.0.2.0/24", [5432, 5432]).allowed).toBe(true);
    expect(aclDecision(entries, false, "10.0.2.0/24", [5432, 5432]).allowed).toBe(false);
  });
});

describe("admittingRule", () => {
  const rule = (over: Partial<SecurityGroupRule>): SecurityGroupRule => ({ SecurityGroupRuleId: "sgr-1", GroupId: "sg-db", IsEgress: false, IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, ...over });
  const peer = { groupIds: ["sg-api"], cidrs: ["10.0.2.0/24", "10.0.3.0/24"] };

  it.each<[string, SecurityGroupRule, boolean]>([
    ["a rule referencing the peer's group", rule({ ReferencedGroupInfo: { GroupId: "sg-api" } }), true],
    ["a rule referencing another group", rule({ ReferencedGroupInfo: { GroupId: "sg-other" } }), false],
    ["a port range holding 5432", rule({ FromPort: 5000, ToPort: 6000, ReferencedGroupInfo: { GroupId: "sg-api" } }), true],
    ["another port", rule({ FromPort: 3306, ToPort: 3306, ReferencedGroupInfo: { GroupId: "sg-api" } }), false],
    ["all traffic (-1)", rule({ IpProtocol: "-1", FromPort: -1, ToPort: -1, ReferencedGroupInfo: { GroupId: "sg-api" } }), true],
    ["a CIDR holding every peer range", rule({ CidrIpv4: "10.0.0.0/16" }), true],
    ["a CIDR holding one peer range", rule({ CidrIpv4: "10.0.2.0/24" }), false],
    ["an egress rule asked as ingress", rule({ IsEgress: true, ReferencedGroupInfo: { GroupId: "sg-api" } }), false],
  ])("%s", (_name, r, admits) => {
    expect(admittingRule([r], "ingress", 5432, peer) !== undefined).toBe(admits);
  });
});
