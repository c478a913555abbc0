import { Writable } from "node:stream";
import { Declined, UserError } from "../errors.js";
import { readConfigFlag } from "../config/project.js";
import { isDeployable } from "../state/deployments.js";
import { interactive } from "../ui/io.js";
import { confirm } from "../ui/prompt.js";
import { blueGreenTarget } from "../workloads/blue-green.js";
import { type DeployTarget, deployTarget, revisionName } from "../workloads/deploy.js";
import { copyImage, type CopyEvent, type CopyResult } from "../workloads/image-copy.js";
import { findRunningRelease, hasImage, promotedTag, registryOf, type RunningRelease } from "../workloads/promote.js";
import { deployResolved, type ReleaseFlags, releasePlan } from "./deploy.js";
import { assertProtectionSatisfied, isProtected } from "../config/protection.js";
import { CommandContext, type Environment, openEnvironment } from "./runtime.js";

/** deploy's release flags (--no-wait, and for a blue-green target --strategy, --smoke-test, --bake-minutes), plus: */
export interface PromoteFlags extends ReleaseFlags {
  /** The environment whose release is shipped: read only, never locked. */
  from: string;
  /** The environment deployed to (the one operated on, under its lock). */
  to: string;
}

/**
 * `platform promote --from staging --to prod --service api`: deploys to one environment exactly the image digest
 * another runs. Steps: find what the source's service runs (src/workloads/promote.ts), confirm for production, make
 * sure the target's own repository has that digest (copied with the ECR API when not: src/workloads/image-copy.ts),
 * then deploy `<target repository>@<digest>` as `platform deploy` does. Exit codes as deploy's; 2 for bad input,
 * 1 when the source is mid-rollout or runs more than one digest.
 */
