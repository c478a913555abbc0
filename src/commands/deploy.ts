import { AwsFailure } from "../errors.js";
import { deployImage, type DeployTarget, deployTarget, revisionName } from "../workloads/deploy.js";
import { type ResolvedImage, resolveImage } from "../workloads/images.js";
import { CommandContext, type Environment, openEnvironment } from "./runtime.js";

export interface DeployFlags {
  service: string;
  /** A tag or digest of the service's repository, or a full image name. */
  image: string;
  /** --no-wait sets false. */
  wait: boolean;
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
    events: (e) => e.kind === "note" && cc.say(`  ${e.message}`),
  });
  try {
    // 1. What to deploy where: the service and its repositories from state, the image checked in ECR.
    const target = deployTarget(env.store, env.config, flags.service);
    const image = await resolveImage(env.ctx, target.repository, target.repositories, flags.image);
    return await deployResolved(cc, env, target, image, flags);
  } catch (err) {
    if (!cc.main.signal?.aborted) throw err;
    cc.say(`interrupted: the rollout of ${flags.service} goes on in AWS; 'platform status --env ${env.config.environment}' shows it`);
    return 130;
  } finally {
    await env.close();
  }
}

/**
 * Rolls `target` to an image already resolved (checked in ECR) and reports: deploy's second half, shared with
 * `platform promote`. Returns the exit code.
 */
export async function deployResolved(cc: CommandContext, env: Environment, target: DeployTarget, image: ResolvedImage, flags: Pick<DeployFlags, "wait">): Promise<number> {
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
