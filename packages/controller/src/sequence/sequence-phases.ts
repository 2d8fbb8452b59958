import { entrySettings, isWithin, toFleetErrorFromClient, type BackupEntry, type FleetErrorShape } from '@zfs-fleet/protocol';
import type { ExportUnit } from '../export/export-units.ts';
import { exportHost, pruneExportsHost } from '../export/run-exports.ts';
import type { HostRun } from '../backup/backup-phases.ts';
import type { UnitReport } from '../backup/run-report.ts';
import { runPrune } from '../prune/run-prune.ts';
import type { Phase } from '../run/run-phases.ts';
import type { PhaseReport } from '../run/run-phases.ts';
import type { EntrySequenceReport } from './sequence-report.ts';

/**
 * The sequence's steps as backup phases. Before the listing (HOST_PHASES): lock, preSnapshot,
 * (snapshot), postSnapshot. After the host's units (FINISH_PHASES): replicate's outcome per
 * entry, export and pruneExports (nothing to do without export targets), pruneSnapshots,
 * unlock. Each works per entry through the host's HostSequence: an entry that is LOCKED or whose
 * preSnapshot failed stops there, the host's other entries go on.
 */
export const lockPhase: Phase<HostRun> = {
  name: 'lock',
  async run({ sequence }) {
    if (sequence.entriesFor('lock').length === 0) return 'skipped';
    await sequence.lock();
  },
};

export const preSnapshotPhase: Phase<HostRun> = {
  name: 'preSnapshot',
  async run({ sequence, snapshot }) {
    await sequence.hooks('preSnapshot', snapshot);
  },
};

/** Runs after a failed snapshot too: a preSnapshot hook's work (a frozen database) must be undone. */
export const postSnapshotPhase: Phase<HostRun> = {
  name: 'postSnapshot',
  always: true,
  async run({ sequence, snapshot }) {
    await sequence.hooks('postSnapshot', snapshot);
  },
};

/** Each entry's replicate step from its units: ok when every peer's unit succeeded. */
export const replicatedPhase: Phase<HostRun> = {
  name: 'replicate',
  async run({ sequence, units }) {
    for (const entry of sequence.entriesFor('replicate')) {
      const own = units.filter((unit) => unit.dataset === entry.dataset);
      const failed = own.find((unit) => unit.status === 'failed' || unit.status === 'blocked');
      const detail = own.map((unit) => `${unit.peer}: ${unit.status}`).join(', ');
      sequence.record([entry], 'replicate', failed ? { status: 'failed', detail, error: failed.error ?? { code: 'INTERNAL', message: `replication to ${failed.peer} is ${failed.status}` } } : { status: 'ok', detail });
    }
  },
};

/** Each entry's exports to its targets, planned on what the targets hold now (issue #12). */
export const exportPhase: Phase<HostRun> = {
  name: 'export',
  async run(run) {
    const { sequence } = run;
    const entries = sequence.entriesFor('export');
    const units = run.exportUnits.filter((unit) => entries.includes(unit.entry));
    for (const entry of entries.filter((candidate) => !units.some((unit) => unit.entry === candidate))) sequence.record([entry], 'export', { status: 'skipped', detail: 'no export targets' });
    if (units.length === 0) return 'skipped';
    const started = performance.now();
    const reports = await exportHost({ host: run.host, session: run.session, units, now: run.now, forceFull: run.forceFull, dryRun: false, logger: run.logger, ...(run.onExportEvent ? { onEvent: run.onExportEvent } : {}) });
    run.exports.push(...reports);
    recordPerEntry(sequence, 'export', units, reports, started, (report) => `${report.target}: ${report.action ?? report.status}${report.reason ? ` (${report.reason})` : ''}`);
  },
};

/** `keep.fulls` on each entry's targets, after its exports. */
export const pruneExportsPhase: Phase<HostRun> = {
  name: 'pruneExports',
  async run(run) {
    const { sequence } = run;
    const entries = sequence.entriesFor('pruneExports');
    const units = run.exportUnits.filter((unit) => entries.includes(unit.entry));
    for (const entry of entries.filter((candidate) => !units.some((unit) => unit.entry === candidate))) sequence.record([entry], 'pruneExports', { status: 'skipped', detail: 'no export targets' });
    if (units.length === 0) return 'skipped';
    const started = performance.now();
    const reports = await pruneExportsHost({ host: run.host, session: run.session, units, now: run.now, dryRun: false, logger: run.logger });
    run.exportPrunes.push(...reports);
    recordPerEntry(sequence, 'pruneExports', units, reports, started, (report) => `${report.target}: ${report.status === 'skipped' ? 'no keep.fulls' : `deleted ${report.deleted.length}, kept ${report.kept.length}`}`);
  },
};

