import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { AwsClients } from "../../src/aws/clients.js";
import { AwsFailure, RunFailure } from "../../src/errors.js";
import { emptyState, type StateDocument } from "../../src/state/document.js";
import { backendFor, s3StateLocation } from "../../src/state/index.js";
import { LockHeldError, newLockInfo } from "../../src/state/lock.js";
import { S3Backend } from "../../src/state/s3.js";
import { StateStore } from "../../src/state/store.js";
import { ConfigSchema, type Config } from "../../src/config/schema.js";
import { FakeCloud } from "../fakes/cloud.js";
import { newS3State, s3Model, type S3State } from "../fakes/s3.js";
import { currentVersion, injectS3Fault, objectText, registerS3ObjectsFake } from "../fakes/s3-objects.js";

const BUCKET = "acme-platform-state";
const KEY = "clinical-platform/dev.json";
const identity = { project: "clinical-platform", environment: "dev", region: "us-east-1", accountId: "123456789012" };

let cloud: FakeCloud;
let s3: S3State;

function backend(): S3Backend {
  return S3Backend.of(new AwsClients({ region: "us-east-1", maxAttempts: 1 }), { bucket: BUCKET, key: KEY, region: "us-east-1" }, { conflictDelayMs: 1 });
}

const stored = (key = KEY) => {
  const text = objectText(s3, BUCKET, key);
  return text === undefined ? undefined : JSON.parse(text);
};
const calls = (command: string) => cloud.callsTo(command).map((c) => c.input);

function withResource(doc: StateDocument, id: string): StateDocument {
  const stamp = "2025-01-01T00:00:00.000Z";
  return { ...doc, resources: { ...doc.resources, [id]: { type: "ec2:vpc", physicalId: "vpc-1", attributes: { vpcId: "vpc-1" }, dependsOn: [], createdAt: stamp, updatedAt: stamp } } };
}

