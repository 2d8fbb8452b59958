import { FleetError, parseSnapshotName, type FleetConfig } from '@zfs-fleet/protocol';
import { runAndRecord } from '../backup/run-and-record.ts';
import type { BackupOptions } from '../backup/run-backup.ts';
import { EXIT, stringFlag, type Command, type CommandContext } from '../cli/command.ts';
import { createClock } from '../cli/create-clock.ts';
import { parsePositiveInteger } from '../cli/parse-number.ts';
import { selectHosts } from '../cli/select-hosts.ts';
import { formatRunReport } from '../output/print-run-report.ts';
import { createProgressReporter } from '../output/progress.ts';
import { warnOfStaleLock, withStateLock } from '../state/lock.ts';
import { stateDirOf } from '../state/state-dir.ts';

const options = {
  all: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  snapshot: { type: 'string' },
  'no-snapshot': { type: 'boolean' },
  'force-full': { type: 'boolean' },
  force: { type: 'boolean' },
  parallel: { type: 'string' },
  now: { type: 'string' },
} as const;

async function backupOrPlan(context: CommandContext, planOnly: boolean): Promise<number> {
  const { flags } = context;
  const { config } = await context.config();
  const hosts = selectHosts(config, context.args, { all: flags.all === true, sources: true, example: `fleet ${planOnly ? 'plan' : 'backup'} --all` });
  const snapshot = stringFlag(flags, 'snapshot');
  if (snapshot && flags['no-snapshot']) throw new FleetError('USAGE', 'Give either --snapshot or --no-snapshot, not both.');
  const parallel = stringFlag(flags, 'parallel');
  const options: Omit<BackupOptions, 'onProgress'> = {
    hosts,
    dryRun: planOnly || flags['dry-run'] === true,
    ...(snapshot ? { snapshot: parseSnapshotName(snapshot) } : {}),
    noSnapshot: flags['no-snapshot'] === true,
    forceFull: flags['force-full'] === true,
    force: flags.force === true,
    ...(parallel ? { parallel: parsePositiveInteger(parallel, '--parallel') } : {}),
    autoInstall: context.autoInstall,
    // --now (or FLEET_NOW): the clock snapshot names and retention go by; tests and catch-up runs set it.
    now: createClock(stringFlag(flags, 'now')),
  };
  // A plan changes nothing and takes no lock; a backup runs under the state directory's lock.
  if (options.dryRun) return backUpAndPrint(context, config, options, 'backup');
  return withStateLock(stateDirOf(config), 'backup', () => backUpAndPrint(context, config, options, 'backup'), warnOfStaleLock(context.logger));
}

/** `backup` and `run`: the run with live progress, journaled, then its report on stdout. */
export async function backUpAndPrint(context: CommandContext, config: FleetConfig, options: Omit<BackupOptions, 'onProgress'>, command: 'backup' | 'run'): Promise<number> {
  const progress = createProgressReporter({ tty: context.tty, stream: context.out, logger: context.logger });
  const { report, recorded } = await runAndRecord(
    config,
    { ...options, onProgress: (event) => progress.onProgress(event), onStep: (host, dataset, step) => progress.onStep(host, dataset, step), onExportEvent: (unit, event) => progress.onExport(unit, event) },
    command,
    context.logger,
  ).finally(() => progress.stop());
  context.out.write(context.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatRunReport(report, { colour: context.tty })}\n`);
  return report.ok && recorded ? EXIT.ok : EXIT.failed;
}

export const backupCommand: Command = {
  name: 'backup',
  usage: ['fleet backup (--all | HOST...) [--dry-run] [--snapshot NAME | --no-snapshot] [--force-full] [--force] [--parallel N] [--now ISO-TIME] [--json]'],
  options,
  run: (context) => backupOrPlan(context, false),
};

export const planCommand: Command = {
  name: 'plan',
  usage: ['fleet plan (--all | HOST...) [--snapshot NAME | --no-snapshot] [--force-full] [--force] [--json]'],
  options,
  run: (context) => backupOrPlan(context, true),
};
