import { readdir, readFile, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type {} from '@zfs-fleet/lab';
import { type RcloneTarget, TargetConfigSchema } from '@zfs-fleet/protocol';
import { execa, type ResultPromise } from 'execa';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { exportStorageContract, randomFile, readAll, sha256 } from './export-storage-contract.fixture.ts';
import type { ExportStorage } from './export-storage.ts';
import { createRcloneStorage } from './rclone-storage.ts';

// Real remotes for Debian's rclone 1.60: `rclone serve sftp` on loopback, and radosgw (one per run).
const s3 = inject('s3Server');
const BUCKET = 'fleet-rclone';
let work: string;
let served: string;
let sftpServer: ResultPromise;
let configFile: string;
const logger = pino({ level: 'silent' });
// This machine sets AWS_CA_BUNDLE, as some hosts do: rclone 1.60's S3 calls fail with it set.
const env = { ...process.env, AWS_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt' };
const context = () => ({ logger, spoolDirectory: work, env });
const target = (remote: string, overrides: Record<string, unknown> = {}) => TargetConfigSchema.parse({ type: 'rclone', remote, rcloneConfig: configFile, ...overrides }) as RcloneTarget;

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket.end() && true)).on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'fleet-rclone-'));
  served = path.join(work, 'served');
  const port = await freePort();
  sftpServer = execa('rclone', ['serve', 'sftp', served, '--addr', `127.0.0.1:${port}`, '--user', 'fleet', '--pass', 'lab-pass'], { env: { RCLONE_CONFIG: '/dev/null' }, reject: false });
  await execa('mkdir', ['-p', path.join(served, 'exports')]);
  await waitForPort(port);
  const { stdout: obscured } = await execa('rclone', ['obscure', 'lab-pass']);
  configFile = path.join(work, 'rclone.conf');
  await writeFile(
    configFile,
    [`[lab]\ntype = sftp\nhost = 127.0.0.1\nport = ${port}\nuser = fleet\npass = ${obscured}\n`, `[s3lab]\ntype = s3\nprovider = Ceph\nendpoint = ${s3.endpoint}\naccess_key_id = ${s3.accessKeyId}\nsecret_access_key = ${s3.secretAccessKey}\n`].join('\n'),
    { mode: 0o600 },
  );
  const admin = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3 });
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  admin.destroy();
});

afterAll(async () => {
  sftpServer?.kill();
  await sftpServer;
  await rm(work, { recursive: true, force: true });
});

describe('the rclone backend on an sftp remote (rclone serve sftp)', () => {
  let storage: ExportStorage;
  beforeAll(() => {
    storage = createRcloneStorage(target('lab:exports/fleet'), context());
  });
  exportStorageContract(() => storage);

  test('a file lands under its final name only, byte for byte, with no temporary left', async ({ onTestFinished }) => {
    const { file, bytes } = await randomFile(2 * 1024 * 1024, onTestFinished);
    await storage.putFile(file, 'zfs-fleet-v1/h/tank/e1/00000000.age');
    onTestFinished(() => storage.delete(['zfs-fleet-v1/h/tank/e1/00000000.age']));
    const folder = path.join(served, 'exports/fleet/zfs-fleet-v1/h/tank/e1');
    expect(await readdir(folder)).toEqual(['00000000.age']);
    expect(sha256(await readFile(path.join(folder, '00000000.age')))).toBe(sha256(bytes));
  });

  test('deleting the last object of an export removes its folder', async ({ onTestFinished }) => {
    const { file } = await randomFile(10, onTestFinished);
    await storage.putFile(file, 'zfs-fleet-v1/h/gone/e1/manifest.json');
    await storage.delete(['zfs-fleet-v1/h/gone/e1/manifest.json']);
    expect(await readdir(path.join(served, 'exports/fleet/zfs-fleet-v1/h/gone'))).toEqual([]);
  });

  test('a remote the config lacks and a server that does not answer are TARGET_UNREACHABLE naming the target', async () => {
    await expect(createRcloneStorage(target('nosuch:x'), context()).list('zfs-fleet-v1/')).rejects.toMatchObject({
      code: 'TARGET_UNREACHABLE',
      message: expect.stringContaining(`rclone nosuch:x failed: didn't find section in config file`),
    });
    const deadConfig = path.join(work, 'dead.conf');
    await writeFile(deadConfig, (await readFile(configFile, 'utf8')).replace(/^port = .*$/m, 'port = 9'));
    await expect(createRcloneStorage(target('lab:exports', { rcloneConfig: deadConfig }), context()).stat('zfs-fleet-v1/x')).rejects.toMatchObject({
      code: 'TARGET_UNREACHABLE',
      message: expect.stringMatching(/rclone lab:exports failed: .*connection refused/),
    });
  });

  test('no rclone on the PATH is TOOL_MISSING', async () => {
    const noTools = createRcloneStorage(target('lab:exports'), { ...context(), env: { ...env, PATH: '/nonexistent' } });
    await expect(noTools.list('zfs-fleet-v1/')).rejects.toMatchObject({ code: 'TOOL_MISSING' });
  });
});

describe('the rclone backend on an S3 remote (radosgw), with AWS_CA_BUNDLE set on the host', () => {
  let storage: ExportStorage;
  beforeAll(() => {
    storage = createRcloneStorage(target(`s3lab:${BUCKET}/fleet`), context());
  });
  exportStorageContract(() => storage);

  test('the range read of a large object returns the bytes asked for', async ({ onTestFinished }) => {
    const { file, bytes } = await randomFile(9 * 1024 * 1024, onTestFinished);
    await storage.putFile(file, 'zfs-fleet-v1/h/big/e1/00000000.age');
    onTestFinished(() => storage.delete(['zfs-fleet-v1/h/big/e1/00000000.age']));
    const tail = await readAll(await storage.read('zfs-fleet-v1/h/big/e1/00000000.age', { range: { offset: bytes.length - 100, length: 100 } }));
    expect(tail.equals(bytes.subarray(bytes.length - 100))).toBe(true);
  });
});
