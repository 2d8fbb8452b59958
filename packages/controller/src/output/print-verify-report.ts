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
  const exportLines = (report.exports ?? []).flatMap((row) => [
    `${row.status.toUpperCase()} ${row.host} ${row.dataset} ⇒ target ${row.target}: ${row.exports} export(s), ${row.chunks} chunk(s) present${row.hashed > 0 ? `, ${row.hashed} re-hashed` : ''}`,
    ...row.problems.map((problem) => `    target "${row.target}", export ${problem.exportId}, chunk ${problem.chunk}: ${problem.problem}: ${problem.detail}`),
    ...row.incomplete.map((folder) => `    incomplete: ${folder.folder} has no manifest.json (${folder.objects} object(s), newest ${folder.newestAt})`),
    ...row.unreadable.map((entry) => `    unreadable manifest ${entry.key}: ${entry.reason}`),
    ...(row.error ? [`    ${row.error.code}: ${row.error.message}`] : []),
  ]);
  for (const row of report.incompleteUploads ?? []) {
    exportLines.push(`${row.error ? 'FAILED' : 'WARN'} ${row.host} ⇒ target ${row.target}: ${row.found.length} incomplete multipart upload(s), ${row.aborted.length} aborted${row.error ? `: ${row.error.code}: ${row.error.message}` : ''}`);
    for (const upload of row.found) exportLines.push(`    ${upload.key} (upload ${upload.uploadId}, initiated ${upload.initiatedAt})${row.aborted.includes(upload.uploadId) ? ': aborted' : ''}`);
  }
  const badExports = (report.exports ?? []).filter((row) => row.status !== 'ok').length;
  const exportFooter = report.exports?.length ? (badExports === 0 ? ` All ${report.exports.length} export chain(s) verified.` : ` ${badExports} of ${report.exports.length} export chain(s) have problems.`) : '';
  return [formatTable(rows), ...(notes.length ? ['', ...notes] : []), ...(exportLines.length ? ['', 'Export targets:', ...exportLines] : []), '', footer + exportFooter].join('\n');
}
