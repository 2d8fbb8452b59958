import type pino from 'pino';
import type { FleetConfig } from '@zfs-fleet/protocol';
import { recordRun } from '../state/record-run.ts';
import { stateDirOf } from '../state/state-dir.ts';
import { runBackup, type BackupOptions } from './run-backup.ts';
import type { RunReport } from './run-report.ts';

/**
 * Runs a backup the way `backup` and `run` both do: the run, then (unless a dry run) its
 * journal records and metrics. runBackup never throws for a unit, so every real run is
 * journaled. Call it holding the state lock unless a dry run.
 */
export async function runAndRecord(config: FleetConfig, options: BackupOptions, command: 'backup' | 'run', logger: pino.Logger): Promise<{ report: RunReport; recorded: boolean }> {
  const report = await runBackup(config, options, logger);
  if (options.dryRun) return { report, recorded: true };
  const stateDir = stateDirOf(config);
  // The data is on the peers already, so the report still goes out; but without a journal
  // the scheduler and status go blind, so the caller exits non-zero.
  const recorded = await recordRun(config, stateDir, report, command, options.now?.()).then(
    ({ metricsFile, tornLineFound }) => {
      if (tornLineFound) logger.warn({ stateDir }, 'the journal ended in a torn line, left by a run killed while writing it: it is skipped, and this run wrote on a line of its own');
      logger.debug({ stateDir, metricsFile }, 'run journaled');
      return true;
    },
    (error: unknown) => (logger.error({ err: error, stateDir }, 'could not record the run in the journal'), false),
  );
  return { report, recorded };
}
