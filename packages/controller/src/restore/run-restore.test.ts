import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { DatasetName } from '@zfs-fleet/protocol';
import { createFakeFleet, fakeFleetConfig } from '../agent/fake-fleet.fixture.ts';
import { runBackup } from '../backup/run-backup.ts';
import { routeRestore, runRestore } from './run-restore.ts';

const logger = pino({ level: 'silent' });
const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', recursive: true, to: ['backup2', 'backup1'] }] });

describe('routeRestore', () => {
  it("restores a child of a recursive entry from the entry's first peer, with its children", () => {
    expect(routeRestore(config, { host: 'src1', dataset: 'tank/a/b' as DatasetName })).toEqual({ peer: 'backup2', copy: 'backup/fleet/src1/tank/a/b', target: { host: 'src1', dataset: 'tank/a/b' }, recursive: true });
  });

  it('needs --from for a dataset no entry covers', () => {
    expect(() => routeRestore(config, { host: 'src1', dataset: 'tank/other' as DatasetName })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('runRestore', () => {
  it('brings a destroyed dataset back from the peer with the same snapshot guids', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a/b'], backup1: ['backup'], backup2: ['backup'] });
    await runBackup(config, { hosts: ['src1'], dryRun: false, noSnapshot: false, forceFull: false, force: false, now: () => new Date('2026-11-01T03:30:00Z'), connect: fleet.connect }, logger);
    const sent = fleet.zfs.src1!.state.datasets.get('tank/a/b')!.snapshots.map((s) => s.guid);
    fleet.zfs.src1!.state.datasets.delete('tank/a/b');
    const report = await runRestore(config, { host: 'src1', dataset: 'tank/a/b' as DatasetName, forceFull: false, force: false, dryRun: false, connect: fleet.connect }, logger);
    expect(report).toMatchObject({ ok: true, status: 'ok', from: 'backup2', steps: [{ action: 'full' }] });
    expect(fleet.zfs.src1!.state.datasets.get('tank/a/b')?.snapshots.map((s) => s.guid)).toEqual(sent);
    expect(fleet.zfs.src1!.argv).toContainEqual(['set', 'readonly=off', 'tank/a/b']);
  });
});
