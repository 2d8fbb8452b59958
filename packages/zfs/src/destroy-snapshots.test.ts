import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { destroySnapshots, destroySnapshotsArgs } from './destroy-snapshots.ts';
import type { ZfsExec } from './exec.ts';

const names = (count: number) => Array.from({ length: count }, (_, index) => `fleet-2027${String(index).padStart(4, '0')}T000000.000Z`);

describe('destroySnapshotsArgs', () => {
  it('destroys 2 or 200 snapshots of a dataset with one comma-list call where zfs takes lists', () => {
    expect(destroySnapshotsArgs('tank/a', ['s1', 's2'], { manyPerCall: true })).toEqual([['destroy', 'tank/a@s1,s2']]);
    expect(destroySnapshotsArgs('tank/a', names(200), { manyPerCall: true })).toHaveLength(1);
  });
  it('falls back to one call per snapshot on zfs without lists (zfs-fuse)', () => {
    expect(destroySnapshotsArgs('tank/a', ['s1', 's2'], { manyPerCall: false })).toEqual([
      ['destroy', 'tank/a@s1'],
      ['destroy', 'tank/a@s2'],
    ]);
  });
  it('never passes -r, -R or -d, and never names the dataset alone', () => {
    const all = [...destroySnapshotsArgs('tank/a', names(5), { manyPerCall: true }), ...destroySnapshotsArgs('tank/a', names(5), { manyPerCall: false })];
    for (const argv of all) {
      expect(argv).toHaveLength(2);
      expect(argv[1]).toMatch(/^tank\/a@[^@]+$/);
    }
  });
  it('refuses a snapshot name that could be read as an option or a range', () => {
    expect(() => destroySnapshotsArgs('tank/a', ['-r'], { manyPerCall: true })).toThrow(expect.objectContaining({ code: 'SNAPSHOT_NAME_INVALID' }));
    expect(() => destroySnapshotsArgs('tank/a', ['a,b'], { manyPerCall: true })).toThrow(expect.objectContaining({ code: 'SNAPSHOT_NAME_INVALID' }));
    expect(() => destroySnapshotsArgs('tank/a', ['a%b'], { manyPerCall: false })).toThrow(/range/);
  });
  it('splits a list that would exceed the argument limit', () => {
    expect(destroySnapshotsArgs('tank/a', names(5000), { manyPerCall: true }).length).toBeGreaterThan(1);
  });
});

describe('destroySnapshots', () => {
  it('reports a busy snapshot as busy and goes on with the rest', async () => {
    const argv: string[][] = [];
    const zfs: ZfsExec = {
      run: async (args) => {
        argv.push([...args]);
        return args[1] === 'tank/a@s2' ? { exitCode: 1, stdout: '', stderr: "cannot destroy 'tank/a@s2': dataset is busy\n" } : { exitCode: 0, stdout: '', stderr: '' };
      },
      spawn: () => {
        throw new Error('unused');
      },
      calls: () => ({ total: argv.length, byVerb: {} }),
    };
    expect(await destroySnapshots(zfs, 'tank/a', ['s1', 's2', 's3'], { manyPerCall: false })).toEqual({ destroyed: ['s1', 's3'], busy: ['s2'] });
  });
  it('reports a batch OpenZFS refuses for a hold ("it\'s being held", recorded) as busy, not as a failure', async () => {
    const held = readFileSync(new URL('./fixtures/openzfs-2/destroy-held-2.3.stderr', import.meta.url), 'utf8');
    const zfs: ZfsExec = {
      run: async () => ({ exitCode: 1, stdout: '', stderr: held }),
      spawn: () => {
        throw new Error('unused');
      },
      calls: () => ({ total: 1, byVerb: {} }),
    };
    // zfs destroys none of a comma list when one of them is held.
    expect(await destroySnapshots(zfs, 'tank/a', ['s1', 's2'], { manyPerCall: true })).toEqual({ destroyed: [], busy: ['s1', 's2'] });
  });
});
