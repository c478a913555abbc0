import type { Config } from "../config/schema.js";
import { findDbInstanceById, type DbInstanceAttrs } from "../resources/db-instance.js";
import { findRoleByName, type IamRoleAttrs, type PolicyDocument } from "../resources/iam-role.js";
import { dbIds } from "../stack/database.js";
import { accountOfPrincipal, BI_DB_USER, GITHUB_OIDC_HOST, githubEnvironments, githubWorkflowPath, opsIds } from "../stack/operations.js";
import { type CheckResult, failed, passed, skipped } from "../troubleshoot/checks.js";
import type { AuditCheck, AuditContext } from "./checks.js";

/**
 * Audit checks of who may act on the environment: the GitHub Actions deploy role (whom it trusts, what it may touch),
 * the BI role, and IAM database authentication. Controls are FSBP ids where the standard has one; `hipaa` names the
 * HIPAA Security Rule standard the check serves ("164.312(a)(1)": access control).
 */

const FAILURE = 90;
const HIPAA_ACCESS_CONTROL = "164.312(a)(1)";
const HIPAA_ACCESS_MANAGEMENT = "164.308(a)(4)";

type Statement = Record<string, any>;

/** The statements of a policy document, whether `Statement` is one object or a list. */
export function statementsOf(doc: PolicyDocument | undefined): Statement[] {
  const s = (doc as { Statement?: unknown } | undefined)?.Statement;
  return (Array.isArray(s) ? s : s ? [s] : []) as Statement[];
}

const list = (v: unknown): string[] => (v === undefined ? [] : [v].flat().map(String));
const hasWildcard = (v: string) => /[*?]/.test(v);

/** Every value a condition gives `key`, under any operator, as [operator, value]. */
function conditionValues(statement: Statement, key: string): [string, string][] {
  return Object.entries((statement.Condition ?? {}) as Record<string, Record<string, unknown>>).flatMap(([op, block]) => list(block?.[key]).map((v) => [op, v] as [string, string]));
}

const upFix = (config: Config, what: string) => `run 'platform up --env ${config.environment}' to restore ${what} as platform builds it`;

/** The role state records under `logicalId`, read from IAM; undefined in `role` when it is gone. */
async function recordedRole(a: AuditContext, logicalId: string): Promise<{ name: string; role: IamRoleAttrs | undefined } | undefined> {
  const record = a.state.resources[logicalId];
  if (!record) return undefined;
  const name = String(record.attributes.name ?? record.physicalId);
  return { name, role: await findRoleByName(a.ctx, name) };
}

/** What is wrong with a GitHub deploy role's trust policy, given the repository, workflow and environments it should pin. */
export function githubTrustProblems(trust: PolicyDocument, config: Config): string[] {
  const repository = config.github.repository!;
  const workflowRefs = new Set(config.github.branches.map((br) => `${repository}/${githubWorkflowPath(config)}@refs/heads/${br}`));
  const subjects = new Set(githubEnvironments(config).map((e) => `repo:${repository}:environment:${e}`));
  const problems: string[] = [];
  for (const st of statementsOf(trust).filter((s) => s.Effect === "Allow" && list(s.Action).some((x) => x === "sts:AssumeRoleWithWebIdentity" || x === "sts:*" || x === "*"))) {
    const sid = st.Sid ? `statement ${st.Sid}` : "a statement";
    const refs = conditionValues(st, `${GITHUB_OIDC_HOST}:job_workflow_ref`);
    const subs = conditionValues(st, `${GITHUB_OIDC_HOST}:sub`);
    if (!refs.length) problems.push(`${sid} does not pin the workflow (no ${GITHUB_OIDC_HOST}:job_workflow_ref condition): any workflow of the repository may assume the role`);
    for (const [, v] of refs) if (hasWildcard(v) || !workflowRefs.has(v)) problems.push(`${sid} trusts job_workflow_ref ${v}, not ${[...workflowRefs].join(" or ")}`);
    if (!subs.length) problems.push(`${sid} has no ${GITHUB_OIDC_HOST}:sub condition: any repository's workflows may assume the role`);
    for (const [, v] of subs) if (hasWildcard(v) || !subjects.has(v)) problems.push(`${sid} trusts sub ${v}, not the GitHub environment (${[...subjects].join(", ")})`);
  }
  return problems;
}

