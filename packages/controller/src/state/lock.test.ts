import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireStateLock, LOCK_FILE, parseLockHolder, withStateLock } from './lock.ts';

const stateDir = () => mkdtemp(path.join(os.tmpdir(), 'lock-'));
const holder = (fields: Record<string, unknown>) => `${JSON.stringify({ command: 'backup', since: '2026-11-23T00:00:00.000Z', ...fields })}\n`;

describe('state lock', () => {
  it('refuses a second holder while the first lives, with LOCKED naming its pid', async () => {
    const dir = await stateDir();
    const release = await acquireStateLock(dir, 'backup');
    expect(parseLockHolder(await readFile(path.join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, command: 'backup' });
    await expect(acquireStateLock(dir, 'run')).rejects.toMatchObject({
      code: 'LOCKED',
      message: expect.stringContaining(`pid ${process.pid}`),
      details: expect.objectContaining({ pid: process.pid }),
    });
    await release();
    await (await acquireStateLock(dir, 'run'))();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock whose holder is gone', async () => {
    const dir = await stateDir();
    await writeFile(path.join(dir, LOCK_FILE), holder({ pid: 999_999_999 }));
    const release = await acquireStateLock(dir, 'run');
    expect(parseLockHolder(await readFile(path.join(dir, LOCK_FILE), 'utf8'))?.pid).toBe(process.pid);
    await release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock taken before a reboot, even if its pid is in use again', async () => {
    const dir = await stateDir();
    await writeFile(path.join(dir, LOCK_FILE), holder({ pid: process.pid, bootId: 'some-earlier-boot' }));
    const bootId = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => undefined);
    if (bootId === undefined) return; // not Linux: the pid check alone applies
    await (await acquireStateLock(dir, 'run'))();
  });

  it('takes over a garbled lock', async () => {
    const dir = await stateDir();
    await writeFile(path.join(dir, LOCK_FILE), '');
    await (await acquireStateLock(dir, 'run'))();
  });

  it('lets exactly one of many simultaneous takers of a stale lock through', async () => {
    const dir = await stateDir();
    await writeFile(path.join(dir, LOCK_FILE), holder({ pid: 999_999_999 }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireStateLock(dir, 'run')));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'LOCKED' });
  });

  it('releases the lock however the work ends', async () => {
    const dir = await stateDir();
    await expect(
      withStateLock(dir, 'backup', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await withStateLock(dir, 'backup', async () => 'done')).toBe('done');
    expect(await readdir(dir)).toEqual([]);
  });
});
