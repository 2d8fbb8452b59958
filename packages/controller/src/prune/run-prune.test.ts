import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createFakeFleet, fakeFleetConfig } from '../agent/fake-fleet.fixture.ts';
import { runPrune } from './run-prune.ts';

const logger = pino({ level: 'silent' });
const snapshots = (days: number[]) => days.map((day) => `fleet-203003${String(day).padStart(2, '0')}T120000.000Z`);

describe('runPrune', () => {
  it('an entry it cannot plan (a copy name over 255 characters) fails alone, on record; the other entry is pruned and nothing throws', async () => {
    // 240 characters on the source; under backup/fleet/src1/ on the peer it would be 258.
    const long = `tank/t/${'x'.repeat(233)}`;
    // The peer has the copies a backup made: the long child's was blocked alone.
    const fleet = createFakeFleet({ src1: ['tank/t', long, 'tank/b'], backup1: ['backup/fleet/src1/tank/t', 'backup/fleet/src1/tank/b'] });
    for (const dataset of ['tank/t', long, 'tank/b']) for (const name of snapshots([1, 2, 3])) await fleet.zfs.src1!.run(['snapshot', `${dataset}@${name}`]);
    for (const dataset of ['tank/t', 'tank/b']) await fleet.zfs.backup1!.run(['snapshot', `backup/fleet/src1/${dataset}@${snapshots([3])[0]}`]);
    const config = fakeFleetConfig({
      src1: [
        { dataset: 'tank/t', recursive: true, to: ['backup1'], keep: { daily: 1 } },
        { dataset: 'tank/b', to: ['backup1'], keep: { daily: 1 } },
      ],
    });
    const report = await runPrune(config, { hosts: ['src1'], dryRun: false, now: () => new Date('2030-03-03T13:00:00Z'), connect: fleet.connect }, logger);
    expect(report.ok).toBe(false);
    expect(report.units.map((unit) => `${unit.dataset} on ${unit.on}: ${unit.status} ${unit.error?.code ?? ''}`.trim())).toEqual(['tank/t on src1: failed DATASET_NAME_INVALID', 'tank/b on src1: ok', 'tank/b on backup1: ok']);
    const names = (dataset: string) => fleet.zfs.src1!.state.datasets.get(dataset)!.snapshots.map((snapshot) => snapshot.name);
    expect(names('tank/b')).toEqual(snapshots([3]));
    expect(names(long)).toEqual(snapshots([1, 2, 3]));
  });
});
