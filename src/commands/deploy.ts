import type { Config } from "../config/schema.js";
import type { Slot } from "../state/document.js";
import { AwsFailure, UserError } from "../errors.js";
import { type BlueGreenTarget, blueGreenTarget, deployBlueGreen } from "../workloads/blue-green.js";
import { nodeHttpGet, parseSmokeTest, type SmokeTest } from "../workloads/smoke-test.js";
import { deployImage, type DeployTarget, deployTarget, revisionName } from "../workloads/deploy.js";
import { type ResolvedImage, resolveImage } from "../workloads/images.js";
import { CommandContext, type Environment, openEnvironment } from "./runtime.js";

export interface DeployFlags {
  service: string;
  /** A tag or digest of the service's repository, or a full image name. */
  image: string;
  /** --no-wait sets false. */
  wait: boolean;
  /** rolling or blue-green; the config's services.api.deployment.strategy when absent (rolling for the worker). */
  strategy?: string;
  /** Blue-green: a URL path or a command; the config's smokeTestPath when absent. */
  smokeTest?: string;
  /** Blue-green: the bake time; the config's bakeMinutes when absent. */
  bakeMinutes?: string;
}

/** The flags that choose how a resolved image is released (deploy's, promote's and rollback's). */
export type ReleaseFlags = Pick<DeployFlags, "service" | "wait" | "strategy" | "smokeTest" | "bakeMinutes">;

export type ReleasePlan = { strategy: "rolling" } | { strategy: "blue-green"; smokeTest?: SmokeTest; bakeMinutes: number };

/** The strategy and its settings from flags and config; a UserError (exit 2, before any change) for what cannot be. */
export function releasePlan(config: Config, flags: ReleaseFlags): ReleasePlan {
  const api = config.services.api.deployment;
  const configured = flags.service === "api" ? api.strategy : "rolling";
  const strategy = flags.strategy ?? configured;
  if (strategy !== "rolling" && strategy !== "blue-green") throw new UserError(`--strategy ${strategy}: expected rolling or blue-green`);
  if (strategy === "rolling") {
    if (flags.smokeTest !== undefined || flags.bakeMinutes !== undefined) throw new UserError(`--${flags.smokeTest !== undefined ? "smoke-test" : "bake-minutes"}: only blue-green deploys have a smoke test and a bake time; add --strategy blue-green`);
    return { strategy };
  }
  if (!flags.wait) throw new UserError("--no-wait: a blue-green deploy waits for the new tasks, the smoke test and the switch; drop --no-wait, or deploy with --strategy rolling");
  let bakeMinutes = api.bakeMinutes;
  if (flags.bakeMinutes !== undefined) {
    bakeMinutes = Number(flags.bakeMinutes);
    if (!Number.isInteger(bakeMinutes) || bakeMinutes < 0 || bakeMinutes > 1440) throw new UserError(`--bake-minutes ${flags.bakeMinutes}: expected a whole number of minutes from 0 to 1440`);
  }
  const smokeTest = parseSmokeTest(flags.smokeTest ?? api.smokeTestPath, flags.smokeTest !== undefined ? "--smoke-test" : "services.api.deployment.smokeTestPath");
  if (smokeTest?.kind === "path" && config.loadBalancer.certificateArn && !api.smokeTestHost) {
    throw new UserError(
      "services.api.deployment.smokeTestHost: the test listener serves HTTPS with your certificate, which does not name the load balancer's DNS name; set the API's host name (the one the certificate covers) so the smoke test can verify it",
    );
  }
  return { strategy, bakeMinutes, ...(smokeTest ? { smokeTest } : {}) };
}

/**
 * `platform deploy --service api --image TAG|URI`: check the image, register a new revision of the service's task
 * definition, roll the service to it, wait for steady state (unless --no-wait), report. Exit 0 when the service runs
 * the image (or, with --no-wait, is rolling to it), 1 when the circuit breaker rolled back (naming what runs) or the
 * rollout failed, 2 for bad input, 130 when interrupted while waiting (the rollout goes on in AWS).
 */
export async function deployCommand(cc: CommandContext, flags: DeployFlags): Promise<number> {
  // deploy's --image names the image to roll out; it must not also become services.imageTag, as up's does.
  const ccForConfig = new CommandContext(cc.io, { ...cc.opts, image: undefined }, cc.main);
  const env = await openEnvironment(ccForConfig, {
    command: `deploy --env ${cc.opts.env ?? cc.opts.config} --service ${flags.service}`,
    lock: true,
    deploys: true,
    events: (e) => e.kind === "note" && cc.say(`  ${e.message}`),
  });
  const liveBefore = env.store.document.releases?.[flags.service]?.live ?? "blue";
  try {
    // 1. What to deploy where: the service and its repositories from state, the image checked in ECR.
    const plan = releasePlan(env.config, flags);
    const target = deployTarget(env.store, env.config, flags.service);
    if (plan.strategy === "blue-green") blueGreenTarget(env.store, env.config, target);
    const image = await resolveImage(env.ctx, target.repository, target.repositories, flags.image, env.config.images.allowedRegistries);
    return await deployResolved(cc, env, target, image, flags);
  } catch (err) {
    if (!cc.main.signal?.aborted) throw err;
    cc.say(interruptedMessage(env, flags.service, liveBefore));
    return 130;
  } finally {
    await env.close();
  }
}

