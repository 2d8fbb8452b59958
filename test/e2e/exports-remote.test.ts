import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand, S3Client } from '@aws-sdk/client-s3';
import { type S3Server, startS3Server } from '@zfs-fleet/lab';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { createDatasets, destroyTree, FLEET_BIN, type FleetRun, hashFile, lab, snapshotGuids, uniqueName, writeFleetConfig, writeRandomFile } from './support/fleet.ts';

// Issue #12 acceptance 2, 5, 7 (S3 part) and 8 (S3 part): exports through rclone to an sftp
// remote served from backup2, and to S3 on a real one-node Ceph radosgw listening on the lab's
// bridge (10.77.0.1), as seen by the agent on src1.
const MiB = 1024 * 1024;
const BUCKET = 'fleet-e2e';
let s3: S3Server;
let admin: S3Client;
let work: string;
let sftpRoot: string;
let sftpServer: ResultPromise;
let identity: { file: string; secret: string; recipient: string };
let onHost: { credentialsFile: string; rcloneConfig: string };

/** `fleet` with a long timeout: a 300 MiB export through zstd, age and S3 on two busy cores. */
async function fleet(config: string, args: string[], options: { timeoutMs?: number; debug?: boolean } = {}): Promise<FleetRun> {
  const result = await execa('node', [FLEET_BIN, '--config', config, ...(options.debug ? ['--log-level', 'debug'] : []), ...args], { reject: false, env: { FLEET_CONFIG: '' }, timeout: options.timeoutMs ?? 300_000 });
  const json = args.includes('--json') ? JSON.parse(result.stdout || 'null') : undefined;
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, json };
}

/** Writes a file on a lab host (its own mount namespace), mode 600. */
async function writeOnHost(host: string, file: string, text: string): Promise<void> {
  await lab().exec(host, ['sh', '-c', 'umask 077; mkdir -p "$(dirname "$1")"; cat > "$1"', 'sh', file], { input: text });
}

async function objectsUnder(prefix: string): Promise<Array<{ key: string; size: number }>> {
  const page = await admin.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (page.Contents ?? []).map((object) => ({ key: object.Key ?? '', size: object.Size ?? 0 }));
}

async function incompleteUploads(prefix: string) {
  return (await admin.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: prefix }))).Uploads ?? [];
}

/** Every command line on the machine, sampled every 100 ms while `run` runs (lab hosts share the pid namespace). */
async function sampleProcesses<T>(run: () => Promise<T>): Promise<{ result: T; commandLines: string }> {
  const seen = new Set<string>();
  let running = true;
  const sampler = (async () => {
    while (running) {
      const { stdout } = await execa('ps', ['-eww', '-o', 'args='], { reject: false });
      for (const line of stdout.split('\n')) seen.add(line);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    return { result: await run(), commandLines: [...seen].join('\n') };
  } finally {
    running = false;
    await sampler;
  }
}

function configFor(dataset: string, target: string, options: { chunkSize?: string } = {}) {
  return writeFleetConfig(
    { src1: [{ dataset, to: [target] }] },
    {
      top: {
        targets: {
          'sftp-remote': { type: 'rclone', remote: 'labsftp:exports', rcloneConfig: onHost.rcloneConfig },
          's3-main': { type: 's3', endpoint: s3.endpoint, bucket: BUCKET, prefix: 'fleet', credentialsFile: onHost.credentialsFile },
        },
        exports: { encryption: { recipients: [identity.recipient] }, chunkSize: options.chunkSize ?? '128M' },
      },
    },
  );
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'fleet-e2e-remote-'));
  s3 = await startS3Server({ address: '10.77.0.1' });
  admin = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3 });
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));

  // The sftp remote: rclone serve sftp in backup2's network namespace, serving a directory here.
  sftpRoot = path.join(work, 'sftp');
  await execa('mkdir', ['-p', path.join(sftpRoot, 'exports')]);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  sftpServer = execa('nsenter', ['--net=/run/netns/fleet-backup2', 'rclone', 'serve', 'sftp', sftpRoot, '--addr', `10.77.0.22:${port}`, '--user', 'fleet', '--pass', 'sftp-lab-pass'], {
    env: { RCLONE_CONFIG: '/dev/null' },
    reject: false,
  });
  const { stdout: obscured } = await execa('rclone', ['obscure', 'sftp-lab-pass']);

  const { stdout: keygen } = await execa('age-keygen');
  identity = { file: path.join(work, 'identity.txt'), secret: /AGE-SECRET-KEY-\S+/.exec(keygen)?.[0] ?? '', recipient: /public key: (age1\S+)/.exec(keygen)?.[1] ?? '' };
  await writeFile(identity.file, keygen, { mode: 0o600 });

  const onSrc1 = `/root/.config/fleet-e2e-${path.basename(work)}`;
  onHost = { credentialsFile: `${onSrc1}/s3.env`, rcloneConfig: `${onSrc1}/rclone.conf` };
  await writeOnHost('src1', onHost.credentialsFile, `AWS_ACCESS_KEY_ID=${s3.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${s3.secretAccessKey}\n`);
  await writeOnHost('src1', onHost.rcloneConfig, `[labsftp]\ntype = sftp\nhost = 10.77.0.22\nport = ${port}\nuser = fleet\npass = ${obscured}\n`);
  await lab().exec('src1', ['bash', '-c', `for i in $(seq 50); do (echo > /dev/tcp/10.77.0.22/${port}) 2>/dev/null && exit 0; sleep 0.1; done; exit 1`]);
}, 240_000);

