import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the parser ships no types
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { FleetConfigSchema } from '@zfs-fleet/protocol';
import { computeStatus } from '../status/compute-status.ts';
import type { JournalRecord } from '../state/journal.ts';
import { dashboardQueries, metricNamesIn } from './dashboard-queries.ts';
import { renderMetrics } from './prometheus-textfile.ts';

const DASHBOARD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../deploy/grafana/zfs-fleet.json');

describe('metricNamesIn', () => {
  it('names the series, not functions, labels, ranges or template variables', () => {
    expect(metricNamesIn('count((time() - a_seconds{host=~"$host"}) > on(instance, host) b_seconds) or vector(0)')).toEqual(['a_seconds', 'b_seconds']);
    expect(metricNamesIn('increase(c_total{peer="x{y}"}[1h])')).toEqual(['c_total']);
    expect(metricNamesIn('max by (host, dataset) (d)')).toEqual(['d']);
    expect(metricNamesIn('label_values(e_seconds, host)')).toEqual(['e_seconds']);
    expect(metricNamesIn('node_textfile_mtime_seconds')).toEqual(['node_textfile_mtime_seconds']);
  });
});

describe('deploy/grafana/zfs-fleet.json', () => {
  it('queries only series the textfile exports after a run with a success and a failure', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'));
    const config = FleetConfigSchema.parse({
      ssh: { identityFile: 'k', knownHosts: 'h' },
      hosts: {
        src1: { address: '10.0.0.1', backups: [{ dataset: 'tank/a', to: ['backup1'], rpo: '1h' }] },
        backup1: { address: '10.0.0.2', receive: { root: 'backup/fleet' } },
      },
    });
    const base = { runId: 'r', command: 'run' as const, host: 'src1', dataset: 'tank/a', peer: 'backup1' };
    const journal: JournalRecord[] = [
      { ...base, startedAt: '2026-11-23T05:00:00.000Z', finishedAt: '2026-11-23T05:00:02.000Z', status: 'ok', bytes: 1000, durationMs: 1500, snapshot: 'fleet-20261123T050000.000Z' },
      { ...base, runId: 's', startedAt: '2026-11-23T06:00:00.000Z', finishedAt: '2026-11-23T06:00:02.000Z', status: 'failed', bytes: 0, durationMs: 0, error: { code: 'SSH_CONNECT_FAILED', message: 'no route' } },
    ];
    const text = renderMetrics(computeStatus(config, journal, new Date('2026-11-23T06:30:00.000Z')), journal);
    const exported = new Set((parsePrometheusTextFormat(text) as Array<{ name: string }>).map((family) => family.name));

    const queries = dashboardQueries(dashboard);
    expect(queries.length).toBeGreaterThan(10);
    for (const query of queries) {
      const names = metricNamesIn(query);
      expect(names.length, query).toBeGreaterThan(0);
      for (const name of names) expect(exported, `${name} in ${query}`).toContain(name);
    }
    // Every panel has a query; the ones about age, bytes, durations and failures are there.
    const used = new Set(queries.flatMap(metricNamesIn));
    for (const name of ['zfs_fleet_newest_copy_timestamp_seconds', 'zfs_fleet_rpo_seconds', 'zfs_fleet_last_run_bytes', 'zfs_fleet_last_run_duration_seconds', 'zfs_fleet_failures_total']) expect(used).toContain(name);
    for (const panel of dashboard.panels) expect(panel.targets.length, panel.title).toBeGreaterThan(0);
  });
});
