import { sleep } from "../run/wait-for.js";
import type { EngineEvent } from "../engine/events.js";
import { UserError } from "../errors.js";
import { forwardTo } from "../resources/listener.js";
import type { LockInfo } from "../state/backend.js";
import { describeLock, holderIsGone, isStale, LockHeldError } from "../state/lock.js";
import { liveSlot, otherSlot } from "../state/releases.js";
import type { ReleaseRecord, Slot } from "../state/document.js";
import { findService } from "../resources/ecs-service.js";
import { BAKE_POLL_SECONDS, type BlueGreenTarget, blueGreenTarget, healthyTargets, servingSlot, switchBack } from "../workloads/blue-green.js";
import { deployTarget, revisionName, step } from "../workloads/deploy.js";
import { resolveImage } from "../workloads/images.js";
import { deployResolved, type ReleaseFlags } from "./deploy.js";
import { type CommandContext, type Environment, openEnvironment } from "./runtime.js";

export interface RollbackFlags {
  service: string;
  /** --no-wait sets false (a rolling redeploy only). */
  wait: boolean;
  smokeTest?: string;
  bakeMinutes?: string;
}

/**
 * `platform rollback --service api`: back to the release before the last one (state's releases.<service>.previous).
 * - Blue-green while the previous slot still runs (the bake time, or a deploy interrupted in it): both listeners switch
 *   back at once, the new slot goes to 0, its revision is deregistered. No new tasks start; it takes seconds.
 * - Otherwise (after the bake, or a rolling service): the previous image is deployed again with the service's strategy,
 *   smoke test and bake included for blue-green; that release then becomes the one a second rollback returns from.
 * Exit 0 when production runs the previous release, 1 when the redeploy failed, 2 when there is nothing to go back to.
 */
export async function rollbackCommand(cc: CommandContext, flags: RollbackFlags): Promise<number> {
  const events = (e: EngineEvent) => e.kind === "note" && cc.say(`  ${e.message}`);
  const command = `rollback --env ${cc.opts.env ?? cc.opts.config} --service ${flags.service}`;
  let env: Environment;
  try {
    env = await openEnvironment(cc, { command, lock: true, events });
  } catch (err) {
    // A deploy baking elsewhere (CI) holds the lock: switch production back now, and let that deploy record it.
    if (!(err instanceof LockHeldError) || !isRelease(err.holder, flags.service)) throw err;
    return rollbackDuringBake(cc, await openEnvironment(cc, { command, lock: false, events }), flags, err.holder);
  }
  try {
    const target = deployTarget(env.store, env.config, flags.service);
    const release = env.store.document.releases?.[target.service];
    const previous = release?.previous;
    if (!previous) {
      throw new UserError(`--service ${flags.service}: ${env.config.environment} has no earlier release of ${flags.service} recorded (state keeps one per deploy); deploy the image you want with 'platform deploy'`);
    }
    const blueGreen = target.service === "api" && env.config.services.api.deployment.strategy === "blue-green";
    if (blueGreen) {
      const bg = blueGreenTarget(env.store, env.config, target);
      const instant = await switchableSlot(env, bg, previous);
      if (instant) return await switchInstantly(cc, env, bg, instant);
    }
    // Redeploy what ran before, exactly: by digest when it was recorded.
    const image = await resolveImage(env.ctx, target.repository, target.repositories, exactImage(previous.image, previous.digest), env.config.images.allowedRegistries);
    cc.say(`Rolling ${target.service} back to ${image.image} (what ran before ${revisionName(env.store.document.deployments?.[target.service]?.taskDefinitionArn)}): deploying it again`);
    const how: Omit<ReleaseFlags, "service"> = { wait: flags.wait, ...(blueGreen ? { strategy: "blue-green", smokeTest: flags.smokeTest, bakeMinutes: flags.bakeMinutes } : { strategy: "rolling" }) };
    return await deployResolved(cc, env, target, image, how);
  } finally {
    await env.close();
  }
}

/**
 * The previous slot, when it still serves the previous release: it runs the recorded revision with tasks, and its
 * targets are healthy (an instant switch back is possible); else undefined.
 */
