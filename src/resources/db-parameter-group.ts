import {
  CreateDBParameterGroupCommand,
  type DBParameterGroup,
  DeleteDBParameterGroupCommand,
  DescribeDBParameterGroupsCommand,
  ModifyDBParameterGroupCommand,
  type Parameter,
  paginateDescribeDBParameters,
  ResetDBParameterGroupCommand,
} from "@aws-sdk/client-rds";
import { orUndefined } from "../aws/errors.js";
import { tagList } from "../aws/tags.js";
import { UserError } from "../errors.js";
import { single } from "./find.js";
import { applyRdsTags, rdsClient, readRdsTags } from "./rds-tags.js";
import { retryWhile } from "./retry.js";
import { compareFields, compareTags, sameValue, type Change, type ResourceContext, type ResourceType, knownKey, readAfterCreate } from "./types.js";
import { postgresFamily } from "./spec-helpers.js";
export { postgresFamily };

export interface DbParameterGroupSpec {
  /** 1–255 letters, digits or hyphens, starting with a letter, no "--", no trailing hyphen. RDS stores it lowercase. */
  name: string;
  /** "postgres16": see postgresFamily. */
  family: string;
  description: string;
  /** Parameter name → value, for the parameters we set; every other parameter keeps the engine default. */
  parameters: Record<string, string>;
  tags: Record<string, string>;
}

export interface DbParameterGroupAttrs extends DbParameterGroupSpec {
  arn: string;
}

const KIND = "RDS DB parameter group";
/** Deleting a group an instance still uses. */
const IN_USE = ["InvalidDBParameterGroupStateFault", "InvalidDBParameterGroupState"];
/** ModifyDBParameterGroup and ResetDBParameterGroup take at most 20 parameters per call. */
const PER_CALL = 20;

async function describeByName(ctx: ResourceContext, name: string): Promise<DBParameterGroup | undefined> {
  const out = await orUndefined(rdsClient(ctx).send(new DescribeDBParameterGroupsCommand({ DBParameterGroupName: name })));
  return single(out?.DBParameterGroups, `DB parameter groups named ${name}`);
}

/** Parameters of the group, every page; `names` narrows them (the parameter-name filter, re-checked here in case it is ignored). */
async function listParameters(ctx: ResourceContext, name: string, options: { source?: "user"; names?: string[] }): Promise<Parameter[]> {
  const params: Parameter[] = [];
  const input = {
    DBParameterGroupName: name,
    Source: options.source,
    Filters: options.names ? [{ Name: "parameter-name", Values: options.names }] : undefined,
  };
  for await (const page of paginateDescribeDBParameters({ client: rdsClient(ctx) }, input)) params.push(...(page.Parameters ?? []));
  return options.names ? params.filter((p) => options.names!.includes(p.ParameterName!)) : params;
}

async function readAttrs(ctx: ResourceContext, g: DBParameterGroup): Promise<DbParameterGroupAttrs> {
  const name = g.DBParameterGroupName!;
  // Source "user": only what was set on this group; the few hundred engine defaults are not ours to compare.
  const [userParams, tags] = await Promise.all([listParameters(ctx, name, { source: "user" }), readRdsTags(ctx, g.DBParameterGroupArn!)]);
  return {
    name,
    arn: g.DBParameterGroupArn!,
    family: g.DBParameterGroupFamily!,
    description: g.Description ?? "",
    parameters: Object.fromEntries(userParams.map((p) => [p.ParameterName!, p.ParameterValue ?? ""])),
    tags,
  };
}

export async function findDbParameterGroupByName(ctx: ResourceContext, name: string): Promise<DbParameterGroupAttrs | undefined> {
  const g = await describeByName(ctx, name);
  return g ? orUndefined(readAttrs(ctx, g)) : undefined;
}

async function readBack(ctx: ResourceContext, name: string): Promise<DbParameterGroupAttrs> {
  return readAfterCreate(ctx, `${KIND} ${name}`, () => findDbParameterGroupByName(ctx, name));
}

/**
 * "immediate" for dynamic parameters (they take effect on every instance using the group at once), "pending-reboot" for
 * static ones (at each instance's next reboot); AWS rejects "immediate" for a static parameter. The apply type is read
 * from AWS, not assumed: rds.force_ssl, for one, is dynamic.
 */
