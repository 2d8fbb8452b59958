import { describe, expect, it } from 'vitest';
import type { DatasetName, DatasetTree } from '@zfs-fleet/protocol';
import { verifyEntry } from './verify-entry.ts';

const HOUR = 3_600_000;
const now = new Date('2026-11-23T12:00:00Z');

/** `{ 'tank/a': [['fleet-1', 'g1', hoursAgo], ...] }` */
function tree(spec: Record<string, Array<[name: string, guid: string, hoursAgo: number]>>): DatasetTree {
  return {
    datasets: Object.entries(spec).map(([name, snapshots]) => ({
      name: name as DatasetName,
      type: 'filesystem' as const,
      guid: '1',
      referencedBytes: 0,
      snapshots: snapshots.map(([snapshot, guid, hoursAgo], index) => ({ name: snapshot as never, guid, createtxg: index + 1, createdAt: now.getTime() - hoursAgo * HOUR })),
    })),
  };
}

const verify = (source: DatasetTree, destination: DatasetTree, entry: { recursive?: boolean; rpo?: number } = {}) =>
  verifyEntry({
    host: 'src1',
    peer: 'backup1',
    source,
    destination,
    entry: { dataset: 'tank/a' as DatasetName, recursive: entry.recursive ?? false, exclude: [], rpo: entry.rpo },
    destinationOf: (dataset) => `backup/fleet/src1/${dataset}` as DatasetName,
    snapshotPrefix: 'fleet',
    now,
  });

describe('verifyEntry', () => {
  const source = tree({
    'tank/a': [
      ['old-manual', 'g0', 50],
      ['fleet-1', 'g1', 3],
      ['fleet-2', 'g2', 2],
      ['fleet-3', 'g3', 1],
    ],
  });

  it('is OK when the peer holds every snapshot from its first to its newest, with the same guids', () => {
    const [row] = verify(
      source,
      tree({
        'backup/fleet/src1/tank/a': [
          ['fleet-1', 'g1', 3],
          ['fleet-2', 'g2', 2],
          ['fleet-3', 'g3', 1],
        ],
      }),
    );
    expect(row).toMatchObject({ status: 'OK', details: [], newest: { name: 'fleet-3' } });
  });

  it('names a snapshot missing in the middle', () => {
    const [row] = verify(
      source,
      tree({
        'backup/fleet/src1/tank/a': [
          ['fleet-1', 'g1', 3],
          ['fleet-3', 'g3', 1],
        ],
      }),
    );
    expect(row).toMatchObject({ status: 'MISSING', details: ['snapshot(s) missing on backup1: @fleet-2.'] });
  });

  it('reports a missing dataset', () => {
    expect(verify(source, tree({}))[0]).toMatchObject({ status: 'MISSING', details: ['dataset "backup/fleet/src1/tank/a" is missing on backup1.'] });
  });

  it('reports a snapshot replaced by one with another guid as MISMATCH', () => {
    const [row] = verify(
      source,
      tree({
        'backup/fleet/src1/tank/a': [
          ['fleet-1', 'g1', 3],
          ['fleet-2', 'other', 2],
          ['fleet-3', 'g3', 1],
        ],
      }),
    );
    expect(row!.status).toBe('MISMATCH');
    expect(row!.details[0]).toContain('@fleet-2 on backup1 has guid other');
  });

  it('is STALE when the newest copy is older than the rpo', () => {
    const [row] = verify(source, tree({ 'backup/fleet/src1/tank/a': [['fleet-1', 'g1', 3]] }), { rpo: 2 * HOUR });
    expect(row).toMatchObject({ status: 'STALE', details: ['newest copy @fleet-1 is 3h old; the rpo is 2h.'] });
  });

  it('checks each dataset of a recursive entry', () => {
    const rows = verify(tree({ 'tank/a': [['fleet-1', 'g1', 1]], 'tank/a/b': [['fleet-1', 'h1', 1]] }), tree({ 'backup/fleet/src1/tank/a': [['fleet-1', 'g1', 1]] }), { recursive: true });
    expect(rows.map((row) => [row.dataset, row.status])).toEqual([
      ['tank/a', 'OK'],
      ['tank/a/b', 'MISSING'],
    ]);
  });
});
