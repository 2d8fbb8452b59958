/**
 * The run pipeline. Every fleet-wide command is a short composition of the same pieces:
 *
 *   listUnits(config, selection)   pure: each (host, entry, peer) with its receive root and destination
 *   host phases                    per source host, in order (backup: `snapshot`)
 *   gatherTrees(sessions, units)   what the hosts have; never throws, a host that cannot be asked is a failure row
 *   plan                           pure, per unit (`planReplication`, `verifyEntry`)
 *   unit phases                    per unit, in order (backup: `replicate`)
 *   report                         one row per unit, zfs calls per host; written to stdout, --json and the journal
 *
 * A phase is a named async step run by `runPhases`: each one's outcome is reported under its
 * name (`phases` in the run report, its --json and each journal record), the first failure
 * fails the unit (or host) and skips the phases after it, except those marked `always`.
 *
 * To add a step to a backup (a pre-snapshot hook, a lock, pruning, an export): write a
 * `Phase<HostRun>` or `Phase<UnitRun>` in its feature folder and put it in the list in
 * `backup/backup-phases.ts` where it belongs (`HOST_PHASES` or `UNIT_PHASES`). Nothing in
 * this folder or in `runBackup` changes. A phase that must run even after a failure (a
 * post-hook, an unlock) sets `always: true`; one that has nothing to do returns 'skipped'.
 */
import { toFleetErrorFromClient, type FleetErrorShape } from '@zfs-fleet/protocol';

export interface Phase<T> {
  /** Shown in reports and the journal: `snapshot`, `replicate`, `prune`... */
  name: string;
  /** Runs even when an earlier phase failed (cleanups: post-hooks, unlocks). */
  always?: boolean;
  /** Throws to fail; returns 'skipped' when there was nothing to do. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a phase that did its work returns nothing
  run(target: T): Promise<void | 'skipped'>;
}

export interface PhaseReport {
  name: string;
  status: 'ok' | 'failed' | 'skipped';
  durationMs: number;
  error?: FleetErrorShape;
}

export interface PhasesOutcome {
  ok: boolean;
  phases: PhaseReport[];
  /** The first failure: what the unit (or host) reports as its error. */
  error?: FleetErrorShape;
}

/** Runs phases in order and reports each; never throws. */
export async function runPhases<T>(phases: readonly Phase<T>[], target: T): Promise<PhasesOutcome> {
  const outcome: PhasesOutcome = { ok: true, phases: [] };
  for (const phase of phases) {
    if (!outcome.ok && !phase.always) {
      outcome.phases.push({ name: phase.name, status: 'skipped', durationMs: 0 });
      continue;
    }
    const startedAt = performance.now();
    try {
      const result = await phase.run(target);
      outcome.phases.push({ name: phase.name, status: result === 'skipped' ? 'skipped' : 'ok', durationMs: Math.round(performance.now() - startedAt) });
    } catch (thrown) {
      const error = toFleetErrorFromClient(thrown).toShape();
      outcome.phases.push({ name: phase.name, status: 'failed', durationMs: Math.round(performance.now() - startedAt), error });
      if (outcome.ok) Object.assign(outcome, { ok: false, error });
    }
  }
  return outcome;
}
