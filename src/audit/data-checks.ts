import { PHI_BUCKET_KEYS } from "../config/schema.js";
import { findBucketVersioning } from "../resources/bucket-settings.js";
import { findDbInstanceById } from "../resources/db-instance.js";
import { dbIds } from "../stack/database.js";
import { opsIds } from "../stack/operations.js";
import { storageIds } from "../stack/storage.js";
import { combine, failed, passed, skipped } from "../troubleshoot/checks.js";
import type { AuditCheck, AuditContext } from "./checks.js";

/**
 * Audit checks of data protection: snapshots stay classified, PHI buckets keep every version, and the audit logs are
 * kept through their retention. Controls are FSBP ids where the standard has one; `hipaa` names the HIPAA Security
 * Rule standard the check serves.
 */

const FAILURE = 90;
const HIPAA_INTEGRITY = "164.312(c)(1)";
const HIPAA_AUDIT_CONTROLS = "164.312(b)";

const up = (a: AuditContext) => `platform up --env ${a.config.environment}`;

// FSBP RDS.17: RDS DB instances should be configured to copy tags to snapshots.
const rdsCopyTagsToSnapshot: AuditCheck = {
  id: "rds-copy-tags-to-snapshot",
  title: "Database snapshots keep the instance's tags",
  controls: ["RDS.17"],
  run: async (a) => {
    const record = a.state.resources[dbIds.instance];
    if (!record) return skipped("no RDS instance recorded in state");
    const identifier = String(record.attributes.identifier ?? record.physicalId);
    const db = await findDbInstanceById(a.ctx, identifier);
    if (!db) return failed([`${identifier}: not found in RDS`], "the database recorded in state does not exist", `run '${up(a)}' to restore ${dbIds.instance}`, FAILURE);
    return db.copyTagsToSnapshot
      ? passed([`${identifier}: CopyTagsToSnapshot true`])
      : failed([`${identifier}: CopyTagsToSnapshot false`], `database ${identifier} takes snapshots without its tags: they lose their PHI classification`, `run '${up(a)}' to turn CopyTagsToSnapshot back on for ${dbIds.instance}`, FAILURE);
  },
};

const phiBucketVersioning: AuditCheck = {
  id: "s3-phi-versioning",
  title: "PHI buckets (raw, silver, gold) versioned",
  controls: [],
  hipaa: [HIPAA_INTEGRITY],
  noControl: "no FSBP control requires versioning of general purpose buckets",
  run: async (a) => {
    const recorded = PHI_BUCKET_KEYS.filter((k) => a.state.resources[storageIds.bucket(k)]);
    if (!recorded.length) return skipped("no PHI bucket recorded in state");
    const parts = await Promise.all(
      recorded.map(async (key) => {
        const record = a.state.resources[storageIds.bucket(key)]!;
        const name = String(record.attributes.name ?? record.physicalId);
        const versioning = await findBucketVersioning(a.ctx, name);
        const optedOut = (a.config.buckets[key] as { allowUnversioned?: boolean }).allowUnversioned;
        if (versioning?.enabled) return passed([`${name}: versioning enabled`]);
        const evidence = [`${name}: versioning ${versioning ? "suspended or never enabled" : "unreadable (bucket not found)"}${optedOut ? ` (buckets.${key}.allowUnversioned is true)` : ""}`];
        const fix = optedOut
          ? `remove buckets.${key}.allowUnversioned and "versioning": false from config/${a.config.environment}.json and run '${up(a)}'`
          : `run '${up(a)}' to turn versioning back on for ${storageIds.bucketSetting(key, "versioning")}`;
        return failed(evidence, `PHI bucket ${name} is not versioned: an overwritten or deleted object is lost for good`, fix, FAILURE);
      }),
    );
    return combine(parts);
  },
};

const auditLogsKept: AuditCheck = {
  id: "audit-logs-kept",
  title: "Audit logs kept through their retention (down --delete-data refuses)",
  controls: [],
  hipaa: [HIPAA_AUDIT_CONTROLS],
  noControl: "the FSBP CloudTrail controls check the trail, not whether its bucket can be deleted",
  run: async (a) => {
    const record = a.state.resources[opsIds.auditBucket];
    if (!record) return skipped("no audit bucket recorded in state (audit.trail is false)");
    const name = String(record.attributes.name ?? record.physicalId);
    if (a.config.audit.allowDeletingAuditLogs) {
      return failed(
        [`${name}: audit.allowDeletingAuditLogs is true`],
        `down --delete-data may delete ${name} and its audit logs before their ${a.config.audit.retentionDays}-day retention ends (opted out in config/${a.config.environment}.json)`,
        `remove audit.allowDeletingAuditLogs from config/${a.config.environment}.json`,
        FAILURE,
      );
    }
    const versioning = await findBucketVersioning(a.ctx, name);
    if (!versioning?.enabled) {
      return failed([`${name}: versioning ${versioning ? "off" : "unreadable (bucket not found)"}`], `audit bucket ${name} does not keep overwritten log files`, `run '${up(a)}' to restore ${opsIds.auditBucketSetting("versioning")}`, FAILURE);
    }
    return passed([`${name}: versioned; down --delete-data refuses while it holds logs (kept ${a.config.audit.retentionDays} days)`]);
  },
};

export const dataChecks: AuditCheck[] = [rdsCopyTagsToSnapshot, phiBucketVersioning, auditLogsKept];
