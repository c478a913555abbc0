/** The conformance stack: dev with every option on, and a project folder for it (and a second environment to promote to). */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { Agent } from "node:https";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { Tls } from "./moto.js";

export function fullConfig(environment: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    project: "clinical-platform",
    environment,
    region: "us-east-1",
    network: { cidr: "10.0.0.0/16", natGateway: true, flowLogs: { enabled: true, trafficType: "REJECT" } },
    database: { instanceClass: "db.t3.micro" },
    monitoring: { prometheus: true, grafana: true, openlineage: true },
    budget: { monthlyUsd: 25, emails: ["finance@example.org"] },
    tags: { CostCenter: "data-platform", DataClassification: "Internal" },
    services: { containerInsights: true, api: { deployment: { strategy: "blue-green", bakeMinutes: 1, testListenerCidrs: ["10.0.0.0/16"] } } },
    alarms: { email: ["oncall@example.org"] },
    audit: { trail: true },
    github: { repository: "acme/clinical", branches: ["main"], environments: [environment] },
    bi: { enabled: true, principalArns: ["arn:aws:iam::123456789012:role/analytics"] },
    ...extra,
  };
}

/** A temporary project folder with config/<env>.json for each entry. */
export function project(configs: Record<string, Record<string, unknown>>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "platform-conformance-"));
  mkdirSync(path.join(dir, "config"));
  for (const [env, config] of Object.entries(configs)) writeFileSync(path.join(dir, "config", `${env}.json`), JSON.stringify(config, null, 2));
  return dir;
}

/** SDK client settings that reach moto directly (not through the proxy), trusting the throwaway CA. */
export function directClientConfig(tls: Tls, motoPort: number): Record<string, unknown> {
  return {
    region: "us-east-1",
    endpoint: `https://127.0.0.1:${motoPort}`,
    credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "conformance-secret-not-real" },
    forcePathStyle: true,
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(tls.caFile) }) }),
  };
}

/** ARNs the tagging API lists with this environment's Project and Environment tags. */
export async function taggedArns(tls: Tls, motoPort: number, environment: string): Promise<string[]> {
  const client = new ResourceGroupsTaggingAPIClient(directClientConfig(tls, motoPort));
  const arns: string[] = [];
  let PaginationToken: string | undefined;
  do {
    const out = await client.send(
      new GetResourcesCommand({
        TagFilters: [
          { Key: "Project", Values: ["clinical-platform"] },
          { Key: "Environment", Values: [environment] },
        ],
        PaginationToken,
      }),
    );
    arns.push(...(out.ResourceTagMappingList ?? []).map((r) => r.ResourceARN!));
    PaginationToken = out.PaginationToken || undefined;
  } while (PaginationToken);
  return arns;
}

/**
 * Tagged ARNs that still exist as live resources. The tagging API keeps listing INACTIVE ECS clusters and services,
 * deleted NAT gateways and secrets in their recovery window for a while (AWS does too); those are gone for the user.
 */
export async function liveTaggedArns(tls: Tls, motoPort: number, environment: string): Promise<string[]> {
  const config = directClientConfig(tls, motoPort);
  const { ECSClient, DescribeClustersCommand, DescribeServicesCommand } = await import("@aws-sdk/client-ecs");
  const { EC2Client, DescribeNatGatewaysCommand } = await import("@aws-sdk/client-ec2");
  const { SecretsManagerClient, DescribeSecretCommand } = await import("@aws-sdk/client-secrets-manager");
  const live: string[] = [];
  for (const arn of await taggedArns(tls, motoPort, environment)) {
    const [, , service, , , resource] = arn.split(":");
    if (service === "ecs" && resource!.startsWith("cluster/")) {
      const out = await new ECSClient(config).send(new DescribeClustersCommand({ clusters: [arn] }));
      if (out.clusters?.some((x) => x.status !== "INACTIVE")) live.push(arn);
    } else if (service === "ecs" && resource!.startsWith("service/")) {
      const cluster = resource!.split("/")[1]!;
      const out = await new ECSClient(config).send(new DescribeServicesCommand({ cluster, services: [arn] }));
      if (out.services?.some((x) => x.status !== "INACTIVE")) live.push(arn);
    } else if (service === "ec2" && resource!.startsWith("natgateway/")) {
      const out = await new EC2Client(config).send(new DescribeNatGatewaysCommand({ NatGatewayIds: [resource!.split("/")[1]!] }));
      if (out.NatGateways?.some((x) => x.State !== "deleted")) live.push(arn);
    } else if (service === "secretsmanager") {
      const out = await new SecretsManagerClient(config).send(new DescribeSecretCommand({ SecretId: arn }));
      if (!out.DeletedDate) live.push(arn);
    } else {
      live.push(arn);
    }
  }
  return live;
}

