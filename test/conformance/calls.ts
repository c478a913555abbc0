/** The AWS calls the tool makes, read from src: `new XCommand(` and `paginateX(` per @aws-sdk client package. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const SRC = path.resolve(import.meta.dirname, "../../src");

/** The signing name (what the proxy reads from the credential scope) of each client package the tool imports. */
export const SIGNING_NAME: Record<string, string> = {
  budgets: "budgets",
  cloudtrail: "cloudtrail",
  cloudwatch: "monitoring",
  "cloudwatch-logs": "logs",
  ec2: "ec2",
  ecr: "ecr",
  ecs: "ecs",
  "elastic-load-balancing-v2": "elasticloadbalancing",
  iam: "iam",
  kms: "kms",
  rds: "rds",
  "resource-groups-tagging-api": "tagging",
  s3: "s3",
  "secrets-manager": "secretsmanager",
  sns: "sns",
  sts: "sts",
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith(".ts") ? [full] : [];
  });
}

export interface ToolCall {
  client: string;
  service: string;
  action: string;
  files: string[];
}

export function toolCalls(): ToolCall[] {
  const calls = new Map<string, ToolCall>();
  for (const file of files(SRC)) {
    const text = readFileSync(file, "utf8");
    const owner = new Map<string, string>();
    for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]+)\}\s*from\s*"@aws-sdk\/client-([a-z0-9-]+)"/g)) {
      for (const name of m[1]!.split(",").map((s) => s.replace(/^\s*type\s+/, "").split(/\s+as\s+/)[0]!.trim())) if (name) owner.set(name, m[2]!);
    }
    const used: [string, string][] = [...text.matchAll(/new (\w+)Command\(/g)].map((m) => [`${m[1]}Command`, m[1]!]);
    used.push(...[...text.matchAll(/\b(paginate(\w+))\(/g)].map((m): [string, string] => [m[1]!, m[2]!]));
    for (const [symbol, action] of used) {
      const client = owner.get(symbol);
      if (!client) continue;
      const key = `${client}:${action}`;
      const call = calls.get(key) ?? { client, service: SIGNING_NAME[client] ?? client, action, files: [] };
      const rel = path.relative(path.resolve(SRC, ".."), file);
      if (!call.files.includes(rel)) call.files.push(rel);
      calls.set(key, call);
    }
  }
  return [...calls.values()].sort((a, b) => a.client.localeCompare(b.client) || a.action.localeCompare(b.action));
}
