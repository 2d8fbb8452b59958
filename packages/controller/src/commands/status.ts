import path from 'node:path';
import { writeFileAtomically } from '@zfs-fleet/protocol';
import { EXIT, stringFlag, type Command } from '../cli/command.ts';
import { createClock } from '../cli/create-clock.ts';
import { formatTable } from '../output/format.ts';
import { formatAge } from '../verify/verify-entry.ts';
import { computeStatus, type UnitStatusRow } from '../status/compute-status.ts';
import { readJournalContents } from '../state/journal.ts';
import { renderStatusHtml } from '../status/render-html.ts';
import { stateDirOf } from '../state/state-dir.ts';

/** ANSI colours of the states: green, yellow, red. */
const COLOURS = { OK: 32, STALE: 33, NEVER: 33, FAILING: 31 } as const;
export type UnitState = keyof typeof COLOURS;

/** One word per unit: a failing latest run outranks the age of the copy. */
export function stateOf(row: UnitStatusRow): UnitState {
  return row.failing ? 'FAILING' : row.rpoState;
}

export const statusCommand: Command = {
  name: 'status',
  usage: ['fleet status [--json] [--html FILE] [--now ISO-TIME]     (from the journal, no host contacted: last success, last failure, newest copy vs rpo, next due; --html writes one self-contained page)'],
  options: { now: { type: 'string' }, html: { type: 'string' } },
  async run(context) {
    const { config, path: configPath } = await context.config();
    const now = createClock(stringFlag(context.flags, 'now'))();
    const stateDir = stateDirOf(config);
    const { units: journal, sequences } = await readJournalContents(stateDir);
    const rows = computeStatus(config, journal, now, sequences).map((row) => ({ ...row, state: stateOf(row) }));
    const ok = rows.every((row) => row.state === 'OK');
    const html = stringFlag(context.flags, 'html');
    if (html !== undefined) await writeFileAtomically(path.resolve(html), renderStatusHtml({ rows, journal, now, configPath, stateDir }), 0o644);
    if (context.json) {
      context.out.write(`${JSON.stringify({ command: 'status', ok, at: now.toISOString(), stateDir, ...(html !== undefined ? { html: path.resolve(html) } : {}), rows }, null, 2)}\n`);
      return ok ? EXIT.ok : EXIT.failed;
    }
    if (html !== undefined) context.out.write(`Wrote ${path.resolve(html)}\n`);
    if (rows.length === 0) {
      context.out.write('No backup entries in the config.\n');
      return EXIT.ok;
    }
    const paint = (state: UnitState) => (context.tty ? `\x1b[${COLOURS[state]}m${state}\x1b[0m` : state);
    const ago = (iso: string) => `${formatAge(Math.max(0, now.getTime() - Date.parse(iso)))} ago`;
    const table = [
      ['STATE', 'HOST', 'DATASET', 'PEER', 'LAST SUCCESS', 'NEWEST COPY', 'RPO', 'NEXT DUE', 'LAST FAILURE'],
      ...rows.map((row) => [
        paint(row.state),
        row.host,
        row.dataset,
        row.peer,
        row.lastSuccess ? ago(row.lastSuccess.at) : 'never',
        row.newestCopyAgeMs === undefined ? '-' : `${formatAge(Math.max(0, row.newestCopyAgeMs))} old`,
        row.rpoMs === undefined ? '-' : formatAge(row.rpoMs),
        row.due ? 'now' : row.nextDue ? formatLocalTime(new Date(row.nextDue)) : '-',
        row.lastFailure ? `${ago(row.lastFailure.at)}: ${row.lastFailure.code} ${firstLine(row.lastFailure.message)}` : '-',
      ]),
    ];
    context.out.write(`${formatTable(table)}\n`);
    return ok ? EXIT.ok : EXIT.failed;
  },
};

/** `2026-11-23 08:00`: schedules are in local time, so is this. */
function formatLocalTime(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
