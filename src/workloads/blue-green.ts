import { sleep } from "../run/wait-for.js";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { DeregisterTaskDefinitionCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand, type TargetHealthDescription } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Config } from "../config/schema.js";
import { AwsFailure, UserError } from "../errors.js";
import { metricAlarm, type MetricAlarmAttrs } from "../resources/cloudwatch-alarm.js";
import { elbv2 } from "../resources/elbv2-shared.js";
import { ecsService, findService, waitForSteadyState, type EcsServiceAttrs } from "../resources/ecs-service.js";
import { ecs } from "../resources/ecs-shared.js";
import { ecsTaskDefinition, findTaskDefinition } from "../resources/ecs-task-definition.js";
import { findListener, forwardTarget, forwardTo, listener, type ListenerAttrs } from "../resources/listener.js";
import type { TargetGroupAttrs } from "../resources/target-group.js";
import type { ResourceContext } from "../resources/types.js";
import { computeIds, slotService } from "../stack/compute.js";
import { isBlueGreen, lbIds, productionListener, slotTargetGroup } from "../stack/load-balancer.js";
import { setDeployment } from "../state/deployments.js";
import type { DeploymentRecord, ReleaseRecord, Slot } from "../state/document.js";
import { liveSlot, otherSlot, recordRelease, setRelease, SLOTS } from "../state/releases.js";
import type { StateStore } from "../state/store.js";
import { type DeployTarget, nextRevision, putRecord, type ReleasedImage, revisionName, step } from "./deploy.js";
import { requireRecorded } from "./environment.js";
import type { ResolvedImage } from "./images.js";
import { describeSmokeTest, type HttpGet, runSmokeTest, type SmokeTest } from "./smoke-test.js";

/**
 * Blue-green releases of the API, orchestrated by platform over plain ECS services and load-balancer listeners:
 *
 *   1. the new revision starts on the idle slot's service (its own target group), as many tasks as production runs;
 *   2. once its targets are healthy, the test listener forwards to it and the smoke test runs through it;
 *   3. the production listener switches to it (one ModifyListener: new requests go there at once);
 *   4. the old slot keeps running for the bake time while alarms and the new targets' health are watched;
 *   5. after the bake the old slot is scaled to 0; it stays, idle, for the next release.
 *
 * A failure before step 3 scales the new slot back to 0: production never moved. A failure during the bake switches
 * production back to the old slot, which is still running. State records the live slot (the stack builds the
 * listeners' forwards and the slots' counts from it), the release before (rollback's target) and the bake's end.
 */
export interface SlotTarget {
  slot: Slot;
  logicalId: string;
  serviceName: string;
  targetGroupArn: string;
}

export interface BlueGreenTarget extends DeployTarget {
  slots: Record<Slot, SlotTarget>;
  production: { logicalId: string; arn: string };
  test: { logicalId: string; arn: string; url: string };
  /** The stack's alarms: any that goes into ALARM during the bake ends it. */
  alarmNames: string[];
  /** The API's host name, for smoke tests through an HTTPS test listener (services.api.deployment.smokeTestHost). */
  smokeTestHost?: string;
}

export interface BlueGreenSettings {
  smokeTest?: SmokeTest;
  bakeMinutes: number;
  http: HttpGet;
  say(line: string): void;
}

export type BlueGreenStep = "start" | "smoke-test" | "switch" | "bake";

export interface BlueGreenOutcome extends ReleasedImage {
  status: "released" | "failed";
  /** The slot that served production before, and the one the release went to. */
  from: Slot;
  to: Slot;
  /** The slot serving production now. */
  live: Slot;
  /** When it failed: at which step, and why. */
  failedAt?: BlueGreenStep;
  failure?: string;
}

/** Seconds between looks at alarms, targets and the production listener during the bake (scaled like every wait). */
export const BAKE_POLL_SECONDS = 10;
const SMOKE_ATTEMPTS = 3;
const SMOKE_PAUSE_SECONDS = 5;
const SMOKE_REQUEST_SECONDS = 10;
const SMOKE_COMMAND_SECONDS = 10 * 60;

