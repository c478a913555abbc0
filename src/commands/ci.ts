import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/schema.js";
import { Document, type Scalar } from "yaml";
import { UserError } from "../errors.js";
import { githubEnvironments, githubWorkflowPath } from "../stack/operations.js";
import { repositoryName } from "../stack/storage.js";
import { backendFor } from "../state/index.js";
import { awsClientsFor, type CommandContext } from "./runtime.js";

export interface CiInitFlags {
  repo: string;
  output?: string;
  force?: boolean;
}

const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

/**
 * `platform ci init --repo OWNER/NAME`: writes a GitHub Actions workflow that deploys the API with the role `up` made
 * for the repository. No AWS call but reading state (the role's ARN is the recorded output github_actions_role_arn).
 */
export async function ciInitCommand(cc: CommandContext, flags: CiInitFlags): Promise<number> {
  // validate
  if (!REPOSITORY.test(flags.repo ?? "")) throw new UserError(`--repo ${flags.repo}: expected a GitHub repository "OWNER/NAME"`);
  const { config } = cc.loadConfig();
  const env = config.environment;
  if (config.github.repository && config.github.repository.toLowerCase() !== flags.repo.toLowerCase()) {
    throw new UserError(`--repo ${flags.repo}: the role of ${env} trusts ${config.github.repository} (github.repository in config/${env}.json); use that repository or change the config and run 'platform up --env ${env}'`);
  }
  // The deploy role trusts one workflow file (its job_workflow_ref): write that file unless told otherwise.
  const trusted = githubWorkflowPath(config);
  const output = flags.output ? path.resolve(cc.cwd, flags.output) : path.resolve(cc.root, trusted);
  if (flags.output && path.basename(output) !== path.basename(trusted)) {
    throw new UserError(`--output ${flags.output}: the deploy role of ${env} trusts only ${trusted} (github.workflow in config/${env}.json); write that file, or set github.workflow and run 'platform up --env ${env}'`);
  }
  if (existsSync(output) && !flags.force) throw new UserError(`${path.relative(cc.cwd, output)} already exists; pass --force to overwrite it`);
  const state = await (await backendFor(config, awsClientsFor(cc, config), cc.root)).read();
  const roleArn = state?.outputs?.github_actions_role_arn;
  if (typeof roleArn !== "string" || !roleArn) {
    throw new UserError(`${env} has no GitHub Actions role yet: set github.repository to "${flags.repo}" in config/${env}.json and run 'platform up --env ${env}' first`);
  }
  // execute
  mkdirSync(path.dirname(output), { recursive: true });
  writeFileSync(output, workflow(config, roleArn));
  cc.say(`wrote ${path.relative(cc.cwd, output)}: pushes to ${config.github.branches.join(", ")} build the api image and run platform deploy --env ${env}`);
  if (config.state.backend !== "s3") cc.say(`note: ${env} keeps its state locally; CI runs need state.backend "s3" (platform state migrate --to s3) to deploy`);
  return 0;
}

/**
 * The actions the workflow uses, pinned by commit (a tag can be moved to other code; a commit cannot), with the
 * release each commit is. Checked against public workflows that pin the same releases, 2026-12.
 */
export const PINNED_ACTIONS = {
  checkout: { uses: "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", release: "v4.2.2" },
  setupNode: { uses: "actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020", release: "v4.4.0" },
  awsCredentials: { uses: "aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502", release: "v4.0.2" },
  ecrLogin: { uses: "aws-actions/amazon-ecr-login@062b18b96a7aff071d4dc91bc00c4c1a7945b076", release: "v2.0.1" },
} as const;

/**
 * The workflow: OIDC credentials, ECR login, build and push the api image tagged with the commit, then platform deploy.
 * Written through a YAML library with every value double-quoted, so no config value can add keys or steps. The job
 * runs in the GitHub environment the deploy role trusts, and the file is the one its job_workflow_ref names.
 */
export function workflow(config: Config, roleArn: string): string {
  const env = config.environment;
  const step = (action: (typeof PINNED_ACTIONS)[keyof typeof PINNED_ACTIONS], extra: Record<string, unknown> = {}, lead: Record<string, unknown> = {}) => {
    const node = doc.createNode({ ...lead, uses: action.uses, ...extra });
    const uses = node.items.find((pair) => (pair.key as Scalar).value === "uses")!;
    (uses.value as Scalar).comment = ` ${action.release}`;
    return node;
  };
  const doc = new Document();
  const body = {
    name: `deploy-${env}`,
    on: { push: { branches: config.github.branches } },
    permissions: { "id-token": "write", contents: "read" },
    concurrency: { group: `deploy-${env}`, "cancel-in-progress": false },
    jobs: {
      deploy: {
        "runs-on": "ubuntu-latest",
        environment: githubEnvironments(config)[0],
        steps: [
          step(PINNED_ACTIONS.checkout),
          step(PINNED_ACTIONS.setupNode, { with: { "node-version": "20", cache: "npm" } }),
          { run: "npm ci" },
          step(PINNED_ACTIONS.awsCredentials, { with: { "role-to-assume": roleArn, "aws-region": config.region } }),
          step(PINNED_ACTIONS.ecrLogin, {}, { id: "ecr" }),
          {
            name: "Build and push the api image",
            env: { IMAGE: `\${{ steps.ecr.outputs.registry }}/${repositoryName(config, "api")}:\${{ github.sha }}` },
            run: 'docker build -t "$IMAGE" . && docker push "$IMAGE"',
          },
          { name: "Deploy", run: `npx platform deploy --env ${env} --service api --image \${{ github.sha }} --yes` },
        ],
      },
    },
  };
  doc.contents = doc.createNode(body) as never;
  doc.commentBefore = ` Written by: platform ci init. Deploys the api of ${env} on every push to the branches below.\n Actions are pinned by commit; the comment beside each names its release.`;
  return doc.toString({ defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN", lineWidth: 0 });
}
