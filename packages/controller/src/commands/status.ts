import { EXIT, stringFlag, type Command } from '../cli/command.ts';
import { formatTable } from '../output/format.ts';
import { formatAge } from '../verify/verify-entry.ts';
import { computeStatus, type UnitStatusRow } from '../status/compute-status.ts';
import { readJournal } from '../state/journal.ts';
import { stateDirOf } from '../state/state-dir.ts';
import { clockOf } from './run.ts';

const COLOURS = { OK: 32, STALE: 33, NEVER: 33, FAILING: 31 } as const;

function stateOf(row: UnitStatusRow): keyof typeof COLOURS {
  return row.failing ? 'FAILING' : row.rpoState;
}

export const statusCommand: Command = {
  name: 'status',
  usage: ['fleet status [--json]                   (from the journal: last success, last failure, rpo, next due)'],
  options: { now: { type: 'string' } },
  async run(context) {
    const { config } = await context.config();
    const now = clockOf(stringFlag(context.flags, 'now'));
    const rows = computeStatus(config, await readJournal(stateDirOf(config)), now);
    const ok = rows.every((row) => stateOf(row) === 'OK');
    if (context.json) {
      context.out.write(`${JSON.stringify({ command: 'status', ok, at: now.toISOString(), rows: rows.map((row) => ({ ...row, state: stateOf(row) })) }, null, 2)}\n`);
      return ok ? EXIT.ok : EXIT.failed;
    }
    const paint = (state: keyof typeof COLOURS) => (context.tty ? `\x1b[${COLOURS[state]}m${state}\x1b[0m` : state);
    const table = [
      ['STATE', 'HOST', 'DATASET', 'PEER', 'LAST SUCCESS', 'NEWEST COPY', 'RPO', 'LAST FAILURE', 'NEXT DUE'],
      ...rows.map((row) => [
        paint(stateOf(row)),
        row.host,
        row.dataset,
        row.peer,
        row.lastSuccess ? `${formatAge(now.getTime() - Date.parse(row.lastSuccess.at))} ago` : 'never',
        row.newestCopyAgeMs === undefined ? '-' : `${formatAge(row.newestCopyAgeMs)} old`,
        row.rpoMs === undefined ? '-' : formatAge(row.rpoMs),
        row.lastFailure ? `${row.lastFailure.code} ${formatAge(now.getTime() - Date.parse(row.lastFailure.at))} ago` : '-',
        row.due ? 'now' : (row.nextDue ?? '-'),
      ]),
    ];
    context.out.write(`${formatTable(table)}\n`);
    return ok ? EXIT.ok : EXIT.failed;
  },
};