/** The blue-green resources of the API, from state; a UserError when the config or state has none. */
export function blueGreenTarget(store: StateStore, config: Config, base: DeployTarget): BlueGreenTarget {
  const env = config.environment;
  if (base.service !== "api") throw new UserError(`--strategy blue-green: only the api service sits behind the load balancer; deploy ${base.service} with --strategy rolling`);
  if (!isBlueGreen(config)) {
    throw new UserError(`--strategy blue-green: ${env}'s API has no green slot; set services.api.deployment.strategy to "blue-green" in its config and run 'platform up --env ${env}' first`);
  }
  const state = store.document;
  const slot = (s: Slot): SlotTarget => {
    const svc = requireRecorded<EcsServiceAttrs>(state, env, slotService(s), `API ${s} service`);
    const tg = requireRecorded<TargetGroupAttrs>(state, env, slotTargetGroup(s), `API ${s} target group`);
    return { slot: s, logicalId: slotService(s), serviceName: svc.name, targetGroupArn: tg.arn };
  };
  const production = requireRecorded<ListenerAttrs>(state, env, productionListener(config), "production listener");
  const test = requireRecorded<ListenerAttrs>(state, env, lbIds.testListener, "test listener");
  const alarmNames = Object.values(state.resources)
    .filter((r) => r.type === metricAlarm.type)
    .map((r) => (r.attributes as unknown as MetricAlarmAttrs).name)
    .sort();
  return {
    ...base,
    slots: { blue: slot("blue"), green: slot("green") },
    production: { logicalId: productionListener(config), arn: production.arn },
    test: { logicalId: lbIds.testListener, arn: test.arn, url: test.url },
    alarmNames,
    ...(config.services.api.deployment.smokeTestHost ? { smokeTestHost: config.services.api.deployment.smokeTestHost } : {}),
  };
}

/** Which slot the production listener forwards to, as AWS says; a failure naming the listener when it is neither. */
export async function servingSlot(ctx: ResourceContext, target: BlueGreenTarget): Promise<{ slot: Slot; production: ListenerAttrs }> {
  const production = await step(`reading ELBv2 listener (${target.production.arn})`, () => findListener(ctx, target.production.arn));
  if (!production) throw new UserError(`the production listener ${target.production.arn} is gone; run 'platform up --env ${ctx.identity.environment}' to restore it`);
  const forward = forwardTarget(production);
  const slot = SLOTS.find((s) => target.slots[s].targetGroupArn === forward);
  if (!slot) {
    throw new AwsFailure(
      `reading ELBv2 listener (${target.production.arn})`,
      "UnexpectedDefaultAction",
      `the production listener forwards to ${forward ?? production.defaultAction.type}, neither the blue nor the green target group`,
      `someone changed it outside platform; run 'platform up --env ${ctx.identity.environment}' to put it back, then deploy again`,
    );
  }
  return { slot, production };
}

