// Writes docs/iam-policy.json: the IAM actions platform's commands call, derived from the AWS SDK commands in src/
// (`new XxxCommand(...)`, paginateXxx, waitUntilXxx), so the policy users attach follows the code.
// `node scripts/gen-iam-policy.mjs --check` exits 1 when the file is out of date (test/install/iam-policy.test.ts).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const output = path.join(root, "docs", "iam-policy.json");

/** IAM service prefix of each SDK client package. */
const PREFIX = {
  "client-budgets": "budgets",
  "client-cloudtrail": "cloudtrail",
  "client-cloudwatch": "cloudwatch",
  "client-cloudwatch-logs": "logs",
  "client-ec2": "ec2",
  "client-ecr": "ecr",
  "client-ecs": "ecs",
  "client-elastic-load-balancing-v2": "elasticloadbalancing",
  "client-iam": "iam",
  "client-kms": "kms",
  "client-rds": "rds",
  "client-resource-groups-tagging-api": "tag",
  "client-s3": "s3",
  "client-secrets-manager": "secretsmanager",
  "client-sns": "sns",
  "client-sts": "sts",
};

/** Where the IAM action is not the API operation's name (S3 and Budgets above all). */
const ACTIONS = {
  "s3:HeadBucket": ["s3:ListBucket"],
  "s3:ListObjectsV2": ["s3:ListBucket"],
  "s3:ListObjectVersions": ["s3:ListBucketVersions"],
  "s3:ListMultipartUploads": ["s3:ListBucketMultipartUploads"],
  "s3:HeadObject": ["s3:GetObject"],
  "s3:DeleteObjects": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
  "s3:GetBucketEncryption": ["s3:GetEncryptionConfiguration"],
  "s3:PutBucketEncryption": ["s3:PutEncryptionConfiguration"],
  "s3:GetBucketLifecycleConfiguration": ["s3:GetLifecycleConfiguration"],
  "s3:PutBucketLifecycleConfiguration": ["s3:PutLifecycleConfiguration"],
  "s3:DeleteBucketLifecycle": ["s3:PutLifecycleConfiguration"],
  "s3:GetPublicAccessBlock": ["s3:GetBucketPublicAccessBlock"],
  "s3:PutPublicAccessBlock": ["s3:PutBucketPublicAccessBlock"],
  "s3:WaitUntilBucketNotExists": ["s3:ListBucket"],
  "budgets:CreateBudget": ["budgets:ModifyBudget"],
  "budgets:UpdateBudget": ["budgets:ModifyBudget"],
  "budgets:DeleteBudget": ["budgets:ModifyBudget"],
  "budgets:CreateNotification": ["budgets:ModifyBudget"],
  "budgets:DeleteNotification": ["budgets:ModifyBudget"],
  "budgets:CreateSubscriber": ["budgets:ModifyBudget"],
  "budgets:DeleteSubscriber": ["budgets:ModifyBudget"],
  "budgets:DescribeBudget": ["budgets:ViewBudget"],
  "budgets:DescribeNotificationsForBudget": ["budgets:ViewBudget"],
  "budgets:DescribeSubscribersForNotification": ["budgets:ViewBudget"],
  "sts:GetCallerIdentity": [], // needs no permission
};

/** The operations each waiter polls. */
const WAITERS = {
  BucketNotExists: "HeadBucket",
  DBInstanceAvailable: "DescribeDBInstances",
  DBInstanceDeleted: "DescribeDBInstances",
  DBSnapshotAvailable: "DescribeDBSnapshots",
  LoadBalancerAvailable: "DescribeLoadBalancers",
  LoadBalancersDeleted: "DescribeLoadBalancers",
  NatGatewayAvailable: "DescribeNatGateways",
  NatGatewayDeleted: "DescribeNatGateways",
  ServicesInactive: "DescribeServices",
  ServicesStable: "DescribeServices",
  TasksStopped: "DescribeTasks",
  VpcAvailable: "DescribeVpcs",
};

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