async function applyMethods(ctx: ResourceContext, spec: DbParameterGroupSpec, groupName: string, names: string[]): Promise<Map<string, "immediate" | "pending-reboot">> {
  const known = new Map((await listParameters(ctx, groupName, { names })).map((p) => [p.ParameterName!, p]));
  const methods = new Map<string, "immediate" | "pending-reboot">();
  for (const name of names) {
    const p = known.get(name);
    if (!p) throw new UserError(`${KIND} ${groupName}: family ${spec.family} has no parameter "${name}"; check its spelling in the database parameters of the config`);
    if (p.IsModifiable === false) throw new UserError(`${KIND} ${groupName}: parameter "${name}" cannot be modified on RDS; remove it from the config`);
    methods.set(name, p.ApplyType === "dynamic" ? "immediate" : "pending-reboot");
  }
  return methods;
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += PER_CALL) out.push(items.slice(i, i + PER_CALL));
  return out;
}

/** Sets what differs and resets to the engine default what we set before but no longer want. */
async function syncParameters(ctx: ResourceContext, spec: DbParameterGroupSpec, groupName: string, have: Record<string, string>): Promise<void> {
  const toSet = Object.entries(spec.parameters).filter(([k, v]) => have[k] !== v);
  const toReset = Object.keys(have).filter((k) => !(k in spec.parameters));
  if (!toSet.length && !toReset.length) return;
  const methods = await applyMethods(ctx, spec, groupName, [...toSet.map(([k]) => k), ...toReset]);
  for (const batch of chunks(toSet)) {
    await rdsClient(ctx).send(
      new ModifyDBParameterGroupCommand({
        DBParameterGroupName: groupName,
        Parameters: batch.map(([ParameterName, ParameterValue]) => ({ ParameterName, ParameterValue, ApplyMethod: methods.get(ParameterName) })),
      }),
    );
  }
  for (const batch of chunks(toReset)) {
    await rdsClient(ctx).send(
      new ResetDBParameterGroupCommand({
        DBParameterGroupName: groupName,
        ResetAllParameters: false,
        Parameters: batch.map((ParameterName) => ({ ParameterName, ApplyMethod: methods.get(ParameterName) })),
      }),
    );
  }
}

const desired = (spec: DbParameterGroupSpec) => ({ ...spec, name: spec.name.toLowerCase() });

function parameterChange(spec: DbParameterGroupSpec, actual: DbParameterGroupAttrs): Change[] {
  if (sameValue(spec.parameters, actual.parameters)) return [];
  return [
    {
      field: "parameters",
      from: actual.parameters,
      to: spec.parameters,
      action: "update",
      note: "dynamic parameters apply at once; static ones at each instance's next reboot",
    },
  ];
}

function diff(spec: DbParameterGroupSpec, actual: DbParameterGroupAttrs): Change[] {
  return [
    // Neither the family nor the description of a parameter group can change.
    ...compareFields(desired(spec), actual, [
      { field: "name", action: "replace" },
      { field: "family", action: "replace" },
      { field: "description", action: "replace" },
    ]),
    ...parameterChange(spec, actual),
    ...compareTags(spec.tags, actual.tags),
  ];
}

async function applyChanges(ctx: ResourceContext, spec: DbParameterGroupSpec, actual: DbParameterGroupAttrs, changes: Change[]): Promise<DbParameterGroupAttrs> {
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  if (fields.has("parameters")) await syncParameters(ctx, spec, actual.name, actual.parameters);
  if (fields.has("tags")) await applyRdsTags(ctx, actual.arn, spec.tags, actual.tags);
  return readBack(ctx, actual.name);
}

export const dbParameterGroup: ResourceType<DbParameterGroupSpec, DbParameterGroupAttrs> = {
  type: "rds:db-parameter-group",

  // The name is the key: the recorded one, else the one create would use.
  async find(ctx, { recorded, wanted }) {
    const name = knownKey(recorded?.name, wanted?.name);
    return name ? findDbParameterGroupByName(ctx, name) : undefined;
  },

  diff,

  async create(ctx, spec) {
    await rdsClient(ctx).send(
      new CreateDBParameterGroupCommand({ DBParameterGroupName: spec.name, DBParameterGroupFamily: spec.family, Description: spec.description, Tags: tagList(spec.tags) }),
    );
    await syncParameters(ctx, spec, spec.name, {});
    return readBack(ctx, spec.name);
  },

  update: applyChanges,

  async destroy(ctx, actual) {
    // The instance that used the group may still be deleting.
    await retryWhile(ctx, IN_USE, 30 * 60, async () => {
      await orUndefined(rdsClient(ctx).send(new DeleteDBParameterGroupCommand({ DBParameterGroupName: actual.name })));
    });
  },

  physicalId: (a) => a.name,
};
