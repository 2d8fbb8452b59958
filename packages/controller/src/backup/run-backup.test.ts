import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createFakeFleet, fakeFleetConfig } from '../agent/fake-fleet.fixture.ts';
import { runBackup, type BackupOptions } from './run-backup.ts';

const logger = pino({ level: 'silent' });
const now = () => new Date('2026-11-01T03:30:00Z');

describe('runBackup', () => {
  it('a run whose peer drops after the data moved still ends in a report', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], backup1: ['backup'] });
    const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'] }] });
    // The peer's channel is gone by the time the run asks for its zfs call count.
    fleet.zfs.backup1!.calls = () => {
      throw new Error('channel closed');
    };
    const options: BackupOptions = { hosts: ['src1'], dryRun: false, noSnapshot: false, forceFull: false, force: false, now, connect: fleet.connect };
    const report = await runBackup(config, options, logger);
    expect(report.units).toMatchObject([{ host: 'src1', dataset: 'tank/a', peer: 'backup1', status: 'ok', steps: [{ action: 'full', to: 'fleet-20261101T033000.000Z' }] }]);
    const sent = fleet.zfs.src1!.state.datasets.get('tank/a')!.snapshots.map((s) => s.guid);
    expect(fleet.zfs.backup1!.state.datasets.get('backup/fleet/src1/tank/a')?.snapshots.map((s) => s.guid)).toEqual(sent);
    expect(report.hosts.find((host) => host.host === 'backup1')).toEqual({ host: 'backup1' });
  });
});
