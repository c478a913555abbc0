import type { Config } from "../config/schema.js";
import { NAME_LIMITS, physicalName } from "../config/naming.js";
import { UserError } from "../errors.js";
import { type DbInstanceSpec } from "../resources/db-instance.js";
import { postgresFamily } from "../resources/spec-helpers.js";
import { dbInstance, dbParameterGroup, dbSubnetGroup, iamRole } from "../resources/catalog.js";
import type { StackBuilder } from "./builder.js";
import { ref, type Unresolved } from "./model.js";
import { ids as network, PRIVATE_SUBNETS } from "./network.js";

/** The database holds clinical records: it, its snapshots and its restores are classified PHI. */
export const DATABASE_CLASSIFICATION = "PHI";

export const dbIds = {
  subnetGroup: "data.database.subnet-group",
  parameterGroup: "data.database.parameter-group",
  monitoringRole: "data.database.monitoring-role",
  instance: "data.database.instance",
} as const;

/** The credentials secret (the secrets layer adds it): its JSON value holds the master password the instance starts with. */
export const DATABASE_CREDENTIALS_SECRET = "secrets.database-credentials";

/** AWS's managed policy for RDS enhanced monitoring (publishes OS metrics to CloudWatch Logs' RDSOSMetrics group). */
export const ENHANCED_MONITORING_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole";

/** Parameters set on the instance's parameter group. rds.force_ssl: clients must use TLS (dynamic: applies without a reboot). */
export const DATABASE_PARAMETERS: Record<string, string> = { "rds.force_ssl": "1" };

/**
 * CloudWatch Logs exports: the PostgreSQL log, into the group the stack makes first (retention and tags ours). Not the
 * upgrade log: RDS would make its group itself on the first upgrade, untagged and never expiring, and `down` could not
 * prove it ours; upgrade logs stay readable in RDS's own log files (console, DescribeDBLogFiles).
 */
export const DATABASE_LOG_EXPORTS = ["postgresql"];

/** RDS identifiers and parameter group names: letters, digits and single hyphens, starting with a letter, not ending with a hyphen. */
function rdsName(config: Config, role: string, limit: number): string {
  const name = physicalName(config, role, limit);
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) {
    throw new UserError(`the database name ${name} (from project and environment) is not one RDS accepts: no two hyphens in a row; change project or environment`);
  }
  return name;
}

/** The instance identifier the config gives: `<project>-<env>-db`. */
export function configuredDatabaseIdentifier(config: Config): string {
  return rdsName(config, "db", NAME_LIMITS.rdsIdentifier);
}

/** `-r` and a UTC time to the second: what `db restore` appends to the configured identifier. */
const RESTORED_SUFFIX = /^-r\d{14}$/;

/**
 * `<configured identifier>-r<yyyymmddhhmmss>`: the instance `db restore` makes, named after the restore point (the
 * snapshot's creation time or the --to-time), so a rerun of the same restore finds the instance instead of making another.
 */
export function restoredDatabaseIdentifier(config: Config, restorePoint: Date): string {
  const id = `${configuredDatabaseIdentifier(config)}-r${restorePoint.toISOString().replace(/\D/g, "").slice(0, 14)}`;
  if (id.length > NAME_LIMITS.rdsIdentifier) throw new UserError(`the restored database's identifier ${id} is longer than RDS's 63 characters; shorten project or environment`);
  return id;
}

/**
 * The identifier the stack's instance has: the one state records when it is the configured one or a restore of it
 * (`db restore` pointed the stack at it), else the configured one (a renamed project still means a new instance).
 */
export function servingDatabaseIdentifier(config: Config, recorded: string | undefined): string {
  const configured = configuredDatabaseIdentifier(config);
  return recorded?.startsWith(configured) && RESTORED_SUFFIX.test(recorded.slice(configured.length)) ? recorded : configured;
}

/**
 * The data layer's PostgreSQL: a DB subnet group over the private subnets, a parameter group for the engine family with
 * rds.force_ssl=1, the optional enhanced-monitoring role, and the instance, which starts as soon as those, the database
 * security group and the credentials secret exist (everything else in the stack goes on meanwhile).
 */
