import { FleetError, parseDatasetName, parseSnapshotName } from '@zfs-fleet/protocol';
import { EXIT, stringFlag, type Command } from '../cli/command.ts';
import { formatRestorePlan, formatRestoreResult } from '../output/print-restore-report.ts';
import { runRestore } from '../restore/run-restore.ts';
import { runExportRestore, type ExportRestoreReport } from '../export/run-export-restore.ts';

export const restoreCommand: Command = {
  name: 'restore',
  usage: ['fleet restore HOST DATASET [--from PEER] [--snapshot NAME] [--to HOST:DATASET] [--start NAME] [--force-full] [--force] [--dry-run] [--json]', 'fleet restore HOST DATASET --from TARGET --identity FILE [--snapshot NAME] [--to HOST:DATASET] [--dry-run] [--json]'],
  options: {
    from: { type: 'string' },
    identity: { type: 'string' },
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
    if (from && Object.hasOwn(config.targets, from)) {
      const identityFile = stringFlag(context.flags, 'identity');
      if (!identityFile) throw new FleetError('USAGE', `restoring from export target "${from}" needs --identity FILE (the age private key; it stays on this machine until the restore call)`);
      const exported = await runExportRestore(
        config,
        {
          host,
          dataset: parseDatasetName(dataset),
          from,
          identityFile,
          ...(snapshot ? { snapshot: parseSnapshotName(snapshot) } : {}),
          ...(to ? { to: parseTarget(to) } : {}),
          dryRun: context.flags['dry-run'] === true,
          autoInstall: context.autoInstall,
        },
        context.logger,
      );
      context.out.write(context.json ? `${JSON.stringify(exported, null, 2)}\n` : `${formatExportRestore(exported)}\n`);
      return exported.ok ? EXIT.ok : EXIT.failed;
    }
    if (stringFlag(context.flags, 'identity')) throw new FleetError('USAGE', `--identity is for restores from an export target; "${from ?? ''}" is not one`);
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

function formatExportRestore(report: ExportRestoreReport): string {
  const chain = report.chain.map((link) => `  ${link.kind} ${link.exportId} @${link.snapshot} (guid ${link.guid}, ${link.chunks} chunk(s))`).join('\n');
  const head = `${report.status.toUpperCase()} restore of ${report.host}:${report.dataset} from target "${report.from}" to ${report.target.host}:${report.target.dataset} in ${report.durationMs} ms`;
  const error = report.error ? `\n${report.error.code}: ${report.error.message}${report.error.hint ? `\nhint: ${report.error.hint}` : ''}` : '';
  return `${head}${chain ? `\n${chain}` : ''}${error}`;
}