export async function deployBlueGreen(ctx: ResourceContext, store: StateStore, config: Config, target: BlueGreenTarget, image: ResolvedImage, s: BlueGreenSettings): Promise<BlueGreenOutcome> {
  // 1. Where production is, and what it runs.
  const { slot: from } = await servingSlot(ctx, target);
  if (from !== liveSlot(store.document, target.service)) s.say(`state said ${liveSlot(store.document, target.service)} serves production; the listener says ${from}: going by the listener`);
  const to = otherSlot(from);
  const live = target.slots[from];
  const idle = target.slots[to];
  const [liveService, idleService] = await Promise.all([live, idle].map((t) => step(`reading ECS service (${t.serviceName})`, () => findService(ctx, target.cluster, t.serviceName))));
  if (!liveService || !idleService) throw new UserError(`${config.environment}'s API ${!liveService ? from : to} service is missing; run 'platform up --env ${config.environment}' first`);
  const desiredCount = Math.max(liveService.desiredCount, target.configuredCount, 1);
  const priorDeployment = store.document.deployments?.[target.service];
  const priorRelease = store.document.releases?.[target.service];
  const previousImage = await runningImage(ctx, liveService, target.container);
  const previous = {
    image: previousImage,
    ...(priorDeployment?.image === previousImage && priorDeployment.digest ? { digest: priorDeployment.digest } : {}),
    taskDefinitionArn: liveService.taskDefinitionArn,
  };
  // The idle slot is about to run the new revision: whatever release it still ran (a bake left unfinished) is gone,
  // so rollback must not switch to it.
  if (priorRelease?.bakingUntil || priorRelease?.previous?.slot === to) {
    await recordRelease(store, target.service, { live: from, ...(priorRelease.previous ? { previous: { ...priorRelease.previous, slot: undefined } } : {}) });
  }

  // 2. The new revision on the idle slot, as many tasks as production runs. It is recorded as the family's revision only
  //    once production switches to it: until then the family's latest ACTIVE revision stays what production runs.
  const { revision, registered } = await nextRevision(ctx, target, image.image, idleService.taskDefinitionArn);
  if (registered) s.say(`registered ${ecsTaskDefinition.physicalId(revision)}`);
  const outcome: BlueGreenOutcome = {
    status: "released",
    service: target.service,
    image: image.image,
    ...(image.digest ? { digest: image.digest } : {}),
    taskDefinitionArn: revision.arn,
    registered,
    previousTaskDefinitionArn: liveService.taskDefinitionArn,
    from,
    to,
    live: from,
    desiredCount,
  };
  try {
    const failed = await startAndTest(ctx, store, target, outcome, s);
    if (failed) return failed;
  } catch (err) {
    // Anything else before the switch (an interrupt, a read that kept failing): the new slot goes back to 0 all the same.
    const aborted = ctx.signal?.aborted || (err as Error)?.name === "AbortError";
    const failed = await abandon(ctx, store, target, outcome, "start", aborted ? "interrupted" : `${(err as Error).message}`, s).catch(() => undefined);
    if (aborted || !failed) throw err;
    return failed;
  }

  // 4. The switch: production to the new slot, the test listener to the old one; then state says so in one write.
  //    An interrupt that came during the last read still stops it: nothing moves after Ctrl-C.
  const alarmingBefore = await alarmsInAlarm(ctx, target.alarmNames);
  if (ctx.signal?.aborted) {
    await abandon(ctx, store, target, outcome, "switch", "interrupted", s).catch(() => undefined);
    ctx.signal.throwIfAborted();
  }
  await switchTo(ctx, store, target, to, from);
  const bakingUntil = new Date(Date.now() + s.bakeMinutes * 60_000 * ctx.waits.scale).toISOString();
  setRelease(store.document, target.service, { live: to, previous: { ...previous, slot: from }, ...(s.bakeMinutes > 0 ? { bakingUntil } : {}) });
  setDeployment(store.document, target.service, deploymentRecord(config, image, revision.arn));
  await putRecord(store, computeIds.taskDefinition(target.service), ecsTaskDefinition.physicalId(revision), revision);
  outcome.live = to;
  s.say(`production now on ${to} (${revisionName(revision.arn)}); ${from} keeps running ${revisionName(liveService.taskDefinitionArn)} for rollback`);

  // 5. The bake: any new alarm, or an unhealthy target of the new slot, switches back; so does a `platform rollback`.
  const switchBackTo = (previousRelease: ReleaseRecord["previous"]) =>
    switchBack(ctx, store, target, { from: to, to: from, failedArn: registered ? revision.arn : undefined, previousDeployment: priorDeployment, previousRelease });
  // A failed release is not what a second rollback should go to: the release before it is. A release a user rolled
  // back is (as `platform rollback` under the lock records it): a second rollback goes forward again.
  const beforeThis = priorRelease?.previous && { ...priorRelease.previous, slot: undefined };
  const thisRelease = { image: image.image, ...(image.digest ? { digest: image.digest } : {}), taskDefinitionArn: revision.arn };
  if (s.bakeMinutes > 0) {
    s.say(`baking for ${s.bakeMinutes} minute${s.bakeMinutes === 1 ? "" : "s"} (until ${bakingUntil}); 'platform rollback --env ${config.environment} --service ${target.service}' from any shell switches back at once`);
    const problem = await bake(ctx, target, idle, Date.parse(bakingUntil), new Set(alarmingBefore), s);
    if (problem?.kind === "rolled-back") {
      s.say(`${problem.message}: finishing the switch back`);
      await switchBackTo(thisRelease);
      return { ...outcome, status: "failed", live: from, failedAt: "bake", failure: problem.message };
    }
    if (problem) {
      // Back only to a slot that can take the traffic (on the first release the old slot may have had no tasks).
      if ((await healthyTargets(ctx, live.targetGroupArn)) === 0) {
        return { ...outcome, status: "failed", live: to, failedAt: "bake", failure: `${problem.message}; ${from} has no healthy tasks to go back to, so production stays on ${to}: deploy a fix` };
      }
      s.say(`${problem.message}: switching production back to ${from}`);
      await switchBackTo(beforeThis);
      return { ...outcome, status: "failed", live: from, failedAt: "bake", failure: problem.message };
    }
  }

  // 6. The old slot goes to 0; it stays, idle, for the next release. A rollback that arrived in the bake's last moments
  //    wins; one that lands after the scale-down is undone (the old slot has no tasks left to serve).
  if (s.bakeMinutes > 0 && (await servingSlotPatiently(ctx, target, s)) !== to) {
    const problem = `production was switched back to ${from} at the end of the bake ('platform rollback')`;
    s.say(`${problem}: finishing the switch back`);
    await switchBackTo(thisRelease);
    return { ...outcome, status: "failed", live: from, failedAt: "bake", failure: problem };
  }
  await recordRelease(store, target.service, { live: to, previous: { ...previous, slot: undefined } });
  await scale(ctx, target, live, 0);
  await recordSlot(ctx, store, target, live);
  if (s.bakeMinutes > 0 && (await servingSlotPatiently(ctx, target, s)) !== to) {
    await step(`switching ELBv2 listener (${target.production.arn}) to ${to}`, () => forwardTo(ctx, target.production.arn, idle.targetGroupArn));
    s.say(`a rollback switched production to ${from} after the bake had ended and ${from} was scaled to 0: production is back on ${to}; to go back now, 'platform rollback' redeploys the previous release`);
  }
  s.say(`${from} (${live.serviceName}) scaled to 0`);
  return outcome;
}

