import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/schema.js";
import { UserError } from "../errors.js";
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
  const output = flags.output ? path.resolve(cc.cwd, flags.output) : path.join(cc.root, ".github", "workflows", `deploy-${env}.yml`);
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

/** The workflow: OIDC credentials, ECR login, build and push the api image tagged with the commit, then platform deploy. */
export function workflow(config: Config, roleArn: string): string {
  const env = config.environment;
  const branches = config.github.branches.map((b) => `      - ${JSON.stringify(b)}`).join("\n");
  return `# Written by: platform ci init. Deploys the api of ${env} on every push to the branches below.
name: deploy-${env}

on:
  push:
    branches:
${branches}

permissions:
  id-token: write
  contents: read

concurrency:
  group: deploy-${env}
  cancel-in-progress: false

jobs:
  deploy:
    runs-on: ubuntu-latest
${config.github.environments.includes(env) ? `    environment: ${env}\n` : ""}    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          cache: npm
      - run: npm ci
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: ${roleArn}
          aws-region: ${config.region}
      - id: ecr
        uses: aws-actions/amazon-ecr-login@v2
      - name: Build and push the api image
        env:
          IMAGE: \${{ steps.ecr.outputs.registry }}/${repositoryName(config, "api")}:\${{ github.sha }}
        run: |
          docker build -t "$IMAGE" .
          docker push "$IMAGE"
      - name: Deploy
        run: npx platform deploy --env ${env} --service api --image \${{ github.sha }} --yes
`;
}
