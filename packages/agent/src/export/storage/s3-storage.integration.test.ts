import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, CreateMultipartUploadCommand, HeadObjectCommand, ListPartsCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import type {} from '@zfs-fleet/lab';
import { type S3Target, TargetConfigSchema } from '@zfs-fleet/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { exportStorageContract, randomFile } from './export-storage-contract.fixture.ts';
import type { ExportStorage } from './export-storage.ts';
import { createS3Storage } from './s3-storage.ts';

// The real S3 server: a one-node Ceph radosgw on loopback (test/lab/s3/s3-server.sh), one per run.
const server = inject('s3Server');
let admin: S3Client;
let storage: ExportStorage;
const BUCKET = 'fleet-exports';
const logLines: string[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });

const target = (overrides: Record<string, unknown> = {}) => TargetConfigSchema.parse({ type: 's3', endpoint: server.endpoint, bucket: BUCKET, prefix: 'fleet/prod', credentialsFile: server.credentialsFile, ...overrides }) as S3Target;
const context = { logger, spoolDirectory: os.tmpdir() };

beforeAll(async () => {
  admin = new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  storage = createS3Storage(target(), context, { partSizeBytes: 5 * 1024 * 1024 });
});

afterAll(async () => {
  admin?.destroy();
});

describe('the S3 backend on radosgw', () => {
  exportStorageContract(() => storage);

  test('objects live under the prefix, and a large file goes up in several multipart parts whose size is confirmed', async ({ onTestFinished }) => {
    const { file, bytes } = await randomFile(12 * 1024 * 1024 + 5, onTestFinished);
    await storage.putFile(file, 'zfs-fleet-v1/h/big/e1/00000000.age');
    onTestFinished(() => storage.delete(['zfs-fleet-v1/h/big/e1/00000000.age']));
    const head = await admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'fleet/prod/zfs-fleet-v1/h/big/e1/00000000.age' }));
    expect(head.ContentLength).toBe(bytes.length);
    // A multipart object's ETag is "<md5 of part md5s>-<number of parts>": 5 + 5 + 2 MiB.
    expect(head.ETag).toMatch(/-3"$/);
  });

  test('an incomplete multipart upload is listed (ListMultipartUploads) and aborted (AbortMultipartUpload) by the server itself', async () => {
    const key = 'fleet/prod/zfs-fleet-v1/h/killed/e9/00000001.age';
    const created = await admin.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    await admin.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: created.UploadId, PartNumber: 1, Body: Buffer.alloc(5 * 1024 * 1024, 7) }));
    const parts = await admin.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: created.UploadId }));
    expect(parts.Parts?.map((part) => part.Size)).toEqual([5 * 1024 * 1024]);

    const listed = await storage.listIncompleteUploads?.('zfs-fleet-v1/h/killed/');
    expect(listed).toEqual([{ key: 'zfs-fleet-v1/h/killed/e9/00000001.age', uploadId: created.UploadId, initiatedAt: expect.any(Date) }]);
    expect(await storage.listIncompleteUploads?.('zfs-fleet-v1/h/other/')).toEqual([]);

    await storage.abortIncompleteUpload?.({ key: 'zfs-fleet-v1/h/killed/e9/00000001.age', uploadId: created.UploadId ?? '' });
    expect(await storage.listIncompleteUploads?.('zfs-fleet-v1/')).toEqual([]);
    // radosgw answers NoSuchKey where AWS says NoSuchUpload: either way the parts are gone.
    await expect(admin.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: created.UploadId }))).rejects.toMatchObject({ name: expect.stringMatching(/^NoSuch(Upload|Key)$/) });
    // Aborting it again (two cleanups racing) is no error.
    await storage.abortIncompleteUpload?.({ key: 'zfs-fleet-v1/h/killed/e9/00000001.age', uploadId: created.UploadId ?? '' });
  });

  test('an upload aborted half-way leaves no object under the final name', async ({ onTestFinished }) => {
    const { file } = await randomFile(40 * 1024 * 1024, onTestFinished);
    const controller = new AbortController();
    const put = storage.putFile(file, 'zfs-fleet-v1/h/abort/e1/00000000.age', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stopped by the test')), 150);
    await expect(put).rejects.toThrow('stopped by the test');
    expect(await storage.stat('zfs-fleet-v1/h/abort/e1/00000000.age')).toBeUndefined();
    // An abort the agent sees cleans up its parts; only a killed agent leaves an upload behind.
    await expect.poll(() => storage.listIncompleteUploads?.('zfs-fleet-v1/h/abort/')).toEqual([]);
  });

  test('an unreadable credentials file is an error naming the target and the file, before any request', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-creds-'));
    const file = path.join(dir, 's3.env');
    await writeFile(file, `AWS_ACCESS_KEY_ID=${server.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${server.secretAccessKey}\n`);
    await chmod(dir, 0o000);
    try {
      const unreadable = createS3Storage(target({ credentialsFile: file }), context);
      // Root reads anything: the test reads a path whose directory is not there when it runs as root.
      const probe = process.getuid?.() === 0 ? createS3Storage(target({ credentialsFile: path.join(dir, 'gone', 's3.env') }), context) : unreadable;
      const error = await probe.list('zfs-fleet-v1/').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TARGET_UNREACHABLE', message: expect.stringMatching(/credentials file ".*s3\.env" of s3 fleet-exports\/fleet\/prod at http/) });
    } finally {
      await chmod(dir, 0o700);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a wrong secret and an endpoint that does not answer are TARGET_UNREACHABLE naming the target', async ({ onTestFinished }) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-creds-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const wrong = path.join(dir, 'wrong.env');
    await writeFile(wrong, `AWS_ACCESS_KEY_ID=${server.accessKeyId}\nAWS_SECRET_ACCESS_KEY=not-the-secret\n`);
    await expect(createS3Storage(target({ credentialsFile: wrong }), context).list('zfs-fleet-v1/')).rejects.toMatchObject({
      code: 'TARGET_UNREACHABLE',
      message: expect.stringContaining('refused the credentials (SignatureDoesNotMatch)'),
    });
    const closedPort = createS3Storage(target({ endpoint: 'http://127.0.0.1:9' }), context);
    await expect(closedPort.stat('zfs-fleet-v1/x')).rejects.toMatchObject({ code: 'TARGET_UNREACHABLE', message: expect.stringContaining('s3 fleet-exports/fleet/prod at http://127.0.0.1:9') });
  });

  test('a missing bucket is TARGET_UNREACHABLE', async () => {
    await expect(createS3Storage(target({ bucket: 'no-such-bucket' }), context).list('zfs-fleet-v1/')).rejects.toMatchObject({
      code: 'TARGET_UNREACHABLE',
      message: expect.stringContaining('the bucket does not exist'),
    });
  });

  test('the secret key never reaches the log', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(server.secretAccessKey);
  });
});
