import path from 'node:path';
import type { FleetConfig, FleetErrorCode } from '@zfs-fleet/protocol';
import type { RunReport, UnitReport } from '../backup/run-report.ts';
import { renderMetrics, writeMetricsFile } from '../metrics/prometheus-textfile.ts';
import { computeStatus } from '../status/compute-status.ts';
import { appendToJournal, compactJournal, readJournal, type JournalRecord } from './journal.ts';

/**
 * After a real run, holding the state lock: one journal record per unit (fsynced), then the
 * Prometheus textfile from the whole journal. Returns the textfile's path.
 */
export async function recordRun(config: FleetConfig, stateDir: string, report: RunReport, command: 'backup' | 'run', now: Date = new Date()): Promise<string> {
  await appendToJournal(stateDir, journalRecordsOf(report, command));
  await compactJournal(stateDir);
  const journal = await readJournal(stateDir);
  const file = metricsFileOf(config, stateDir);
  await writeMetricsFile(file, renderMetrics(computeStatus(config, journal, now), journal));
  return file;
}

/** The journal's view of a run report: one record per unit. Pure. */
export function journalRecordsOf(report: RunReport, command: 'backup' | 'run'): JournalRecord[] {
  const finishedAt = new Date(Date.parse(report.startedAt) + report.durationMs).toISOString();
  const hostSnapshots = new Map(report.hosts.map((host) => [host.host, host.snapshot]));
  // An export target is a unit like a peer (its name in `peer`), so status, rpo and metrics cover it.
  const exports = (report.exports ?? []).map(
    (unit): JournalRecord => ({
      runId: report.startedAt,
      command,
      startedAt: report.startedAt,
      finishedAt,
      host: unit.host,
      dataset: unit.dataset,
      peer: unit.target,
      kind: 'target',
      status: unit.status === 'planned' ? 'ok' : unit.status,
      bytes: unit.streamBytes ?? 0,
      durationMs: unit.durationMs ?? 0,
      ...((unit.status === 'ok' || unit.status === 'up-to-date') && unit.snapshot ? { snapshot: unit.snapshot } : {}),
      ...(unit.error ? { error: { code: unit.error.code, message: unit.error.message, ...(unit.error.hint ? { hint: unit.error.hint } : {}) } } : {}),
    }),
  );
  return [
    ...report.units.map((unit): JournalRecord => {
      const succeeded = unit.status === 'ok' || unit.status === 'up-to-date';
      // The top dataset's step names the snapshot the peer now holds (up-to-date steps name theirs too).
      const snapshot = unit.steps.find((step) => step.to !== undefined)?.to ?? (unit.status === 'ok' ? hostSnapshots.get(unit.host) : undefined);
      const error = errorOf(unit);
      return {
        runId: report.startedAt,
        command,
        startedAt: report.startedAt,
        finishedAt,
        host: unit.host,
        dataset: unit.dataset,
        peer: unit.peer,
        status: unit.status === 'planned' ? 'ok' : unit.status,
        bytes: unit.steps.reduce((sum, step) => sum + (step.bytes ?? 0), 0),
        durationMs: unit.steps.reduce((sum, step) => sum + (step.durationMs ?? 0), 0),
        ...(succeeded && snapshot ? { snapshot } : {}),
        ...(error ? { error } : {}),
        ...(unit.phases ? { phases: unit.phases.map(({ name, status }) => ({ name, status })) } : {}),
      };
    }),
    ...exports,
  ];
}

/** Typed with the closed union, so a record can only carry a code docs/errors.md explains. */
function errorOf(unit: UnitReport): { code: FleetErrorCode; message: string; hint?: string } | undefined {
  if (unit.error) return { code: unit.error.code, message: unit.error.message, ...(unit.error.hint ? { hint: unit.error.hint } : {}) };
  if (unit.status !== 'blocked') return undefined;
  const blocked = unit.steps.find((step) => step.action === 'blocked' && step.code !== undefined);
  // Plans give every blocked step its code; a blocked unit without one is a bug, and says so.
  if (!blocked?.code) return { code: 'INTERNAL', message: 'the unit is blocked but none of its steps says why' };
  return { code: blocked.code, message: blocked.reason ?? 'blocked' };
}

/** `metrics.textfile`, else `<stateDir>/zfs-fleet.prom`. */
export function metricsFileOf(config: FleetConfig, stateDir: string): string {
  return config.metrics?.textfile ?? path.join(stateDir, 'zfs-fleet.prom');
}