describe("S3Backend against the conditional-write fake", () => {
  beforeEach(() => {
    registerS3ObjectsFake();
    cloud = new FakeCloud();
    s3 = newS3State();
    cloud.install([s3Model(cloud, s3)]);
    s3.buckets.set(BUCKET, { name: BUCKET, region: "us-east-1", createdAt: new Date(), tags: {}, versioning: "Enabled", objects: new Map(), multipartUploads: new Map() });
  });
  afterEach(() => cloud.restore());

  it("reads nothing from an empty bucket, creates the state with If-None-Match, then updates it with If-Match on the last ETag", async () => {
    const b = backend();
    expect(b.location).toBe(`s3://${BUCKET}/${KEY}`);
    expect(await b.read()).toBeUndefined();
    const doc = emptyState(identity);
    await b.write({ ...doc, serial: 1 });
    await b.write({ ...doc, serial: 2 });
    const puts = calls("PutObject");
    expect(puts[0]).toMatchObject({ Bucket: BUCKET, Key: KEY, IfNoneMatch: "*", ContentType: "application/json" });
    expect(puts[0].IfMatch).toBeUndefined();
    const firstEtag = s3.buckets.get(BUCKET)!.objects.get(KEY)![0]!.etag;
    expect(puts[1]).toMatchObject({ Key: KEY, IfMatch: firstEtag });
    expect(puts[1].IfNoneMatch).toBeUndefined();
    expect(stored()).toEqual({ ...doc, serial: 2 });
    expect(await backend().read()).toEqual({ ...doc, serial: 2 });
  });

  it("refuses to overwrite a state someone else wrote since it was read (412 on a stale If-Match), leaving theirs intact", async () => {
    const seed = backend();
    await seed.write({ ...emptyState(identity), serial: 1 });
    const ours = backend();
    const theirs = backend();
    const doc = (await ours.read())!;
    await theirs.read();
    await theirs.write(withResource({ ...doc, serial: 2 }, "network.vpc"));

    const error = await ours.write({ ...doc, serial: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailure);
    expect((error as Error).message).toMatch(new RegExp(`^writing state s3://${BUCKET}/${KEY}: PreconditionFailed: someone else changed the state since this run read it; nothing was overwritten`));
    expect(stored().resources).toHaveProperty(["network.vpc"]);
  });

  it("refuses to create a state when one appeared after this run found none (412 on If-None-Match)", async () => {
    const ours = backend();
    expect(await ours.read()).toBeUndefined();
    const other = emptyState(identity);
    await backend().write(other);
    const error = await ours.write(emptyState(identity)).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/PreconditionFailed: a state appeared there after this run found none/);
    expect(stored().lineage).toBe(other.lineage);
  });

  it("retries a write that met 409 ConditionalRequestConflict", async () => {
    const b = backend();
    await b.read();
    injectS3Fault(s3, { command: "PutObject", key: KEY, code: "ConditionalRequestConflict", status: 409 });
    await b.write(emptyState(identity));
    expect(calls("PutObject")).toHaveLength(2);
    expect(stored()).toBeDefined();
  });

  it("gives up after the configured attempts of 409 and names the state", async () => {
    const b = S3Backend.of(new AwsClients({ region: "us-east-1", maxAttempts: 1 }), { bucket: BUCKET, key: KEY, region: "us-east-1" }, { conflictAttempts: 2, conflictDelayMs: 1 });
    for (let i = 0; i < 2; i++) injectS3Fault(s3, { command: "PutObject", key: KEY, code: "ConditionalRequestConflict", status: 409 });
    const error = await b.write(emptyState(identity)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsFailure);
    expect((error as Error).message).toMatch(new RegExp(`^writing state s3://${BUCKET}/${KEY}: ConditionalRequestConflict`));
  });

  it("refuses a state read back with a lower serial, or another lineage, than this run wrote", async () => {
    const ours = backend();
    const doc = { ...emptyState(identity), serial: 5 };
    await ours.write(doc);
    // someone rolls the object back behind our back
    const intruder = backend();
    await intruder.read();
    await intruder.write({ ...doc, serial: 3 });
    await expect(ours.read()).rejects.toThrow(/has serial 3, older than serial 5 this run saw: it was rolled back/);

    const other = backend();
    await other.read();
    await other.write({ ...emptyState(identity), serial: 9 });
    await expect(ours.read()).rejects.toThrow(/now has lineage .+, not .+: it was replaced by another environment's state/);
  });

  it("reports a state written through a StateStore with increasing serials", async () => {
    const b = backend();
    const store = new StateStore(b, (await b.read()) ?? emptyState(identity));
    await Promise.all([store.put("a", { type: "t", physicalId: "1", attributes: {}, dependsOn: [] }), store.put("b", { type: "t", physicalId: "2", attributes: {}, dependsOn: [] })]);
    await store.flush();
    expect(stored().serial).toBe(2);
    expect(Object.keys(stored().resources)).toEqual(["a", "b"]);
    expect(calls("PutObject").map((p) => Boolean(p.IfMatch))).toEqual([false, true]);
  });

  it("takes the lock with If-None-Match on <key>.lock, holding owner, host, pid, command, start and expiry", async () => {
    const lock = await backend().lock(newLockInfo("up --env dev"));
    expect(calls("PutObject")[0]).toMatchObject({ Bucket: BUCKET, Key: `${KEY}.lock`, IfNoneMatch: "*" });
    const body = stored(`${KEY}.lock`);
    expect(body).toEqual(lock.info);
    expect(Object.keys(body).sort()).toEqual(["command", "expiresAt", "host", "id", "owner", "pid", "startedAt"]);
    expect(body).toMatchObject({ command: "up --env dev", pid: process.pid });
    await lock.release();
    expect(calls("DeleteObject")[0]).toMatchObject({ Key: `${KEY}.lock`, IfMatch: expect.stringMatching(/^"[0-9a-f]{32}"$/) });
    expect(stored(`${KEY}.lock`)).toBeUndefined();
  });

  it("lets one of two racing runs take the lock; the other is told who holds it, and the state stays the winner's", async () => {
    cloud.timings = { latencyMs: 2, provisioningMs: {} };
    const a = backend();
    const b = backend();
    const results = await Promise.allSettled([a.lock(newLockInfo("up --env dev")), b.lock(newLockInfo("down --env dev"))]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<S3Backend["lock"]>>>).value;
    expect(lost[0]!.reason).toBeInstanceOf(LockHeldError);
    expect((lost[0]!.reason as LockHeldError).holder).toEqual(winner.info);
    expect((lost[0]!.reason as Error).message).toMatch(new RegExp(`locked by .+ \\(pid ${process.pid}\\) running "${winner.info.command}" since .+; wait for it to finish, or pass --lock-timeout`));

    const winnerBackend = results[0]!.status === "fulfilled" ? a : b;
    await winnerBackend.read();
    await winnerBackend.write(withResource(emptyState(identity), "network.vpc"));
    await winner.release();
    expect(stored().resources).toHaveProperty(["network.vpc"]);
    expect(stored(`${KEY}.lock`)).toBeUndefined();
  });

  it("waits up to the lock timeout for the holder to finish", async () => {
    const first = await backend().lock(newLockInfo("up"));
    setTimeout(() => void first.release(), 60);
    const second = await backend().lock(newLockInfo("plan"), 5);
    expect(second.info.command).toBe("plan");
    expect(stored(`${KEY}.lock`).id).toBe(second.info.id);
    await second.release();
  });

  it("reports a lock past its expiry as stale, and breaks it only on request", async () => {
    const b = backend();
    await b.lock(newLockInfo("up --env dev", new Date(Date.now() - 3 * 3600 * 1000))); // a run that died holding it
    const error = await backend().lock(newLockInfo("up")).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/the lock expired at .+ UTC \(1 h 0 min ago\) and looks stale: if that run is gone, run 'platform state unlock --env dev'/);
    const holder = (await b.readLock())!;
    await b.breakLock(holder);
    expect(calls("DeleteObject").at(-1)).toMatchObject({ Key: `${KEY}.lock`, IfMatch: expect.any(String) });
    expect(await b.readLock()).toBeUndefined();
  });

  it("does not release a lock that another run took after ours was broken", async () => {
    const ours = await backend().lock(newLockInfo("up"));
    await backend().breakLock(ours.info);
    const theirs = await backend().lock(newLockInfo("down"));
    await ours.release();
    expect(stored(`${KEY}.lock`).id).toBe(theirs.info.id);
    await expect(backend().breakLock(ours.info)).rejects.toThrow(/the lock changed hands/);
    expect(stored(`${KEY}.lock`).id).toBe(theirs.info.id);
  });

  it("removes the state conditionally; a versioned bucket keeps the old version", async () => {
    const b = backend();
    await b.write(emptyState(identity));
    await b.remove();
    expect(calls("DeleteObject")[0]).toMatchObject({ Key: KEY, IfMatch: expect.any(String) });
    expect(currentVersion(s3.buckets.get(BUCKET)!, KEY)).toBeUndefined();
    expect(s3.buckets.get(BUCKET)!.objects.get(KEY)!.filter((v) => !v.isDeleteMarker)).toHaveLength(1);
  });

  it("names the missing bucket and how to create it", async () => {
    s3.buckets.clear();
    const error = await backend().read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsFailure);
    expect((error as Error).message).toMatch(new RegExp(`^reading state s3://${BUCKET}/${KEY}: NoSuchBucket: .+platform state bootstrap --bucket ${BUCKET} --region [a-z0-9-]+'`));
  });

  it("passes on AWS errors other than not-found, naming the lock object", async () => {
    injectS3Fault(s3, { command: "GetObject", key: `${KEY}.lock`, code: "AccessDenied", status: 403 });
    const error = await backend().readLock().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(new RegExp(`^reading the state lock s3://${BUCKET}/${KEY}.lock: AccessDenied: .+need s3:GetObject, s3:PutObject and s3:DeleteObject .+ s3:ListBucket`));
  });
});