export async function promoteCommand(cc: CommandContext, flags: PromoteFlags): Promise<number> {
  validate(cc, flags);
  const command = `promote --from ${flags.from} --to ${flags.to} --service ${flags.service}`;
  // A protected target's insecure settings are refused before any AWS call (openEnvironment checks again).
  assertProtectionSatisfied(environmentContext(cc, flags.to, true).loadConfig().config);
  const source = await openEnvironment(environmentContext(cc, flags.from, false), { command, lock: false });
  try {
    const from = deployTarget(source.store, source.config, flags.service);
    const target = await openEnvironment(environmentContext(cc, flags.to, true), { command, lock: true, deploys: true, events: (e) => e.kind === "note" && cc.say(`  ${e.message}`) });
    try {
      const to = deployTarget(target.store, target.config, flags.service);
      // How the target releases (its strategy and settings) is checked now: a bad flag must not wait for the copy.
      if (releasePlan(target.config, flags).strategy === "blue-green") blueGreenTarget(target.store, target.config, to);
      if (registryOf(from.repository) !== registryOf(to.repository)) {
        throw new UserError(
          `promote copies images within one ECR registry (account and region): ${flags.from}'s are in ${registryOf(from.repository)}, ${flags.to}'s in ${registryOf(to.repository)}; ` +
            `cross-account or cross-region promotion is not supported: replicate the image (ECR replication) and use 'platform deploy --env ${flags.to} --image <digest>'`,
        );
      }
      return await promote(cc, flags, source, from, target, to);
    } catch (err) {
      if (!cc.main.signal?.aborted) throw err;
      cc.say(`interrupted: blobs already copied stay in ${flags.to}'s repository; a rollout already started goes on in AWS ('platform status --env ${flags.to}' shows it)`);
      return 130;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

async function promote(cc: CommandContext, flags: PromoteFlags, source: Environment, from: DeployTarget, target: Environment, to: DeployTarget): Promise<number> {
  // 1. What the source runs: a digest ECS reports, not a tag.
  const release = await findRunningRelease(source.ctx, source.store.document, flags.from, from);
  cc.say(`${flags.from} runs ${release.image} (${revisionName(release.taskDefinitionArn)}) as ${release.digest}: ${evidence(release)}`);
  await confirmPromotion(cc, flags, isProtected(target.config), release);

  // 2. The same digest in the target's own repository (its tasks may pull only from their environment's).
  const repository = to.repositories[from.repositories.indexOf(release.repository)]!;
  let copy: CopyResult | undefined;
  if (await hasImage(target.ctx, repository, release.digest)) {
    cc.say(`${flags.to}'s repository ${repository.name} already has ${release.digest}: nothing to copy`);
  } else {
    const tag = promotedTag(flags.from, release.digest);
    cc.say(`Copying ${release.digest} from ${release.repository.name} to ${repository.name}`);
    copy = await copyImage({ ctx: source.ctx, repository: release.repository }, { ctx: target.ctx, repository }, release.digest, tag, (e) => renderCopy(cc, e));
    cc.say(`${cc.c.green("✔")} ${repository.name} has ${release.digest} (tag ${tag}): ${copy.blobsCopied} blob${copy.blobsCopied === 1 ? "" : "s"} copied (${bytes(copy.bytesCopied)}), ${copy.blobsPresent} already there`);
  }

  // 3. Deploy it by digest, as `platform deploy` does (its output and --json document, nested in ours).
  const image = { image: `${repository.uri}@${release.digest}`, digest: release.digest };
  if (!cc.opts.json) return deployResolved(cc, target, to, image, flags);
  const captured = capturingStdout(cc);
  const code = await deployResolved(captured.cc, target, to, image, flags);
  cc.json({
    from: flags.from,
    to: flags.to,
    service: flags.service,
    source: { image: release.image, digest: release.digest, evidence: release.evidence, runningTasks: release.runningTasks, taskDefinition: revisionName(release.taskDefinitionArn) },
    copy: copy ? { status: "copied", repository: repository.name, ...copy } : { status: "present", repository: repository.name, digest: release.digest },
    deploy: captured.document(),
    ok: code === 0,
  });
  return code;
}

/** Bad input, before any AWS call. */
function validate(cc: CommandContext, flags: PromoteFlags): void {
  if (flags.from === flags.to) throw new UserError(`--from ${flags.from} --to ${flags.to}: promote ships a release from one environment to another; name two different environments`);
  if (cc.opts.env !== undefined && cc.opts.env !== flags.to) {
    throw new UserError(`--env ${cc.opts.env}: promote operates on the --to environment (${flags.to}); drop --env, or pass --to ${cc.opts.env}`);
  }
  if (cc.opts.config !== undefined) throw new UserError(`--config: promote reads config/${flags.from}.json and config/${flags.to}.json; drop --config`);
  if (!isDeployable(flags.service)) throw new UserError(`--service ${flags.service}: promote ships the images of api and worker (the services built from this project's repositories)`);
}

/** The run's flags for one of the two environments: its own config file; --set applies to the target only. */
function environmentContext(cc: CommandContext, environment: string, isTarget: boolean): CommandContext {
  return new CommandContext(cc.io, { ...cc.opts, env: environment, config: projectFolderFlag(cc), image: undefined, set: isTarget ? cc.opts.set : [] }, cc.main);
}

/** A protected target needs a yes that names what is shipped where: asked on a terminal, or --yes. */
async function confirmPromotion(cc: CommandContext, flags: PromoteFlags, protectedTarget: boolean, release: RunningRelease): Promise<void> {
  if (!protectedTarget || cc.opts.yes) return;
  const what = `${release.digest} (what ${flags.from}'s ${flags.service} runs) to protected environment ${flags.to}`;
  if (!interactive(cc.io)) throw new UserError(`not promoting ${what}: there is no terminal to confirm on; pass --yes to promote it`);
  if (!(await confirm(cc.io, `Deploy ${what}?`))) throw new Declined("nothing was copied or deployed");
}

function evidence(release: RunningRelease): string {
  const n = release.runningTasks;
  if (release.evidence === "running-tasks") return `what its ${n} running task${n === 1 ? "" : "s"} ${n === 1 ? "reports" : "report"}`;
  if (release.evidence === "image-digest") return "the digest its task definition names (no running task reports one)";
  return "the digest its tag has in ECR now (no running task reports one)";
}

const short = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);

function renderCopy(cc: CommandContext, e: CopyEvent): void {
  if (e.kind === "manifest" && e.platforms) cc.say(`  index ${short(e.digest)} (${e.mediaType}): ${e.platforms} platform manifests, copied first`);
  else if (e.kind === "manifest") cc.say(`  manifest ${short(e.digest)} (${e.mediaType}): ${e.blobs} blob${e.blobs === 1 ? "" : "s"}, ${e.blobs - e.missing} already there`);
  else if (e.kind === "blob-start") cc.say(`  copying ${short(e.digest)} (${bytes(e.size)})`);
  else if (e.kind === "blob-progress" && e.bytes < e.size) cc.say(`    ${short(e.digest)}: ${bytes(e.bytes)} of ${bytes(e.size)}`);
  else if (e.kind === "blob-done") cc.say(`  copied ${short(e.digest)} (${bytes(e.size)})`);
  else if (e.kind === "image-put") cc.say(`  ${e.existed ? "already put" : "put"} manifest ${short(e.digest)}${e.tag ? ` as ${e.tag}` : ""}`);
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A context whose stdout (deploy's --json document) is kept, to be nested in promote's; messages still go to stderr. */
function capturingStdout(cc: CommandContext): { cc: CommandContext; document(): unknown } {
  let text = "";
  const stdout = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { cc: new CommandContext({ ...cc.io, stdout }, cc.opts, cc.main), document: () => (text.trim() ? JSON.parse(text) : undefined) };
}

/** --config DIR names the project of both environments; a --config FILE is one environment's, so neither gets it. */
function projectFolderFlag(cc: CommandContext): string | undefined {
  return cc.opts.config && readConfigFlag(cc.opts.config, cc.cwd).kind === "folder" ? cc.opts.config : undefined;
}