/** Pushes an image manifest (no layers' bytes: moto keeps manifests only) under `tag`; returns its digest. */
export async function putImage(tls: Tls, motoPort: number, repositoryName: string, tag: string): Promise<string> {
  const { ECRClient, PutImageCommand } = await import("@aws-sdk/client-ecr");
  const layer = `sha256:${Buffer.from(tag.padEnd(32, "0")).toString("hex").slice(0, 64).padEnd(64, "0")}`;
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    config: { mediaType: "application/vnd.docker.container.image.v1+json", size: 1470, digest: layer },
    layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 3_000_000, digest: layer }],
  };
  const out = await new ECRClient(directClientConfig(tls, motoPort)).send(
    new PutImageCommand({ repositoryName, imageTag: tag, imageManifest: JSON.stringify(manifest), imageManifestMediaType: manifest.mediaType }),
  );
  return out.image!.imageId!.imageDigest!;
}

/** The smaller stack of the crash and fault runs: the repository's own dev config (no NAT, no monitoring). */
export function plainConfig(environment: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    project: "clinical-platform",
    environment,
    region: "us-east-1",
    tags: { CostCenter: "data-platform", DataClassification: "Internal" },
    network: { cidr: "10.0.0.0/16", natGateway: false, flowLogs: { enabled: true, trafficType: "REJECT" } },
    database: { instanceClass: "db.t3.micro" },
    budget: { monthlyUsd: 25, emails: [] },
    ...extra,
  };
}

/** Tagged live resources by their platform:logical-id tag (an ARN listed without that tag counts under "(none)"). */
export async function liveByLogicalId(tls: Tls, motoPort: number, environment: string): Promise<Map<string, string[]>> {
  const live = new Set(await liveTaggedArns(tls, motoPort, environment));
  const client = new ResourceGroupsTaggingAPIClient(directClientConfig(tls, motoPort));
  const byId = new Map<string, string[]>();
  let PaginationToken: string | undefined;
  do {
    const out = await client.send(
      new GetResourcesCommand({ TagFilters: [{ Key: "Project", Values: ["clinical-platform"] }, { Key: "Environment", Values: [environment] }], PaginationToken }),
    );
    for (const r of out.ResourceTagMappingList ?? []) {
      if (!live.has(r.ResourceARN!)) continue;
      // A database snapshot (automated or manual) carries its instance's tags, logical id included: the instance sets
      // CopyTagsToSnapshot so backups stay classified (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html#USER_Tagging.CopyTags).
      // It is a backup of the resource, not a second one.
      if (/^arn:aws[a-z-]*:rds:[^:]*:[^:]*:snapshot:/.test(r.ResourceARN!)) continue;
      const id = r.Tags?.find((t) => t.Key === "platform:logical-id")?.Value ?? "(none)";
      byId.set(id, [...(byId.get(id) ?? []), r.ResourceARN!]);
    }
    PaginationToken = out.PaginationToken || undefined;
  } while (PaginationToken);
  return byId;
}