/** The serving slot, read again (up to BAKE_READ_FAILURES times) before a step that must not be based on a guess. */
async function servingSlotPatiently(ctx: ResourceContext, target: BlueGreenTarget, s: BlueGreenSettings): Promise<Slot> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await servingSlot(ctx, target)).slot;
    } catch (err) {
      if (ctx.signal?.aborted || attempt >= BAKE_READ_FAILURES) throw err;
      s.say(`could not read the production listener (${(err as Error).message}); ${attempt}/${BAKE_READ_FAILURES}`);
      await sleep(BAKE_POLL_SECONDS * 1000 * ctx.waits.scale, ctx.signal);
    }
  }
}

/**
 * Steps 2 and 3: the new revision on the idle slot until its targets are healthy, then the smoke test through the test
 * listener. A failed outcome (the slot already back at 0) when either fails; undefined when production may switch.
 */
async function startAndTest(ctx: ResourceContext, store: StateStore, target: BlueGreenTarget, outcome: BlueGreenOutcome, s: BlueGreenSettings): Promise<BlueGreenOutcome | undefined> {
  const idle = target.slots[outcome.to];
  const tasks = `${outcome.desiredCount} task${outcome.desiredCount === 1 ? "" : "s"}`;
  s.say(`starting ${revisionName(outcome.taskDefinitionArn)} on ${outcome.to} (${idle.serviceName}, ${tasks}); production stays on ${outcome.from} (${target.slots[outcome.from].serviceName})`);
  await scale(ctx, target, idle, outcome.desiredCount, outcome.taskDefinitionArn);
  ctx.signal?.throwIfAborted();
  try {
    await waitForSteadyState(ctx, {
      cluster: target.cluster,
      service: idle.serviceName,
      logicalId: idle.logicalId,
      taskDefinitionArn: outcome.taskDefinitionArn,
      desiredCount: outcome.desiredCount,
      targetGroupArns: [idle.targetGroupArn],
    });
  } catch (err) {
    if (!(err instanceof AwsFailure)) throw err;
    return abandon(ctx, store, target, outcome, "start", `the new tasks did not become healthy: ${err.awsMessage}`, s);
  }
  await recordSlot(ctx, store, target, idle);
  ctx.signal?.throwIfAborted();

  // The smoke test goes through the test listener, which must forward to the new slot.
  const test = await step(`reading ELBv2 listener (${target.test.arn})`, () => findListener(ctx, target.test.arn));
  if (test && forwardTarget(test) !== idle.targetGroupArn) {
    await step(`switching ELBv2 listener (${target.test.arn})`, () => forwardTo(ctx, target.test.arn, idle.targetGroupArn));
  }
  if (!s.smokeTest) {
    s.say("no smoke test (services.api.deployment.smokeTestPath or --smoke-test): switching on health checks alone");
    return undefined;
  }
  s.say(`smoke test: ${describeSmokeTest(s.smokeTest, target.test.url)}`);
  const failed = await runSmokeTest(s.smokeTest, target.test.url, {
    http: s.http,
    ...(target.smokeTestHost ? { host: target.smokeTestHost } : {}),
    attempts: SMOKE_ATTEMPTS,
    pauseMs: SMOKE_PAUSE_SECONDS * 1000 * ctx.waits.scale,
    requestTimeoutMs: SMOKE_REQUEST_SECONDS * 1000,
    commandTimeoutMs: SMOKE_COMMAND_SECONDS * 1000,
    signal: ctx.signal,
    say: (line) => s.say(line),
  });
  if (failed) return abandon(ctx, store, target, outcome, "smoke-test", `the smoke test failed: ${failed}`, s);
  s.say("smoke test passed");
  ctx.signal?.throwIfAborted();
  return undefined;
}

