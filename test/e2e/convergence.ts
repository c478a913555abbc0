import { readFileSync } from "node:fs";
import path from "node:path";
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { expect } from "vitest";
import { AwsClients } from "../../src/aws/clients.js";
import { runCli, type CliRun } from "../cli-harness.js";
import type { FakeAws } from "../fakes/index.js";

/**
 * What "converged" and "gone" mean for the whole stack in the fake, checked from AWS's side (every taggable resource,
 * with its tags) and from platform's (state and `status`). Shared by the crash, fault and signal tests.
 */
const ENV = "dev";

export type Run = (args: string[]) => Promise<CliRun>;

/** Every taggable resource the fake holds (all pages of GetResources without filters), with its tags. */
export async function inventory(clients = new AwsClients({ region: "us-east-1", maxAttempts: 1 })): Promise<{ arn: string; tags: Record<string, string> }[]> {
  const client = clients.get(ResourceGroupsTaggingAPIClient);
  const items: { arn: string; tags: Record<string, string> }[] = [];
  let PaginationToken: string | undefined;
  do {
    const out = await client.send(new GetResourcesCommand({ PaginationToken }));
    for (const r of out.ResourceTagMappingList ?? []) items.push({ arn: r.ResourceARN!, tags: Object.fromEntries((r.Tags ?? []).map((t) => [t.Key!, t.Value!])) });
    PaginationToken = out.PaginationToken || undefined;
  } while (PaginationToken);
  return items;
}

/** What AWS creates by itself with a VPC (default security group and its rules, default network ACL): not ours, never tagged. */
function awsDefault(aws: FakeAws, arn: string): boolean {
  const id = arn.split("/").pop()!;
  const group = aws.ec2.securityGroups.get(id);
  if (group) return group.GroupName === "default";
  const acl = aws.ec2.networkAcls.get(id);
  if (acl) return Boolean(acl.IsDefault);
  const rule = aws.ec2.securityGroupRules.get(id);
  if (rule) return aws.ec2.securityGroups.get(rule.GroupId)?.GroupName === "default";
  return false;
}

const stateOf = (cwd: string) => readFileSync(path.join(cwd, "state", `${ENV}.json`), "utf8");

/** After `up`: one of each resource, all tagged, every resource in AWS recorded in state, every state resource in sync. */
export async function expectConverged(aws: FakeAws, cwd: string, run: Run = (args) => runCli(cwd, args), clients?: AwsClients, options: { revisionHistory?: boolean } = {}) {
  const stateText = stateOf(cwd);
  const ours = (await inventory(clients)).filter((r) => !awsDefault(aws, r.arn));
  const untagged = ours.filter((r) => r.tags["platform:logical-id"] === undefined || r.tags.Environment !== ENV);
  expect(untagged.map((r) => r.arn), "resources without the platform:logical-id tag").toEqual([]);
  // After deploys, a task definition's revisions are one resource's history (deploy keeps the previous ones for rollback):
  // with revisionHistory its family counts once. Without it (up alone), a second revision is a duplicate.
  const resourceOf = (arn: string) => (options.revisionHistory ? arn.replace(/(:task-definition\/[^:]+):\d+$/, "$1") : arn);
  const byLogicalId = new Map<string, Set<string>>();
  for (const r of ours) byLogicalId.set(r.tags["platform:logical-id"]!, new Set([...(byLogicalId.get(r.tags["platform:logical-id"]!) ?? []), resourceOf(r.arn)]));
  const duplicates = [...byLogicalId].filter(([, arns]) => arns.size > 1).map(([id, arns]) => [id, [...arns]]);
  expect(duplicates, "logical ids with more than one resource").toEqual([]);
  const recorded = (arn: string) => stateText.includes(arn) || stateText.includes(`"${arn.split(/[/:]/).pop()}"`) || (arn !== resourceOf(arn) && stateText.includes(`"${resourceOf(arn).split("/").pop()}"`));
  const unrecorded = ours.filter((r) => !recorded(r.arn));
  expect(unrecorded.map((r) => r.arn), "resources in AWS that state does not record").toEqual([]);
  // Every resource state records exists and matches the config (status reads each one by its recorded id).
  const status = await run(["status", "--env", ENV, "--json"]);
  expect(status.code, status.stderr).toBe(0);
  const notInSync = (JSON.parse(status.stdout).resources as { logicalId: string; status: string }[]).filter((r) => r.status !== "in-sync");
  expect(notInSync, "resources not in sync").toEqual([]);
}

/** After `down`: nothing of the environment is left (secrets in their recovery window are deleted, not leftovers). */
export async function expectGone(aws: FakeAws, cwd: string, clients?: AwsClients) {
  const left = (await inventory(clients)).filter((r) => r.tags.Environment === ENV);
  const scheduled = new Set([...aws.secretsmanager.secrets.values()].filter((s) => s.deletedDate).map((s) => s.arn));
  // Database snapshots are kept on purpose, with the instance's tags (CopyTagsToSnapshot).
  const snapshot = (arn: string) => /:rds:[^:]*:\d{12}:snapshot:/.test(arn);
  expect(left.filter((r) => !scheduled.has(r.arn) && !snapshot(r.arn)).map((r) => r.arn), "resources of the environment left after down").toEqual([]);
  expect(aws.ec2.vpcs.size + aws.ec2.networkInterfaces.size + aws.ec2.addresses.size, "VPCs, network interfaces, addresses left").toBe(0);
  expect(JSON.parse(stateOf(cwd)).resources).toEqual({});
}
