import { writeFileAtomically } from '@zfs-fleet/protocol';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { snapshotNameTime } from '../backup/snapshot-name.ts';
import { faultPoint, isFaultAt } from '../faults/fault-point.ts';

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

const RecordErrorSchema = z.object({ code: z.string(), message: z.string(), hint: z.string().optional() });
const StepOutcomeSchema = z.object({ name: z.string(), status: z.enum(['ok', 'failed', 'skipped']) });
/** What every record says of its run and its entry (`host`, `dataset`). */
const RUN_FIELDS = { runId: z.string(), startedAt: z.string(), finishedAt: z.string(), host: z.string(), dataset: z.string() };

export const JournalRecordSchema = z.object({
  ...RUN_FIELDS,
  command: z.enum(['backup', 'run']),
  /** A ZFS peer's host name, or an export target's name (then `exportTarget: true`). */
  peer: z.string(),
  exportTarget: z.boolean().optional(),
  status: z.enum(['ok', 'up-to-date', 'blocked', 'failed']),
  bytes: z.number(),
  durationMs: z.number(),
  /** The newest snapshot the peer holds after this run, when it succeeded. */
  snapshot: z.string().optional(),
  error: RecordErrorSchema.optional(),
  /** The unit's phases (`replicate`, ...) and how each went; absent in records of older versions. */
  phases: z.array(StepOutcomeSchema).optional(),
});

/** One backup unit (host, dataset, peer) of one run, as the journal keeps it. */
export type JournalRecord = z.infer<typeof JournalRecordSchema>;

/**
 * One entry's pruning on one host (its source, or a peer's copies) in one run: a backup's
 * `pruneSnapshots` step or `fleet prune`. Status and the RPO never read it; it has no `peer` or
 * `bytes`, so a reader of unit records only (an older version included) skips its line.
 */
export const PruneRecordSchema = z.object({
  kind: z.literal('prune'),
  ...RUN_FIELDS,
  command: z.enum(['backup', 'run', 'prune']),
  /** Whose snapshots: the source host's, or a peer's copies. */
  on: z.string(),
  role: z.enum(['source', 'peer']),
  status: z.enum(['ok', 'failed']),
  /** `dataset@name` of every snapshot this prune destroyed. */
  destroyed: z.array(z.string()),
  kept: z.number(),
  error: RecordErrorSchema.optional(),
});

export type PruneRecord = z.infer<typeof PruneRecordSchema>;

/**
 * The run of an entry that no unit record shows: one whose sequence has no `replicate` step
 * (it snapshots, runs hooks, prunes). Its steps, the snapshot it took, and the first failure.
 * `fleet run --due` counts it as the entry's last attempt.
 */
export const SequenceRecordSchema = z.object({
  kind: z.literal('sequence'),
  ...RUN_FIELDS,
  command: z.enum(['backup', 'run']),
  status: z.enum(['ok', 'failed']),
  /** The snapshot this run took of the entry, when its snapshot step succeeded. */
  snapshot: z.string().optional(),
  steps: z.array(StepOutcomeSchema),
  error: RecordErrorSchema.optional(),
});

export type SequenceRecord = z.infer<typeof SequenceRecordSchema>;

/** A line of the journal: a backup unit's record, a prune's, or a sequence's. */
export type JournalLine = JournalRecord | PruneRecord | SequenceRecord;

/** The journal's lines by kind, each oldest first. */
export interface JournalContents {
  units: JournalRecord[];
  prunes: PruneRecord[];
  sequences: SequenceRecord[];
}

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
export async function appendToJournal(stateDir: string, records: readonly JournalLine[]): Promise<{ tornLineFound: boolean }> {
  if (records.length === 0) return { tornLineFound: false };
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, JOURNAL_FILE);
  const handle = await open(file, 'a+', 0o600);
  try {
    const { size } = await handle.stat();
    // After a crash mid-append the file ends in a torn line: start on a line of our own.
    const last = Buffer.alloc(1);
    const torn = size > 0 && (await handle.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a;
    const text = `${torn ? '\n' : ''}${records.map((record) => `${JSON.stringify(record)}\n`).join('')}`;
    // Test-only (FLEET_FAULT_AT=journal:kill): dies half-way through the append, leaving a torn line.
    if (isFaultAt('journal')) {
      await handle.write(text.slice(0, Math.ceil(text.length / 2)));
      await handle.sync();
      faultPoint('journal');
    }
    await handle.write(text);
    await handle.sync();
    // A new file is only durable once its directory entry is.
    if (size === 0) await syncDirectory(stateDir);
    return { tornLineFound: torn };
  } finally {
    await handle.close();
  }
}

