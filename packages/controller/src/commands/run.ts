import { FleetError } from '@zfs-fleet/protocol';
import { EXIT, stringFlag, type Command } from '../cli/command.ts';
import { createClock } from '../cli/create-clock.ts';
import { computeStatus } from '../status/compute-status.ts';
import { readJournalContents } from '../state/journal.ts';
import { warnOfStaleLock, withStateLock } from '../state/lock.ts';
import { stateDirOf } from '../state/state-dir.ts';
import { backUpAndPrint } from './backup.ts';

export const runCommand: Command = {
  name: 'run',
  usage: ['fleet run --due [--now ISO-TIME] [--json]     (what the systemd timer and cron call; --now or FLEET_NOW sets the clock)'],
  options: { due: { type: 'boolean' }, now: { type: 'string' } },
  async run(context) {
    if (!context.flags.due) throw new FleetError('USAGE', 'fleet run needs --due: it runs the backup entries whose schedule has come.', { hint: 'fleet run --due' });
    const { config } = await context.config();
    const clock = createClock(stringFlag(context.flags, 'now'));
    const stateDir = stateDirOf(config);
    // What is due is read under the lock: a run that just finished has journaled its attempts.
    return withStateLock(
      stateDir,
      'run',
      async () => {
        const { units, sequences } = await readJournalContents(stateDir);
        const due = computeStatus(config, units, clock(), sequences).filter((row) => row.due);
        const wanted = new Set(due.map((row) => `${row.host}\u0000${row.dataset}`));
        if (wanted.size === 0) {
          context.logger.info('nothing is due');
          context.out.write(context.json ? `${JSON.stringify({ command: 'run', ok: true, units: [] })}\n` : 'Nothing is due.\n');
          return EXIT.ok;
        }
        context.logger.info({ due: [...wanted].map((key) => key.replace('\u0000', ':')) }, 'running due entries');
        return backUpAndPrint(
          context,
          config,
          {
            hosts: [...new Set(due.map((row) => row.host))],
            only: (host, dataset) => wanted.has(`${host}\u0000${dataset}`),
            dryRun: false,
            noSnapshot: false,
            forceFull: false,
            force: false,
            now: clock,
            autoInstall: context.autoInstall,
          },
          'run',
        );
      },
      warnOfStaleLock(context.logger),
    );
  },
};
