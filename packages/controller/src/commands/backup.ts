import { FleetError, parseSnapshotName, type FleetConfig } from '@zfs-fleet/protocol';
import { runBackup, type BackupOptions } from '../backup/run-backup.ts';
import { EXIT, stringFlag, type Command, type CommandContext } from '../cli/command.ts';
import { parsePositiveInteger } from '../cli/parse-number.ts';
import { selectSourceHosts } from '../cli/select-hosts.ts';
import { formatRunReport } from '../output/print-run-report.ts';
import { createProgressReporter } from '../output/progress.ts';
import { acquireStateLock } from '../state/lock.ts';
import { recordRun } from '../state/record-run.ts';
import { stateDirOf } from '../state/state-dir.ts';

const options = {
  all: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  snapshot: { type: 'string' },
  'no-snapshot': { type: 'boolean' },
  'force-full': { type: 'boolean' },
  force: { type: 'boolean' },
  parallel: { type: 'string' },
} as const;

async function backupOrPlan(context: CommandContext, planOnly: boolean): Promise<number> {
  const { flags } = context;
  const { config } = await context.config();
  const hosts = selectSourceHosts(config, context.args, flags.all === true);
  const snapshot = stringFlag(flags, 'snapshot');
  if (snapshot && flags['no-snapshot']) throw new FleetError('USAGE', 'Give either --snapshot or --no-snapshot, not both.');
  const parallel = stringFlag(flags, 'parallel');
  return runAndRecord(context, config, {
    hosts,
    dryRun: planOnly || flags['dry-run'] === true,
    ...(snapshot ? { snapshot: parseSnapshotName(snapshot) } : {}),
    noSnapshot: flags['no-snapshot'] === true,
    forceFull: flags['force-full'] === true,
    force: flags.force === true,
    ...(parallel ? { parallel: parsePositiveInteger(parallel, '--parallel') } : {}),
    autoInstall: context.autoInstall,
  }, 'backup');
}

/**
 * Runs a backup the way every command does: under the state directory's lock (a dry run
 * changes nothing and takes none), with progress, then journal and metrics, then the report.
 */
export async function runAndRecord(context: CommandContext, config: FleetConfig, options: Omit<BackupOptions, 'onProgress'>, command: 'backup' | 'run'): Promise<number> {
  const stateDir = stateDirOf(config);
  const release = options.dryRun ? undefined : await acquireStateLock(stateDir, command);
  try {
    const progress = createProgressReporter({ tty: context.tty, stream: context.out, logger: context.logger });
    const report = await runBackup(config, { ...options, onProgress: (event) => progress.onProgress(event) }, context.logger);
    progress.stop();
    if (!options.dryRun) {
      await recordRun(config, stateDir, report, command).catch((error: unknown) => context.logger.error({ err: error, stateDir }, 'could not record the run in the journal'));
    }
    context.out.write(context.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatRunReport(report, { colour: context.tty })}\n`);
    return report.ok ? EXIT.ok : EXIT.failed;
  } finally {
    await release?.();
  }
}

export const backupCommand: Command = {
  name: 'backup',
  usage: ['fleet backup (--all | HOST...) [--dry-run] [--snapshot NAME | --no-snapshot] [--force-full] [--force] [--parallel N] [--json]'],
  options,
  run: (context) => backupOrPlan(context, false),
};

export const planCommand: Command = {
  name: 'plan',
  usage: ['fleet plan (--all | HOST...) [--snapshot NAME | --no-snapshot] [--force-full] [--force] [--json]'],
  options,
  run: (context) => backupOrPlan(context, true),
};
