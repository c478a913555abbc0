import { sleep } from "../run/wait-for.js";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { AwsClients } from "../aws/clients.js";
import { errorCode, hasCode, hintFor } from "../aws/errors.js";
import { AwsFailure, RunFailure } from "../errors.js";
import type { LockHandle, LockInfo, StateBackend } from "./backend.js";
import { parseState, type StateDocument } from "./document.js";
import type { S3StateLocation } from "./index.js";
import { LockHeldError, withLockId } from "./lock.js";

/** A write or delete precondition S3 refused: the object changed (412) or is gone (404). */
type Refused = { refused: "PreconditionFailed" | "NoSuchKey" };
type Condition = { IfMatch: string } | { IfNoneMatch: "*" };

export interface S3BackendOptions {
  /** Attempts when S3 answers 409 ConditionalRequestConflict (a concurrent conditional write on the key). */
  conflictAttempts?: number;
  /** First delay between those attempts, doubled each time. */
  conflictDelayMs?: number;
  /** The bucket's region, for hints. */
  region?: string;
}

/** What to do about the S3 errors a state backend meets, beyond the general hints. */
const S3_HINTS: Record<string, string> = {
  PermanentRedirect: "the state bucket is in another region: set state.region in the config to the bucket's region",
  AuthorizationHeaderMalformed: "the state bucket is in another region: set state.region in the config to the bucket's region",
  AccessDenied:
    "the credentials in use need s3:GetObject, s3:PutObject and s3:DeleteObject on the state and <key>.lock objects, and s3:ListBucket on the bucket (without it a missing object reads as AccessDenied)",
};

function s3Failure(action: string, err: unknown, bucket: { name: string; region?: string }): AwsFailure {
  if (err instanceof AwsFailure) return err;
  const code = errorCode(err) ?? (err as Error)?.name ?? "Error";
  const hint =
    code === "NoSuchBucket"
      ? `the state bucket does not exist: create it with 'platform state bootstrap --bucket ${bucket.name}${bucket.region ? ` --region ${bucket.region}` : ""}', or fix state.bucket in the config`
      : (S3_HINTS[code] ?? hintFor(code));
  return new AwsFailure(action, code, (err as Error)?.message ?? String(err), hint, { cause: err });
}

/**
 * State in one S3 object, `s3://bucket/key`, locked by a second object `<key>.lock`.
 * - The lock is created with `If-None-Match: *` (S3 refuses with 412 when it exists) and removed with `If-Match` on
 *   its own ETag, so a run never removes a lock that someone else took after its own was broken.
 * - Every state write is conditional: `If-Match` on the ETag this backend last read or wrote, or `If-None-Match: *`
 *   when it saw no state (or read none), so a writer that did not hold the lock can never silently overwrite another.
 * - A state read back with another lineage, or a lower serial than this backend last saw, is refused.
 * S3 has conditional writes since August (If-None-Match) and November 2024 (If-Match), and conditional deletes
 * (DeleteObject If-Match) in general purpose buckets, per the S3 user guide ("conditional requests", "conditional
 * deletes"). 409 ConditionalRequestConflict means a concurrent conditional request raced ours: retried.
 */
