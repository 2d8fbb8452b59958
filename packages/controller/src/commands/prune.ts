import { EXIT, stringFlag, type Command } from '../cli/command.ts';
import { createClock } from '../cli/create-clock.ts';
import { selectHosts } from '../cli/select-hosts.ts';
import { formatPruneReport } from '../output/print-prune-report.ts';
import type { PruneReport } from '../prune/prune-report.ts';
import { runPrune } from '../prune/run-prune.ts';
import { warnOfStaleLock, withStateLock } from '../state/lock.ts';
import { recordPrune } from '../state/record-run.ts';
import { stateDirOf } from '../state/state-dir.ts';

export const pruneCommand: Command = {
  name: 'prune',
  usage: ['fleet prune (--all | HOST...) [--dry-run] [--now ISO-TIME] [--json]   (keep: on sources, peerKeep: on peers; --dry-run lists every snapshot with its rule)'],
  options: { all: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, now: { type: 'string' } },
  async run(context) {
    const { config } = await context.config();
    const hosts = selectHosts(config, context.args, { all: context.flags.all === true, sources: true, example: 'fleet prune --all' });
    const dryRun = context.flags['dry-run'] === true;
    const now = createClock(stringFlag(context.flags, 'now'));
    const prune = () => runPrune(config, { hosts, dryRun, now, autoInstall: context.autoInstall }, context.logger);
    if (dryRun) return print(await prune(), true);
    // Like a backup: under the state directory's lock, and on record in the journal.
    const stateDir = stateDirOf(config);
    return withStateLock(
      stateDir,
      'prune',
      async () => {
        const report = await prune();
        const recorded = await recordPrune(config, stateDir, report, now()).then(
          () => true,
          (error: unknown) => (context.logger.error({ err: error, stateDir }, 'could not record the prune in the journal'), false),
        );
        return print(report, recorded);
      },
      warnOfStaleLock(context.logger),
    );

    function print(report: PruneReport, recorded: boolean): number {
      context.out.write(context.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatPruneReport(report, { verbose: dryRun })}\n`);
      return report.ok && recorded ? EXIT.ok : EXIT.failed;
    }
  },
};
