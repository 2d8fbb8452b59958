import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FleetConfigSchema, isFleetErrorCode } from '@zfs-fleet/protocol';
import type { RunReport } from '../backup/run-report.ts';
import type { PruneUnitReport } from '../prune/prune-report.ts';
import { readJournal, readJournalContents } from './journal.ts';
import { journalRecordsOf, pruneRecordsOf, recordPrune, recordRun } from './record-run.ts';

const report: RunReport = {
  command: 'backup',
  startedAt: '2026-11-23T06:00:00.000Z',
  durationMs: 7000,
  ok: false,
  hosts: [{ host: 'src1', snapshot: 'fleet-20261123T060000.000Z' }],
  units: [
    {
      host: 'src1',
      dataset: 'tank/a',
      peer: 'backup1',
      status: 'ok',
      steps: [
        { dataset: 'tank/a', destination: 'backup/fleet/src1/tank/a', action: 'incremental', from: 'fleet-20261123T050000.000Z', to: 'fleet-20261123T060000.000Z', bytes: 300, durationMs: 2000 },
        { dataset: 'tank/a/b', destination: 'backup/fleet/src1/tank/a/b', action: 'full', to: 'fleet-20261123T060000.000Z', bytes: 700, durationMs: 3000 },
      ],
    },
    { host: 'src1', dataset: 'tank/c', peer: 'backup1', status: 'up-to-date', steps: [{ dataset: 'tank/c', destination: 'backup/fleet/src1/tank/c', action: 'up-to-date', to: 'nightly' }] },
    { host: 'src1', dataset: 'tank/d', peer: 'backup1', status: 'blocked', steps: [{ dataset: 'tank/d', destination: 'backup/fleet/src1/tank/d', action: 'blocked', code: 'DESTINATION_AHEAD', reason: 'the peer has newer snapshots' }] },
    { host: 'src1', dataset: 'tank/a', peer: 'backup9', status: 'failed', steps: [], error: { code: 'SSH_CONNECT_FAILED', message: 'no route', hint: 'check it', details: { host: 'backup9' } } },
  ],
};

describe('journalRecordsOf', () => {
  it('keeps one record per unit: totals, the snapshot the peer now holds, and the reason of a failure', () => {
    const records = journalRecordsOf(report, 'run');
    expect(records.map((r) => [r.dataset, r.peer, r.status, r.bytes, r.durationMs, r.snapshot, r.error?.code])).toEqual([
      ['tank/a', 'backup1', 'ok', 1000, 5000, 'fleet-20261123T060000.000Z', undefined],
      ['tank/c', 'backup1', 'up-to-date', 0, 0, 'nightly', undefined],
      ['tank/d', 'backup1', 'blocked', 0, 0, undefined, 'DESTINATION_AHEAD'],
      ['tank/a', 'backup9', 'failed', 0, 0, undefined, 'SSH_CONNECT_FAILED'],
    ]);
    expect(records[0]).toMatchObject({ command: 'run', startedAt: '2026-11-23T06:00:00.000Z', finishedAt: '2026-11-23T06:00:07.000Z' });
    expect(records[2]?.error).toEqual({ code: 'DESTINATION_AHEAD', message: 'the peer has newer snapshots' });
    expect(records[3]?.error).toEqual({ code: 'SSH_CONNECT_FAILED', message: 'no route', hint: 'check it' });
  });

  it('a blocked unit whose steps name no code is journaled with a code of the closed union', () => {
    const blocked: RunReport = { ...report, units: [{ host: 'src1', dataset: 'tank/d', peer: 'backup1', status: 'blocked', steps: [] }] };
    const [record] = journalRecordsOf(blocked, 'backup');
    expect(isFleetErrorCode(record?.error?.code)).toBe(true);
  });
});

const pruned: PruneUnitReport[] = [
  {
    host: 'src1',
    dataset: 'tank/a',
    on: 'src1',
    role: 'source',
    status: 'ok',
    policy: 'daily 1',
    destroyed: 1,
    kept: 2,
    datasets: [
      {
        dataset: 'tank/a',
        snapshots: [
          { name: 'fleet-1', action: 'destroy', reasons: ['beyond daily 1'], outcome: 'destroyed' },
          { name: 'fleet-2', action: 'destroy', reasons: ['beyond daily 1'], outcome: 'skipped', outcomeReason: 'held since planning' },
          { name: 'fleet-3', action: 'keep', reasons: ['newest'] },
        ],
      },
    ],
  },
  { host: 'src1', dataset: 'tank/a', on: 'backup1', role: 'peer', status: 'failed', destroyed: 0, kept: 0, datasets: [], reason: 'locked', error: { code: 'LOCKED', message: 'held by ctl-b', hint: 'wait' } },
  { host: 'src1', dataset: 'tank/c', on: 'src1', role: 'source', status: 'skipped', destroyed: 0, kept: 0, datasets: [], reason: 'no keep: policy for this entry' },
];

