import {
  CreateDBSubnetGroupCommand,
  type DBSubnetGroup,
  DeleteDBSubnetGroupCommand,
  DescribeDBSubnetGroupsCommand,
  ModifyDBSubnetGroupCommand,
} from "@aws-sdk/client-rds";
import { orUndefined } from "../aws/errors.js";
import { tagList } from "../aws/tags.js";
import { single } from "./find.js";
import { applyRdsTags, rdsClient, readRdsTags } from "./rds-tags.js";
import { retryWhile } from "./retry.js";
import { compareFields, compareTags, knownKey, readAfterCreate, type Change, type ResourceContext, type ResourceType } from "./types.js";

export interface DbSubnetGroupSpec {
  /** ≤ 255 letters, digits, periods, underscores, spaces or hyphens, starting with a letter; not "default". RDS stores it lowercase. */
  name: string;
  description: string;
  /** Private subnets in at least two availability zones of one VPC. */
  subnetIds: string[];
  tags: Record<string, string>;
}

export interface DbSubnetGroupAttrs extends DbSubnetGroupSpec {
  arn: string;
  vpcId: string;
  /** "Complete" when every subnet is usable. */
  status: string;
}

const KIND = "RDS DB subnet group";
/** Deleting a group an instance still uses (one being deleted counts until it is gone). */
const IN_USE = ["InvalidDBSubnetGroupStateFault", "InvalidDBSubnetGroupState"];

async function describeByName(ctx: ResourceContext, name: string): Promise<DBSubnetGroup | undefined> {
  const out = await orUndefined(rdsClient(ctx).send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: name })));
  return single(out?.DBSubnetGroups, `DB subnet groups named ${name}`);
}

async function readAttrs(ctx: ResourceContext, g: DBSubnetGroup): Promise<DbSubnetGroupAttrs> {
  return {
    name: g.DBSubnetGroupName!,
    arn: g.DBSubnetGroupArn!,
    description: g.DBSubnetGroupDescription ?? "",
    subnetIds: (g.Subnets ?? []).map((s) => s.SubnetIdentifier!).sort(),
    vpcId: g.VpcId ?? "",
    status: g.SubnetGroupStatus ?? "",
    tags: await readRdsTags(ctx, g.DBSubnetGroupArn!),
  };
}

export async function findDbSubnetGroupByName(ctx: ResourceContext, name: string): Promise<DbSubnetGroupAttrs | undefined> {
  const g = await describeByName(ctx, name);
  // A group deleted between the two reads is gone.
  return g ? orUndefined(readAttrs(ctx, g)) : undefined;
}

async function readBack(ctx: ResourceContext, name: string): Promise<DbSubnetGroupAttrs> {
  return readAfterCreate(ctx, `${KIND} ${name}`, () => findDbSubnetGroupByName(ctx, name));
}

/** Subnets compare as a set. */
const desired = (spec: DbSubnetGroupSpec) => ({ ...spec, name: spec.name.toLowerCase(), subnetIds: [...spec.subnetIds].sort() });

function diff(spec: DbSubnetGroupSpec, actual: DbSubnetGroupAttrs): Change[] {
  return [
    ...compareFields(desired(spec), actual, [
      { field: "name", action: "replace" },
      { field: "description" },
      { field: "subnetIds", note: "an instance keeps its current subnet until it moves (failover, class change)" },
    ]),
    ...compareTags(spec.tags, actual.tags),
  ];
}

async function applyChanges(ctx: ResourceContext, spec: DbSubnetGroupSpec, actual: DbSubnetGroupAttrs, changes: Change[]): Promise<DbSubnetGroupAttrs> {
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  if (fields.has("description") || fields.has("subnetIds")) {
    // ModifyDBSubnetGroup always takes the full subnet list.
    await rdsClient(ctx).send(new ModifyDBSubnetGroupCommand({ DBSubnetGroupName: actual.name, DBSubnetGroupDescription: spec.description, SubnetIds: spec.subnetIds }));
  }
  if (fields.has("tags")) await applyRdsTags(ctx, actual.arn, spec.tags, actual.tags);
  return readBack(ctx, actual.name);
}

export const dbSubnetGroup: ResourceType<DbSubnetGroupSpec, DbSubnetGroupAttrs> = {
  type: "rds:db-subnet-group",

  // The name is the key: the recorded one, else the one create would use.
  async find(ctx, { recorded, wanted }) {
    const name = knownKey(recorded?.name, wanted?.name);
    return name ? findDbSubnetGroupByName(ctx, name) : undefined;
  },

  diff,

  async create(ctx, spec) {
    await rdsClient(ctx).send(
      new CreateDBSubnetGroupCommand({ DBSubnetGroupName: spec.name, DBSubnetGroupDescription: spec.description, SubnetIds: spec.subnetIds, Tags: tagList(spec.tags) }),
    );
    return readBack(ctx, spec.name);
  },

  update: applyChanges,

  async destroy(ctx, actual) {
    // The instance that used the group may still be deleting (its network interfaces go last).
    await retryWhile(ctx, IN_USE, 30 * 60, async () => {
      await orUndefined(rdsClient(ctx).send(new DeleteDBSubnetGroupCommand({ DBSubnetGroupName: actual.name })));
    });
  },

  physicalId: (a) => a.name,
};