export function addDatabase(b: StackBuilder, config: Config): void {
  const db = config.database;

  b.add(dbIds.subnetGroup, dbSubnetGroup, {
    name: rdsName(config, "db", 255),
    description: `Private subnets of ${config.project}-${config.environment}'s PostgreSQL database`,
    subnetIds: PRIVATE_SUBNETS.map((s) => ref(network.subnet(s), "subnetId")),
    tags: b.tags(dbIds.subnetGroup),
  });

  const family = postgresFamily(db.engineVersion);
  b.add(dbIds.parameterGroup, dbParameterGroup, {
    name: rdsName(config, family, 255),
    family,
    description: `${config.project}-${config.environment} PostgreSQL parameters (TLS required)`,
    parameters: DATABASE_PARAMETERS,
    tags: b.tags(dbIds.parameterGroup),
  });

  const monitoring = db.enhancedMonitoringInterval > 0;
  if (monitoring) addMonitoringRole(b, config);

  const spec: Unresolved<DbInstanceSpec> = {
    identifier: servingDatabaseIdentifier(config, b.facts.databaseIdentifier),
    engineVersion: db.engineVersion,
    instanceClass: db.instanceClass,
    allocatedStorage: db.allocatedStorage,
    ...(db.maxAllocatedStorage !== undefined ? { maxAllocatedStorage: db.maxAllocatedStorage } : {}),
    storageEncrypted: true,
    publiclyAccessible: false,
    multiAz: db.multiAz,
    backupRetentionDays: db.backupRetentionDays,
    ...(db.preferredBackupWindow ? { preferredBackupWindow: db.preferredBackupWindow } : {}),
    ...(db.preferredMaintenanceWindow ? { preferredMaintenanceWindow: db.preferredMaintenanceWindow } : {}),
    deletionProtection: db.deletionProtection,
    // Snapshots stay classified PHI; IAM authentication lets the BI role and the connectivity probe connect with a
    // short-lived token instead of a password (it takes nothing away from password users).
    copyTagsToSnapshot: true,
    iamDatabaseAuthentication: true,
    performanceInsights: db.performanceInsights,
    monitoringInterval: db.enhancedMonitoringInterval,
    ...(monitoring ? { monitoringRoleArn: ref(dbIds.monitoringRole, "arn") } : {}),
    cloudwatchLogsExports: DATABASE_LOG_EXPORTS,
    autoMinorVersionUpgrade: true,
    dbName: db.dbName,
    masterUsername: db.username,
    credentialsSecretArn: ref(DATABASE_CREDENTIALS_SECRET, "arn"),
    dbSubnetGroupName: ref(dbIds.subnetGroup, "name"),
    parameterGroupName: ref(dbIds.parameterGroup, "name"),
    vpcSecurityGroupIds: [ref(network.sg("db"), "groupId")],
    tags: { ...b.tags(dbIds.instance), DataClassification: DATABASE_CLASSIFICATION }, // the database holds clinical records
  };
  // The instance exports logs to /aws/rds/instance/<id>/postgresql: the group must exist (ours, tagged, with retention)
  // before RDS would create it untagged on first export.
  b.add(dbIds.instance, dbInstance, spec, b.has("data.log-group.rds") ? ["data.log-group.rds"] : undefined);

  b.output("db_endpoint", dbIds.instance, "endpointAddress");
  b.output("db_port", dbIds.instance, "port");
  b.output("db_identifier", dbIds.instance, "identifier");
}

function addMonitoringRole(b: StackBuilder, config: Config): void {
  b.add(dbIds.monitoringRole, iamRole, {
    name: physicalName(config, "rds-monitoring", NAME_LIMITS.iamRole),
    description: "Lets RDS enhanced monitoring publish the database's OS metrics to CloudWatch Logs",
    assumeRolePolicy: b.serviceTrust("monitoring.rds.amazonaws.com"),
    inlinePolicies: {},
    managedPolicyArns: [ENHANCED_MONITORING_POLICY_ARN],
    tags: b.tags(dbIds.monitoringRole),
  });
}
