import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  CreateDBParameterGroupCommand,
  DeleteDBParameterGroupCommand,
  DescribeDBParameterGroupsCommand,
  DescribeDBParametersCommand,
  ListTagsForResourceCommand,
  ModifyDBParameterGroupCommand,
  RDSClient,
  RDSServiceException,
  ResetDBParameterGroupCommand,
} from "@aws-sdk/client-rds";
import { tagList } from "../../src/aws/tags.js";
import { UserError } from "../../src/errors.js";
import { dbParameterGroup, postgresFamily, type DbParameterGroupAttrs } from "../../src/resources/db-parameter-group.js";
import { testContext, testTags } from "../helpers.js";

const rds = mockClient(RDSClient);
const logicalId = "data.database.parameter-group";
const tags = testTags(logicalId);
const NAME = "clinical-platform-dev-postgres16";
const ARN = `arn:aws:rds:us-east-1:123456789012:pg:${NAME}`;
const spec = { name: NAME, family: "postgres16", description: "PostgreSQL parameters", parameters: { "rds.force_ssl": "1" }, tags };
const attrs: DbParameterGroupAttrs = { ...spec, arn: ARN };
const rdsError = (name: string) => new RDSServiceException({ name, message: name, $fault: "client", $metadata: {} });

const groupOut = { DBParameterGroups: [{ DBParameterGroupName: NAME, DBParameterGroupFamily: "postgres16", Description: "PostgreSQL parameters", DBParameterGroupArn: ARN }] };
const param = (ParameterName: string, ParameterValue: string, ApplyType: string, Source = "user") => ({ ParameterName, ParameterValue, ApplyType, Source, IsModifiable: true });

function stubRead(userParams: ReturnType<typeof param>[]) {
  rds.on(DescribeDBParameterGroupsCommand, { DBParameterGroupName: NAME }).resolves(groupOut);
  rds.on(DescribeDBParametersCommand, { DBParameterGroupName: NAME, Source: "user" }).resolves({ Parameters: userParams });
  rds.on(ListTagsForResourceCommand, { ResourceName: ARN }).resolves({ TagList: tagList(tags) });
}

beforeEach(() => rds.reset());