const githubRoleTrust: AuditCheck = {
  id: "github-role-trust",
  title: "GitHub deploy role trusts only the deploy workflow in its GitHub environment",
  controls: [],
  hipaa: [HIPAA_ACCESS_CONTROL],
  noControl: "the FSBP standard has no control for web-identity trust conditions",
  run: async (a) => {
    const found = await recordedRole(a, opsIds.githubRole);
    if (!found) return skipped("no GitHub Actions role recorded in state (github.repository is not set)");
    if (!found.role) return failed([`${found.name}: not found`], `GitHub Actions role ${found.name} recorded in state does not exist`, upFix(a.config, opsIds.githubRole), FAILURE);
    if (a.config.github.allowAnyWorkflowOnBranch) {
      return failed(
        [`${found.name}: github.allowAnyWorkflowOnBranch is true`],
        `role ${found.name} may be assumed by every workflow run on ${a.config.github.branches.join(", ")} (opted out in config/${a.config.environment}.json)`,
        `remove github.allowAnyWorkflowOnBranch from config/${a.config.environment}.json and run 'platform up --env ${a.config.environment}'`,
        FAILURE,
      );
    }
    if (!a.config.github.repository) return failed([`${found.name}: github.repository is not set`], `role ${found.name} exists but config names no repository`, `set github.repository or run 'platform up --env ${a.config.environment}' to remove the role`, FAILURE);
    const problems = githubTrustProblems(found.role.assumeRolePolicy, a.config);
    if (problems.length) return failed(problems.map((p) => `${found.name}: ${p}`), `role ${found.name} trusts more than the deploy workflow`, upFix(a.config, `the trust policy of ${opsIds.githubRole}`), FAILURE);
    return passed([`${found.name}: ${a.config.github.repository}/${githubWorkflowPath(a.config)} on ${a.config.github.branches.join(", ")}, GitHub environment ${githubEnvironments(a.config).join(", ")}`]);
  },
};

/** Actions of the deploy role that must name this stack's own resources, never a wildcard. */
export const SCOPED_DEPLOY_ACTIONS = ["ecs:UpdateService", "elasticloadbalancing:ModifyListener", "iam:PassRole"];

/** Every ARN state records (attributes named arn), the resources the deploy role may name. */
function recordedArns(a: AuditContext): Set<string> {
  return new Set(
    Object.values(a.state.resources)
      .map((r) => r.attributes.arn)
      .filter((x): x is string => typeof x === "string"),
  );
}