async function switchableSlot(env: Environment, target: BlueGreenTarget, previous: NonNullable<ReleaseRecord["previous"]>): Promise<{ from: Slot; to: Slot } | undefined> {
  const slot = previous.slot;
  if (!slot) return undefined;
  const { slot: serving } = await servingSlot(env.ctx, target);
  // Production already back on it, but state not (a rollback during a bake whose deploy died before recording it):
  // the switch is finished here, the listeners being idempotent.
  if (serving === slot) return liveSlot(env.store.document, target.service) === slot ? undefined : { from: otherSlot(slot), to: slot };
  const old = await step(`reading ECS service (${target.slots[slot].serviceName})`, () => findService(env.ctx, target.cluster, target.slots[slot].serviceName));
  // Another deploy may have started something else on it since.
  if (!old || old.desiredCount === 0 || old.taskDefinitionArn !== previous.taskDefinitionArn) return undefined;
  // It takes traffic at once only with healthy targets.
  if ((await healthyTargets(env.ctx, target.slots[slot].targetGroupArn)) === 0) return undefined;
  return { from: serving, to: slot };
}

async function switchInstantly(cc: CommandContext, env: Environment, target: BlueGreenTarget, r: { from: Slot; to: Slot }): Promise<number> {
  const started = Date.now();
  const failedArn = env.store.document.deployments?.[target.service]?.taskDefinitionArn;
  const from = target.slots[r.from].serviceName;
  const to = target.slots[r.to].serviceName;
  cc.say(`Rolling ${target.service} back: ${to} (${r.to}) still runs the previous release; switching production to it`);
  const release = env.store.document.releases![target.service]!;
  const previous = release.previous!;
  const rolledBack = env.store.document.deployments?.[target.service];
  await switchBack(env.ctx, env.store, target, {
    from: r.from,
    to: r.to,
    ...(failedArn ? { failedArn } : {}),
    // up keeps what runs now; a second rollback would deploy the release rolled back from again.
    previousDeployment: { image: previous.image, ...(previous.digest ? { digest: previous.digest } : {}), configImageTag: env.config.services.imageTag, taskDefinitionArn: previous.taskDefinitionArn, deployedAt: new Date().toISOString() },
    previousRelease: rolledBack ? { image: rolledBack.image, ...(rolledBack.digest ? { digest: rolledBack.digest } : {}), taskDefinitionArn: rolledBack.taskDefinitionArn, slot: r.from } : undefined,
  });
  if (cc.opts.json) cc.json({ environment: env.config.environment, service: target.service, rolledBack: "switch", live: r.to, serviceName: to });
  cc.say(`${cc.c.green("✔")} production is on ${to} (${r.to}) again, ${Date.now() - started} ms; ${from} (${r.from}) scaled to 0`);
  return 0;
}

/** `<repository>@<digest>` when the digest is known: a tag may have moved since. */
function exactImage(image: string, digest: string | undefined): string {
  if (!digest || image.includes("@")) return image;
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  return `${colon > slash ? image.slice(0, colon) : image}@${digest}`;
}

/**
 * Whether a lock is held by a live release of this service (deploy, promote, or rollback's own redeploy) that may be
 * baking; whether it is, state says (see rollbackDuringBake).
 */
function isRelease(holder: LockInfo, service: string): boolean {
  return /^(deploy|promote|rollback) /.test(holder.command) && holder.command.includes(`--service ${service}`) && !holderIsGone(holder) && !isStale(holder);
}

/** Seconds rollback waits for the baking deploy to record the switch (it looks every BAKE_POLL_SECONDS). */
const HANDOVER_SECONDS = BAKE_POLL_SECONDS * 3;

/**
 * Rollback while another process's deploy bakes and holds the lock. Only the production listener is switched here (one
 * ModifyListener, at once): that is the whole rollback as users see it. The deploy sees it at its next look, stops the
 * bake, and does the rest under its lock (test listener, new slot to 0, revision, state); rollback waits for state to
 * say so. Nothing else is written without the lock.
 */