afterAll(async () => {
  sftpServer?.kill();
  await sftpServer;
  admin?.destroy();
  await s3?.stop();
  if (onHost) await lab().exec('src1', ['rm', '-rf', path.dirname(onHost.credentialsFile)], { reject: false });
  if (work) await rm(work, { recursive: true, force: true });
});

/** Backs up a fresh dataset on src1 to `target` twice (full, then incremental) and restores the chain on src2. */
async function exportTwiceAndRestore(target: string, sizes: { first: number; second: number }, options: { debug?: boolean } = {}) {
  const dataset = `tank/${uniqueName('X')}`;
  await createDatasets('src1', [dataset]);
  const config = await configFor(dataset, target);
  await writeRandomFile('src1', dataset, 'a.bin', sizes.first);
  const full = await fleet(config, ['backup', 'src1', '--json'], options);
  expect(full.exitCode, full.stdout + full.stderr).toBe(0);
  await writeRandomFile('src1', dataset, 'b.bin', sizes.second);
  const incremental = await fleet(config, ['backup', 'src1', '--json'], options);
  expect(incremental.exitCode, incremental.stdout + incremental.stderr).toBe(0);
  const [fullReport] = full.json.exports;
  const [incrementalReport] = incremental.json.exports;
  expect(fullReport).toMatchObject({ target, status: 'ok', action: 'full' });
  expect(incrementalReport).toMatchObject({ target, status: 'ok', action: 'incremental', base: { exportId: fullReport.exportId } });

  const restored = `tank/${uniqueName('R')}`;
  onTestFinished(() => destroyTree('src2', restored));
  const restore = await fleet(config, ['restore', 'src1', dataset, '--from', target, '--identity', identity.file, '--to', `src2:${restored}`, '--json'], options);
  expect(restore.exitCode, restore.stdout + restore.stderr).toBe(0);
  expect(await hashFile('src2', restored, 'a.bin')).toBe(await hashFile('src1', dataset, 'a.bin'));
  expect(await hashFile('src2', restored, 'b.bin')).toBe(await hashFile('src1', dataset, 'b.bin'));
  const [sourceGuids, restoredGuids] = [await snapshotGuids('src1', dataset), await snapshotGuids('src2', restored)];
  expect([...restoredGuids]).toEqual([...sourceGuids].filter(([name]) => name === fullReport.snapshot || name === incrementalReport.snapshot));
  expect(restoredGuids.size).toBe(2);
  return { dataset, config, full, incremental, restore, fullReport, incrementalReport };
}