/**
 * Production back to `to` (the old slot, still running): state first (so a crash leaves it saying where production is
 * going), then both listeners, then the failed slot to 0 and its revision deregistered (so the family's latest ACTIVE
 * revision is again what production runs and `up` has nothing to redo).
 */
export async function switchBack(
  ctx: ResourceContext,
  store: StateStore,
  target: BlueGreenTarget,
  r: { from: Slot; to: Slot; failedArn?: string; previousDeployment: DeploymentRecord | undefined; previousRelease: ReleaseRecord["previous"] },
): Promise<void> {
  setRelease(store.document, target.service, { live: r.to, ...(r.previousRelease ? { previous: r.previousRelease } : {}) });
  setDeployment(store.document, target.service, r.previousDeployment);
  await store.persist();
  await switchTo(ctx, store, target, r.to, r.from);
  await scale(ctx, target, target.slots[r.from], 0);
  await recordSlot(ctx, store, target, target.slots[r.from]);
  await restoreLatestRevision(ctx, store, target, r.failedArn, target.slots[r.to]);
}

/** The production listener to `to`'s target group and the test listener to `from`'s; both recorded, and the output. */
async function switchTo(ctx: ResourceContext, store: StateStore, target: BlueGreenTarget, to: Slot, from: Slot): Promise<void> {
  const production = await step(`switching ELBv2 listener (${target.production.arn}) to ${to}`, () => forwardTo(ctx, target.production.arn, target.slots[to].targetGroupArn));
  await putRecord(store, target.production.logicalId, listener.physicalId(production), production);
  const test = await step(`switching ELBv2 listener (${target.test.arn}) to ${from}`, () => forwardTo(ctx, target.test.arn, target.slots[from].targetGroupArn));
  await putRecord(store, target.test.logicalId, listener.physicalId(test), test);
  if (store.document.outputs.api_service_name !== undefined) await store.setOutputs({ ...store.document.outputs, api_service_name: target.slots[to].serviceName });
}

