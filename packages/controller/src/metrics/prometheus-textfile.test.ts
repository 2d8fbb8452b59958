import { describe, expect, it } from 'vitest';
// @ts-expect-error: the parser ships no types
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { FleetConfigSchema } from '@zfs-fleet/protocol';
import { computeStatus } from '../status/compute-status.ts';
import type { JournalRecord } from '../state/journal.ts';
import { renderMetrics } from './prometheus-textfile.ts';

const config = FleetConfigSchema.parse({
  ssh: { identityFile: 'k', knownHosts: 'h' },
  hosts: {
    src1: { address: '10.0.0.1', backups: [{ dataset: 'tank/a', to: ['backup1'], rpo: '1h', schedule: '0 * * * *' }] },
    backup1: { address: '10.0.0.2', receive: { root: 'backup/fleet' } },
  },
});
const base = { runId: 'r', command: 'run' as const, host: 'src1', dataset: 'tank/a', peer: 'backup1', durationMs: 2000 };
const journal: JournalRecord[] = [
  { ...base, startedAt: '2026-11-23T05:00:00.000Z', finishedAt: '2026-11-23T05:00:02.000Z', status: 'ok', bytes: 1000, snapshot: 'fleet-20261123T050000.000Z' },
  { ...base, startedAt: '2026-11-23T06:00:00.000Z', finishedAt: '2026-11-23T06:00:02.000Z', status: 'failed', bytes: 0, error: { code: 'SSH_CONNECT_FAILED', message: 'no route' } },
];
const now = new Date('2026-11-23T06:30:00.000Z');

describe('status and metrics', () => {
  it('computes a failing, stale unit from the journal', () => {
    expect(computeStatus(config, journal, now)).toEqual([
      {
        host: 'src1', dataset: 'tank/a', peer: 'backup1',
        lastSuccess: { at: '2026-11-23T05:00:02.000Z', snapshot: 'fleet-20261123T050000.000Z' },
        lastFailure: { at: '2026-11-23T06:00:02.000Z', code: 'SSH_CONNECT_FAILED', message: 'no route' },
        newestCopyAgeMs: 90 * 60_000, rpoMs: 3_600_000, rpoState: 'STALE', failing: true,
        nextDue: '2026-11-23T07:00:00.000Z', due: false,
      },
    ]);
  });

  it('renders a textfile a Prometheus parser reads, with the expected series', () => {
    const families = parsePrometheusTextFormat(renderMetrics(computeStatus(config, journal, now), journal)) as Array<{ name: string; type: string; metrics: Array<{ value: string; labels: Record<string, string> }> }>;
    const value = (name: string) => families.find((family) => family.name === name)?.metrics[0]?.value;
    expect(families.find((f) => f.name === 'zfs_fleet_last_success_timestamp_seconds')?.metrics[0]?.labels).toEqual({ host: 'src1', dataset: 'tank/a', peer: 'backup1' });
    expect(Number(value('zfs_fleet_last_success_timestamp_seconds'))).toBe(Date.parse('2026-11-23T05:00:02.000Z') / 1000);
    expect(Number(value('zfs_fleet_newest_copy_age_seconds'))).toBe(5400);
    expect(Number(value('zfs_fleet_rpo_seconds'))).toBe(3600);
    expect(Number(value('zfs_fleet_last_run_success'))).toBe(0);
    expect(Number(value('zfs_fleet_failures_total'))).toBe(1);
    expect(families.find((f) => f.name === 'zfs_fleet_failures_total')?.type).toBe('COUNTER');
  });
});