describe("S3Backend conditional requests, pinned", () => {
  let mock: AwsClientStub<S3Client>;
  const s3Error = (name: string, status: number) => new S3ServiceException({ name, message: name, $fault: "client", $metadata: { httpStatusCode: status } });
  const lockBody = (id: string) => ({ transformToString: async () => JSON.stringify({ ...newLockInfo("up"), id }) });
  beforeEach(() => {
    mock = mockClient(S3Client);
  });
  afterEach(() => mock.restore());

  it("lets only one of two breakers win: the second one's If-Match fails and it says the lock changed hands", async () => {
    mock.on(GetObjectCommand, { Key: `${KEY}.lock` }).resolves({ Body: lockBody("lock-1") as never, ETag: '"e1"' });
    mock.on(DeleteObjectCommand, { Key: `${KEY}.lock`, IfMatch: '"e1"' }).rejects(s3Error("PreconditionFailed", 412));
    await expect(backend().breakLock({ ...newLockInfo("up"), id: "lock-1" })).rejects.toThrow(/the lock changed hands while it was being broken/);
    expect(mock).toHaveReceivedCommandWith(DeleteObjectCommand, { Bucket: BUCKET, Key: `${KEY}.lock`, IfMatch: '"e1"' });
  });

  it("treats a lock already gone (404 on If-Match) as broken", async () => {
    mock.on(GetObjectCommand).resolves({ Body: lockBody("lock-1") as never, ETag: '"e1"' });
    mock.on(DeleteObjectCommand).rejects(s3Error("NoSuchKey", 404));
    await expect(backend().breakLock({ ...newLockInfo("up"), id: "lock-1" })).resolves.toBeUndefined();
  });

  it("fails a write whose state was deleted since it was read (404 on If-Match)", async () => {
    mock.on(GetObjectCommand).resolves({ Body: { transformToString: async () => JSON.stringify(emptyState(identity)) } as never, ETag: '"e1"' });
    mock.on(PutObjectCommand).rejects(s3Error("NoSuchKey", 404));
    const b = backend();
    await b.read();
    await expect(b.write(emptyState(identity))).rejects.toThrow(/NoSuchKey: someone else deleted the state since this run read it/);
    expect(mock).toHaveReceivedCommandWith(PutObjectCommand, { IfMatch: '"e1"' });
  });
});

