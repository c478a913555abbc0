import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HttpGet } from "../../src/workloads/smoke-test.js";
import { runCli, tempProject } from "../cli-harness.js";
import { optOutOfKeysIn } from "../helpers.js";
import { MEDIA_TYPES, pushImage, pushImageIndex, serveBlobs } from "../fakes/ecr.js";
import { installFakeAws, type FakeAws } from "../fakes/index.js";

/**
 * `platform promote` against the fake AWS: staging and prod brought up from the repository's own configs (staging
 * runs two API tasks; prod releases its API blue-green with a smoke test, which `smokeTests` answers), staging's API
 * deployed from its repository, prod's repository holding what a test puts there. Blobs are downloaded from a
 * loopback HTTP server standing in for ECR's presigned S3 URLs.
 */
const REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const STAGING_REPO = "clinical-platform-staging/api";
const PROD_REPO = "clinical-platform-prod/api";
const ACCEPTED = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
];
const COPY_CALLS = ["BatchGetImage", "BatchCheckLayerAvailability", "GetDownloadUrlForLayer", "InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload", "PutImage"];

let aws: FakeAws;
let blobs: Awaited<ReturnType<typeof serveBlobs>>;
let cwd: string;
let smokeTests: string[];
const http: HttpGet = async (url) => {
  smokeTests.push(url);
  return { status: 200 };
};
beforeEach(async () => {
  smokeTests = [];
  aws = installFakeAws();
  blobs = await serveBlobs(aws.ecr);
  cwd = tempProject();
  optOutOfKeysIn(cwd, "staging", "prod");
  // Some tests move a tag in staging after its deploy: staging's repositories are mutable (an opt-out of its protection).
  const staging = JSON.parse(readFileSync(path.join(cwd, "config/staging.json"), "utf8"));
  writeFileSync(path.join(cwd, "config/staging.json"), JSON.stringify({ ...staging, services: { api: { desiredCount: 2 } }, ecr: { imageTagMutability: "MUTABLE", allowMutableTags: true } }));
});
afterEach(async () => {
  aws.restore();
  await blobs.close();
});

/** Brings staging and prod up (bad flags are refused without them). */
async function bringUp(): Promise<void> {
  for (const env of ["staging", "prod"]) {
    const up = await runCli(cwd, ["up", "--env", env, "--yes"]);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
  }
  aws.cloud.calls.length = 0;
}
const state = (env: string) => JSON.parse(readFileSync(path.join(cwd, `state/${env}.json`), "utf8"));
const calls = (command: string) => aws.cloud.callsTo(command);
const inputs = (command: string) => calls(command).map((c) => c.input);
const promote = (...args: string[]) => runCli(cwd, ["promote", "--from", "staging", "--to", "prod", "--service", "api", ...args], { http });
const repository = (name: string) => aws.ecr.repositories.get(name)!;
/** An environment's running API tasks, whichever service (a blue-green slot) runs them. */
const runningTasks = (env: string) => [...aws.ecs.tasks.values()].filter((t) => t.lastStatus === "RUNNING" && t.taskDefinitionArn.includes(`:task-definition/clinical-platform-${env}-api:`));
const hex12 = (digest: string) => digest.slice("sha256:".length, "sha256:".length + 12);

/** Brings both environments up, pushes an image to staging's API repository and deploys it there; returns its digest. */
async function deployToStaging(tag: string, layers?: string[]): Promise<string> {
  await bringUp();
  const digest = pushImage(aws.ecr, STAGING_REPO, tag, layers);
  const run = await runCli(cwd, ["deploy", "--env", "staging", "--service", "api", "--image", tag]);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  aws.cloud.calls.length = 0;
  return digest;
}

