import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AwsClients } from "../../src/aws/clients.js";
import { main } from "../../src/cli.js";
import { memoryIo, tempProject, type CliRun } from "../cli-harness.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";
import { TEST_WAITS } from "../helpers.js";
import { expectConverged } from "./convergence.js";

/**
 * A lost answer: the request reached AWS and ran, the response never came back (a connection reset). The fake answers
 * beneath the SDK's retry middleware, so the SDK retries such a failure exactly as it would against AWS, replaying the
 * request. For every non-idempotent create and every association or entry call `up` makes, the answer to its first call
 * is lost: `up` must still leave exactly one of each resource, recorded in state, and the next plan must be clean.
 */
let aws: FakeAws;
afterEach(() => aws?.restore());

const UP = ["up", "--env", "dev", "--yes"];

function cli(cwd: string) {
  const onClient = aws.cloud.serveBeneathSdkRetry();
  const run = async (args: string[]): Promise<CliRun> => {
    const io = memoryIo();
    const code = await main(args, io, { cwd, waits: TEST_WAITS, aws: { onClient } });
    return { code, stdout: io.out(), stderr: io.err() };
  };
  return { run, clients: new AwsClients({ region: "us-east-1", onClient }) };
}

/** The repository's dev config with a NAT gateway (and so an Elastic IP). */
function withNatGateway(): Record<string, unknown> {
  const dir = path.resolve(import.meta.dirname, "../../config");
  const dev = JSON.parse(readFileSync(path.join(dir, "dev.json"), "utf8")) as { network: Record<string, unknown> };
  dev.network.natGateway = true;
  return { dev };
}

/** How many of each thing the fake holds: every service's maps, and the untagged children inside EC2's tables and ACLs. */
function census(fake: FakeAws): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [service, state] of Object.entries(fake)) {
    if (!state || typeof state !== "object" || service === "cloud") continue;
    for (const [key, member] of Object.entries(state as Record<string, unknown>)) if (member instanceof Map) out[`${service}.${key}`] = member.size;
  }
  const tables = [...fake.ec2.routeTables.values()] as { Routes: unknown[]; Associations: unknown[] }[];
  out["ec2.routes"] = tables.reduce((n, t) => n + t.Routes.length, 0);
  out["ec2.route-table-associations"] = tables.reduce((n, t) => n + t.Associations.length, 0);
  const acls = [...fake.ec2.networkAcls.values()] as { Entries?: unknown[]; Associations?: unknown[] }[];
  out["ec2.network-acl-entries"] = acls.reduce((n, a) => n + (a.Entries?.length ?? 0), 0);
  out["ec2.network-acl-associations"] = acls.reduce((n, a) => n + (a.Associations?.length ?? 0), 0);
  return out;
}

// Non-idempotent creates (no ClientToken, no unique name), then creates keyed by a unique name or value, then the
// association and entry calls: a replay of any of them meets "already exists" / "already associated".
const LOST = [
  "CreateVpc",
  "CreateInternetGateway",
  "AllocateAddress",
  "RegisterTaskDefinition",
  "CreateSubnet",
  "CreateSecurityGroup",
  "CreateRouteTable",
  "CreateNetworkAcl",
  "CreateFlowLogs",
  "AttachInternetGateway",
  "AssociateRouteTable",
  "CreateRoute",
  "CreateNetworkAclEntry",
  "ReplaceNetworkAclAssociation",
  "AuthorizeSecurityGroupIngress",
  "AuthorizeSecurityGroupEgress",
  "CreateLogGroup",
  "CreateRole",
  "CreateBucket",
  "CreateRepository",
  "CreateLoadBalancer",
  "CreateTargetGroup",
  "CreateListener",
  "CreateCluster",
  "CreateService",
  "CreateDBSubnetGroup",
  "CreateDBParameterGroup",
  "CreateDBInstance",
  "CreateSecret",
  "CreateTopic",
  "CreateTrail",
  "CreateBudget",
];

describe("a lost answer leaves no second copy", () => {
  const clean = new Map<boolean, Record<string, number>>();
  const cleanCensus = async (nat = false) => {
    if (clean.has(nat)) return clean.get(nat)!;
    aws = installFakeAws();
    const { run } = cli(tempProject(nat ? withNatGateway() : undefined));
    expect((await run(UP)).code).toBe(0);
    clean.set(nat, census(aws));
    aws.restore();
    return clean.get(nat)!;
  };

  it.each(LOST)("the answer to the first %s is lost: up leaves exactly one of each, state records it, the next plan is clean", async (command) => {
    // Elastic IPs exist only with a NAT gateway.
    const nat = command === "AllocateAddress";
    const expected = nat ? await cleanCensus(true) : await cleanCensus();
    aws = installFakeAws();
    const cwd = tempProject(nat ? withNatGateway() : undefined);
    const { run, clients } = cli(cwd);
    let lost = 0;
    aws.cloud.loseAnswer = (call) => call.command === command && ++lost === 1;
    const up = await run(UP);
    aws.cloud.loseAnswer = undefined;
    expect(lost, `up calls ${command}`).toBeGreaterThan(0);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(census(aws)).toEqual(expected);
    await expectConverged(aws, cwd, run, clients);
    const plan = await run(["plan", "--env", "dev", "--detailed-exitcode"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
  }, 60_000); // two full runs of the stack beneath the SDK's retry middleware
});
