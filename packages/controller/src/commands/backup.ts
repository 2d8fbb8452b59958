import { FleetError, parseSnapshotName } from '@zfs-fleet/protocol';
import { runBackup } from '../backup/run-backup.ts';
import { EXIT, stringFlag, type Command, type CommandContext } from '../cli/command.ts';
import { parsePositiveInteger } from '../cli/parse-number.ts';
import { selectSourceHosts } from '../cli/select-hosts.ts';
import { formatRunReport } from '../output/print-run-report.ts';
import { createProgressReporter } from '../output/progress.ts';

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
  const progress = createProgressReporter({ tty: context.tty, stream: context.out, logger: context.logger });
  const report = await runBackup(
    config,
    {
      hosts,
      dryRun: planOnly || flags['dry-run'] === true,
      ...(snapshot ? { snapshot: parseSnapshotName(snapshot) } : {}),
      noSnapshot: flags['no-snapshot'] === true,
      forceFull: flags['force-full'] === true,
      force: flags.force === true,
      ...(parallel ? { parallel: parsePositiveInteger(parallel, '--parallel') } : {}),
      onProgress: (event) => progress.onProgress(event),
      autoInstall: context.autoInstall,
    },
    context.logger,
  );
  progress.stop();
  context.out.write(context.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatRunReport(report, { colour: context.tty })}\n`);
  return report.ok ? EXIT.ok : EXIT.failed;
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
