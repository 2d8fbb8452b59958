import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendToJournal, readJournal, type JournalRecord } from './journal.ts';
import { acquireStateLock } from './lock.ts';

const record = (overrides: Partial<JournalRecord> = {}): JournalRecord => ({
  runId: 'r1', command: 'backup', startedAt: '2026-11-23T06:00:00.000Z', finishedAt: '2026-11-23T06:00:05.000Z',
  host: 'src1', dataset: 'tank/a', peer: 'backup1', status: 'ok', bytes: 10, durationMs: 5000, ...overrides,
});

describe('journal', () => {
  it('reads back what was appended, oldest first', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'journal-'));
    await appendToJournal(dir, [record()]);
    await appendToJournal(dir, [record({ runId: 'r2', status: 'failed' })]);
    expect((await readJournal(dir)).map((r) => [r.runId, r.status])).toEqual([['r1', 'ok'], ['r2', 'failed']]);
  });

  it('skips a line torn by a crash mid-append, and appends after it on a line of its own', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'journal-'));
    await appendToJournal(dir, [record()]);
    await appendFile(path.join(dir, 'journal.jsonl'), '{"runId":"r2","comm');
    expect((await readJournal(dir)).map((r) => r.runId)).toEqual(['r1']);
    await appendToJournal(dir, [record({ runId: 'r3' })]);
    expect((await readJournal(dir)).map((r) => r.runId)).toEqual(['r1', 'r3']);
  });

  it('is empty before the first run', async () => {
    expect(await readJournal(path.join(os.tmpdir(), 'no-such-state-dir'))).toEqual([]);
  });
});

describe('state lock', () => {
  it('refuses a second holder while the first lives, naming its pid', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lock-'));
    const release = await acquireStateLock(dir, 'backup');
    await expect(acquireStateLock(dir, 'run')).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringContaining(`pid ${process.pid}`) });
    await release();
    await (await acquireStateLock(dir, 'run'))();
  });

  it('takes over a lock whose holder is gone', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lock-'));
    await writeFile(path.join(dir, 'lock'), '999999999 backup 2026-11-23T00:00:00Z\n');
    const release = await acquireStateLock(dir, 'run');
    await release();
  });
});
