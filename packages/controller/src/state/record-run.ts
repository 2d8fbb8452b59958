import path from 'node:path';
import type { FleetConfig } from '@zfs-fleet/protocol';
import type { RunReport } from '../backup/run-report.ts';
import { renderMetrics, writeMetricsFile } from '../metrics/prometheus-textfile.ts';
import { computeStatus } from '../status/compute-status.ts';
import { appendToJournal, readJournal, type JournalRecord } from './journal.ts';

/** After a real run: one journal record per unit, then the metrics file from the whole journal. */
export async function recordRun(config: FleetConfig, stateDir: string, report: RunReport, command: 'backup' | 'run', now = new Date()): Promise<void> {
  const finishedAt = new Date(Date.parse(report.startedAt) + report.durationMs).toISOString();
  const snapshots = new Map(report.hosts.map((host) => [host.host, host.snapshot]));
  const records: JournalRecord[] = report.units.map((unit) => {
    const steps = unit.steps;
    const newest = steps.map((step) => step.to).find((to) => to !== undefined) ?? snapshots.get(unit.host);
    return {
      runId: report.startedAt,
      command,
      startedAt: report.startedAt,
      finishedAt,
      host: unit.host,
      dataset: unit.dataset,
      peer: unit.peer,
      status: unit.status === 'planned' ? 'ok' : unit.status,
      bytes: steps.reduce((sum, step) => sum + (step.bytes ?? 0), 0),
      durationMs: steps.reduce((sum, step) => sum + (step.durationMs ?? 0), 0),
      ...(newest && (unit.status === 'ok' || unit.status === 'up-to-date') ? { snapshot: newest } : {}),
      ...(unit.error ? { error: unit.error } : unit.status === 'blocked' ? { error: { code: steps.find((step) => step.code)?.code ?? 'INTERNAL', message: steps.find((step) => step.reason)?.reason ?? 'blocked' } } : {}),
    };
  });
  await appendToJournal(stateDir, records);
  const journal = await readJournal(stateDir);
  await writeMetricsFile(metricsFileOf(config, stateDir), renderMetrics(computeStatus(config, journal, now), journal));
}

export function metricsFileOf(config: FleetConfig, stateDir: string): string {
  return config.metrics?.textfile ?? path.join(stateDir, 'zfs-fleet.prom');
}
