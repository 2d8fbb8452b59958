import { appendFile, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { appendToJournal, compactJournal, JOURNAL_FILE, readJournal, readJournalContents, selectRecordsToKeep, summarizeJournal, unitKey, type JournalRecord, type PruneRecord, type SequenceRecord } from './journal.ts';

const record = (overrides: Partial<JournalRecord> = {}): JournalRecord => ({
  runId: 'r1',
  command: 'backup',
  startedAt: '2026-11-23T06:00:00.000Z',
  finishedAt: '2026-11-23T06:00:05.000Z',
  host: 'src1',
  dataset: 'tank/a',
  peer: 'backup1',
  status: 'ok',
  bytes: 10,
  durationMs: 5000,
  ...overrides,
});
const prune = (overrides: Partial<PruneRecord> = {}): PruneRecord => ({
  kind: 'prune',
  runId: 'p1',
  command: 'prune',
  startedAt: '2026-11-23T07:00:00.000Z',
  finishedAt: '2026-11-23T07:00:01.000Z',
  host: 'src1',
  dataset: 'tank/a',
  on: 'backup1',
  role: 'peer',
  status: 'ok',
  destroyed: ['backup/fleet/src1/tank/a@fleet-20261101T000000.000Z'],
  kept: 3,
  ...overrides,
});
const sequence = (overrides: Partial<SequenceRecord> = {}): SequenceRecord => ({
  kind: 'sequence',
  runId: 's1',
  command: 'run',
  startedAt: '2026-11-23T08:00:00.000Z',
  finishedAt: '2026-11-23T08:00:01.000Z',
  host: 'src1',
  dataset: 'tank/s',
  status: 'ok',
  steps: [{ name: 'snapshot', status: 'ok' }],
  ...overrides,
});
const stateDir = () => mkdtemp(path.join(os.tmpdir(), 'journal-'));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('journal', () => {
  it('reads back what was appended, oldest first', async () => {
    const dir = await stateDir();
    await appendToJournal(dir, [record()]);
    await appendToJournal(dir, [record({ runId: 'r2', status: 'failed', error: { code: 'SSH_CONNECT_FAILED', message: 'no route' } })]);
    expect((await readJournal(dir)).map((r) => [r.runId, r.status])).toEqual([
      ['r1', 'ok'],
      ['r2', 'failed'],
    ]);
  });

  it('fsyncs every append before returning', async () => {
    const dir = await stateDir();
    const probe = await open(path.join(dir, 'probe'), 'w');
    const FileHandle = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
    await probe.close();
    const sync = vi.spyOn(FileHandle, 'sync');
    await appendToJournal(dir, [record()]);
    // the file, then (new file) its directory entry
    expect(sync).toHaveBeenCalledTimes(2);
    await appendToJournal(dir, [record({ runId: 'r2' })]);
    expect(sync).toHaveBeenCalledTimes(3);
  });

  it('skips a line torn by a crash mid-append, and appends after it on a line of its own', async () => {
    const dir = await stateDir();
    await appendToJournal(dir, [record()]);
    await appendFile(path.join(dir, JOURNAL_FILE), '{"runId":"r2","comm');
    expect((await readJournal(dir)).map((r) => r.runId)).toEqual(['r1']);
    expect(await appendToJournal(dir, [record({ runId: 'r3' })])).toEqual({ tornLineFound: true });
    expect((await readJournal(dir)).map((r) => r.runId)).toEqual(['r1', 'r3']);
    expect(await appendToJournal(dir, [record({ runId: 'r4' })])).toEqual({ tornLineFound: false });
    expect(await readFile(path.join(dir, JOURNAL_FILE), 'utf8')).toMatch(/"comm\n\{"runId":"r3"/);
  });

  it('skips lines that parse but are not records', async () => {
    const dir = await stateDir();
    await writeFile(path.join(dir, JOURNAL_FILE), `42\n{"runId":"x"}\n${JSON.stringify(record())}\n`);
    expect((await readJournal(dir)).map((r) => r.runId)).toEqual(['r1']);
  });

  it('keeps unit, prune and sequence records apart: none is read as another', async () => {
    const dir = await stateDir();
    await appendToJournal(dir, [record(), prune(), sequence(), record({ runId: 'r2' })]);
    expect((await readJournal(dir)).map((r) => r.runId)).toEqual(['r1', 'r2']);
    expect(await readJournalContents(dir)).toEqual({ units: [record(), record({ runId: 'r2' })], prunes: [prune()], sequences: [sequence()] });
  });

  it('is empty before the first run', async () => {
    expect(await readJournal(path.join(os.tmpdir(), 'no-such-state-dir'))).toEqual([]);
  });
});

describe('summarizeJournal', () => {
  it('keeps the newest copy across later up-to-date runs that name no snapshot', () => {
    const history = summarizeJournal([
      record({ snapshot: 'fleet-20261123T050000.000Z' }),
      record({ startedAt: '2026-11-23T07:00:00.000Z', finishedAt: '2026-11-23T07:00:01.000Z', status: 'up-to-date' }),
      record({ startedAt: '2026-11-23T08:00:00.000Z', finishedAt: '2026-11-23T08:00:01.000Z', status: 'failed', error: { code: 'X', message: 'y' } }),
    ]).get(unitKey(record()))!;
    expect(history.newestCopy).toEqual({ snapshot: 'fleet-20261123T050000.000Z', takenAt: new Date('2026-11-23T05:00:00.000Z') });
    expect(history.lastSuccess?.status).toBe('up-to-date');
    expect(history.lastFailure?.error?.code).toBe('X');
    expect(history.failures).toBe(1);
  });

  it('times a snapshot whose name has no time by the run that sent it', () => {
    const history = summarizeJournal([record({ snapshot: 'nightly' })]).get(unitKey(record()))!;
    expect(history.newestCopy).toEqual({ snapshot: 'nightly', takenAt: new Date('2026-11-23T06:00:00.000Z') });
  });
});

describe('compactJournal', () => {
  const at = (hour: number) => `2026-11-23T${String(hour).padStart(2, '0')}:00:00.000Z`;
  const history = [
    record({ runId: 'a', startedAt: at(1), snapshot: 'fleet-20261123T010000.000Z' }),
    record({ runId: 'b', startedAt: at(2), status: 'failed', error: { code: 'X', message: 'y' } }),
    record({ runId: 'c', startedAt: at(3), status: 'failed', error: { code: 'X', message: 'y' } }),
    record({ runId: 'd', startedAt: at(4), status: 'failed', error: { code: 'X', message: 'y' } }),
    record({ runId: 'e', startedAt: at(5), peer: 'backup2', snapshot: 'fleet-20261123T050000.000Z' }),
  ];

  it('keeps the newest records per unit and those its status depends on', () => {
    expect(selectRecordsToKeep(history, 1).map((r) => r.runId)).toEqual(['a', 'd', 'e']);
    expect(selectRecordsToKeep(history, 2).map((r) => r.runId)).toEqual(['a', 'c', 'd', 'e']);
  });

  it('rewrites the file only above the threshold, leaving the same status', async () => {
    const dir = await stateDir();
    await appendToJournal(dir, history);
    expect(await compactJournal(dir, { atBytes: 1_000_000, keepPerUnit: 1 })).toBe(false);
    const before = (await stat(path.join(dir, JOURNAL_FILE))).size;
    expect(await compactJournal(dir, { atBytes: 100, keepPerUnit: 1 })).toBe(true);
    expect((await stat(path.join(dir, JOURNAL_FILE))).size).toBeLessThan(before);
    const after = await readJournal(dir);
    expect(after.map((r) => r.runId)).toEqual(['a', 'd', 'e']);
    const { failures: _before, ...was } = summarizeJournal(history).get(unitKey(record()))!;
    const { failures: _after, ...is } = summarizeJournal(after).get(unitKey(record()))!;
    expect(is).toEqual(was);
  });

  it('keeps the newest prune records of each entry on each host and its newest sequence records, in place among the unit records', async () => {
    const dir = await stateDir();
    await appendToJournal(dir, [prune({ runId: 'p1' }), sequence({ runId: 's1' }), ...history, prune({ runId: 'p2' }), prune({ runId: 'p3', on: 'src1', role: 'source' }), sequence({ runId: 's2' }), prune({ runId: 'p4' })]);
    expect(await compactJournal(dir, { atBytes: 100, keepPerUnit: 1 })).toBe(true);
    const after = await readJournalContents(dir);
    expect(after.prunes.map((r) => r.runId)).toEqual(['p3', 'p4']);
    expect(after.sequences.map((r) => r.runId)).toEqual(['s2']);
    expect((await readJournal(dir)).map((r) => r.runId)).toEqual(['a', 'd', 'e']);
  });
});
