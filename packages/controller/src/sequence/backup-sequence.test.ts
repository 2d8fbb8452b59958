import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createFakeFleet, fakeFleetConfig, type FakeFleet } from '../agent/fake-fleet.fixture.ts';
import { runAndRecord } from '../backup/run-and-record.ts';
import { runBackup, type BackupOptions } from '../backup/run-backup.ts';
import { readJournal, readJournalContents } from '../state/journal.ts';
import { computeStatus } from '../status/compute-status.ts';
import { FleetError } from '@zfs-fleet/protocol';

const logger = pino({ level: 'silent' });
const namesOf = (fleet: FakeFleet, host: string, dataset: string) => fleet.zfs[host]!.state.datasets.get(dataset)?.snapshots.map((s) => s.name) ?? [];
const day = (n: number) => () => new Date(`2030-03-${String(n).padStart(2, '0')}T12:00:00Z`);

function options(fleet: FakeFleet, overrides: Partial<BackupOptions> = {}): BackupOptions {
  return { hosts: ['src1'], dryRun: false, noSnapshot: false, forceFull: false, force: false, now: day(1), connect: fleet.connect, ...overrides };
}
const steps = (report: Awaited<ReturnType<typeof runBackup>>, dataset: string) => report.sequences!.find((s) => s.dataset === dataset)!.steps.map((s) => `${s.step}:${s.status}`);