describe("backendFor", () => {
  const config = (state: unknown, extra: Record<string, unknown> = {}) => ({ ...ConfigSchema.parse({ state, ...extra }), environment: "dev" }) as Config;

  it("keeps state local by default and in S3 when the config says so, with the key and region defaults", async () => {
    const clients = new AwsClients({ region: "eu-west-1" });
    expect((await backendFor(config({}), clients, "/p")).location).toBe("state/dev.json");
    const s3Backend = await backendFor(config({ backend: "s3", bucket: BUCKET }, { region: "eu-west-1" }), clients, "/p");
    expect(s3Backend.location).toBe(`s3://${BUCKET}/clinical-platform/dev.json`);
    expect(s3StateLocation(config({ backend: "s3", bucket: BUCKET, key: "x/y.json", region: "us-west-2" }))).toEqual({ bucket: BUCKET, key: "x/y.json", region: "us-west-2" });
  });

  it("uses a client in the bucket's region, path-style when an endpoint is overridden", async () => {
    const clients = new AwsClients({ region: "us-east-1", endpoint: "http://localhost:4566" });
    const b = (await backendFor(config({ backend: "s3", bucket: BUCKET, region: "eu-west-1" }), clients, "/p")) as unknown as { s3: S3Client };
    expect(await b.s3.config.region()).toBe("eu-west-1");
    expect(b.s3.config.forcePathStyle).toBe(true);
  });

  it("asks for a bucket when the s3 backend is wanted without one", async () => {
    await expect(backendFor(config({}), new AwsClients({ region: "us-east-1" }), "/p", "s3")).rejects.toThrow(/the config names no state bucket: set "state": \{ "backend": "s3", "bucket": "clinical-platform-platform-state" \} \(any globally unique name; create the bucket with 'platform state bootstrap --env dev --bucket clinical-platform-platform-state'\)/);
  });
});
