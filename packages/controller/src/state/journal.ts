import { writeFileAtomically } from '@zfs-fleet/protocol';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { snapshotNameTime } from '../backup/snapshot-name.ts';

/*
 * Why an append-only JSON-lines file with fsync, and not an embedded database:
 * - A run adds a few lines (one per host, dataset and peer); status reads them all. That is a
 *   log, not a query workload.
 * - A crash mid-append can damage only the last line: reading skips a line that does not parse,
 *   and the next append starts on a fresh line. Records already fsynced are never rewritten in
 *   place (compaction writes a new file and renames it over the old one, fsyncing both).
 * - No native module: SQLite through better-sqlite3 would need a compiler or a prebuilt binary
 *   on every controller, and the controller is one bundled file.
 * - Operators can read it with `tail` and `jq`.
 */

export const JournalRecordSchema = z.object({
  runId: z.string(),
  command: z.enum(['backup', 'run']),
  startedAt: z.string(),
  finishedAt: z.string(),
  host: z.string(),
  dataset: z.string(),
  /** A ZFS peer's host name, or an export target's name (then `kind: target`). */
  peer: z.string(),
  kind: z.enum(['peer', 'target']).optional(),
  status: z.enum(['ok', 'up-to-date', 'blocked', 'failed']),
  bytes: z.number(),
  durationMs: z.number(),
  /** The newest snapshot the peer holds after this run, when it succeeded. */
  snapshot: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }).optional(),
  /** The unit's phases (`replicate`, ...) and how each went; absent in records of older versions. */
  phases: z.array(z.object({ name: z.string(), status: z.enum(['ok', 'failed', 'skipped']) })).optional(),
});

/** One backup unit (host, dataset, peer) of one run, as the journal keeps it. */
export type JournalRecord = z.infer<typeof JournalRecordSchema>;

export const JOURNAL_FILE = 'journal.jsonl';

/** Above this size the journal is compacted after a run. */
export const COMPACT_AT_BYTES = 4 * 1024 * 1024;
/** Records kept per unit by compaction (besides its last success and last failure). */
export const KEEP_PER_UNIT = 100;

/**
 * Appends records as JSON lines and fsyncs before returning, so a run the journal shows as
 * done survives a power cut. Call it holding the state lock: appends from two processes
 * could interleave.
 */
export async function appendToJournal(stateDir: string, records: readonly JournalRecord[]): Promise<void> {
  if (records.length === 0) return;
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, JOURNAL_FILE);
  const handle = await open(file, 'a+', 0o600);
  try {
    const { size } = await handle.stat();
    // After a crash mid-append the file ends in a torn line: start on a line of our own.
    const last = Buffer.alloc(1);
    const torn = size > 0 && (await handle.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a;
    await handle.write(`${torn ? '\n' : ''}${records.map((record) => `${JSON.stringify(record)}\n`).join('')}`);
    await handle.sync();
    // A new file is only durable once its directory entry is.
    if (size === 0) await syncDirectory(stateDir);
  } finally {
    await handle.close();
  }
}

/** Reads the journal, oldest first. Lines torn by a crash mid-append, or otherwise not records, are skipped. */
export async function readJournal(stateDir: string): Promise<JournalRecord[]> {
  const text = await readFile(path.join(stateDir, JOURNAL_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return parseJournal(text);
}

/** Parses journal text; pure. */
export function parseJournal(text: string): JournalRecord[] {
  const records: JournalRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue; // a torn line: the run it belonged to never finished writing it
    }
    const record = JournalRecordSchema.safeParse(value);
    if (record.success) records.push(record.data);
  }
  return records;
}

/** Everything the journal says about one unit (host, dataset, peer). */
export interface UnitHistory {
  last?: JournalRecord;
  lastSuccess?: JournalRecord;
  lastFailure?: JournalRecord;
  /** Failed or blocked runs in the journal. */
  failures: number;
  /**
   * The newest copy the peer is known to hold: the newest snapshot a successful run left there,
   * timed by its name (or, for a name without a time, by the run that sent it).
   */
  newestCopy?: { snapshot?: string; takenAt: Date };
}

/** Folds the journal into one history per unit. */
export function summarizeJournal(records: readonly JournalRecord[]): Map<string, UnitHistory> {
  const units = new Map<string, UnitHistory>();
  for (const record of records) {
    const key = unitKey(record);
    const unit = units.get(key) ?? { failures: 0 };
    unit.last = record;
    if (record.status === 'ok' || record.status === 'up-to-date') {
      unit.lastSuccess = record;
      const copy = copyOf(record);
      if (copy && (!unit.newestCopy || copy.takenAt.getTime() >= unit.newestCopy.takenAt.getTime())) unit.newestCopy = copy;
    } else {
      unit.lastFailure = record;
      unit.failures += 1;
    }
    units.set(key, unit);
  }
  return units;
}

function copyOf(record: JournalRecord): UnitHistory['newestCopy'] {
  const takenAt = record.snapshot ? snapshotNameTime(record.snapshot) : undefined;
  if (takenAt) return { snapshot: record.snapshot, takenAt };
  // A name without a time (`--snapshot nightly`): it was sent by this run, so it is no younger
  // than the run's start. An up-to-date run without a name tells nothing new.
  if (record.status === 'ok') return { ...(record.snapshot ? { snapshot: record.snapshot } : {}), takenAt: new Date(record.startedAt) };
  return undefined;
}

export function unitKey(unit: { host: string; dataset: string; peer: string }): string {
  return `${unit.host}\u0000${unit.dataset}\u0000${unit.peer}`;
}

/**
 * Keeps the journal bounded: above `atBytes`, rewrites it with each unit's newest `keepPerUnit`
 * records plus the records its status depends on (last success, last failure, newest copy).
 * The new file is fsynced, renamed over the old one and the directory fsynced: a crash leaves
 * either the old journal or the new one. Failure counts restart from what is kept (a counter
 * reset, which Prometheus' rate() and increase() expect). Call it holding the state lock.
 */
export async function compactJournal(stateDir: string, options: { atBytes?: number; keepPerUnit?: number } = {}): Promise<boolean> {
  const file = path.join(stateDir, JOURNAL_FILE);
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  if (size <= (options.atBytes ?? COMPACT_AT_BYTES)) return false;
  const records = await readJournal(stateDir);
  const kept = selectRecordsToKeep(records, options.keepPerUnit ?? KEEP_PER_UNIT);
  await writeFileAtomically(file, kept.map((record) => `${JSON.stringify(record)}\n`).join(''), 0o600);
  await syncDirectory(stateDir);
  return true;
}

/** Pure: which records compaction keeps, in their original order. */
export function selectRecordsToKeep(records: readonly JournalRecord[], keepPerUnit: number): JournalRecord[] {
  const keep = new Set<JournalRecord>();
  const byUnit = new Map<string, JournalRecord[]>();
  for (const record of records) {
    const list = byUnit.get(unitKey(record)) ?? [];
    list.push(record);
    byUnit.set(unitKey(record), list);
  }
  for (const list of byUnit.values()) {
    for (const record of list.slice(-keepPerUnit)) keep.add(record);
    const history = summarizeJournal(list).get(unitKey(list[0]!))!;
    for (const record of [history.lastSuccess, history.lastFailure]) if (record) keep.add(record);
    const newest = history.newestCopy;
    if (newest) {
      const source = list.findLast((record) => copyOf(record)?.takenAt.getTime() === newest.takenAt.getTime() && record.snapshot === newest.snapshot);
      if (source) keep.add(source);
    }
  }
  return records.filter((record) => keep.has(record));
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the file itself is synced.
  } finally {
    await handle.close();
  }
}
