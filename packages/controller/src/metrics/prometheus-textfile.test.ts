import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the parser ships no types
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { FleetConfigSchema } from '@zfs-fleet/protocol';
import { computeStatus } from '../status/compute-status.ts';
import type { JournalRecord } from '../state/journal.ts';
import { METRIC_NAMES, renderMetrics, writeMetricsFile } from './prometheus-textfile.ts';

type Family = { name: string; help: string; type: string; metrics: Array<{ value: string; labels: Record<string, string> }> };

const config = FleetConfigSchema.parse({
  ssh: { identityFile: 'k', knownHosts: 'h' },
  hosts: {
    src1: {
      address: '10.0.0.1',
      backups: [
        { dataset: 'tank/a', to: ['backup1'], rpo: '1h', schedule: '0 * * * *' },
        { dataset: 'tank/new', to: ['backup1'] },
      ],
    },
    backup1: { address: '10.0.0.2', receive: { root: 'backup/fleet' } },
  },
});
const base = { runId: 'r', command: 'run' as const, host: 'src1', dataset: 'tank/a', peer: 'backup1' };
const journal: JournalRecord[] = [
  { ...base, startedAt: '2026-11-23T05:00:00.000Z', finishedAt: '2026-11-23T05:00:02.000Z', status: 'ok', bytes: 1000, durationMs: 1500, snapshot: 'fleet-20261123T050000.000Z' },
  { ...base, startedAt: '2026-11-23T06:00:00.000Z', finishedAt: '2026-11-23T06:00:02.000Z', status: 'failed', bytes: 0, durationMs: 0, error: { code: 'SSH_CONNECT_FAILED', message: 'no route' } },
];
const now = new Date('2026-11-23T06:30:00.000Z');
const parse = (text: string) => parsePrometheusTextFormat(text) as Family[];

describe('renderMetrics', () => {
  const families = parse(renderMetrics(computeStatus(config, journal, now), journal));
  const sample = (name: string, dataset = base.dataset) => families.find((family) => family.name === name)?.metrics.find((m) => m.labels.dataset === dataset);

  it('is read by a Prometheus text-format parser, every family with help and type', () => {
    expect(families.map((family) => family.name)).toEqual(METRIC_NAMES);
    for (const family of families) expect(family.help).not.toBe('');
    expect(families.find((f) => f.name === 'zfs_fleet_failures_total')?.type).toBe('COUNTER');
    expect(families.find((f) => f.name === 'zfs_fleet_last_run_bytes')?.type).toBe('GAUGE');
  });

  it('labels each series by host, dataset and peer', () => {
    expect(sample('zfs_fleet_last_success_timestamp_seconds')?.labels).toEqual({ host: 'src1', dataset: 'tank/a', peer: 'backup1' });
  });

  it('escapes label values (config names cannot hold quotes, but the format must stay valid)', () => {
    const text = renderMetrics([{ host: 'h', dataset: 'a "b"\\c', peer: 'p', rpoMs: 60_000, rpoState: 'NEVER', failing: false, due: false }], []);
    expect(parse(text).find((f) => f.name === 'zfs_fleet_rpo_seconds')?.metrics[0]?.labels.dataset).toBe('a "b"\\c');
  });

  it('holds the expected values', () => {
    const value = (name: string) => Number(sample(name)?.value);
    expect(value('zfs_fleet_last_success_timestamp_seconds')).toBe(Date.parse('2026-11-23T05:00:02.000Z') / 1000);
    expect(value('zfs_fleet_newest_copy_timestamp_seconds')).toBe(Date.parse('2026-11-23T05:00:00.000Z') / 1000);
    expect(value('zfs_fleet_rpo_seconds')).toBe(3600);
    expect(value('zfs_fleet_last_run_timestamp_seconds')).toBe(Date.parse('2026-11-23T06:00:02.000Z') / 1000);
    expect(value('zfs_fleet_last_run_duration_seconds')).toBe(0);
    expect(value('zfs_fleet_last_run_bytes')).toBe(0);
    expect(value('zfs_fleet_last_run_success')).toBe(0);
    expect(value('zfs_fleet_failures_total')).toBe(1);
  });

  it('gives an entry that never ran only its zero failure count', () => {
    const series = families.filter((family) => family.metrics.some((m) => m.labels.dataset === 'tank/new')).map((family) => family.name);
    expect(series).toEqual(['zfs_fleet_failures_total']);
  });

  it('is empty for a config without backups', () => {
    expect(renderMetrics([], [])).toBe('');
  });
});

describe('writeMetricsFile', () => {
  it('replaces the file whole and leaves no temporary file behind', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'metrics-'));
    const file = path.join(dir, 'textfile', 'zfs-fleet.prom');
    await writeMetricsFile(file, 'a 1\n');
    await writeMetricsFile(file, 'a 2\n');
    expect(await readFile(file, 'utf8')).toBe('a 2\n');
    expect(await readdir(path.dirname(file))).toEqual(['zfs-fleet.prom']);
  });
});
