import type { PruneReport } from '../prune/prune-report.ts';
import { formatDuration, formatTable } from './format.ts';

/**
 * The human form of a prune: per entry and host a summary line, then every snapshot with its
 * verdict and the rule behind it (a dry run lists what would go and what stays, and why).
 */
export function formatPruneReport(report: PruneReport, options: { verbose: boolean }): string {
  const rows: string[][] = [];
  const lines: string[] = [];
  for (const unit of report.units) {
    const what =
      unit.status === 'skipped' || unit.status === 'failed'
        ? (unit.error?.code ?? unit.reason ?? '')
        : `${report.dryRun ? 'would destroy' : 'destroyed'} ${report.dryRun ? unit.datasets.flatMap((d) => d.snapshots).filter((s) => s.action === 'destroy').length : unit.destroyed}, keep ${unit.kept}`;
    rows.push([unit.status.toUpperCase(), unit.host, unit.dataset, unit.role === 'source' ? 'on source' : `on ${unit.on}`, unit.policy ?? '-', what]);
    if (unit.reason && unit.status !== 'ok') lines.push(`${unit.host} ${unit.dataset} on ${unit.on}: ${unit.reason}${unit.error?.hint ? `\n    hint: ${unit.error.hint}` : ''}`);
    if (!options.verbose) continue;
    for (const dataset of unit.datasets) {
      for (const snapshot of dataset.snapshots) {
        const verb = snapshot.action === 'keep' ? 'keep   ' : report.dryRun ? 'destroy' : snapshot.outcome === 'destroyed' ? 'destroyed' : `not destroyed (${snapshot.outcomeReason})`;
        lines.push(`  ${unit.on} ${dataset.dataset}@${snapshot.name}  ${verb}  ${snapshot.reasons.join('; ')}`);
      }
    }
  }
  const footer = `${report.dryRun ? 'Dry run: nothing was destroyed. ' : ''}${report.units.length} entr${report.units.length === 1 ? 'y' : 'ies'}×host in ${formatDuration(report.durationMs)}${report.ok ? '.' : '; some did not succeed.'}`;
  return [formatTable(rows), ...(lines.length ? ['', ...lines] : []), '', footer].join('\n');
}
