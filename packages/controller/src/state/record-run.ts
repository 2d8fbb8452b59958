import path from 'node:path';
import type { FleetConfig, FleetErrorCode } from '@zfs-fleet/protocol';
import type { RunReport, UnitReport } from '../backup/run-report.ts';
import type { PruneReport, PruneUnitReport } from '../prune/prune-report.ts';
import { renderMetrics, writeMetricsFile } from '../metrics/prometheus-textfile.ts';
import { computeStatus } from '../status/compute-status.ts';
import { appendToJournal, compactJournal, readJournalContents, type JournalLine, type JournalRecord, type PruneRecord, type SequenceRecord } from './journal.ts';

/**
 * After a real run, holding the state lock: one journal record per unit, one per entry that no
 * unit shows (a sequence without replicate), one per entry and host it pruned (fsynced), then the Prometheus textfile from the whole journal. Returns the
 * textfile's path, and whether the journal ended in a torn line.
 */
export async function recordRun(config: FleetConfig, stateDir: string, report: RunReport, command: 'backup' | 'run', now: Date = new Date()): Promise<Published> {
  const run = runOf(report, command);
  return appendAndPublish(config, stateDir, [...journalRecordsOf(report, command), ...sequenceRecordsOf(report, { ...run, command }), ...pruneRecordsOf(report.prune ?? [], run)], now);
}

/** After a real `fleet prune`, holding the state lock: one record per entry and host it pruned, then the textfile. */
export async function recordPrune(config: FleetConfig, stateDir: string, report: PruneReport, now: Date = new Date()): Promise<Published> {
  return appendAndPublish(config, stateDir, pruneRecordsOf(report.units, runOf(report, 'prune')), now);
}

/** The textfile written, and whether the journal ended in a torn line (a run killed while writing it), which readers skip. */
export interface Published {
  metricsFile: string;
  tornLineFound: boolean;
}

async function appendAndPublish(config: FleetConfig, stateDir: string, lines: readonly JournalLine[], now: Date): Promise<Published> {
  const { tornLineFound } = await appendToJournal(stateDir, lines);
  await compactJournal(stateDir);
  const { units, sequences } = await readJournalContents(stateDir);
  const file = metricsFileOf(config, stateDir);
  await writeMetricsFile(file, renderMetrics(computeStatus(config, units, now, sequences), units));
  return { metricsFile: file, tornLineFound };
}

type RunOf = Pick<PruneRecord, 'runId' | 'command' | 'startedAt' | 'finishedAt'>;

function runOf(report: { startedAt: string; durationMs: number }, command: PruneRecord['command']): RunOf {
  return { runId: report.startedAt, command, startedAt: report.startedAt, finishedAt: new Date(Date.parse(report.startedAt) + report.durationMs).toISOString() };
}

/**
 * The journal's view of the entries a run touched that no unit record shows (their sequence has
 * no replicate step): each one's steps, the snapshot it took and its first failure. Pure.
 */
export function sequenceRecordsOf(report: RunReport, run: Pick<SequenceRecord, 'runId' | 'command' | 'startedAt' | 'finishedAt'>): SequenceRecord[] {
  const shown = new Set(report.units.map((unit) => `${unit.host}\u0000${unit.dataset}`));
  return (report.sequences ?? [])
    .filter((sequence) => !shown.has(`${sequence.host}\u0000${sequence.dataset}`))
    .map((sequence) => {
      const snapshot = sequence.steps.some((step) => step.step === 'snapshot' && step.status === 'ok') ? report.hosts.find((host) => host.host === sequence.host)?.snapshot : undefined;
      const error = sequence.steps.find((step) => step.error)?.error;
      return {
        kind: 'sequence' as const,
        ...run,
        host: sequence.host,
        dataset: sequence.dataset,
        status: sequence.ok ? ('ok' as const) : ('failed' as const),
        ...(snapshot ? { snapshot } : {}),
        steps: sequence.steps.map((step) => ({ name: step.step, status: step.status === 'planned' ? ('skipped' as const) : step.status })),
        ...(error ? { error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } } : {}),
      };
    });
}

/**
 * The journal's view of what a run pruned: one record per entry and host where pruning ran or
 * failed, naming every snapshot it destroyed. A side without a policy pruned nothing and is left out. Pure.
 */
export function pruneRecordsOf(units: readonly PruneUnitReport[], run: RunOf): PruneRecord[] {
  return units
    .filter((unit) => unit.status === 'ok' || unit.status === 'failed')
    .map((unit) => ({
      kind: 'prune' as const,
      ...run,
      host: unit.host,
      dataset: unit.dataset,
      on: unit.on,
      role: unit.role,
      status: unit.status === 'ok' ? ('ok' as const) : ('failed' as const),
      destroyed: unit.datasets.flatMap((dataset) => dataset.snapshots.filter((snapshot) => snapshot.outcome === 'destroyed').map((snapshot) => `${dataset.dataset}@${snapshot.name}`)),
      kept: unit.kept,
      ...(unit.error ? { error: journalErrorOf(unit.error) } : {}),
    }));
}

/** The journal's view of a run report: one record per unit. Pure. */
export function journalRecordsOf(report: RunReport, command: 'backup' | 'run'): JournalRecord[] {
  const { finishedAt } = runOf(report, command);
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
      exportTarget: true,
      status: unit.status === 'planned' ? 'ok' : unit.status,
      bytes: unit.streamBytes ?? 0,
      durationMs: unit.durationMs ?? 0,
      ...((unit.status === 'ok' || unit.status === 'up-to-date') && unit.snapshot ? { snapshot: unit.snapshot } : {}),
      ...(unit.error ? { error: journalErrorOf(unit.error) } : {}),
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
/** An error as the journal keeps it: code, message and hint, nothing else. */
function journalErrorOf(error: { code: FleetErrorCode; message: string; hint?: string }): { code: FleetErrorCode; message: string; hint?: string } {
  return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
}

function errorOf(unit: UnitReport): { code: FleetErrorCode; message: string; hint?: string } | undefined {
  if (unit.error) return journalErrorOf(unit.error);
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