/**
 * Rolls `target` to an image already resolved (checked in ECR) and reports: deploy's second half, shared with
 * `platform promote`. Returns the exit code.
 */
export async function deployResolved(cc: CommandContext, env: Environment, target: DeployTarget, image: ResolvedImage, flags: Omit<ReleaseFlags, "service">): Promise<number> {
  const plan = releasePlan(env.config, { ...flags, service: target.service });
  if (plan.strategy === "blue-green") return deployBlueGreenResolved(cc, env, blueGreenTarget(env.store, env.config, target), image, plan);
  cc.say(`Deploying ${image.image}${image.digest ? ` (${image.digest})` : ""} to ${target.serviceName} in ${env.config.project} ${env.config.environment}`);
  // 2. New revision, rolling update, wait.
  const outcome = await deployImage(env.ctx, env.store, env.config, target, image, flags.wait, (line) => cc.say(`  ${line}`));
  // 3. Report.
  if (cc.opts.json) cc.json({ environment: env.config.environment, ...outcome, taskDefinition: revisionName(outcome.taskDefinitionArn), failure: outcome.failure?.message });
  if (outcome.status === "rolled-back") {
    const running = outcome.running!;
    const failure = new AwsFailure(
      `deploying ${outcome.image} to ECS service (${target.serviceName})`,
      outcome.failure!.code,
      outcome.failure!.awsMessage,
      `${target.serviceName} still runs ${revisionName(running.taskDefinitionArn)}${running.image ? ` with ${running.image}` : ""}` +
        `${outcome.registered ? `; ${revisionName(outcome.taskDefinitionArn)} was deregistered` : ""}. Fix the cause above and deploy again`,
    );
    cc.io.stderr.write(`error: ${failure.message}\n`);
    return 1;
  }
  if (outcome.status === "started") {
    cc.say(`${cc.c.green("✔")} ${target.serviceName} is rolling to ${revisionName(outcome.taskDefinitionArn)}; not waiting (--no-wait): 'platform status --env ${env.config.environment}' shows the rollout`);
  } else {
    cc.say(`${cc.c.green("✔")} ${target.serviceName} runs ${revisionName(outcome.taskDefinitionArn)} (${outcome.image}): ${outcome.desiredCount} task${outcome.desiredCount === 1 ? "" : "s"}, steady`);
  }
  return 0;
}

async function deployBlueGreenResolved(cc: CommandContext, env: Environment, target: BlueGreenTarget, image: ResolvedImage, plan: Extract<ReleasePlan, { strategy: "blue-green" }>): Promise<number> {
  cc.say(`Deploying ${image.image}${image.digest ? ` (${image.digest})` : ""} to the API in ${env.config.project} ${env.config.environment}, blue-green`);
  const outcome = await deployBlueGreen(env.ctx, env.store, env.config, target, image, {
    ...(plan.smokeTest ? { smokeTest: plan.smokeTest } : {}),
    bakeMinutes: plan.bakeMinutes,
    http: cc.main.http ?? nodeHttpGet,
    say: (line) => cc.say(`  ${line}`),
  });
  const serving = target.slots[outcome.live].serviceName;
  if (cc.opts.json) cc.json({ environment: env.config.environment, strategy: "blue-green", ...outcome, taskDefinition: revisionName(outcome.taskDefinitionArn) });
  if (outcome.status === "failed") {
    const moved = outcome.failedAt === "bake" ? `production was switched back to ${outcome.live} (${serving})` : `production never moved from ${outcome.live} (${serving})`;
    cc.io.stderr.write(`error: blue-green deploy of ${outcome.image} failed at the ${outcome.failedAt}: ${outcome.failure}. ${moved}; ${outcome.to} was scaled to 0. Fix the cause and deploy again\n`);
    return 1;
  }
  cc.say(`${cc.c.green("✔")} ${serving} (${outcome.live}) serves production: ${revisionName(outcome.taskDefinitionArn)} (${outcome.image}), ${outcome.desiredCount} task${outcome.desiredCount === 1 ? "" : "s"}; ${outcome.from} is idle at 0`);
  return 0;
}

/** What an interrupted deploy leaves, from the state it wrote (`liveBefore`: the slot production was on when it started). */
function interruptedMessage(env: Environment, service: string, liveBefore: Slot): string {
  const e = env.config.environment;
  const release = env.store.document.releases?.[service];
  if (!(service === "api" && env.config.services.api.deployment.strategy === "blue-green")) {
    return `interrupted: the rollout of ${service} goes on in AWS; 'platform status --env ${e}' shows it`;
  }
  const live = release?.live ?? "blue";
  if (live === liveBefore) {
    return `interrupted before production traffic moved: production stays on ${live}; the new slot was scaled back to 0 (if that failed too, 'platform up --env ${e}' does it)`;
  }
  const old = release?.previous?.slot ?? liveBefore;
  return `interrupted after the switch: production is on ${live}, ${old} still runs: 'platform rollback --env ${e} --service ${service}' switches back, 'platform up --env ${e}' ends the bake (scales ${old} to 0)`;
}