describe("promote copies and deploys what staging runs", () => {
  it("reads the digest from staging's running tasks, copies only the blobs prod lacks in contiguous parts, and deploys <prod repository>@<digest>", async () => {
    const digest = await deployToStaging("v1", ["base layer shared by both environments", "application layer of release v1, long enough for three parts"]);
    pushImage(aws.ecr, PROD_REPO, "base", ["base layer shared by both environments"]);
    aws.ecr.partSize = 32;
    const manifest = repository(STAGING_REPO).images.find((i) => i.imageDigest === digest)!.imageManifest;
    const [config, base, app] = [JSON.parse(manifest).config, ...JSON.parse(manifest).layers].map((d: { digest: string; size: number }) => d);

    const run = await promote("--yes");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const tag = `promoted-from-staging-${hex12(digest)}`;
    expect(run.stdout).toContain(`staging runs ${REGISTRY}/${STAGING_REPO}:v1 (clinical-platform-staging-api:2) as ${digest}: what its 2 running tasks report`);
    expect(run.stdout).toContain(`Copying ${digest} from ${STAGING_REPO} to ${PROD_REPO}`);
    expect(run.stdout).toContain(`  manifest ${hex12(digest)} (${MEDIA_TYPES.dockerManifest}): 3 blobs, 1 already there`);
    expect(run.stdout).toContain(`  copying ${hex12(app.digest)} (${app.size} B)`);
    expect(run.stdout).toContain(`    ${hex12(app.digest)}: 32 B of ${app.size} B`);
    expect(run.stdout).toContain(`✔ ${PROD_REPO} has ${digest} (tag ${tag}): 2 blobs copied (${config.size + app.size < 1024 ? `${config.size + app.size} B` : `${((config.size + app.size) / 1024).toFixed(1)} KiB`}), 1 already there`);
    // prod releases blue-green: deploy's second half ran, smoke test included.
    expect(run.stdout).toContain(`Deploying ${REGISTRY}/${PROD_REPO}@${digest} (${digest}) to the API in clinical-platform prod, blue-green`);
    expect(smokeTests).toEqual([expect.stringMatching(/:8443\/health$/)]);

    // What runs, from ECS: the service's PRIMARY deployment, its revision, its running tasks' digests.
    expect(inputs("DescribeTasks")[0]).toMatchObject({ cluster: "clinical-platform-staging-cluster" });
    // The manifest as pushed, by digest, accepting Docker v2 and OCI manifests and indexes.
    expect(inputs("BatchGetImage")).toEqual([{ registryId: "123456789012", repositoryName: STAGING_REPO, imageIds: [{ imageDigest: digest }], acceptedMediaTypes: ACCEPTED }]);
    expect(inputs("BatchCheckLayerAvailability")).toEqual([{ registryId: "123456789012", repositoryName: PROD_REPO, layerDigests: [config.digest, base.digest, app.digest] }]);
    // The shared base layer is in prod already: neither downloaded nor uploaded.
    expect(inputs("GetDownloadUrlForLayer")).toEqual([config.digest, app.digest].map((layerDigest) => ({ registryId: "123456789012", repositoryName: STAGING_REPO, layerDigest })));
    expect(blobs.downloads).toEqual([config.digest, app.digest]);
    expect(inputs("InitiateLayerUpload")).toEqual([{ registryId: "123456789012", repositoryName: PROD_REPO }, { registryId: "123456789012", repositoryName: PROD_REPO }]);
    expect(inputs("CompleteLayerUpload").map((i) => i.layerDigests)).toEqual([[config.digest], [app.digest]]);
    // Parts of partSize bytes (the last one shorter), each starting where the previous ended, last byte inclusive.
    for (const [uploadId, size] of [[inputs("CompleteLayerUpload")[0].uploadId, config.size], [inputs("CompleteLayerUpload")[1].uploadId, app.size]]) {
      const parts = inputs("UploadLayerPart").filter((p) => p.uploadId === uploadId);
      expect(parts.length).toBe(Math.ceil(size / 32));
      let next = 0;
      for (const p of parts) {
        expect(p).toMatchObject({ registryId: "123456789012", repositoryName: PROD_REPO, partFirstByte: next, partLastByte: next + p.layerPartBlob.length - 1 });
        next += p.layerPartBlob.length;
      }
      expect(next).toBe(size);
      expect(parts.slice(0, -1).every((p) => p.layerPartBlob.length === 32)).toBe(true);
    }
    expect(inputs("PutImage")).toEqual([{ registryId: "123456789012", repositoryName: PROD_REPO, imageManifest: manifest, imageManifestMediaType: MEDIA_TYPES.dockerManifest, imageDigest: digest, imageTag: tag }]);
    expect(repository(PROD_REPO).images.find((i) => i.imageDigest === digest)?.imageTags).toEqual([tag]);
    expect(repository(PROD_REPO).blobs.get(app.digest)).toEqual(Buffer.from("application layer of release v1, long enough for three parts"));

    // Deployed by digest from prod's own repository; recorded as such; prod's tasks run that digest.
    expect(inputs("RegisterTaskDefinition").map((i) => i.containerDefinitions.find((c: { name: string }) => c.name === "api").image)).toEqual([`${REGISTRY}/${PROD_REPO}@${digest}`]);
    expect(state("prod").deployments.api).toMatchObject({ image: `${REGISTRY}/${PROD_REPO}@${digest}`, digest });
    expect(runningTasks("prod").map((t) => t.containers.find((c) => c.name === "api")?.imageDigest)).toEqual([digest]);
    // Staging is only read: nothing registered or updated there, its state untouched and never locked.
    expect(new Set(inputs("UpdateService").map((i) => i.cluster))).toEqual(new Set(["clinical-platform-prod-cluster"]));
    expect(state("staging").deployments.api.image).toBe(`${REGISTRY}/${STAGING_REPO}:v1`);
    expect(existsSync(path.join(cwd, "state/prod.lock")) || existsSync(path.join(cwd, "state/staging.lock"))).toBe(false);
  });

  it("skips the copy when prod's repository already has the digest, and deploys it", async () => {
    const digest = await deployToStaging("v1");
    expect((await promote("--yes")).code).toBe(0);
    aws.cloud.calls.length = 0;

    const again = await promote("--yes");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`prod's repository ${PROD_REPO} already has ${digest}: nothing to copy`);
    expect(inputs("DescribeImages")).toContainEqual({ registryId: "123456789012", repositoryName: PROD_REPO, imageIds: [{ imageDigest: digest }] });
    for (const command of COPY_CALLS) expect(calls(command)).toEqual([]);
    expect(again.stdout).toContain(`Deploying ${REGISTRY}/${PROD_REPO}@${digest} (${digest}) to the API in clinical-platform prod, blue-green`);
    expect(inputs("UpdateService").length).toBeGreaterThan(0);
    expect(state("prod").deployments.api.digest).toBe(digest);
  });

  it("a tag re-pushed in staging after its deploy: promote still ships the digest that runs, not the tag's new one", async () => {
    const running = await deployToStaging("v1");
    const moved = pushImage(aws.ecr, STAGING_REPO, "v1");
    expect(moved).not.toBe(running);

    const run = await promote("--yes");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`as ${running}: what its 2 running tasks report`);
    expect(inputs("BatchGetImage")[0].imageIds).toEqual([{ imageDigest: running }]);
    expect(inputs("PutImage").map((i) => i.imageDigest)).toEqual([running]);
    expect(repository(PROD_REPO).images.map((i) => i.imageDigest)).toEqual([running]);
    expect(inputs("RegisterTaskDefinition")[0].containerDefinitions[0].image).toBe(`${REGISTRY}/${PROD_REPO}@${running}`);
    expect(state("prod").deployments.api.digest).toBe(running);
  });

  it("a multi-platform image: each platform's manifest is put (untagged) before the index that names them", async () => {
    await bringUp();
    const index = pushImageIndex(aws.ecr, STAGING_REPO, "v1", [
      { architecture: "amd64", layers: ["amd64 layer"] },
      { architecture: "arm64", layers: ["arm64 layer"] },
    ]);
    expect((await runCli(cwd, ["deploy", "--env", "staging", "--service", "api", "--image", "v1"])).code).toBe(0);
    const platforms = JSON.parse(repository(STAGING_REPO).images.find((i) => i.imageDigest === index)!.imageManifest).manifests.map((m: { digest: string }) => m.digest);
    aws.cloud.calls.length = 0;

    const run = await promote("--yes");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(inputs("BatchGetImage").map((i) => i.imageIds[0].imageDigest)).toEqual([index, ...platforms]);
    expect(inputs("PutImage").map((i) => [i.imageDigest, i.imageManifestMediaType, i.imageTag])).toEqual([
      [platforms[0], MEDIA_TYPES.dockerManifest, undefined],
      [platforms[1], MEDIA_TYPES.dockerManifest, undefined],
      [index, MEDIA_TYPES.ociIndex, `promoted-from-staging-${hex12(index)}`],
    ]);
    expect(blobs.downloads).toHaveLength(4); // a config and a layer per platform
    expect(run.stdout).toContain(`  index ${hex12(index)} (${MEDIA_TYPES.ociIndex}): 2 platform manifests, copied first\n  manifest ${hex12(platforms[0])} `);
    expect(inputs("RegisterTaskDefinition")[0].containerDefinitions[0].image).toBe(`${REGISTRY}/${PROD_REPO}@${index}`);
  });

  it("--json: one document on stdout with the source, the copy and deploy's outcome; messages on stderr", async () => {
    const digest = await deployToStaging("v1");
    const run = await promote("--yes", "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      from: "staging",
      to: "prod",
      service: "api",
      source: { image: `${REGISTRY}/${STAGING_REPO}:v1`, digest, evidence: "running-tasks", runningTasks: 2, taskDefinition: "clinical-platform-staging-api:2" },
      copy: { status: "copied", repository: PROD_REPO, tag: `promoted-from-staging-${hex12(digest)}`, blobsCopied: 2, blobsPresent: 0, manifests: 1 },
      deploy: { environment: "prod", strategy: "blue-green", status: "released", image: `${REGISTRY}/${PROD_REPO}@${digest}`, digest, taskDefinition: "clinical-platform-prod-api:2" },
      ok: true,
    });
    expect(run.stderr).toContain(`staging runs ${REGISTRY}/${STAGING_REPO}:v1`);
  });
});

