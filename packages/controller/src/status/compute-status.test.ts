import { describe, expect, it } from 'vitest';
import { FleetConfigSchema } from '@zfs-fleet/protocol';
import type { JournalRecord, SequenceRecord } from '../state/journal.ts';
import { computeStatus } from './compute-status.ts';

// Schedules are read in local time; pin it so the expected times hold in every zone.
process.env.TZ = 'UTC';

const config = FleetConfigSchema.parse({
  ssh: { identityFile: 'k', knownHosts: 'h' },
  hosts: {
    src1: {
      address: '10.0.0.1',
      backups: [
        { dataset: 'tank/a', to: ['backup1', 'backup2'], rpo: '1h', schedule: '0 * * * *' },
        { dataset: 'tank/b', to: ['backup1'] },
      ],
    },
    backup1: { address: '10.0.0.2', receive: { root: 'backup/fleet' } },
    backup2: { address: '10.0.0.3', receive: { root: 'backup/fleet' } },
  },
});
const record = (overrides: Partial<JournalRecord>): JournalRecord => ({
  runId: 'r',
  command: 'run',
  host: 'src1',
  dataset: 'tank/a',
  peer: 'backup1',
  durationMs: 2000,
  bytes: 0,
  startedAt: '2026-11-23T05:00:00.000Z',
  finishedAt: '2026-11-23T05:00:02.000Z',
  status: 'ok',
  ...overrides,
});
const row = (rows: ReturnType<typeof computeStatus>, dataset: string, peer: string) => rows.find((r) => r.dataset === dataset && r.peer === peer);

describe('computeStatus', () => {
  it('has one row per entry and peer, each NEVER and due before any run (unscheduled entries never due)', () => {
    const rows = computeStatus(config, [], new Date('2026-11-23T06:30:00.000Z'));
    expect(rows.map((r) => [r.dataset, r.peer, r.rpoState, r.due, r.failing])).toEqual([
      ['tank/a', 'backup1', 'NEVER', true, false],
      ['tank/a', 'backup2', 'NEVER', true, false],
      ['tank/b', 'backup1', 'NEVER', false, false],
    ]);
    expect(row(rows, 'tank/b', 'backup1')?.nextDue).toBeUndefined();
  });

  it('an entry that sends nothing (no replicate step) is due by its schedule from its last sequence record, not at every run', () => {
    const sequence: SequenceRecord = { kind: 'sequence', runId: 'r', command: 'run', startedAt: '2026-11-23T05:00:00.000Z', finishedAt: '2026-11-23T05:00:01.000Z', host: 'src1', dataset: 'tank/a', status: 'ok', steps: [{ name: 'snapshot', status: 'ok' }] };
    const due = (now: string, sequences: SequenceRecord[]) =>
      computeStatus(config, [], new Date(now), sequences)
        .filter((r) => r.dataset === 'tank/a')
        .map((r) => r.due);
    expect(due('2026-11-23T05:30:00.000Z', [])).toEqual([true, true]);
    expect(due('2026-11-23T05:30:00.000Z', [sequence])).toEqual([false, false]);
    expect(due('2026-11-23T06:00:30.000Z', [sequence])).toEqual([true, true]);
    expect(computeStatus(config, [], new Date('2026-11-23T05:30:00.000Z'), [sequence])[0]!.nextDue).toBe('2026-11-23T06:00:00.000Z');
  });

  it('reports a success, a failure with its reason, and the newest copy against the rpo', () => {
    const journal = [
      record({ snapshot: 'fleet-20261123T050000.000Z', bytes: 1000 }),
      record({ peer: 'backup2', snapshot: 'fleet-20261123T050000.000Z' }),
      record({ peer: 'backup2', startedAt: '2026-11-23T06:00:00.000Z', finishedAt: '2026-11-23T06:00:03.000Z', status: 'failed', error: { code: 'SSH_CONNECT_FAILED', message: 'no route to 10.0.0.3' } }),
    ];
    const early = computeStatus(config, journal, new Date('2026-11-23T05:30:00.000Z'));
    expect(row(early, 'tank/a', 'backup1')).toEqual({
      host: 'src1',
      dataset: 'tank/a',
      peer: 'backup1',
      lastSuccess: { at: '2026-11-23T05:00:02.000Z', snapshot: 'fleet-20261123T050000.000Z' },
      newestCopy: { snapshot: 'fleet-20261123T050000.000Z', takenAt: '2026-11-23T05:00:00.000Z' },
      newestCopyAgeMs: 30 * 60_000,
      rpoMs: 3_600_000,
      rpoState: 'OK',
      failing: false,
      nextDue: '2026-11-23T06:00:00.000Z',
      due: false,
    });

    const late = computeStatus(config, journal, new Date('2026-11-23T06:30:00.000Z'));
    expect(row(late, 'tank/a', 'backup1')).toMatchObject({ rpoState: 'STALE', newestCopyAgeMs: 90 * 60_000, failing: false, due: true });
    expect(row(late, 'tank/a', 'backup2')).toMatchObject({
      rpoState: 'STALE',
      failing: true,
      due: false,
      nextDue: '2026-11-23T07:00:00.000Z',
      lastFailure: { at: '2026-11-23T06:00:03.000Z', code: 'SSH_CONNECT_FAILED', message: 'no route to 10.0.0.3' },
    });
  });

  it('calls a blocked run a failure, and a later success clears the failing state but not the record of it', () => {
    const journal = [record({ status: 'blocked', error: { code: 'DESTINATION_AHEAD', message: 'newer snapshots on the peer' } }), record({ startedAt: '2026-11-23T06:00:00.000Z', finishedAt: '2026-11-23T06:00:01.000Z', snapshot: 'fleet-20261123T060000.000Z' })];
    expect(row(computeStatus(config, journal, new Date('2026-11-23T06:10:00.000Z')), 'tank/a', 'backup1')).toMatchObject({
      rpoState: 'OK',
      failing: false,
      lastFailure: { code: 'DESTINATION_AHEAD' },
    });
  });
});