describe('pruneRecordsOf', () => {
  it('one record per entry and host that pruned or failed to, naming each snapshot destroyed; a side without a policy is left out', () => {
    const records = pruneRecordsOf(pruned, { runId: 'r', command: 'prune', startedAt: '2026-11-23T06:00:00.000Z', finishedAt: '2026-11-23T06:00:01.000Z' });
    expect(records).toEqual([
      { kind: 'prune', runId: 'r', command: 'prune', startedAt: '2026-11-23T06:00:00.000Z', finishedAt: '2026-11-23T06:00:01.000Z', host: 'src1', dataset: 'tank/a', on: 'src1', role: 'source', status: 'ok', destroyed: ['tank/a@fleet-1'], kept: 2 },
      {
        kind: 'prune',
        runId: 'r',
        command: 'prune',
        startedAt: '2026-11-23T06:00:00.000Z',
        finishedAt: '2026-11-23T06:00:01.000Z',
        host: 'src1',
        dataset: 'tank/a',
        on: 'backup1',
        role: 'peer',
        status: 'failed',
        destroyed: [],
        kept: 0,
        error: { code: 'LOCKED', message: 'held by ctl-b', hint: 'wait' },
      },
    ]);
  });
});

describe('recordRun', () => {
  it('appends to the journal and writes the textfile', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'record-'));
    const config = FleetConfigSchema.parse({
      ssh: { identityFile: 'k', knownHosts: 'h' },
      hosts: {
        src1: { address: '10.0.0.1', backups: [{ dataset: 'tank/a', to: ['backup1', 'backup9'] }] },
        backup1: { address: '10.0.0.2', receive: { root: 'backup/fleet' } },
        backup9: { address: '10.0.0.9', receive: { root: 'backup/fleet' } },
      },
    });
    const { metricsFile: file } = await recordRun(config, stateDir, report, 'backup', new Date('2026-11-23T06:10:00.000Z'));
    expect(file).toBe(path.join(stateDir, 'zfs-fleet.prom'));
    expect(await readJournal(stateDir)).toHaveLength(4);
    expect(await readFile(file, 'utf8')).toContain('zfs_fleet_failures_total{host="src1",dataset="tank/a",peer="backup9"} 1');
  });
});

describe('recording prunes', () => {
  const config = FleetConfigSchema.parse({
    ssh: { identityFile: 'k', knownHosts: 'h' },
    hosts: { src1: { address: '10.0.0.1', backups: [{ dataset: 'tank/a', to: ['backup1'] }] }, backup1: { address: '10.0.0.2', receive: { root: 'backup/fleet' } } },
  });

  it("a backup's pruneSnapshots step is journaled beside its units, and status reads only the units", async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'record-'));
    await recordRun(config, stateDir, { ...report, prune: pruned }, 'run');
    expect(await readJournal(stateDir)).toHaveLength(4);
    expect((await readJournalContents(stateDir)).prunes.map((r) => [r.command, r.on, r.status, r.destroyed])).toEqual([
      ['run', 'src1', 'ok', ['tank/a@fleet-1']],
      ['run', 'backup1', 'failed', []],
    ]);
  });

  it('fleet prune is journaled, each record with the run that did it', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'record-'));
    await recordPrune(config, stateDir, { command: 'prune', dryRun: false, startedAt: '2026-11-23T07:00:00.000Z', durationMs: 2000, ok: false, units: pruned, hosts: [] });
    const records = (await readJournalContents(stateDir)).prunes;
    expect(records.map((r) => [r.runId, r.command, r.finishedAt, r.on, r.status])).toEqual([
      ['2026-11-23T07:00:00.000Z', 'prune', '2026-11-23T07:00:02.000Z', 'src1', 'ok'],
      ['2026-11-23T07:00:00.000Z', 'prune', '2026-11-23T07:00:02.000Z', 'backup1', 'failed'],
    ]);
    expect(await readJournal(stateDir)).toEqual([]);
  });
});