export class S3Backend implements StateBackend {
  readonly location: string;
  private readonly lockKey: string;
  /** The state object as this backend last saw it: its ETag, or null when it did not exist. Undefined before any read. */
  private etag: string | null | undefined;
  /** Lineage and serial last read or written, to detect a state replaced or rolled back behind this run's back. */
  private known?: { lineage: string; serial: number };

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    readonly key: string,
    private readonly options: S3BackendOptions = {},
  ) {
    this.location = `s3://${bucket}/${key}`;
    this.lockKey = `${key}.lock`;
  }

  static of(clients: AwsClients, location: S3StateLocation, options?: S3BackendOptions): S3Backend {
    return new S3Backend(clients.get(S3Client), location.bucket, location.key, { region: location.region, ...options });
  }

  async read(): Promise<StateDocument | undefined> {
    const object = await this.getObject(this.key, `reading state ${this.location}`);
    if (!object) {
      if (this.known) throw new RunFailure(`the state at ${this.location} was deleted after this run saw serial ${this.known.serial}; restore it from the bucket's versions before running again`);
      this.etag = null;
      return undefined;
    }
    const doc = parseState(object.body, this.location);
    this.checkContinuity(doc);
    this.etag = object.etag;
    this.known = { lineage: doc.lineage, serial: doc.serial };
    return doc;
  }

  async write(doc: StateDocument): Promise<void> {
    const condition: Condition = this.etag ? { IfMatch: this.etag } : { IfNoneMatch: "*" };
    const result = await this.putObject(this.key, JSON.stringify(doc, null, 2) + "\n", condition, `writing state ${this.location}`);
    if ("refused" in result) {
      throw new RunFailure(
        `writing state ${this.location}: ${result.refused}: ` +
          ("IfMatch" in condition
            ? `someone else ${result.refused === "NoSuchKey" ? "deleted" : "changed"} the state since this run read it`
            : "a state appeared there after this run found none") +
          "; nothing was overwritten. Another run may have used this environment without its lock: look with 'platform state pull' and run again",
      );
    }
    this.etag = result.etag;
    this.known = { lineage: doc.lineage, serial: doc.serial };
  }

  async lock(info: Omit<LockInfo, "id">, waitSeconds = 0, signal?: AbortSignal): Promise<LockHandle> {
    const full = withLockId(info);
    const body = JSON.stringify(full, null, 2) + "\n";
    const deadline = Date.now() + waitSeconds * 1000;
    for (let attempt = 0; ; attempt++) {
      const result = await this.putObject(this.lockKey, body, { IfNoneMatch: "*" }, `taking the state lock s3://${this.bucket}/${this.lockKey}`);
      if (!("refused" in result)) return { info: full, release: () => this.releaseLock(result.etag) };
      const holder = await this.readLock();
      if (!holder) continue; // released between our attempt and the read
      if (Date.now() >= deadline) throw new LockHeldError(holder, this.location);
      // Poll quickly at first (a run finishing now), then every second: each attempt is two S3 requests.
      await sleep(Math.min(50 * 2 ** Math.min(attempt, 5), 1000, Math.max(10, deadline - Date.now())), signal);
    }
  }

  async readLock(): Promise<LockInfo | undefined> {
    return (await this.readLockObject())?.info;
  }

  async breakLock(expected: LockInfo): Promise<void> {
    const current = await this.readLockObject();
    if (!current) return;
    const changedHands = new RunFailure("the lock changed hands while it was being broken; look again with 'platform state unlock'");
    if (current.info.id !== expected.id) throw changedHands;
    const result = await this.deleteObject(this.lockKey, current.etag, `breaking the state lock s3://${this.bucket}/${this.lockKey}`);
    // NoSuchKey: another breaker (or the holder itself) removed it first; the lock is gone either way.
    if ("refused" in result && result.refused === "PreconditionFailed") throw changedHands;
  }

  async remove(): Promise<void> {
    if (this.etag === undefined) await this.read();
    if (!this.etag) return;
    const result = await this.deleteObject(this.key, this.etag, `removing state ${this.location}`);
    if ("refused" in result && result.refused === "PreconditionFailed") {
      throw new RunFailure(`removing state ${this.location}: PreconditionFailed: someone changed it since this run read it; it was not removed`);
    }
    this.etag = null;
  }

  /** Another lineage is another environment's state; a lower serial is a rollback (or a stale copy). */
  private checkContinuity(doc: StateDocument): void {
    if (!this.known) return;
    if (doc.lineage !== this.known.lineage) {
      throw new RunFailure(`the state at ${this.location} now has lineage ${doc.lineage}, not ${this.known.lineage}: it was replaced by another environment's state during this run; nothing more was written`);
    }
    if (doc.serial < this.known.serial) {
      throw new RunFailure(`the state at ${this.location} has serial ${doc.serial}, older than serial ${this.known.serial} this run saw: it was rolled back during this run; nothing more was written`);
    }
  }

  private async readLockObject(): Promise<{ info: LockInfo; etag: string } | undefined> {
    const object = await this.getObject(this.lockKey, `reading the state lock s3://${this.bucket}/${this.lockKey}`);
    if (!object) return undefined;
    try {
      return { info: JSON.parse(object.body) as LockInfo, etag: object.etag };
    } catch {
      // a lock object that is not ours to read: still a lock, with nothing known of its holder
      const info = { id: "unreadable", owner: "unknown", host: "unknown", pid: 0, command: "unknown", startedAt: "unknown", expiresAt: new Date(0).toISOString() };
      return { info, etag: object.etag };
    }
  }

  private async releaseLock(etag: string): Promise<void> {
    // Refused: the lock was broken (and maybe taken by another run) meanwhile; it is not ours to remove.
    await this.deleteObject(this.lockKey, etag, `releasing the state lock s3://${this.bucket}/${this.lockKey} (remove it with 'platform state unlock')`);
  }

  // --- S3 calls: not-found and refused preconditions become results; anything else an AwsFailure naming the object.

  private async getObject(key: string, action: string): Promise<{ body: string; etag: string } | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = (await out.Body?.transformToString("utf-8")) ?? "";
      return { body, etag: out.ETag ?? (await this.headEtag(key, action)) };
    } catch (err) {
      if (hasCode(err, "NoSuchKey")) return undefined;
      throw s3Failure(action, err, { name: this.bucket, region: this.options.region });
    }
  }

  private async headEtag(key: string, action: string): Promise<string> {
    const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!out.ETag) throw new AwsFailure(action, "MissingETag", "S3 returned no ETag for the object", "this S3-compatible store does not support conditional writes; use the local backend");
    return out.ETag;
  }

  private async putObject(key: string, body: string, condition: Condition, action: string): Promise<{ etag: string } | Refused> {
    return this.conditional(action, async () => {
      const out = await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: "application/json", ...condition }));
      return { etag: out.ETag ?? (await this.headEtag(key, action)) };
    });
  }

  private async deleteObject(key: string, etag: string, action: string): Promise<{ deleted: true } | Refused> {
    return this.conditional(action, async () => {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: etag }));
      return { deleted: true as const };
    });
  }

  /** Runs a conditional request: 412 and 404 are results; 409 ConditionalRequestConflict is retried with backoff. */
  private async conditional<T>(action: string, call: () => Promise<T>): Promise<T | Refused> {
    const attempts = this.options.conflictAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (hasCode(err, "PreconditionFailed", "NoSuchKey")) return { refused: errorCode(err) as Refused["refused"] };
        if (!hasCode(err, "ConditionalRequestConflict") || attempt >= attempts) throw s3Failure(action, err, { name: this.bucket, region: this.options.region });
        await sleep((this.options.conflictDelayMs ?? 100) * 2 ** (attempt - 1));
      }
    }
  }
}