describe("a backup entry's sequence", () => {
  it('pruneSnapshots after replicate leaves keep: on the source and peerKeep: on the peer, and the next run is incremental', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'] });
    const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'], keep: { daily: 1 }, peerKeep: { daily: 3 } }] });
    for (let n = 1; n <= 5; n += 1) expect((await runBackup(config, options(fleet, { now: day(n) }), logger)).ok).toBe(true);
    expect(namesOf(fleet, 'src1', 'tank/a')).toEqual(['fleet-20300305T120000.000Z']);
    expect(namesOf(fleet, 'backup1', 'backup/fleet/src1/tank/a')).toEqual(['fleet-20300303T120000.000Z', 'fleet-20300304T120000.000Z', 'fleet-20300305T120000.000Z']);
    const next = await runBackup(config, options(fleet, { now: day(6) }), logger);
    expect(next.units[0]!.steps).toMatchObject([{ action: 'incremental', from: 'fleet-20300305T120000.000Z' }]);
    expect(steps(next, 'tank/a')).toEqual(['lock:ok', 'preSnapshot:skipped', 'snapshot:ok', 'postSnapshot:skipped', 'replicate:ok', 'export:skipped', 'pruneExports:skipped', 'pruneSnapshots:ok', 'unlock:ok']);
    expect(next.prune!.map((unit) => `${unit.on}:${unit.destroyed}`)).toEqual(['src1:1', 'backup1:1']);
    // The journal's view: each step of the sequence, with the unit's own replicate.
    expect(next.units[0]!.phases!.map((phase) => phase.name)).toEqual(['lock', 'preSnapshot', 'snapshot', 'postSnapshot', 'replicate', 'export', 'pruneExports', 'pruneSnapshots', 'unlock']);
  });

  it('the pruneSnapshots step is in the journal: what it destroyed on the source and on the peer, beside the unit', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'] });
    const config = { ...fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'], keep: { daily: 1 }, peerKeep: { daily: 2 } }] }), stateDir: await mkdtemp(path.join(os.tmpdir(), 'sequence-')) };
    for (let n = 1; n <= 3; n += 1) expect((await runAndRecord(config, options(fleet, { now: day(n) }), 'run', logger)).recorded).toBe(true);
    expect((await readJournal(config.stateDir)).map((record) => `${record.peer}:${record.status}`)).toEqual(['backup1:ok', 'backup1:ok', 'backup1:ok']);
    const pruned = (await readJournalContents(config.stateDir)).prunes;
    expect(pruned.map((record) => [record.command, record.on, record.status, record.destroyed])).toEqual([
      ['run', 'src1', 'ok', []],
      ['run', 'backup1', 'ok', []],
      ['run', 'src1', 'ok', ['tank/a@fleet-20300301T120000.000Z']],
      ['run', 'backup1', 'ok', []],
      ['run', 'src1', 'ok', ['tank/a@fleet-20300302T120000.000Z']],
      ['run', 'backup1', 'ok', ['backup/fleet/src1/tank/a@fleet-20300301T120000.000Z']],
    ]);
  });
  it('a child whose copy zfs cannot name blocks alone in replicate (the entry is not pruned), and fails a replicate-less pruneSnapshots; every run is on record', async () => {
    const long = `tank/t/${'x'.repeat(233)}`; // 258 characters under backup/fleet/src1/
    const fleet = createFakeFleet({ src1: ['tank/t', long], backup1: ['backup'] });
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'sequence-'));
    const entry = { dataset: 'tank/t', recursive: true, to: ['backup1'], keep: { daily: 1 } };
    const withReplicate = { ...fakeFleetConfig({ src1: [entry] }), stateDir };
    const { report, recorded } = await runAndRecord(withReplicate, options(fleet, { now: day(1) }), 'backup', logger);
    expect([recorded, report.ok]).toEqual([true, false]);
    expect(report.units[0]!.steps.map((step) => `${step.dataset === long ? 'child' : step.dataset}:${step.code ?? 'sent'}`)).toEqual(['tank/t:sent', 'child:DATASET_NAME_INVALID']);
    expect(steps(report, 'tank/t')).toEqual(['lock:ok', 'preSnapshot:skipped', 'snapshot:ok', 'postSnapshot:skipped', 'replicate:failed', 'unlock:ok']);
    expect((await readJournal(stateDir)).map((record) => `${record.status}:${record.error?.code}`)).toEqual(['blocked:DATASET_NAME_INVALID']);

    const pruneOnly = { ...fakeFleetConfig({ src1: [{ ...entry, sequence: ['lock', 'snapshot', 'pruneSnapshots', 'unlock'] }] }), stateDir };
    const second = await runAndRecord(pruneOnly, options(fleet, { now: day(2) }), 'backup', logger);
    expect([second.recorded, second.report.ok]).toEqual([true, false]);
    expect(steps(second.report, 'tank/t')).toEqual(['lock:ok', 'snapshot:ok', 'pruneSnapshots:failed', 'unlock:ok']);
    expect((await readJournalContents(stateDir)).prunes.map((record) => `${record.on}:${record.status}:${record.error?.code}`)).toEqual(['src1:failed:DATASET_NAME_INVALID']);
  });
  it('a scheduled sequence without replicate is on record step by step, and not due again until its schedule comes', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'] });
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'sequence-'));
    const config = { ...fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'], schedule: '0 12 * * *', sequence: ['lock', 'snapshot', 'unlock'] }] }), stateDir };
    expect((await runAndRecord(config, options(fleet, { now: day(1) }), 'run', logger)).recorded).toBe(true);
    const { units, sequences } = await readJournalContents(stateDir);
    expect(units).toEqual([]);
    expect(sequences).toMatchObject([
      {
        kind: 'sequence',
        command: 'run',
        host: 'src1',
        dataset: 'tank/a',
        status: 'ok',
        snapshot: 'fleet-20300301T120000.000Z',
        steps: [
          { name: 'lock', status: 'ok' },
          { name: 'snapshot', status: 'ok' },
          { name: 'unlock', status: 'ok' },
        ],
      },
    ]);
    const dueAt = (iso: string) => computeStatus(config, units, new Date(iso), sequences)[0]!.due;
    expect([dueAt('2030-03-01T13:00:00Z'), dueAt('2030-03-02T12:00:30Z')]).toEqual([false, true]);
  });
  it('an entry that sends nothing, on a source that cannot be reached, is on record with the failure (and so not retried at every tick)', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'] });
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'sequence-'));
    const config = { ...fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'], schedule: '0 12 * * *', sequence: ['lock', 'snapshot', 'unlock'] }] }), stateDir };
    const unreachable = FleetError.fromShape({ code: 'SSH_CONNECT_FAILED', message: 'no route to src1.test' });
    const connect = (host: string) => (host === 'src1' ? Promise.reject(unreachable) : fleet.connect(host));
    const { report, recorded } = await runAndRecord(config, options(fleet, { connect }), 'run', logger);
    expect([recorded, report.ok]).toEqual([true, false]);
    expect(report.sequences).toMatchObject([{ host: 'src1', dataset: 'tank/a', ok: false, steps: [{ step: 'lock', status: 'failed', error: { code: 'SSH_CONNECT_FAILED' } }] }]);
    const { sequences } = await readJournalContents(stateDir);
    expect(sequences).toMatchObject([{ kind: 'sequence', status: 'failed', steps: [{ name: 'lock', status: 'failed' }], error: { code: 'SSH_CONNECT_FAILED' } }]);
    expect(computeStatus(config, [], new Date('2030-03-01T12:30:00Z'), sequences)[0]!.due).toBe(false);
  });
  it('a sequence without replicate snapshots and prunes the source only', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'] });
    const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'], keep: { daily: 1 }, sequence: ['lock', 'snapshot', 'pruneSnapshots', 'unlock'] }] });
    for (let n = 1; n <= 3; n += 1) {
      const report = await runBackup(config, options(fleet, { now: day(n) }), logger);
      expect(report).toMatchObject({ ok: true, units: [] });
      expect(steps(report, 'tank/a')).toEqual(['lock:ok', 'snapshot:ok', 'pruneSnapshots:ok', 'unlock:ok']);
    }
    expect(namesOf(fleet, 'src1', 'tank/a')).toEqual(['fleet-20300303T120000.000Z']);
    expect(fleet.zfs.backup1!.state.datasets.has('backup/fleet/src1/tank/a')).toBe(false);
    expect(fleet.zfs.backup1!.argv.filter(([verb]) => verb !== 'get')).toEqual([]);
  });

  it('a failing preSnapshot takes no snapshot, runs postSnapshot, and fails the entry with HOOK_FAILED; the other entry goes on', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a', 'tank/b'], backup1: ['backup'] });
    const config = fakeFleetConfig({
      src1: [
        { dataset: 'tank/a', to: ['backup1'], hooks: { preSnapshot: ['echo "not flushed" >&2; exit 3'], postSnapshot: ['true'] } },
        { dataset: 'tank/b', to: ['backup1'] },
      ],
    });
    const report = await runBackup(config, options(fleet), logger);
    expect(report.ok).toBe(false);
    expect(namesOf(fleet, 'src1', 'tank/a')).toEqual([]);
    expect(namesOf(fleet, 'src1', 'tank/b')).toEqual(['fleet-20300301T120000.000Z']);
    expect(steps(report, 'tank/a')).toEqual(['lock:ok', 'preSnapshot:failed', 'postSnapshot:ok', 'unlock:ok']);
    const pre = report.sequences![0]!.steps[1]!;
    expect(pre).toMatchObject({ error: { code: 'HOOK_FAILED' }, hooks: [{ exitCode: 3, stderrTail: 'not flushed\n' }] });
    expect(report.units.map((unit) => `${unit.dataset}:${unit.status}:${unit.error?.code ?? ''}`)).toEqual(['tank/a:failed:HOOK_FAILED', 'tank/b:ok:']);
  });

  it('a second run of an entry while the first holds its lock is LOCKED, naming the first; the first finishes', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'] });
    const slow = fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'], hooks: { preSnapshot: ['sleep 1'] } }] });
    const first = runBackup(slow, options(fleet), logger);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const second = await runBackup(fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'] }] }), options(fleet, { now: day(2) }), logger);
    expect(second.ok).toBe(false);
    expect(second.sequences![0]!.steps[0]).toMatchObject({ step: 'lock', status: 'failed', error: { code: 'LOCKED', message: expect.stringContaining(`(pid ${process.pid}, "fleet backup" started 2030-03-01T12:00:00.000Z)`) } });
    expect(second.units).toMatchObject([{ status: 'failed', error: { code: 'LOCKED' } }]);
    expect((await first).ok).toBe(true);
    expect(namesOf(fleet, 'src1', 'tank/a')).toEqual(['fleet-20300301T120000.000Z']);
  });
});
