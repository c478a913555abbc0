import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { computeIds } from "../../src/stack/compute.js";
import { buildStack } from "../../src/stack/index.js";
import { Ref } from "../../src/stack/model.js";
import { emptyState, type DeploymentRecord, type StateDocument } from "../../src/state/document.js";
import { deployedImages, supersededDeployments } from "../../src/state/deployments.js";

const config = (imageTag: string, workerEnabled = false) => ({ environment: "dev", services: { imageTag, worker: { enabled: workerEnabled } } }) as unknown as Config;
const record = (image: string, configImageTag: string): DeploymentRecord => ({ image, configImageTag, taskDefinitionArn: "arn:td:2", deployedAt: "2025-06-01T00:00:00Z" });
const stateWith = (deployments: Record<string, DeploymentRecord>): StateDocument => ({
  ...emptyState({ project: "p", environment: "dev", region: "us-east-1", accountId: "123456789012" }),
  deployments,
});

describe("which deployments up keeps", () => {
  it.each([
    ["the config's tag is what it was at deploy time", config("latest"), { api: record("repo/api:v2", "latest") }, { api: "repo/api:v2" }, []],
    ["the config (or up --image) pins another tag", config("v3"), { api: record("repo/api:v2", "latest") }, {}, ["api"]],
    ["the worker is no longer enabled", config("latest"), { worker: record("repo/worker:v2", "latest") }, {}, ["worker"]],
    ["the worker is enabled", config("latest", true), { worker: record("repo/worker:v2", "latest") }, { worker: "repo/worker:v2" }, []],
    ["a service deploy does not handle", config("latest"), { grafana: record("grafana:12", "latest") }, {}, ["grafana"]],
    ["no deployments", config("latest"), {}, {}, []],
  ])("%s", (_case, cfg, deployments, images, superseded) => {
    const state = stateWith(deployments);
    expect(deployedImages(cfg, state)).toEqual(images);
    expect(supersededDeployments(cfg, state)).toEqual(superseded);
  });
});

describe("the stack takes the kept images as a fact", () => {
  it("the API's container names the deployed image; the other workloads keep the config's tag; plan says so in a note", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "platform-deployments-"));
    mkdirSync(path.join(dir, "config"));
    writeFileSync(path.join(dir, "config", "dev.json"), JSON.stringify({ project: "clinical-platform" }));
    const cfg = loadConfig({ env: "dev", cwd: dir }).config;
    const image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/clinical-platform-dev/api:v2";
    const stack = buildStack(cfg, { accountId: "123456789012", region: "us-east-1", availabilityZones: ["us-east-1a", "us-east-1b"], deployedImages: { api: image } });
    const container = (w: "api" | "dbt-runner") => (stack.nodes.find((n) => n.logicalId === computeIds.taskDefinition(w))!.spec as any).containerDefinitions[0].image;
    expect(container("api")).toBe(image);
    expect(container("dbt-runner")).toEqual({ repositoryUri: expect.any(Ref), tag: "latest" });
    expect(stack.notes).toContain(`api keeps ${image} (rolled out by 'platform deploy') while services.imageTag stays "latest"; set another tag, or run 'platform up --env dev --image latest', to replace it.`);
  });
});