/** Grants of the scoped actions (or of wildcards covering them) on resources that are not this stack's. */
export function unscopedGrants(policies: Record<string, PolicyDocument>, ours: Set<string>): string[] {
  const found: string[] = [];
  for (const [name, doc] of Object.entries(policies)) {
    for (const st of statementsOf(doc).filter((s) => s.Effect === "Allow")) {
      const actions = list(st.Action);
      const covered = SCOPED_DEPLOY_ACTIONS.filter((want) => actions.some((x) => x === "*" || x.toLowerCase() === want.toLowerCase() || (hasWildcard(x) && new RegExp(`^${x.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i").test(want))));
      if (!covered.length) continue;
      const foreign = list(st.Resource).filter((r) => hasWildcard(r) || !ours.has(r));
      if (foreign.length || st.NotResource) found.push(`policy ${name}${st.Sid ? ` ${st.Sid}` : ""}: ${covered.join(", ")} on ${st.NotResource ? "NotResource (everything else)" : foreign.join(", ")}`);
    }
  }
  return found;
}

const githubRoleScope: AuditCheck = {
  id: "github-role-scope",
  title: "GitHub deploy role may change only this stack's services, listeners and roles",
  controls: [],
  hipaa: [HIPAA_ACCESS_MANAGEMENT],
  noControl: "the FSBP IAM controls ([IAM.1], [IAM.21]) judge managed policies' actions, not inline policies' resources",
  run: async (a) => {
    const found = await recordedRole(a, opsIds.githubRole);
    if (!found) return skipped("no GitHub Actions role recorded in state (github.repository is not set)");
    if (!found.role) return failed([`${found.name}: not found`], `GitHub Actions role ${found.name} recorded in state does not exist`, upFix(a.config, opsIds.githubRole), FAILURE);
    const grants = unscopedGrants(found.role.inlinePolicies, recordedArns(a));
    const managed = found.role.managedPolicyArns;
    const evidence = [...grants.map((g) => `${found.name}: ${g}`), ...managed.map((m) => `${found.name}: managed policy ${m} attached`)];
    if (evidence.length) {
      return failed(evidence, `role ${found.name} may ${SCOPED_DEPLOY_ACTIONS.join(", ")} beyond this stack's resources${managed.length ? " or has managed policies attached" : ""}`, upFix(a.config, `the policies of ${opsIds.githubRole}`), FAILURE);
    }
    return passed([`${found.name}: ${SCOPED_DEPLOY_ACTIONS.join(", ")} only on resources state records`]);
  },
};

/** The database instance state records, read from RDS; undefined when none is recorded. */
async function recordedDatabase(a: AuditContext): Promise<{ identifier: string; db: DbInstanceAttrs | undefined } | undefined> {
  const record = a.state.resources[dbIds.instance];
  if (!record) return undefined;
  const identifier = String(record.attributes.identifier ?? record.physicalId);
  return { identifier, db: await findDbInstanceById(a.ctx, identifier) };
}

const biRoleScope: AuditCheck = {
  id: "bi-role-scope",
  title: "BI role connects only to this stack's database, and another account needs an external id",
  controls: [],
  hipaa: [HIPAA_ACCESS_MANAGEMENT],
  noControl: "the FSBP standard has no control for rds-db:connect resources or sts:ExternalId",
  run: async (a) => {
    const found = await recordedRole(a, opsIds.biRole);
    if (!found) return skipped("no BI role recorded in state (bi.enabled is false)");
    if (!found.role) return failed([`${found.name}: not found`], `BI role ${found.name} recorded in state does not exist`, upFix(a.config, opsIds.biRole), FAILURE);
    const problems: string[] = [];
    const database = await recordedDatabase(a);
    const resourceId = database?.db?.resourceId;
    for (const [name, doc] of Object.entries(found.role.inlinePolicies)) {
      for (const st of statementsOf(doc).filter((s) => s.Effect === "Allow" && list(s.Action).some((x) => x === "*" || /^rds-db:(\*|connect)$/i.test(x)))) {
        for (const r of list(st.Resource)) {
          const m = /:dbuser:([^/]+)\/(.+)$/.exec(r);
          if (!m || hasWildcard(m[1]!) || hasWildcard(m[2]!) || (resourceId && m[1] !== resourceId)) problems.push(`policy ${name}: rds-db:connect on ${r}${resourceId ? `, not ${resourceId}/${BI_DB_USER}` : ""}`);
        }
      }
    }
    const account = a.ctx.accountId;
    for (const st of statementsOf(found.role.assumeRolePolicy).filter((s) => s.Effect === "Allow")) {
      const principals = list(st.Principal?.AWS ?? (st.Principal === "*" ? "*" : undefined));
      const foreign = principals.filter((p) => p === "*" || (/^\d{12}$/.test(p) ? p !== account : accountOfPrincipal(p) !== account));
      if (foreign.length && !conditionValues(st, "sts:ExternalId").length) problems.push(`trust: ${foreign.join(", ")} may assume it without an sts:ExternalId condition`);
    }
    if (problems.length) return failed(problems.map((p) => `${found.name}: ${p}`), `BI role ${found.name} reaches beyond this stack's database or trusts another account without an external id`, `${upFix(a.config, `the policies of ${opsIds.biRole}`)}; for another account, set bi.externalId`, FAILURE);
    return passed([`${found.name}: ${resourceId ? `rds-db:connect only ${resourceId}/${BI_DB_USER}` : "no rds-db:connect"}; ${a.config.bi.externalId ? "sts:ExternalId required" : "principals of this account"}`]);
  },
};

// FSBP RDS.10: IAM authentication should be configured for RDS instances.
const rdsIamAuthentication: AuditCheck = {
  id: "rds-iam-authentication",
  title: "Database IAM authentication on",
  controls: ["RDS.10"],
  run: async (a): Promise<CheckResult> => {
    const database = await recordedDatabase(a);
    if (!database) return skipped("no RDS instance recorded in state");
    if (!database.db) return failed([`${database.identifier}: not found in RDS`], "the database recorded in state does not exist", upFix(a.config, dbIds.instance), FAILURE);
    return database.db.iamDatabaseAuthentication
      ? passed([`${database.identifier}: IAM database authentication on (${database.db.resourceId})`])
      : failed([`${database.identifier}: IAMDatabaseAuthenticationEnabled false`], `database ${database.identifier} accepts passwords only: the BI role and the probe cannot use short-lived tokens`, upFix(a.config, `${dbIds.instance} (EnableIAMDatabaseAuthentication)`), FAILURE);
  },
};

export const identityChecks: AuditCheck[] = [githubRoleTrust, githubRoleScope, biRoleScope, rdsIamAuthentication];