describe("rds:db-parameter-group", () => {
  it("names the family after the PostgreSQL major", () => {
    expect(postgresFamily("16")).toBe("postgres16");
    expect(postgresFamily("16.11")).toBe("postgres16");
    expect(postgresFamily("17.7")).toBe("postgres17");
  });

  it("finds the recorded group with only the parameters set on it (Source user)", async () => {
    stubRead([param("rds.force_ssl", "1", "dynamic")]);
    expect(await dbParameterGroup.find(testContext(), { logicalId, recorded: attrs })).toEqual(attrs);
    expect(rds).toHaveReceivedCommandWith(DescribeDBParametersCommand, { DBParameterGroupName: NAME, Source: "user" });
  });

  it("is absent when the recorded group is gone", async () => {
    rds.on(DescribeDBParameterGroupsCommand).rejects(rdsError("DBParameterGroupNotFoundFault"));
    expect(await dbParameterGroup.find(testContext(), { logicalId, recorded: attrs })).toBeUndefined();
  });

  it("creates the group, then sets rds.force_ssl with apply method immediate because AWS reports it dynamic", async () => {
    rds.on(CreateDBParameterGroupCommand).resolves({});
    rds.on(DescribeDBParametersCommand, { DBParameterGroupName: NAME, Filters: [{ Name: "parameter-name", Values: ["rds.force_ssl"] }] }).resolves({
      Parameters: [param("rds.force_ssl", "1", "dynamic", "engine-default")],
    });
    rds.on(ModifyDBParameterGroupCommand).resolves({});
    stubRead([param("rds.force_ssl", "1", "dynamic")]);
    const created = await dbParameterGroup.create(testContext(), spec, { logicalId });
    expect(rds).toHaveReceivedCommandWith(CreateDBParameterGroupCommand, {
      DBParameterGroupName: NAME,
      DBParameterGroupFamily: "postgres16",
      Description: "PostgreSQL parameters",
      Tags: expect.arrayContaining([{ Key: "platform:logical-id", Value: logicalId }]),
    });
    expect(rds).toHaveReceivedCommandWith(ModifyDBParameterGroupCommand, {
      DBParameterGroupName: NAME,
      Parameters: [{ ParameterName: "rds.force_ssl", ParameterValue: "1", ApplyMethod: "immediate" }],
    });
    expect(created).toEqual(attrs);
  });

  it("sets static parameters with pending-reboot and resets the ones no longer wanted", async () => {
    rds.on(DescribeDBParametersCommand, { DBParameterGroupName: NAME, Filters: [{ Name: "parameter-name", Values: ["shared_preload_libraries", "log_connections"] }] }).resolves({
      Parameters: [param("shared_preload_libraries", "pg_stat_statements", "static"), param("log_connections", "1", "dynamic"), param("unrelated", "x", "static")],
    });
    rds.on(ModifyDBParameterGroupCommand).resolves({});
    rds.on(ResetDBParameterGroupCommand).resolves({});
    stubRead([]);
    const want = { ...spec, parameters: { "rds.force_ssl": "1", shared_preload_libraries: "pg_stat_statements,pg_cron" } };
    const actual = { ...attrs, parameters: { "rds.force_ssl": "1", log_connections: "1" } };
    const changes = dbParameterGroup.diff(want, actual);
    expect(changes).toEqual([expect.objectContaining({ field: "parameters", action: "update", note: expect.stringMatching(/static ones at each instance's next reboot/) })]);
    await dbParameterGroup.update!(testContext(), want, actual, changes);
    expect(rds).toHaveReceivedCommandWith(ModifyDBParameterGroupCommand, {
      Parameters: [{ ParameterName: "shared_preload_libraries", ParameterValue: "pg_stat_statements,pg_cron", ApplyMethod: "pending-reboot" }],
    });
    expect(rds).toHaveReceivedCommandWith(ResetDBParameterGroupCommand, {
      DBParameterGroupName: NAME,
      ResetAllParameters: false,
      Parameters: [{ ParameterName: "log_connections", ApplyMethod: "immediate" }],
    });
  });

  it("sends at most 20 parameters per ModifyDBParameterGroup call", async () => {
    const names = Array.from({ length: 23 }, (_, i) => `p${i}`);
    rds.on(DescribeDBParametersCommand).resolves({ Parameters: names.map((n) => param(n, "0", "dynamic", "engine-default")) });
    rds.on(ModifyDBParameterGroupCommand).resolves({});
    stubRead([]);
    const want = { ...spec, parameters: Object.fromEntries(names.map((n) => [n, "1"])) };
    const actual = { ...attrs, parameters: {} };
    await dbParameterGroup.update!(testContext(), want, actual, dbParameterGroup.diff(want, actual));
    const sizes = rds.commandCalls(ModifyDBParameterGroupCommand).map((c) => c.args[0].input.Parameters!.length);
    expect(sizes).toEqual([20, 3]);
  });

  it("refuses a parameter the family does not have, naming it", async () => {
    rds.on(DescribeDBParametersCommand).resolves({ Parameters: [] });
    const want = { ...spec, parameters: { "rds.force_sssl": "1" } };
    const err = await dbParameterGroup.update!(testContext(), want, attrs, dbParameterGroup.diff(want, attrs)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/family postgres16 has no parameter "rds.force_sssl"/);
    expect(rds).not.toHaveReceivedCommand(ModifyDBParameterGroupCommand);
  });

  it("diffs a family or description change as a replacement", () => {
    const changes = dbParameterGroup.diff({ ...spec, family: "postgres17", description: "new" }, attrs);
    expect(changes.map((c) => [c.field, c.action])).toEqual([
      ["family", "replace"],
      ["description", "replace"],
    ]);
    expect(dbParameterGroup.diff(spec, attrs)).toEqual([]);
  });

  it("deletes, retrying while an instance still uses it, and treats a missing group as deleted", async () => {
    rds.on(DeleteDBParameterGroupCommand).rejectsOnce(rdsError("InvalidDBParameterGroupStateFault")).rejectsOnce(rdsError("DBParameterGroupNotFoundFault"));
    await expect(dbParameterGroup.destroy(testContext(), attrs)).resolves.toBeUndefined();
    expect(rds).toHaveReceivedCommandTimes(DeleteDBParameterGroupCommand, 2);
  });
});