/** Before the switch: the new slot back to 0, its revision deregistered; production never moved. */
async function abandon(ctx: ResourceContext, store: StateStore, target: BlueGreenTarget, outcome: BlueGreenOutcome, at: BlueGreenStep, why: string, s: BlueGreenSettings): Promise<BlueGreenOutcome> {
  s.say(`${why}: scaling ${outcome.to} back to 0; production stays on ${outcome.from}`);
  const idle = target.slots[outcome.to];
  await scale(ctx, target, idle, 0);
  await recordSlot(ctx, store, target, idle);
  await restoreLatestRevision(ctx, store, target, outcome.registered ? outcome.taskDefinitionArn : undefined, target.slots[outcome.from]);
  return { ...outcome, status: "failed", live: outcome.from, failedAt: at, failure: why };
}

/** Deregisters a revision that did not make it, and records the one `serving` runs as the stack's revision. */
async function restoreLatestRevision(ctx: ResourceContext, store: StateStore, target: BlueGreenTarget, failedArn: string | undefined, serving: SlotTarget): Promise<void> {
  const service = await findService(ctx, target.cluster, serving.serviceName);
  if (failedArn && failedArn !== service?.taskDefinitionArn) {
    await ecs(ctx)
      .send(new DeregisterTaskDefinitionCommand({ taskDefinition: failedArn }))
      .catch(() => undefined); // best effort: the stack's record below names what production runs either way
  }
  const running = service?.taskDefinitionArn ? await findTaskDefinition(ctx, service.taskDefinitionArn) : await findTaskDefinition(ctx, target.family);
  if (running) await putRecord(store, computeIds.taskDefinition(target.service), ecsTaskDefinition.physicalId(running), running);
}

/** UpdateService: the slot's count (and revision, when given; a new deployment even when it names the same one). */
async function scale(ctx: ResourceContext, target: BlueGreenTarget, slot: SlotTarget, desiredCount: number, taskDefinitionArn?: string): Promise<void> {
  await step(`updating ECS service (${slot.serviceName})`, () =>
    ecs(ctx).send(
      new UpdateServiceCommand({
        cluster: target.cluster,
        service: slot.serviceName,
        desiredCount,
        ...(taskDefinitionArn ? { taskDefinition: taskDefinitionArn, forceNewDeployment: true } : {}),
      }),
    ),
  );
}

async function recordSlot(ctx: ResourceContext, store: StateStore, target: BlueGreenTarget, slot: SlotTarget): Promise<void> {
  const found = await step(`reading ECS service (${slot.serviceName})`, () => findService(ctx, target.cluster, slot.serviceName));
  if (found) await putRecord(store, slot.logicalId, ecsService.physicalId(found), found);
}

/** Consecutive failed looks at alarms and targets after which the bake stops watching (and says what to do). */
const BAKE_READ_FAILURES = 5;

/** Until `until`: every 10 s (scaled) the production listener, the stack's alarms and the new slot's targets; what went wrong, or undefined. */
/** What ended a bake early: a user's `platform rollback` from elsewhere, or the release's own health. */
interface BakeProblem {
  kind: "rolled-back" | "unhealthy";
  message: string;
}

