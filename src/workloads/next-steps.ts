import type { Config } from "../config/schema.js";
import { imageState, parseEcrImage } from "../resources/ecs-images.js";
import type { EcsTaskDefinitionAttrs } from "../resources/ecs-task-definition.js";
import type { ResourceContext } from "../resources/types.js";
import { computeIds, slotService } from "../stack/compute.js";
import { isBlueGreen } from "../stack/load-balancer.js";
import { REPOSITORIES, type RepositoryKey } from "../stack/storage.js";
import { isDeployable, serviceEnabled } from "../state/deployments.js";
import type { StateDocument } from "../state/document.js";
import { liveSlot } from "../state/releases.js";
import type { Colors } from "../ui/io.js";

/**
 * What a user needs once `up` has finished, as Terraform prints outputs and Copilot the service URL: the outputs that
 * matter (the API's URL, the image repositories), and while a repository lacks the image its task definition names,
 * the exact commands that push it and roll the service to it. Real values only: the environment, URIs and tags come
 * from state, never placeholders.
 */
export interface NextSteps {
  /** The outputs a user acts on: api_url and the ECR repository URIs (`platform outputs` lists all). */
  outputs: Record<string, string>;
  /** Workloads whose image is not in ECR yet, with the commands that fix it. */
  waitingForImages: WaitingImage[];
  /** The Docker login to the account's registry, needed before the pushes (present with waitingForImages). */
  login?: string;
}

export interface WaitingImage {
  workload: RepositoryKey;
  /** The image the task definition names (`<repository uri>:<tag>`). */
  image: string;
  tag: string;
  /** The commands to run, in order. */
  commands: string[];
}

const KEY_OUTPUTS = (name: string) => name === "api_url" || /^ecr_repository_.+_url$/.test(name);

/** Reads ECR for each workload's image (ListImages); an image that cannot be checked is left out, never guessed. */
export async function nextSteps(ctx: ResourceContext, state: StateDocument, config: Config): Promise<NextSteps> {
  const outputs = Object.fromEntries(Object.entries(state.outputs ?? {}).filter(([k, v]) => KEY_OUTPUTS(k) && typeof v === "string")) as Record<string, string>;
  const env = config.environment;
  const waiting = await Promise.all(
    REPOSITORIES.map(async (workload): Promise<WaitingImage | undefined> => {
      const td = state.resources[computeIds.taskDefinition(workload)]?.attributes as unknown as EcsTaskDefinitionAttrs | undefined;
      const image = td?.containerDefinitions?.find((c) => c.name === workload)?.image ?? td?.containerDefinitions?.[0]?.image;
      const ref = image ? parseEcrImage(image) : undefined;
      if (!image || !ref) return undefined;
      const missing = await imageState(ctx, image).catch(() => undefined);
      if (!missing) return undefined;
      const tag = ref.digest ?? ref.tag!;
      const commands = [`docker push ${image}`];
      if (isDeployable(workload) && serviceEnabled(config, workload) && state.resources[serviceIdOf(state, config, workload)]) {
        commands.push(`platform deploy --env ${env} --service ${workload} --image ${tag}`);
      } else if (workload === "dbt-runner") {
        commands.push(`platform run dbt --env ${env}`);
      }
      return { workload, image, tag, commands };
    }),
  );
  const waitingForImages = waiting.filter((w): w is WaitingImage => w !== undefined);
  const registry = waitingForImages[0]?.image.split("/")[0];
  return {
    outputs,
    waitingForImages,
    ...(registry ? { login: `aws ecr get-login-password --region ${config.region} | docker login --username AWS --password-stdin ${registry}` } : {}),
  };
}

function serviceIdOf(state: StateDocument, config: Config, workload: "api" | "worker"): string {
  return workload === "api" && isBlueGreen(config) ? slotService(liveSlot(state, "api")) : computeIds.service(workload);
}

/** The closing lines of `up`. */
export function renderNextSteps(steps: NextSteps, c: Colors, environment: string): string {
  const lines: string[] = [];
  const names = Object.keys(steps.outputs);
  if (names.length) {
    lines.push(c.bold("Outputs:"));
    const width = Math.max(...names.map((n) => n.length));
    // The API's URL first, then the repositories.
    for (const k of names.sort((a, b) => Number(b === "api_url") - Number(a === "api_url") || a.localeCompare(b))) lines.push(`  ${k.padEnd(width)} = ${steps.outputs[k]}`);
    lines.push(c.dim(`  (all outputs: platform outputs --env ${environment})`));
  }
  if (steps.waitingForImages.length) {
    const which = steps.waitingForImages.map((w) => w.workload).join(", ");
    lines.push("", c.bold(`Next: ECR has no image for ${which} yet, so ${steps.waitingForImages.length > 1 ? "they run" : "it runs"} nothing. Build the image${steps.waitingForImages.length > 1 ? "s" : ""}, then:`));
    if (steps.login) lines.push(`  ${steps.login}`);
    for (const w of steps.waitingForImages) for (const cmd of w.commands) lines.push(`  ${cmd}`);
  }
  if (!steps.waitingForImages.length && steps.outputs.api_url) lines.push("", `The API answers at ${steps.outputs.api_url} (platform status --env ${environment} shows its tasks).`);
  return lines.join("\n");
}