/** Reads the backup units' records, oldest first. Lines torn by a crash mid-append, or otherwise not records, are skipped. */
export async function readJournal(stateDir: string): Promise<JournalRecord[]> {
  return (await readJournalContents(stateDir)).units;
}

/** Reads every line of the journal, by kind. */
export async function readJournalContents(stateDir: string): Promise<JournalContents> {
  return parseJournalContents(await readJournalText(stateDir));
}

async function readJournalText(stateDir: string): Promise<string> {
  return readFile(path.join(stateDir, JOURNAL_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
}

/** Parses journal text into the backup units' records; pure. */
export function parseJournal(text: string): JournalRecord[] {
  return parseJournalContents(text).units;
}

/** Parses journal text into its lines by kind; pure. */
export function parseJournalContents(text: string): JournalContents {
  return byKind(parseLines(text));
}

function byKind(lines: readonly ParsedLine[]): JournalContents {
  const contents: JournalContents = { units: [], prunes: [], sequences: [] };
  for (const line of lines) {
    if (line.kind === 'unit') contents.units.push(line.record);
    else if (line.kind === 'prune') contents.prunes.push(line.record);
    else contents.sequences.push(line.record);
  }
  return contents;
}

type ParsedLine = { kind: 'unit'; record: JournalRecord } | { kind: 'prune'; record: PruneRecord } | { kind: 'sequence'; record: SequenceRecord };

function parseLines(text: string): ParsedLine[] {
  const lines: ParsedLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue; // a torn line: the run it belonged to never finished writing it
    }
    const prune = PruneRecordSchema.safeParse(value);
    const sequence = SequenceRecordSchema.safeParse(value);
    const unit = JournalRecordSchema.safeParse(value);
    if (prune.success) lines.push({ kind: 'prune', record: prune.data });
    else if (sequence.success) lines.push({ kind: 'sequence', record: sequence.data });
    else if (unit.success) lines.push({ kind: 'unit', record: unit.data });
  }
  return lines;
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
 * records plus the records its status depends on (last success, last failure, newest copy),
 * and each entry's newest `keepPerUnit` prune records per host and sequence records. The new file is fsynced, renamed over the old one and the directory fsynced: a crash leaves
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
  const lines = parseLines(await readJournalText(stateDir));
  const keepPerUnit = options.keepPerUnit ?? KEEP_PER_UNIT;
  const { units, prunes, sequences } = byKind(lines);
  const keep = new Set<JournalLine>([...selectRecordsToKeep(units, keepPerUnit), ...selectNewest(prunes, keepPerUnit, (record) => [record.host, record.dataset, record.on]), ...selectNewest(sequences, keepPerUnit, (record) => [record.host, record.dataset])]);
  const kept = lines.map((line) => line.record).filter((record) => keep.has(record));
  await writeFileAtomically(file, kept.map((record) => `${JSON.stringify(record)}\n`).join(''), 0o600);
  await syncDirectory(stateDir);
  return true;
}

/** Pure: the newest `keep` records of each key (an entry on a host, an entry), in their original order. */
export function selectNewest<T>(records: readonly T[], keep: number, keyOf: (record: T) => string[]): T[] {
  const byKey = new Map<string, T[]>();
  for (const record of records) {
    const key = keyOf(record).join('\u0000');
    byKey.set(key, [...(byKey.get(key) ?? []), record]);
  }
  const kept = new Set([...byKey.values()].flatMap((list) => list.slice(-keep)));
  return records.filter((record) => kept.has(record));
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
