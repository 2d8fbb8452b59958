import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DatasetName } from '@zfs-fleet/protocol';
import { createEntryLocks } from './entry-locks.ts';

const holderA = { controllerHost: 'ctl-a', controllerPid: 111, startedAt: '2026-12-02T10:00:00.000Z', command: 'backup' };
const holderB = { controllerHost: 'ctl-b', controllerPid: 222, startedAt: '2026-12-02T10:00:01.000Z', command: 'prune' };
const media = 'tank/Media' as DatasetName;
const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'fleet-locks-'));

describe('entry locks', () => {
  it('a second run of the same entry is refused at once with LOCKED naming the holder', async () => {
    const dir = tempDir();
    const first = createEntryLocks({ dir });
    const second = createEntryLocks({ dir });
    expect(await first.acquire(holderA, [{ dataset: media, waitMs: 0 }])).toEqual([{ dataset: media, acquired: true }]);
    const [refused] = await second.acquire(holderB, [{ dataset: media, waitMs: 0 }]);
    expect(refused).toMatchObject({ acquired: false, error: { code: 'LOCKED', details: { holder: holderA } } });
    expect(refused!.error!.message).toContain('controller host "ctl-a" (pid 111, "fleet backup" started 2026-12-02T10:00:00.000Z)');
  });

  it('another entry on the same host is not blocked', async () => {
    const dir = tempDir();
    await createEntryLocks({ dir }).acquire(holderA, [{ dataset: media, waitMs: 0 }]);
    expect(await createEntryLocks({ dir }).acquire(holderB, [{ dataset: 'tank/Other' as DatasetName, waitMs: 0 }])).toEqual([{ dataset: 'tank/Other', acquired: true }]);
  });

  it('with lockWait, a run waits for the holder to release and then runs', async () => {
    const dir = tempDir();
    const first = createEntryLocks({ dir });
    await first.acquire(holderA, [{ dataset: media, waitMs: 0 }]);
    setTimeout(() => void first.release([media]), 300);
    const started = Date.now();
    expect(await createEntryLocks({ dir }).acquire(holderB, [{ dataset: media, waitMs: 5_000 }])).toEqual([{ dataset: media, acquired: true }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('with lockWait, a holder that stays makes the run fail with LOCKED after the wait', async () => {
    const dir = tempDir();
    await createEntryLocks({ dir }).acquire(holderA, [{ dataset: media, waitMs: 0 }]);
    const started = Date.now();
    const [result] = await createEntryLocks({ dir }).acquire(holderB, [{ dataset: media, waitMs: 400 }]);
    expect(result).toMatchObject({ acquired: false, error: { code: 'LOCKED' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('a lock whose agent is gone is taken over and the takeover reported', async () => {
    const dir = tempDir();
    const dead = spawnSync('true').pid!;
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(path.join(dir, `${encodeURIComponent(media)}.lock`), JSON.stringify({ dataset: media, holder: holderA, agentPid: dead, agentStart: '1', bootId, acquiredAt: 'x' }));
    const [result] = await createEntryLocks({ dir }).acquire(holderB, [{ dataset: media, waitMs: 0 }]);
    expect(result).toEqual({ dataset: media, acquired: true, takenOver: { ...holderA, agentPid: dead } });
  });

  it('a lock from before a reboot is stale even if its pid is running now', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, `${encodeURIComponent(media)}.lock`), JSON.stringify({ dataset: media, holder: holderA, agentPid: process.pid, bootId: 'another-boot', acquiredAt: 'x' }));
    const [result] = await createEntryLocks({ dir }).acquire(holderB, [{ dataset: media, waitMs: 0 }]);
    expect(result).toMatchObject({ acquired: true, takenOver: { controllerHost: 'ctl-a' } });
  });

  it('release removes only our own lock, and releaseAllSync leaves no file behind', async () => {
    const dir = tempDir();
    const locks = createEntryLocks({ dir });
    await locks.acquire(holderA, [
      { dataset: media, waitMs: 0 },
      { dataset: 'tank/b' as DatasetName, waitMs: 0 },
    ]);
    await createEntryLocks({ dir }).release([media]);
    expect(readdirSync(dir)).toHaveLength(2);
    locks.releaseAllSync();
    expect(readdirSync(dir)).toEqual([]);
  });
});
