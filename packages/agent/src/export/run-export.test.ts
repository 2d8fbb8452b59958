import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ExportInput, ExportManifestSchema, type TargetConfig } from '@zfs-fleet/protocol';
import { createFakeZfs, createFakeZfsState, ZFS_FUSE_CAPABILITIES } from '@zfs-fleet/zfs/testing';
import type { AgentContext } from '../context.ts';
import { listExports } from './list-exports.ts';
import { restoreExport } from './restore-export.ts';
import { runExport } from './run-export.ts';
import { createDirectoryStorage } from './storage/directory-storage.ts';
import { verifyExports } from './verify-exports.ts';

const MiB = 1024 * 1024;
/** Half random (incompressible), half zeros: both paths through zstd. */
function streamBytes(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  let seed = 12345;
  for (let index = 0; index < size / 2; index += 1) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    bytes[index] = seed >> 16;
  }
  return bytes;
}

let identityFile: string;
let recipient: string;
const directories: string[] = [];
const temporary = () => {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'fleet-export-test-'));
  directories.push(directory);
  return directory;
};
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

beforeAll(() => {
  const keys = mkdtempSync(path.join(os.tmpdir(), 'fleet-age-'));
  identityFile = path.join(keys, 'identity.txt');
  execFileSync('age-keygen', ['-o', identityFile], { stdio: 'ignore' });
  recipient = execFileSync('age-keygen', ['-y', identityFile], { encoding: 'utf8' }).trim();
});

function context(stream: Buffer): AgentContext & { sent: string[][] } {
  const state = createFakeZfsState(['tank/data']);
  state.datasets.get('tank/data')!.snapshots.push({ name: 's1', guid: '111', createtxg: 5, creation: 1_800_000_000 });
  const zfs = createFakeZfs(state);
  const sent: string[][] = [];
  zfs.spawn = (argv) => {
    sent.push([...argv]);
    return { stdout: Readable.from([stream.subarray(0, 700_000), stream.subarray(700_000)]), result: Promise.resolve({ exitCode: 0, stderr: '' }) };
  };
  return { logger: pino({ level: 'silent' }), zfs, capabilities: async () => ZFS_FUSE_CAPABILITIES, tools: async () => ({ zstd: true, lz4: false, mbuffer: false, pv: false, age: true }), streamTransfer: undefined as never, locks: undefined as never, sent };
}

