import { FleetError, parseDatasetName, parseSnapshotName } from '@zfs-fleet/protocol';
import { EXIT, stringFlag, type Command } from '../cli/command.ts';
import { formatRestorePlan, formatRestoreResult } from '../output/print-restore-report.ts';
import { runRestore } from '../restore/run-restore.ts';

export const restoreCommand: Command = {
  name: 'restore',
  usage: ['fleet restore HOST DATASET [--from PEER] [--snapshot NAME] [--to HOST:DATASET] [--start NAME] [--force-full] [--force] [--dry-run] [--json]'],
  options: {
    from: { type: 'string' },
    snapshot: { type: 'string' },
    to: { type: 'string' },
    start: { type: 'string' },
    'force-full': { type: 'boolean' },
    force: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  },
  async run(context) {
    const [host, dataset, ...extra] = context.args;
    if (!host || !dataset || extra.length > 0) throw new FleetError('USAGE', 'fleet restore takes a host and a dataset, e.g. `fleet restore src1 tank/Media`.');
    const { config } = await context.config();
    const snapshot = stringFlag(context.flags, 'snapshot');
    const start = stringFlag(context.flags, 'start');
    const from = stringFlag(context.flags, 'from');
    const to = stringFlag(context.flags, 'to');
    const report = await runRestore(
      config,
      {
        host,
        dataset: parseDatasetName(dataset),
        ...(from ? { from } : {}),
        ...(snapshot ? { snapshot: parseSnapshotName(snapshot) } : {}),
        ...(start ? { start: parseSnapshotName(start) } : {}),
        ...(to ? { to: parseTarget(to) } : {}),
        forceFull: context.flags['force-full'] === true,
        force: context.flags.force === true,
        dryRun: context.flags['dry-run'] === true,
        autoInstall: context.autoInstall,
        onPlan: (plan) => {
          if (!context.json) context.out.write(`${formatRestorePlan(plan)}\n\n`);
        },
      },
      context.logger,
    );
    context.out.write(context.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatRestoreResult(report)}\n`);
    return report.ok ? EXIT.ok : EXIT.failed;
  },
};

/** `HOST:DATASET`, as --to takes it. */
function parseTarget(text: string): { host: string; dataset: ReturnType<typeof parseDatasetName> } {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new FleetError('USAGE', `--to takes HOST:DATASET, e.g. src2:tank/restored, not "${text}".`);
  return { host: text.slice(0, colon), dataset: parseDatasetName(text.slice(colon + 1)) };
}
