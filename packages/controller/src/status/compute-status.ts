import type { FleetConfig } from '@zfs-fleet/protocol';
import { isDue, nextDue, parseSchedule } from '../schedule/due.ts';
import { summarizeJournal, unitKey, type JournalRecord, type SequenceRecord } from '../state/journal.ts';

export interface UnitStatusRow {
  host: string;
  dataset: string;
  peer: string;
  lastSuccess?: { at: string; snapshot?: string };
  lastFailure?: { at: string; code: string; message: string };
  /** The newest snapshot the peer received: its name and when it was taken (from the name, or the run that sent it). */
  newestCopy?: { snapshot?: string; takenAt: string };
  /** Age of that snapshot at `now`. */
  newestCopyAgeMs?: number;
  rpoMs?: number;
  /** OK: within rpo (or no rpo); STALE: older than rpo; NEVER: no successful run yet. */
  rpoState: 'OK' | 'STALE' | 'NEVER';
  /** Failed on its latest run. */
  failing: boolean;
  nextDue?: string;
  due: boolean;
}

/**
 * Status of every configured backup unit, from the journal alone: no host is contacted. An
 * entry's last attempt is its unit's last record, or its last sequence record when it sends
 * nothing (a sequence without replicate), so such an entry is due by its schedule too.
 */
export function computeStatus(config: FleetConfig, journal: readonly JournalRecord[], now: Date, sequences: readonly SequenceRecord[] = []): UnitStatusRow[] {
  const units = summarizeJournal(journal);
  const lastSequence = new Map(sequences.map((record) => [`${record.host}\u0000${record.dataset}`, record]));
  const rows: UnitStatusRow[] = [];
  for (const [host, hostConfig] of Object.entries(config.hosts)) {
    hostConfig.backups.forEach((entry, index) => {
      // Export targets are rows like peers: their newest export's age against the entry's rpo.
      for (const peer of entry.to) {
        const unit = units.get(unitKey({ host, dataset: entry.dataset, peer }));
        const success = unit?.lastSuccess;
        const copy = unit?.newestCopy;
        const ageMs = copy ? now.getTime() - copy.takenAt.getTime() : undefined;
        const schedule = entry.schedule ? parseSchedule(entry.schedule, `hosts.${host}.backups.${index}.schedule`) : undefined;
        const attempts = [unit?.last, lastSequence.get(`${host}\u0000${entry.dataset}`)].flatMap((record) => (record ? [Date.parse(record.startedAt)] : []));
        const lastAttempt = attempts.length > 0 ? new Date(Math.max(...attempts)) : undefined;
        const next = schedule ? nextDue(schedule, lastAttempt, now) : undefined;
        rows.push({
          host,
          dataset: entry.dataset,
          peer,
          ...(success ? { lastSuccess: { at: success.finishedAt, ...(success.snapshot ? { snapshot: success.snapshot } : {}) } } : {}),
          ...(unit?.lastFailure ? { lastFailure: { at: unit.lastFailure.finishedAt, code: unit.lastFailure.error?.code ?? unit.lastFailure.status.toUpperCase(), message: unit.lastFailure.error?.message ?? unit.lastFailure.status } } : {}),
          ...(copy ? { newestCopy: { ...(copy.snapshot ? { snapshot: copy.snapshot } : {}), takenAt: copy.takenAt.toISOString() }, newestCopyAgeMs: ageMs } : {}),
          ...(entry.rpo !== undefined ? { rpoMs: entry.rpo } : {}),
          rpoState: ageMs === undefined ? 'NEVER' : entry.rpo !== undefined && ageMs > entry.rpo ? 'STALE' : 'OK',
          failing: unit?.last !== undefined && unit.last !== success,
          ...(next ? { nextDue: next.toISOString() } : {}),
          due: schedule ? isDue(schedule, lastAttempt, now) : false,
        });
      }
    });
  }
  return rows;
}