async function drain<T>(events: AsyncGenerator<T>): Promise<T[]> {
  const seen: T[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

describe('runExport to a directory target', () => {
  it('cuts the stream at chunkSize raw bytes, encrypts each chunk to the recipient and commits a manifest last', async () => {
    const root = temporary();
    const target: TargetConfig = { type: 'directory', path: root };
    const stream = streamBytes(Math.round(2.5 * MiB));
    const ctx = context(stream);
    const input: ExportInput = {
      target: { name: 'nas', config: target },
      host: 'src1',
      dataset: 'tank/data' as never,
      snapshot: 's1' as never,
      exportId: '20261203T150405Z-0a0b0c0d',
      createdAt: '2026-12-03T15:04:05.000Z',
      recipients: [recipient],
      chunkSizeBytes: MiB,
      compression: 'zstd',
    };
    const events = await drain(runExport(ctx, input, undefined));
    const done = events.at(-1)!;
    expect(done.type).toBe('done');
    expect(ctx.sent).toEqual([['send', '-p', 'tank/data@s1']]);

    const folder = path.join(root, 'zfs-fleet-v1/src1/tank/data/20261203T150405Z-0a0b0c0d');
    expect(readdirSync(folder).sort()).toEqual(['00000000.zst.age', '00000001.zst.age', '00000002.zst.age', 'manifest.json']);
    const manifest = ExportManifestSchema.parse(JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8')));
    expect(manifest).toMatchObject({ host: 'src1', dataset: 'tank/data', kind: 'full', snapshot: { name: 's1', guid: '111', createtxg: '5' }, sendFlags: ['-p'], compression: 'zstd', encryption: { scheme: 'age', recipients: [recipient] }, chunkSizeBytes: MiB });
    expect(manifest.stream).toEqual({ bytes: stream.length, sha256: createHash('sha256').update(stream).digest('hex') });
    expect(manifest.chunks.map((chunk) => chunk.rawBytes)).toEqual([MiB, MiB, stream.length - 2 * MiB]);

    // Each stored chunk is what the manifest says, and decrypts (with the identity only) to its slice of the stream.
    const plain: Buffer[] = [];
    for (const chunk of manifest.chunks) {
      const stored = readFileSync(path.join(folder, chunk.name));
      expect({ bytes: stored.length, sha256: createHash('sha256').update(stored).digest('hex') }).toEqual({ bytes: chunk.storedBytes, sha256: chunk.storedSha256 });
      expect(stored.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
      const decrypted = execFileSync('age', ['-d', '-i', identityFile], { input: stored, maxBuffer: 8 * MiB });
      plain.push(execFileSync('zstd', ['-d', '-c', '-q'], { input: decrypted, maxBuffer: 8 * MiB }));
    }
    expect(Buffer.concat(plain).equals(stream)).toBe(true);
    // No spool is left behind, and the listing finds the export by its manifest.
    expect(readdirSync(path.join(root, 'zfs-fleet-v1/.spool'))).toEqual([]);
    const listed = await listExports(createDirectoryStorage(target, { logger: ctx.logger, spoolDirectory: root }), 'src1', ['tank/data']);
    expect(listed.manifests.map((m) => m.exportId)).toEqual(['20261203T150405Z-0a0b0c0d']);
  });

  it('refuses a target directory that does not exist, and writes nothing', async () => {
    const missing = path.join(temporary(), 'not-mounted');
    const ctx = context(streamBytes(MiB));
    const input: ExportInput = {
      target: { name: 'nas', config: { type: 'directory', path: missing } },
      host: 'src1',
      dataset: 'tank/data' as never,
      snapshot: 's1' as never,
      exportId: '20261203T150405Z-0a0b0c0d',
      createdAt: '2026-12-03T15:04:05.000Z',
      recipients: [recipient],
      chunkSizeBytes: MiB,
      compression: 'zstd',
    };
    await expect(drain(runExport(ctx, input, undefined))).rejects.toMatchObject({ code: 'TARGET_UNREACHABLE' });
    expect(ctx.sent).toEqual([]);
    expect(() => readdirSync(missing)).toThrow(/ENOENT/);
  });

  it('a flipped byte in a stored chunk: verify names the chunk, restore refuses before receiving', async () => {
    const root = temporary();
    const target: TargetConfig = { type: 'directory', path: root };
    const ctx = context(streamBytes(2 * MiB + 10));
    const input: ExportInput = {
      target: { name: 'nas', config: target },
      host: 'src1',
      dataset: 'tank/data' as never,
      snapshot: 's1' as never,
      exportId: '20261203T150405Z-0a0b0c0d',
      createdAt: '2026-12-03T15:04:05.000Z',
      recipients: [recipient],
      chunkSizeBytes: MiB,
      compression: 'none',
    };
    const events = await drain(runExport(ctx, input, undefined));
    const last = events.at(-1);
    if (last?.type !== 'done') throw new Error('no done event');
    const manifest = last.manifest;
    expect(manifest.chunks.map((chunk) => chunk.name)).toEqual(['00000000.age', '00000001.age', '00000002.age']);
    const chunkFile = path.join(root, 'zfs-fleet-v1/src1/tank/data/20261203T150405Z-0a0b0c0d/00000001.age');
    const bytes = readFileSync(chunkFile);
    bytes[1000] = bytes[1000]! ^ 0xff;
    writeFileSync(chunkFile, bytes);
    const storage = createDirectoryStorage(target, { logger: ctx.logger, spoolDirectory: root });
    expect((await verifyExports(storage, 'src1', [manifest], 0)).problems).toEqual([]);
    expect((await verifyExports(storage, 'src1', [manifest], 100)).problems).toMatchObject([{ exportId: manifest.exportId, chunk: '00000001.age', problem: 'sha256' }]);
    const restore = restoreExport(ctx, { target: { name: 'nas', config: target }, host: 'src1', chain: [manifest], identity: readFileSync(identityFile, 'utf8'), into: 'tank/restored' as never }, undefined);
    await expect(drain(restore)).rejects.toMatchObject({ code: 'EXPORT_CHUNK_INVALID', message: expect.stringContaining('chunk 00000001.age of export 20261203T150405Z-0a0b0c0d') });
    rmSync(chunkFile);
    expect((await verifyExports(storage, 'src1', [manifest], 0)).problems).toMatchObject([{ chunk: '00000001.age', problem: 'missing' }]);
  });
});