describe('exports to an rclone sftp remote', () => {
  test('a full and an incremental go up through rclone and restore on another host, byte-identical with the same guids', async () => {
    const { dataset, fullReport } = await exportTwiceAndRestore('sftp-remote', { first: 3 * MiB, second: MiB });
    // On the remote: the export's folder holds its chunks and manifest.json, each chunk as the manifest hashes it.
    const folder = path.join(sftpRoot, 'exports/zfs-fleet-v1/src1', dataset, fullReport.exportId);
    const manifest = JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8'));
    expect((await readdir(folder)).sort()).toEqual([...manifest.chunks.map((chunk: { name: string }) => chunk.name), 'manifest.json'].sort());
    for (const chunk of manifest.chunks) {
      const { stdout } = await execa('sha256sum', [path.join(folder, chunk.name)]);
      expect(stdout.split(' ')[0]).toBe(chunk.storedSha256);
    }
  });
});

describe('exports to S3 (radosgw)', () => {
  test('a 300 MiB export goes up in several chunks of several multipart parts, restores byte-identical, and no secret shows anywhere', async () => {
    const sampled = await sampleProcesses(() => exportTwiceAndRestore('s3-main', { first: 300 * MiB, second: 2 * MiB }, { debug: true }));
    const { dataset, config, full, incremental, restore, fullReport } = sampled.result;
    const folder = `fleet/zfs-fleet-v1/src1/${dataset}/${fullReport.exportId}/`;
    const stored = await objectsUnder(folder);
    const manifest = JSON.parse(await (await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${folder}manifest.json` }))).Body!.transformToString());
    expect(manifest.chunks.length).toBeGreaterThanOrEqual(3);
    expect(stored.map((object) => object.key).sort()).toEqual([...manifest.chunks.map((chunk: { name: string }) => `${folder}${chunk.name}`), `${folder}manifest.json`].sort());
    // A multipart object's ETag ends in -<parts>: a 128 MiB chunk in 16 MiB parts is 8 of them.
    const head = await admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${folder}${manifest.chunks[0].name}` }));
    expect(Number(/-(\d+)"$/.exec(head.ETag ?? '')?.[1])).toBeGreaterThanOrEqual(4);
    expect(head.ContentLength).toBe(manifest.chunks[0].storedBytes);

    // Acceptance 7 (S3 part): not in ps output sampled during the runs, the CLI's output and logs, the journal, the manifests.
    const journal = await readAllFiles(path.dirname(config));
    const manifests = await Promise.all(
      (await objectsUnder(`fleet/zfs-fleet-v1/src1/${dataset}/`)).filter((object) => object.key.endsWith('manifest.json')).map(async (object) => (await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: object.key }))).Body!.transformToString()),
    );
    // stderr carries the controller's and (at debug) the agent's log lines.
    const everything = [sampled.commandLines, full.stdout, full.stderr, incremental.stdout, incremental.stderr, restore.stdout, restore.stderr, journal, ...manifests].join('\n');
    expect(sampled.commandLines).toContain('fleet-agent');
    expect(full.stderr).toContain('agent stderr');
    expect(everything).not.toContain(s3.secretAccessKey);
    expect(everything).not.toContain(identity.secret);
    expect(manifests.length).toBe(2);
  }, 900_000);

  test('an upload killed half-way leaves an incomplete multipart upload; verify lists it, --cleanup aborts it; the next export completes', async () => {
    const dataset = `tank/${uniqueName('K')}`;
    await createDatasets('src1', [dataset]);
    const config = await configFor(dataset, 's3-main', { chunkSize: '256M' });
    await writeRandomFile('src1', dataset, 'a.bin', 160 * MiB);
    const prefix = `fleet/zfs-fleet-v1/src1/${dataset}/`;
    const agentsBefore = new Set(await agentPids());

    const run = fleet(config, ['backup', 'src1', '--json']);
    // Half-way: the chunk's upload has parts on the server. Kill the agent outright (no abort can run).
    let parts = 0;
    for (let attempt = 0; attempt < 600 && parts < 2; attempt++) {
      const [upload] = await incompleteUploads(prefix);
      if (upload) parts = ((await admin.send(new ListPartsCommand({ Bucket: BUCKET, Key: upload.Key, UploadId: upload.UploadId }))).Parts ?? []).length;
      if (parts < 2) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(parts).toBeGreaterThanOrEqual(2);
    const killed = (await agentPids()).filter((pid) => !agentsBefore.has(pid));
    expect(killed.length).toBeGreaterThan(0);
    for (const pid of killed) process.kill(pid, 'SIGKILL');
    const interrupted = await run;
    expect(interrupted.exitCode).not.toBe(0);
    const left = await incompleteUploads(prefix);
    expect(left).toHaveLength(1);
    expect(await objectsUnder(prefix)).toEqual([]);

    // Plain verify lists it and aborts nothing; --cleanup aborts it, saying so.
    const key = left[0]!.Key!.slice('fleet/'.length);
    const listed = await fleet(config, ['verify', 'src1', '--json']);
    expect(listed.json.incompleteUploads).toEqual([expect.objectContaining({ host: 'src1', target: 's3-main', found: [expect.objectContaining({ key, uploadId: left[0]!.UploadId })], aborted: [] })]);
    expect(await incompleteUploads(prefix)).toHaveLength(1);
    const cleaned = await fleet(config, ['verify', 'src1', '--cleanup']);
    expect(cleaned.stdout).toContain(`${key} (upload ${left[0]!.UploadId}`);
    expect(cleaned.stdout).toMatch(/: aborted/);
    expect(await incompleteUploads(prefix)).toEqual([]);
    expect((await fleet(config, ['verify', 'src1', '--json'])).json.incompleteUploads).toBeUndefined();

    const next = await fleet(config, ['backup', 'src1', '--json']);
    expect(next.exitCode, next.stdout + next.stderr).toBe(0);
    expect(next.json.exports[0]).toMatchObject({ status: 'ok', action: 'full' });
    expect((await objectsUnder(prefix)).some((object) => object.key.endsWith('/manifest.json'))).toBe(true);
  }, 600_000);

  test('an unreadable credentials file and an endpoint that does not answer fail the export naming the target, with nothing written', async () => {
    const dataset = `tank/${uniqueName('B')}`;
    await createDatasets('src1', [dataset]);
    await writeRandomFile('src1', dataset, 'a.bin', MiB);
    const base = { type: 's3', bucket: BUCKET, prefix: 'fleet-bad' };
    for (const [name, target] of [
      ['creds-missing', { ...base, endpoint: s3.endpoint, credentialsFile: '/root/.config/no-such-dir/s3.env' }],
      ['endpoint-down', { ...base, endpoint: 'http://10.77.0.1:9', credentialsFile: onHost.credentialsFile }],
    ] as const) {
      const config = await writeFleetConfig({ src1: [{ dataset, to: [name] }] }, { top: { targets: { [name]: target }, exports: { encryption: { recipients: [identity.recipient] } } } });
      const run = await fleet(config, ['backup', 'src1', '--json']);
      expect(run.exitCode, run.stdout).toBe(1);
      const [report] = run.json.exports;
      expect(report).toMatchObject({ target: name, status: 'failed', error: { code: 'TARGET_UNREACHABLE' } });
      expect(report.error.message).toContain(name === 'creds-missing' ? 'credentials file "/root/.config/no-such-dir/s3.env"' : 'http://10.77.0.1:9');
      expect(run.stdout + run.stderr).not.toContain(s3.secretAccessKey);
      // fleet doctor names the same problem on the target's line.
      const doctor = await fleet(config, ['doctor', 'src1']);
      expect(doctor.exitCode).not.toBe(0);
      expect(doctor.stdout).toMatch(new RegExp(`target ${name}.*TARGET_UNREACHABLE`));
    }
    expect(await objectsUnder('fleet-bad/')).toEqual([]);
    expect(await incompleteUploads('fleet-bad/')).toEqual([]);
  }, 300_000);
});

/** The fleet-agent processes running now (lab hosts share this pid namespace). */
async function agentPids(): Promise<number[]> {
  const { stdout } = await execa('ps', ['-eww', '-o', 'pid=,args='], { reject: false });
  return stdout
    .split('\n')
    .filter((line) => /^\s*\d+\s+\S*node\s+\S*fleet-agent\.mjs serve/.test(line))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

/** Every file under a directory, as text: a config's state directory holds its journal. */
async function readAllFiles(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const texts = await Promise.all(entries.filter((entry) => entry.isFile()).map((entry) => readFile(path.join(entry.parentPath, entry.name), 'utf8')));
  return texts.join('\n');
}