describe("promote refuses", () => {
  it("staging mid-rollout: exit 1 naming the deployment; nothing copied or deployed", async () => {
    await deployToStaging("v1");
    pushImage(aws.ecr, STAGING_REPO, "v2");
    aws.cloud.timings = { latencyMs: 0, provisioningMs: { ecsSteady: 60_000 } };
    expect((await runCli(cwd, ["deploy", "--env", "staging", "--service", "api", "--image", "v2", "--no-wait"])).code).toBe(0);
    aws.cloud.calls.length = 0;

    const run = await promote("--yes");
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/^error: staging's api service is mid-rollout: its deployment to clinical-platform-staging-api:3 is IN_PROGRESS.*wait until 'platform status --env staging' shows the deployment COMPLETED/);
    expect(aws.cloud.mutatingCalls()).toEqual([]);
    expect(state("prod").deployments).toBeUndefined();
  });

  it("staging's running tasks report different digests (one restarted after the tag moved): exit 1 naming both", async () => {
    const first = await deployToStaging("v1");
    const moved = pushImage(aws.ecr, STAGING_REPO, "v1");
    runningTasks("staging")[1]!.containers[0]!.imageDigest = moved;

    const run = await promote("--yes");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`runs ${REGISTRY}/${STAGING_REPO}:v1 as more than one image: ${first} (1 task), ${moved} (1 task)`);
    expect(aws.cloud.mutatingCalls()).toEqual([]);
  });

  it("an image outside staging's repositories: exit 1 pointing at deploy", async () => {
    // The registry is allowed in staging's config, not by a one-off --set: promote opens staging with its own config,
    // and a recorded image that config does not allow is refused as untrusted state (exit 2) before promote's check.
    const stagingFile = path.join(cwd, "config/staging.json");
    writeFileSync(stagingFile, JSON.stringify({ ...JSON.parse(readFileSync(stagingFile, "utf8")), images: { allowedRegistries: ["public.ecr.aws/"] } }));
    await bringUp();
    const image = `public.ecr.aws/docker/library/nginx@sha256:${"b".repeat(64)}`;
    expect((await runCli(cwd, ["deploy", "--env", "staging", "--service", "api", "--image", image])).code).toBe(0);
    aws.cloud.calls.length = 0;
    const run = await promote("--yes");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`runs ${image}, which is not in staging's ECR repositories.*platform deploy --service api --image ${image}`));
    expect(aws.cloud.mutatingCalls()).toEqual([]);
  });

  it("a download whose bytes do not hash to the layer's digest: exit 1 before the layer upload completes; nothing put or deployed", async () => {
    await deployToStaging("v1");
    blobs.tamper = (_digest, bytes) => Buffer.concat([bytes.subarray(0, -1), Buffer.from("!")]);
    const run = await promote("--yes");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: downloading layer sha256:[a-f0-9]{64} from ECR repository \(clinical-platform-staging\/api\): LayerDigestMismatch: /);
    expect(run.stderr).not.toContain("X-Amz-Signature");
    expect(calls("CompleteLayerUpload")).toEqual([]);
    expect(calls("PutImage")).toEqual([]);
    expect(calls("RegisterTaskDefinition")).toEqual([]);
  });

  it("production without --yes and no terminal to confirm on: exit 2 naming the digest; nothing changed", async () => {
    const digest = await deployToStaging("v1");
    const run = await promote();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: not promoting ${digest} (what staging's api runs) to protected environment prod: there is no terminal to confirm on; pass --yes`);
    expect(aws.cloud.mutatingCalls()).toEqual([]);
    expect(existsSync(path.join(cwd, "state/prod.lock"))).toBe(false);
  });

  it.each([
    ["the same environment twice", false, ["--from", "prod", "--to", "prod", "--service", "api"], /--from prod --to prod: .*name two different environments/],
    ["an unknown environment", false, ["--from", "qa", "--to", "prod", "--service", "api"], /config\/qa\.json/],
    ["a service that is not deployable", false, ["--from", "staging", "--to", "prod", "--service", "grafana"], /--service grafana: promote ships the images of api and worker/],
    ["--env other than --to", false, ["--env", "staging", "--from", "staging", "--to", "prod", "--service", "api"], /--env staging: promote operates on the --to environment \(prod\)/],
    ["without --from", false, ["--to", "prod", "--service", "api"], /--from/],
    ["a service that is not enabled", true, ["--from", "staging", "--to", "prod", "--service", "worker"], /--service worker: the worker service is not enabled in staging's config/],
    ["a source that is not up", true, ["--from", "dev", "--to", "prod", "--service", "api"], /dev has no api service yet .*run 'platform up --env dev' first/],
    ["--no-wait to a blue-green target", true, ["--from", "staging", "--to", "prod", "--service", "api", "--no-wait"], /--no-wait: a blue-green deploy waits/],
  ])("%s: exit 2, one line, no AWS change", async (_case, up, args, message) => {
    if (up) await bringUp();
    const run = await runCli(cwd, ["promote", ...args, "--yes"], { http });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(aws.cloud.mutatingCalls()).toEqual([]);
    expect(existsSync(path.join(cwd, "state/prod.lock"))).toBe(false);
  });
});
