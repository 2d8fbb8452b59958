import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FleetErrorShape } from '@zfs-fleet/protocol';

/** One backup unit (host, dataset, peer) of one run, as the journal keeps it. */
export interface JournalRecord {
  runId: string;
  command: 'backup' | 'run';
  startedAt: string;
  finishedAt: string;
  host: string;
  dataset: string;
  peer: string;
  status: 'ok' | 'up-to-date' | 'blocked' | 'failed';
  bytes: number;
  durationMs: number;
  /** The newest snapshot the peer holds after this run, when it succeeded. */
  snapshot?: string;
  error?: FleetErrorShape;
}

export const JOURNAL_FILE = 'journal.jsonl';

/**
 * Appends records as JSON lines and fsyncs before returning. Append-only because a crash
 * mid-write can then damage nothing but the last line, which reading skips; no database
 * (SQLite through better-sqlite3 would need a native build on every controller) for a few
 * lines per run.
 */
export async function appendToJournal(stateDir: string, records: readonly JournalRecord[]): Promise<void> {
  if (records.length === 0) return;
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const handle = await open(path.join(stateDir, JOURNAL_FILE), 'a+', 0o600);
  try {
    // After a crash mid-append the file ends in a torn line: start on a line of our own.
    const { size } = await handle.stat();
    const last = Buffer.alloc(1);
    const torn = size > 0 && (await handle.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a;
    await handle.write(`${torn ? '\n' : ''}${records.map((record) => `${JSON.stringify(record)}\n`).join('')}`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads the journal, oldest first. Lines torn by a crash mid-append are skipped. */
export async function readJournal(stateDir: string): Promise<JournalRecord[]> {
  const text = await readFile(path.join(stateDir, JOURNAL_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const records: JournalRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as JournalRecord);
    } catch {
      // A torn line: the run it belonged to never finished writing it.
    }
  }
  return records;
}

/** The newest record per unit, and the newest successful one. */
export function latestByUnit(records: readonly JournalRecord[]): Map<string, { last?: JournalRecord; lastSuccess?: JournalRecord; lastFailure?: JournalRecord; failures: number }> {
  const units = new Map<string, { last?: JournalRecord; lastSuccess?: JournalRecord; lastFailure?: JournalRecord; failures: number }>();
  for (const record of records) {
    const key = unitKey(record);
    const unit = units.get(key) ?? { failures: 0 };
    unit.last = record;
    if (record.status === 'ok' || record.status === 'up-to-date') unit.lastSuccess = record;
    else {
      unit.lastFailure = record;
      unit.failures += 1;
    }
    units.set(key, unit);
  }
  return units;
}

export function unitKey(unit: { host: string; dataset: string; peer: string }): string {
  return `${unit.host}\u0000${unit.dataset}\u0000${unit.peer}`;
}
