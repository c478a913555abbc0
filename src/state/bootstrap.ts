import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  type BucketLocationConstraint,
  type CreateBucketCommandInput,
} from "@aws-sdk/client-s3";
import type { AwsClients } from "../aws/clients.js";
import { awsFailure, hasCode } from "../aws/errors.js";
import { AwsFailure, UserError } from "../errors.js";

export interface BootstrapRequest {
  bucket: string;
  region: string;
}

export interface BootstrapResult {
  bucket: string;
  region: string;
  /** False when the bucket already existed and was ours: its settings were (re)applied. */
  created: boolean;
  /** The settings applied, in order, as shown to the user. */
  settings: string[];
}

/** The statement this bucket policy adds (and replaces on a second bootstrap); other statements are kept. */
export const TLS_ONLY_SID = "PlatformStateDenyInsecureTransport";

function partition(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  if (region.startsWith("us-iso-")) return "aws-iso";
  return "aws";
}

export function tlsOnlyStatement(bucket: string, region: string) {
  const arn = `arn:${partition(region)}:s3:::${bucket}`;
  return {
    Sid: TLS_ONLY_SID,
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [arn, `${arn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

const status = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

/** CreateBucket: true when created, false when it already exists and is ours (409 BucketAlreadyOwnedByYou, or 200 in us-east-1). */
async function createBucket(s3: S3Client, { bucket, region }: BootstrapRequest): Promise<boolean> {
  // us-east-1 takes no LocationConstraint (sending it is InvalidLocationConstraint); every other region needs it.
  const input: CreateBucketCommandInput = { Bucket: bucket, ObjectOwnership: "BucketOwnerEnforced" };
  if (region !== "us-east-1") input.CreateBucketConfiguration = { LocationConstraint: region as BucketLocationConstraint };
  try {
    await s3.send(new CreateBucketCommand(input));
    return true;
  } catch (err) {
    if (hasCode(err, "BucketAlreadyOwnedByYou")) return false;
    if (hasCode(err, "BucketAlreadyExists")) {
      throw new AwsFailure(`creating S3 bucket ${bucket}`, "BucketAlreadyExists", "the name belongs to another AWS account (bucket names are global)", `choose another name, e.g. ${bucket.slice(0, 50)}-<account id>`, { cause: err });
    }
    throw awsFailure(`creating S3 bucket ${bucket}`, err);
  }
}

/** HeadBucket: the bucket must be reachable in `region` with these credentials. */
async function checkBucket(s3: S3Client, { bucket, region }: BootstrapRequest): Promise<void> {
  try {
    const out = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    if (out.BucketRegion && out.BucketRegion !== region) throw new UserError(`S3 bucket ${bucket} is in ${out.BucketRegion}, not ${region}: pass --region ${out.BucketRegion}`);
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (status(err) === 301) throw new UserError(`S3 bucket ${bucket} exists in another region than ${region}: pass --region with the bucket's region`);
    if (status(err) === 403) throw new AwsFailure(`checking S3 bucket ${bucket}`, "Forbidden", "access denied", "the bucket belongs to another account, or these credentials lack s3:ListBucket on it", { cause: err });
    throw awsFailure(`checking S3 bucket ${bucket}`, err);
  }
}

/** The bucket's policy with our TLS-only statement added or replaced; other statements are kept. */
async function mergedPolicy(s3: S3Client, req: BootstrapRequest, existed: boolean): Promise<string> {
  let policy: { Version: string; Statement: { Sid?: string }[] } = { Version: "2012-10-17", Statement: [] };
  if (existed) {
    try {
      const out = await s3.send(new GetBucketPolicyCommand({ Bucket: req.bucket }));
      if (out.Policy) policy = JSON.parse(out.Policy);
    } catch (err) {
      if (!hasCode(err, "NoSuchBucketPolicy")) throw awsFailure(`reading the policy of S3 bucket ${req.bucket}`, err);
    }
  }
  const statements = (Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement]).filter((s) => s.Sid !== TLS_ONLY_SID);
  return JSON.stringify({ ...policy, Statement: [...statements, tlsOnlyStatement(req.bucket, req.region)] });
}

/**
 * Creates the state bucket, or takes over one that is already ours, and applies what a state bucket needs: versioning
 * (every state write can be recovered), SSE-S3 default encryption, all four public access blocks, ACLs disabled
 * (BucketOwnerEnforced) and a policy denying requests without TLS. Every step is idempotent.
 */
export async function bootstrapStateBucket(clients: AwsClients, req: BootstrapRequest, progress: (line: string) => void = () => undefined): Promise<BootstrapResult> {
  const s3 = clients.get(S3Client);
  const { bucket } = req;
  const created = await createBucket(s3, req);
  progress(created ? `created S3 bucket ${bucket} in ${req.region}` : `S3 bucket ${bucket} already exists and is yours`);
  await checkBucket(s3, req);
  const steps: [string, string, () => Promise<unknown>][] = [
    ["versioning enabled", "enabling versioning on", () => s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }))],
    [
      "default encryption SSE-S3 (AES256)",
      "setting default encryption on",
      () => s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] } })),
    ],
    [
      "public access blocked (all four settings)",
      "blocking public access to",
      () =>
        s3.send(
          new PutPublicAccessBlockCommand({
            Bucket: bucket,
            PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
          }),
        ),
    ],
    [
      "object ownership BucketOwnerEnforced (ACLs disabled)",
      "setting object ownership on",
      () => s3.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] } })),
    ],
    ["bucket policy denies requests without TLS", "setting the bucket policy of", async () => s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: await mergedPolicy(s3, req, !created) }))],
  ];
  const settings: string[] = [];
  for (const [done, doing, call] of steps) {
    try {
      await call();
    } catch (err) {
      throw awsFailure(`${doing} S3 bucket ${bucket}`, err);
    }
    settings.push(done);
    progress(`  ${done}`);
  }
  return { bucket, region: req.region, created, settings };
}