async function rollbackDuringBake(cc: CommandContext, env: Environment, flags: RollbackFlags, holder: LockInfo): Promise<number> {
  try {
    const target = deployTarget(env.store, env.config, flags.service);
    const release = env.store.document.releases?.[target.service];
    const bg = env.config.services.api.deployment.strategy === "blue-green" && target.service === "api" ? blueGreenTarget(env.store, env.config, target) : undefined;
    // The bake must be the holder's own (its switch recorded after it took the lock), with time left for it to see the
    // switch before it scales the old slot down.
    const switchedByHolder = Date.parse(env.store.document.deployments?.[target.service]?.deployedAt ?? "") >= Date.parse(holder.startedAt);
    const bakeLeft = Date.parse(release?.bakingUntil ?? "") - Date.now();
    const margin = 2 * BAKE_POLL_SECONDS * 1000 * env.ctx.waits.scale;
    if (!bg || !release?.previous?.slot || !switchedByHolder || !(bakeLeft > 0)) throw new LockHeldError(holder, env.backend.location);
    if (bakeLeft < margin) {
      throw new LockHeldError(holder, env.backend.location, `its bake ends in ${Math.ceil(bakeLeft / 1000)} s, too close to switch safely now; run rollback again once it has finished (it then redeploys the previous release)`);
    }
    const switchable = await switchableSlot(env, bg, release.previous);
    if (!switchable) throw new LockHeldError(holder, env.backend.location);
    const started = Date.now();
    const to = bg.slots[switchable.to];
    cc.say(`A release is baking (${describeLock(holder)}); ${to.serviceName} (${switchable.to}) still runs the previous release: switching production to it now`);
    await step(`switching ELBv2 listener (${bg.production.arn}) to ${switchable.to}`, () => forwardTo(env.ctx, bg.production.arn, to.targetGroupArn));
    // The deploy may have ended its bake and scaled the old slot down meanwhile: then the switch is undone at once.
    const after = await step(`reading ECS service (${to.serviceName})`, () => findService(env.ctx, bg.cluster, to.serviceName));
    if (!after || after.desiredCount === 0) {
      await step(`switching ELBv2 listener (${bg.production.arn}) to ${switchable.from}`, () => forwardTo(env.ctx, bg.production.arn, bg.slots[switchable.from].targetGroupArn));
      cc.io.stderr.write(`error: the deploy finished its bake and scaled ${to.serviceName} to 0 while rollback switched: production stays on ${bg.slots[switchable.from].serviceName} (${switchable.from}); run 'platform rollback --env ${env.config.environment} --service ${target.service}' again once that deploy has released the lock: it redeploys the previous release\n`);
      return 1;
    }
    cc.say(`${cc.c.green("✔")} production is on ${to.serviceName} (${switchable.to}) again, ${Date.now() - started} ms`);
    const deadline = Date.now() + HANDOVER_SECONDS * 1000 * env.ctx.waits.scale;
    while (Date.now() < deadline) {
      await sleep(Math.max(1, 1000 * env.ctx.waits.scale), cc.main.signal);
      const doc = await env.backend.read();
      if (doc?.releases?.[target.service]?.live === switchable.to) {
        cc.say(`the baking deploy stopped and recorded the rollback; it scales ${bg.slots[switchable.from].serviceName} (${switchable.from}) to 0`);
        if (cc.opts.json) cc.json({ environment: env.config.environment, service: target.service, rolledBack: "switch", live: switchable.to, recorded: true });
        return 0;
      }
    }
    // Production is switched, but state still says otherwise: a later `up` would switch it back. Not done until recorded.
    cc.io.stderr.write(
      `error: production is on ${to.serviceName} (${switchable.to}), but the deploy holding the lock has not recorded it (it looks every ${BAKE_POLL_SECONDS} s). If it is no longer running, run 'platform state unlock --env ${env.config.environment}' and then 'platform rollback --env ${env.config.environment} --service ${target.service}' again: it records the switch and scales ${switchable.from} to 0; do not run 'platform up' before that\n`,
    );
    if (cc.opts.json) cc.json({ environment: env.config.environment, service: target.service, rolledBack: "switch", live: switchable.to, recorded: false });
    return 1;
  } finally {
    await env.close();
  }
}