async function bake(ctx: ResourceContext, target: BlueGreenTarget, slot: SlotTarget, until: number, alarmingBefore: Set<string>, s: BlueGreenSettings): Promise<BakeProblem | undefined> {
  const pause = BAKE_POLL_SECONDS * 1000 * ctx.waits.scale;
  let failures = 0;
  for (;;) {
    try {
      // `platform rollback` from another shell switches the production listener only; the rest is done here.
      const { slot: serving } = await servingSlot(ctx, target);
      if (serving !== slot.slot) return { kind: "rolled-back", message: `production was switched back to ${serving} during the bake ('platform rollback')` };
      const alarming = (await alarmsInAlarm(ctx, target.alarmNames)).filter((name) => !alarmingBefore.has(name));
      if (alarming.length) return { kind: "unhealthy", message: `alarm${alarming.length > 1 ? "s" : ""} ${alarming.join(", ")} went into ALARM during the bake` };
      const unhealthy = await unhealthyTargets(ctx, slot.targetGroupArn);
      if (unhealthy) return { kind: "unhealthy", message: `${unhealthy} during the bake` };
      failures = 0;
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      failures += 1;
      s.say(`could not read alarms or targets (${(err as Error).message}); ${failures}/${BAKE_READ_FAILURES}`);
      if (failures >= BAKE_READ_FAILURES) {
        throw new AwsFailure(
          `watching the bake of ${slot.serviceName}`,
          (err as AwsFailure).code ?? (err as Error).name,
          (err as Error).message,
          `production is on ${slot.slot} and the previous slot still runs: 'platform rollback --env ${ctx.identity.environment} --service ${target.service}' switches back, 'platform up --env ${ctx.identity.environment}' ends the bake`,
        );
      }
    }
    const left = until - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(pause, left), ctx.signal);
  }
}

/** The names among `names` whose state is ALARM (DescribeAlarms takes up to 100 names a call). */
export async function alarmsInAlarm(ctx: ResourceContext, names: string[]): Promise<string[]> {
  const alarming: string[] = [];
  for (let i = 0; i < names.length; i += 100) {
    const batch = names.slice(i, i + 100);
    const out = await step("reading CloudWatch alarms", () => ctx.aws.get(CloudWatchClient).send(new DescribeAlarmsCommand({ AlarmNames: batch, AlarmTypes: ["MetricAlarm"], StateValue: "ALARM" })));
    alarming.push(...(out.MetricAlarms ?? []).filter((a) => a.StateValue === "ALARM").map((a) => a.AlarmName!));
  }
  return alarming.sort();
}

/** "2 of 3 targets unhealthy in <tg>" when any registered target is unhealthy; undefined otherwise. */
async function unhealthyTargets(ctx: ResourceContext, targetGroupArn: string): Promise<string | undefined> {
  const targets = await targetHealth(ctx, targetGroupArn);
  const bad = targets.filter((t) => t.TargetHealth?.State === "unhealthy");
  if (!bad.length) return undefined;
  return `${bad.length} of ${targets.length} targets unhealthy in ${targetGroupArn.split(":").at(-1)}${bad[0]?.TargetHealth?.Reason ? ` (${bad[0].TargetHealth.Reason})` : ""}`;
}

/** How many targets of the group are healthy. */
export async function healthyTargets(ctx: ResourceContext, targetGroupArn: string): Promise<number> {
  return (await targetHealth(ctx, targetGroupArn)).filter((t) => t.TargetHealth?.State === "healthy").length;
}

/** The group's registered targets with their health (one DescribeTargetHealth). */
async function targetHealth(ctx: ResourceContext, targetGroupArn: string): Promise<TargetHealthDescription[]> {
  const out = await step(`reading ELBv2 target health (${targetGroupArn})`, () => elbv2(ctx).send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })));
  return out.TargetHealthDescriptions ?? [];
}

/** The image the app container of the service's revision names. */
async function runningImage(ctx: ResourceContext, service: EcsServiceAttrs, container: string): Promise<string> {
  const td = await step(`reading ECS task definition (${service.taskDefinitionArn})`, () => findTaskDefinition(ctx, service.taskDefinitionArn));
  return td?.containerDefinitions.find((c) => c.name === container)?.image ?? "";
}

function deploymentRecord(config: Config, image: ResolvedImage, taskDefinitionArn: string): DeploymentRecord {
  return {
    image: image.image,
    ...(image.digest ? { digest: image.digest } : {}),
    configImageTag: config.services.imageTag,
    taskDefinitionArn,
    deployedAt: new Date().toISOString(),
  };
}
