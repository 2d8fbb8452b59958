import { FleetError } from '@zfs-fleet/protocol';
import { EXIT, stringFlag, type Command } from '../cli/command.ts';
import { computeStatus } from '../status/compute-status.ts';
import { readJournal } from '../state/journal.ts';
import { stateDirOf } from '../state/state-dir.ts';
import { runAndRecord } from './backup.ts';

/** `--now` or $FLEET_NOW: an injectable clock, for tests and for catching up by hand. */
export function clockOf(flag: string | undefined): Date {
  const text = flag ?? process.env.FLEET_NOW;
  if (!text) return new Date();
  const now = new Date(text);
  if (Number.isNaN(now.getTime())) throw new FleetError('USAGE', `--now takes an ISO time such as 2026-11-23T07:00:00Z, not "${text}".`);
  return now;
}

export const runCommand: Command = {
  name: 'run',
  usage: ['fleet run --due [--now ISO-TIME] [--json]     (what systemd timers and cron call)'],
  options: { due: { type: 'boolean' }, now: { type: 'string' } },
  async run(context) {
    if (!context.flags.due) throw new FleetError('USAGE', 'fleet run needs --due: it runs the backup entries whose schedule has come.');
    const { config } = await context.config();
    const now = clockOf(stringFlag(context.flags, 'now'));
    const due = computeStatus(config, await readJournal(stateDirOf(config)), now).filter((row) => row.due);
    const wanted = new Set(due.map((row) => `${row.host}\u0000${row.dataset}`));
    if (wanted.size === 0) {
      context.out.write(context.json ? `${JSON.stringify({ command: 'run', ok: true, due: [] })}\n` : 'Nothing is due.\n');
      return EXIT.ok;
    }
    context.logger.info({ due: [...wanted].map((key) => key.replace('\u0000', ':')) }, 'running due entries');
    return runAndRecord(
      context,
      config,
      {
        hosts: [...new Set(due.map((row) => row.host))],
        only: (host, dataset) => wanted.has(`${host}\u0000${dataset}`),
        dryRun: false,
        noSnapshot: false,
        forceFull: false,
        force: false,
        now: () => now,
        autoInstall: context.autoInstall,
      },
      'run',
    );
  },
};
