import type { VerifyReport } from '../verify/run-verify.ts';
import type { VerifyStatus } from '../verify/verify-entry.ts';
import { formatAge } from '../verify/verify-entry.ts';
import { formatTable } from './format.ts';

const COLOURS: Record<VerifyStatus, number> = { OK: 32, STALE: 33, MISSING: 31, MISMATCH: 31, UNREACHABLE: 35 };

/** One line per dataset and peer, then what is wrong with the rows that are not OK. */
export function formatVerifyReport(report: VerifyReport, options: { colour: boolean }): string {
  const paint = (status: VerifyStatus) => (options.colour ? `\x1b[${COLOURS[status]}m${status}\x1b[0m` : status);
  const rows = report.rows.map((row) => [paint(row.status), row.host, row.dataset, `→ ${row.peer}`, row.newest ? `@${row.newest.name} (${formatAge(row.newest.ageMs)} old)` : '']);
  const notes = report.rows.flatMap((row) => row.details.map((detail) => `${row.host} ${row.dataset} → ${row.peer}: ${detail}`));
  const bad = report.rows.filter((row) => row.status !== 'OK').length;
  const footer = bad === 0 ? `All ${report.rows.length} copies verified.` : `${bad} of ${report.rows.length} copies have problems.`;
  return [formatTable(rows), ...(notes.length ? ['', ...notes] : []), '', footer].join('\n');
}