/** Every IAM action the code's SDK calls need, sorted. Throws on a call whose client package it cannot tell. */
export function actionsInSource(srcDir = path.join(root, "src")) {
  const actions = new Set();
  for (const file of sources(srcDir)) {
    const text = readFileSync(file, "utf8");
    const packageOf = new Map();
    for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"@aws-sdk\/([^"]+)"/g)) {
      for (const name of m[1].split(",").map((n) => n.trim().split(/\s+as\s+/)[0]).filter(Boolean)) packageOf.set(name, m[2]);
    }
    for (const m of text.matchAll(/\{([^}]*)\}\s*=\s*await import\("@aws-sdk\/([^"]+)"\)/g)) {
      for (const name of m[1].split(",").map((n) => n.trim().split(/\s*:\s*/)[0]).filter(Boolean)) packageOf.set(name, m[2]);
    }
    const calls = [
      ...[...text.matchAll(/new ([A-Z]\w+)Command\b/g)].map((m) => [`${m[1]}Command`, m[1]]),
      ...[...text.matchAll(/\bpaginate([A-Z]\w+)\(/g)].map((m) => [`paginate${m[1]}`, m[1]]),
      ...[...text.matchAll(/\bwaitUntil([A-Z]\w+)\(/g)].map((m) => [`waitUntil${m[1]}`, WAITERS[m[1]]]),
    ];
    for (const [symbol, operation] of calls) {
      const pkg = packageOf.get(symbol);
      if (!pkg || !PREFIX[pkg] || !operation) throw new Error(`${path.relative(root, file)}: cannot tell the IAM action of ${symbol}`);
      const action = `${PREFIX[pkg]}:${operation}`;
      for (const a of ACTIONS[action] ?? [action]) actions.add(a);
    }
  }
  return [...actions].sort();
}

/**
 * A customer managed policy holds at most 6,144 characters (whitespace not counted). To fit, read-only operations of
 * one prefix are written as `Describe*`, `List*` and `Get*` where the code calls two or more of them, except for S3
 * and Secrets Manager, whose Get and List actions read data (objects, secret values): those stay named one by one.
 */
export function compact(actions) {
  const out = new Set();
  for (const action of actions) {
    const [prefix, operation] = action.split(":");
    const verb = /^(Describe|List|Get)/.exec(operation)?.[1];
    const siblings = verb ? actions.filter((a) => a.startsWith(`${prefix}:${verb}`)).length : 0;
    out.add(verb && siblings >= 2 && prefix !== "s3" && prefix !== "secretsmanager" ? `${prefix}:${verb}*` : action);
  }
  return [...out].sort();
}

export function policy(actions = compact(actionsInSource())) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "PlatformApiCalls", Effect: "Allow", Action: actions, Resource: "*" },
      {
        Sid: "PassPlatformRolesToTheirServices",
        Effect: "Allow",
        Action: "iam:PassRole",
        Resource: "*",
        Condition: { StringEquals: { "iam:PassedToService": ["ecs-tasks.amazonaws.com", "monitoring.rds.amazonaws.com", "vpc-flow-logs.amazonaws.com"] } },
      },
      {
        Sid: "ServiceLinkedRolesOnFirstUse",
        Effect: "Allow",
        Action: "iam:CreateServiceLinkedRole",
        Resource: "*",
        Condition: { StringEquals: { "iam:AWSServiceName": ["ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com"] } },
      },
    ],
  };
}

export const policyText = () => JSON.stringify(policy(), null, 2) + "\n";

if (process.argv[1] === import.meta.filename) {
  if (process.argv.includes("--check")) {
    const current = readFileSync(output, "utf8");
    if (current !== policyText()) {
      console.error("docs/iam-policy.json is out of date: run node scripts/gen-iam-policy.mjs");
      process.exit(1);
    }
  } else {
    writeFileSync(output, policyText());
    console.log(`wrote docs/iam-policy.json (${actionsInSource().length} actions as ${policy().Statement[0].Action.length} entries, ${policyText().replace(/\s/g, "").length} of 6144 characters)`);
  }
}