function recordPerEntry<R extends { dataset: string; target: string; status: string; error?: FleetErrorShape }>(
  sequence: HostRun['sequence'],
  step: 'export' | 'pruneExports',
  units: readonly ExportUnit[],
  reports: readonly R[],
  started: number,
  describe: (report: R) => string,
): void {
  for (const entry of new Set(units.map((unit) => unit.entry))) {
    const own = reports.filter((report) => report.dataset === entry.dataset || (entry.recursive && isWithin(report.dataset, entry.dataset)));
    const failed = own.find((report) => report.status === 'failed' || report.status === 'blocked');
    const detail = own.map(describe).join('; ');
    const durationMs = Math.round(performance.now() - started);
    sequence.record([entry], step, failed ? { status: 'failed', durationMs, detail, error: failed.error ?? { code: 'INTERNAL', message: `${step} to ${failed.target} is ${failed.status}` } } : { status: 'ok', durationMs, detail });
  }
}

/** keep: on the source and peerKeep: on the peers, for the entries whose sequence prunes, under the locks they hold. */
export const pruneSnapshotsPhase: Phase<HostRun> = {
  name: 'pruneSnapshots',
  async run(run) {
    const { sequence, config } = run;
    const entries = sequence.entriesFor('pruneSnapshots');
    const withPolicy = (entry: BackupEntry) => {
      const settings = entrySettings(config, entry);
      return settings.keep !== undefined || settings.peerKeep !== undefined;
    };
    for (const entry of entries.filter((candidate) => !withPolicy(candidate))) sequence.record([entry], 'pruneSnapshots', { status: 'skipped', detail: 'no keep: policy' });
    const pruned = entries.filter(withPolicy);
    if (pruned.length === 0) return 'skipped';
    const started = performance.now();
    try {
      const report = await runPrune(config, { hosts: [run.host], only: (_host, dataset) => pruned.some((entry) => entry.dataset === dataset), dryRun: false, now: run.now, sessions: run.sessions, locksHeld: true }, run.logger);
      run.pruned.push(...report.units);
      for (const entry of pruned) {
        const own = report.units.filter((unit) => unit.dataset === entry.dataset);
        const failed = own.find((unit) => unit.status === 'failed');
        const detail = own.map((unit) => `${unit.on}: ${unit.status === 'skipped' ? unit.reason : `destroyed ${unit.destroyed}, kept ${unit.kept}`}`).join('; ');
        const durationMs = Math.round(performance.now() - started);
        sequence.record([entry], 'pruneSnapshots', failed ? { status: 'failed', durationMs, detail, error: failed.error ?? { code: 'INTERNAL', message: failed.reason ?? 'prune failed' } } : { status: 'ok', durationMs, detail });
      }
    } catch (error) {
      sequence.record(pruned, 'pruneSnapshots', { status: 'failed', error: toFleetErrorFromClient(error).toShape() });
      throw error;
    }
  },
};

export const unlockPhase: Phase<HostRun> = {
  name: 'unlock',
  always: true,
  async run({ sequence }) {
    await sequence.unlock();
  },
};

/**
 * A unit's phases for the journal and --json: its entry's whole sequence, with the unit's own
 * replicate outcome in place of the entry's.
 */
export function unitPhases(unit: UnitReport, sequence: EntrySequenceReport): PhaseReport[] {
  return sequence.steps.map((step) => {
    if (step.step === 'replicate') return unit.phases?.find((phase) => phase.name === 'replicate') ?? { name: 'replicate', status: unit.status === 'failed' ? 'failed' : 'ok', durationMs: 0 };
    return { name: step.step, status: step.status === 'planned' ? 'skipped' : step.status, durationMs: step.durationMs ?? 0, ...(step.error ? { error: step.error } : {}) };
  });
}
