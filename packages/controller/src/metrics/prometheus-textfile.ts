import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { UnitStatusRow } from '../status/compute-status.ts';
import type { JournalRecord } from '../state/journal.ts';
import { latestByUnit, unitKey } from '../state/journal.ts';

interface Metric {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value(row: UnitStatusRow, unit: ReturnType<typeof latestByUnit> extends Map<string, infer U> ? U | undefined : never): number | undefined;
}

const METRICS: readonly Metric[] = [
  { name: 'zfs_fleet_last_success_timestamp_seconds', help: 'When the last successful backup of this dataset to this peer finished.', type: 'gauge', value: (_row, unit) => (unit?.lastSuccess ? Date.parse(unit.lastSuccess.finishedAt) / 1000 : undefined) },
  { name: 'zfs_fleet_newest_copy_age_seconds', help: 'Age of the newest snapshot the peer holds, as of this file.', type: 'gauge', value: (row) => (row.newestCopyAgeMs === undefined ? undefined : row.newestCopyAgeMs / 1000) },
  { name: 'zfs_fleet_rpo_seconds', help: 'The recovery point objective configured for this entry.', type: 'gauge', value: (row) => (row.rpoMs === undefined ? undefined : row.rpoMs / 1000) },
  { name: 'zfs_fleet_last_run_duration_seconds', help: 'Duration of the last run of this unit.', type: 'gauge', value: (_row, unit) => (unit?.last ? unit.last.durationMs / 1000 : undefined) },
  { name: 'zfs_fleet_last_run_bytes', help: 'Bytes sent by the last run of this unit.', type: 'gauge', value: (_row, unit) => unit?.last?.bytes },
  { name: 'zfs_fleet_last_run_success', help: '1 if the last run of this unit succeeded, 0 if it failed or was blocked.', type: 'gauge', value: (row, unit) => (unit?.last ? (row.failing ? 0 : 1) : undefined) },
  { name: 'zfs_fleet_failures_total', help: 'Failed or blocked runs of this unit since the journal began.', type: 'counter', value: (_row, unit) => unit?.failures ?? 0 },
];

function labels(row: UnitStatusRow): string {
  const escape = (value: string) => value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
  return `{host="${escape(row.host)}",dataset="${escape(row.dataset)}",peer="${escape(row.peer)}"}`;
}

/** The Prometheus text exposition of the fleet's state, for node_exporter's textfile collector. */
export function renderMetrics(rows: readonly UnitStatusRow[], journal: readonly JournalRecord[]): string {
  const units = latestByUnit(journal);
  const lines: string[] = [];
  for (const metric of METRICS) {
    const samples = rows.flatMap((row) => {
      const value = metric.value(row, units.get(unitKey(row)));
      return value === undefined ? [] : [`${metric.name}${labels(row)} ${Number.isInteger(value) ? value : value.toFixed(3)}`];
    });
    if (samples.length === 0) continue;
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} ${metric.type}`, ...samples);
  }
  return `${lines.join('\n')}\n`;
}

/** Written to a temporary file and renamed: the collector never reads half a file. */
export async function writeMetricsFile(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode: 0o644 });
  await rename(temporary, file);
}
