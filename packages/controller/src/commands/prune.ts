import { EXIT, stringFlag, type Command } from '../cli/command.ts';
import { createClock } from '../cli/create-clock.ts';
import { selectHosts } from '../cli/select-hosts.ts';
import { formatPruneReport } from '../output/print-prune-report.ts';
import { runPrune } from '../prune/run-prune.ts';

export const pruneCommand: Command = {
  name: 'prune',
  usage: ['fleet prune (--all | HOST...) [--dry-run] [--now ISO-TIME] [--json]   (keep: on sources, peerKeep: on peers; --dry-run lists every snapshot with its rule)'],
  options: { all: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, now: { type: 'string' } },
  async run(context) {
    const { config } = await context.config();
    const hosts = selectHosts(config, context.args, { all: context.flags.all === true, sources: true, example: 'fleet prune --all' });
    const dryRun = context.flags['dry-run'] === true;
    const report = await runPrune(config, { hosts, dryRun, now: createClock(stringFlag(context.flags, 'now')), autoInstall: context.autoInstall }, context.logger);
    context.out.write(context.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatPruneReport(report, { verbose: dryRun })}\n`);
    return report.ok ? EXIT.ok : EXIT.failed;
  },
};
