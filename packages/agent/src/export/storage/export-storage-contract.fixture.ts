import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { expect, test } from 'vitest';
import type { ExportStorage } from './export-storage.ts';

export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Buffer));
  return Buffer.concat(parts);
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A local file of `sizeBytes` random bytes, removed when the test ends. */
export async function randomFile(sizeBytes: number, onFinished: (cleanup: () => Promise<void>) => void): Promise<{ file: string; bytes: Buffer }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-storage-'));
  onFinished(() => rm(dir, { recursive: true, force: true }));
  const bytes = randomBytes(sizeBytes);
  const file = path.join(dir, 'chunk');
  await writeFile(file, bytes);
  return { file, bytes };
}

/**
 * What every ExportStorage backend must do, run against a real one. `storage()` returns a
 * backend whose root is empty and unique to the test file.
 */
export function exportStorageContract(storage: () => ExportStorage): void {
  test('a stored file reads back byte for byte, whole and by range', async ({ onTestFinished }) => {
    const { file, bytes } = await randomFile(3 * 1024 * 1024 + 17, onTestFinished);
    const key = 'zfs-fleet-v1/h/tank/data/e1/00000000.age';
    expect(await storage().putFile(file, key)).toEqual({ sizeBytes: bytes.length });
    expect(sha256(await readAll(await storage().read(key)))).toBe(sha256(bytes));
    const range = await readAll(await storage().read(key, { range: { offset: 1_000_000, length: 4096 } }));
    expect(range.equals(bytes.subarray(1_000_000, 1_004_096))).toBe(true);
    expect((await storage().stat(key))?.sizeBytes).toBe(bytes.length);
    await storage().delete([key]);
    expect(await storage().stat(key)).toBeUndefined();
  });

  test('a missing object has no stat and reading it names it', async () => {
    expect(await storage().stat('zfs-fleet-v1/none/manifest.json')).toBeUndefined();
    await expect(storage().read('zfs-fleet-v1/none/manifest.json')).rejects.toMatchObject({ code: 'TARGET_OBJECT_MISSING', message: expect.stringContaining('zfs-fleet-v1/none/manifest.json') });
  });

  test('list finds every object under a prefix and nothing beside it; delete removes exactly the keys given', async ({ onTestFinished }) => {
    const { file, bytes } = await randomFile(1000, onTestFinished);
    const keys = ['zfs-fleet-v1/h/a/e1/00000000.age', 'zfs-fleet-v1/h/a/e1/manifest.json', 'zfs-fleet-v1/h/a/e2/00000000.age', 'zfs-fleet-v1/h/ab/e1/00000000.age'];
    for (const key of keys) await storage().putFile(file, key);
    const listed = await storage().list('zfs-fleet-v1/h/a/');
    expect(listed.map((entry) => entry.key).sort()).toEqual(keys.slice(0, 3));
    expect(listed.every((entry) => entry.sizeBytes === bytes.length && entry.modifiedAt.getTime() > Date.now() - 3_600_000)).toBe(true);
    await storage().delete(['zfs-fleet-v1/h/a/e1/manifest.json', 'zfs-fleet-v1/h/a/e1/00000000.age', 'zfs-fleet-v1/h/a/e1/never-there']);
    expect((await storage().list('zfs-fleet-v1/h/')).map((entry) => entry.key).sort()).toEqual([keys[2], keys[3]]);
    await storage().delete([keys[2] ?? '', keys[3] ?? '']);
    expect(await storage().list('zfs-fleet-v1/')).toEqual([]);
  });

  test('a second put of a key replaces the object', async ({ onTestFinished }) => {
    const first = await randomFile(2000, onTestFinished);
    const second = await randomFile(1500, onTestFinished);
    await storage().putFile(first.file, 'zfs-fleet-v1/h/r/e1/manifest.json');
    await storage().putFile(second.file, 'zfs-fleet-v1/h/r/e1/manifest.json');
    expect(sha256(await readAll(await storage().read('zfs-fleet-v1/h/r/e1/manifest.json')))).toBe(sha256(second.bytes));
    await storage().delete(['zfs-fleet-v1/h/r/e1/manifest.json']);
  });
}
