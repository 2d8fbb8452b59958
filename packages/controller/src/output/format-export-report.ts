import type { ExportPruneReport, ExportUnitReport } from '../export/export-report.ts';
import { formatBytes, formatDuration } from './format.ts';

/** What an export does, in a few words: `full @s (none yet)`, `incremental @a → @b (differential, from 2026...)`. */
export function describeExport(report: ExportUnitReport): string {
  switch (report.action) {
    case 'full':
      return `full @${report.snapshot}${report.reason ? ` (${report.reason})` : ''}`;
    case 'incremental':
      return `incremental @${report.base?.snapshot} → @${report.snapshot} (${report.mode}, base export ${report.base?.exportId})`;
    case 'up-to-date':
      return `up-to-date @${report.snapshot} (export ${report.exportId})`;
    case 'blocked':
      return `blocked: ${report.reason}`;
    default:
      return report.error ? `${report.error.code}: ${report.error.message}` : report.status;
  }
}

/** One line per export and per pruned target, for the run report and `fleet plan`. */
export function formatExportLines(exports: readonly ExportUnitReport[], prunes: readonly ExportPruneReport[]): string[] {
  const lines = exports.map((report) => {
    const size = report.streamBytes !== undefined ? `, ${formatBytes(report.streamBytes)} in ${report.chunks} chunk(s), ${formatBytes(report.storedBytes ?? 0)} stored` : '';
    const time = report.durationMs !== undefined ? ` in ${formatDuration(report.durationMs)}` : '';
    const error = report.error && report.action ? `\n    ${report.error.code}: ${report.error.message}${report.error.hint ? `\n    hint: ${report.error.hint}` : ''}` : '';
    return `${report.status.toUpperCase()} ${report.host} ${report.dataset} ⇒ ${report.target}: ${describeExport(report)}${size}${time}${error}`;
  });
  for (const prune of prunes.filter((candidate) => candidate.status !== 'skipped')) {
    lines.push(
      `${prune.status.toUpperCase()} ${prune.host} ${prune.dataset} ⇒ ${prune.target}: keep.fulls ${prune.keepFulls}: kept ${prune.kept.length}, deleted ${prune.deleted.length}${prune.deleted.map((entry) => `\n    deleted ${entry.exportId}: ${entry.reason}`).join('')}${prune.error ? `\n    ${prune.error.code}: ${prune.error.message}` : ''}`,
    );
  }
  return lines;
}
