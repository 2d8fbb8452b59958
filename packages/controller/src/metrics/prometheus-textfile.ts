import { writeFileAtomically } from '@zfs-fleet/protocol';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { UnitStatusRow } from '../status/compute-status.ts';
import { summarizeJournal, unitKey, type JournalRecord, type UnitHistory } from '../state/journal.ts';

interface Metric {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value(row: UnitStatusRow, unit: UnitHistory | undefined): number | undefined;
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

// Times are absolute timestamps, not ages: the file is only rewritten after a run, and an
// alert must still fire when the controller stops running (`time() - ..._timestamp_seconds`).
const METRICS: readonly Metric[] = [
  { name: 'zfs_fleet_last_success_timestamp_seconds', help: 'When the last successful run of this dataset to this peer finished.', type: 'gauge', value: (_row, unit) => (unit?.lastSuccess ? seconds(unit.lastSuccess.finishedAt) : undefined) },
  { name: 'zfs_fleet_newest_copy_timestamp_seconds', help: 'When the newest snapshot this peer holds of this dataset was taken.', type: 'gauge', value: (row) => (row.newestCopy ? seconds(row.newestCopy.takenAt) : undefined) },
  { name: 'zfs_fleet_rpo_seconds', help: 'The recovery point objective configured for this entry.', type: 'gauge', value: (row) => (row.rpoMs === undefined ? undefined : row.rpoMs / 1000) },
  { name: 'zfs_fleet_last_run_timestamp_seconds', help: 'When the last run of this unit finished, successful or not.', type: 'gauge', value: (_row, unit) => (unit?.last ? seconds(unit.last.finishedAt) : undefined) },
  { name: 'zfs_fleet_last_run_duration_seconds', help: 'Transfer time of the last run of this unit.', type: 'gauge', value: (_row, unit) => (unit?.last ? unit.last.durationMs / 1000 : undefined) },
  { name: 'zfs_fleet_last_run_bytes', help: 'Bytes sent by the last run of this unit.', type: 'gauge', value: (_row, unit) => unit?.last?.bytes },
  { name: 'zfs_fleet_last_run_success', help: '1 if the last run of this unit succeeded, 0 if it failed or was blocked.', type: 'gauge', value: (row, unit) => (unit?.last ? (row.failing ? 0 : 1) : undefined) },
  { name: 'zfs_fleet_failures_total', help: 'Failed or blocked runs of this unit in the journal.', type: 'counter', value: (_row, unit) => unit?.failures ?? 0 },
];

/** Every metric name the textfile may hold. */
export const METRIC_NAMES: readonly string[] = METRICS.map((metric) => metric.name);

/** Label values escaped as the text format wants: backslash, double quote and newline. */
function labels(row: UnitStatusRow): string {
  const escapeLabel = (value: string) => value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
  return `{host="${escapeLabel(row.host)}",dataset="${escapeLabel(row.dataset)}",peer="${escapeLabel(row.peer)}"}`;
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
}

/** The Prometheus text exposition of the fleet's state, for node_exporter's textfile collector. Pure. */
export function renderMetrics(rows: readonly UnitStatusRow[], journal: readonly JournalRecord[]): string {
  const units = summarizeJournal(journal);
  const lines: string[] = [];
  for (const metric of METRICS) {
    const samples = rows.flatMap((row) => {
      const value = metric.value(row, units.get(unitKey(row)));
      return value === undefined ? [] : [`${metric.name}${labels(row)} ${formatValue(value)}`];
    });
    if (samples.length === 0) continue;
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} ${metric.type}`, ...samples);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * Written to a temporary file in the same directory, fsynced, then renamed over the old one:
 * the collector reads either the previous file or the new one, never half of one. The
 * temporary name does not end in `.prom`, so the collector never picks it up.
 */
export async function writeMetricsFile(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomically(file, content, 0o644);
}
