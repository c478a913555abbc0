import type { TaggedResource } from "../aws/sweep.js";
import { awsFailure } from "../aws/errors.js";
import { findSecretById } from "../resources/secret.js";
import type { ResourceContext } from "../resources/types.js";

export interface ScheduledSecret {
  arn: string;
  logicalId?: string;
  deletedDate: string;
}

const isSecretArn = (arn: string) => /^arn:aws[a-z-]*:secretsmanager:[^:]*:\d*:secret:/.test(arn);

/**
 * Splits what the tagging API still lists after `down` into real leftovers and secrets in their recovery window:
 * those still exist (and the Resource Groups Tagging API still lists them with their tags) until Secrets Manager
 * deletes them, which is what `down` asked for. A secret that is not scheduled for deletion stays a leftover.
 */
export async function splitScheduledSecrets(ctx: ResourceContext, tagged: TaggedResource[]): Promise<{ leftovers: TaggedResource[]; scheduledSecrets: ScheduledSecret[] }> {
  const scheduledSecrets: ScheduledSecret[] = [];
  const leftovers: TaggedResource[] = [];
  for (const r of tagged) {
    if (!isSecretArn(r.arn)) {
      leftovers.push(r);
      continue;
    }
    let found;
    try {
      found = await findSecretById(ctx, r.arn);
    } catch (err) {
      throw awsFailure(`reading secret ${r.arn}`, err);
    }
    if (!found) continue; // deleted since the tagging API listed it
    if (found.deletedDate) scheduledSecrets.push({ arn: r.arn, ...(r.logicalId ? { logicalId: r.logicalId } : {}), deletedDate: found.deletedDate });
    else leftovers.push(r);
  }
  return { leftovers, scheduledSecrets };
}
