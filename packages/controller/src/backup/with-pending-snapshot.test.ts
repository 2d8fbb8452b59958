import { describe, expect, it } from 'vitest';
import { BackupEntrySchema, type BackupEntry, type DatasetName, type DatasetTree, type SnapshotName } from '@zfs-fleet/protocol';
import { withPendingSnapshot } from './with-pending-snapshot.ts';

const tree: DatasetTree = {
  datasets: [
    { name: 'tank/a' as DatasetName, type: 'filesystem', guid: '1', referencedBytes: 0, snapshots: [{ name: 's1' as SnapshotName, guid: '11', createtxg: 5, createdAt: 1_000 }] },
    { name: 'tank/a/b' as DatasetName, type: 'filesystem', guid: '2', referencedBytes: 0, snapshots: [] },
    { name: 'tank/c' as DatasetName, type: 'filesystem', guid: '3', referencedBytes: 0, snapshots: [] },
  ],
};
const entries: BackupEntry[] = [BackupEntrySchema.parse({ dataset: 'tank/a', recursive: true, to: ['backup1'] })];

describe('withPendingSnapshot', () => {
  it("a dry run's pending snapshot is dated by the injected clock, not the wall clock", () => {
    const takenAt = new Date('2026-11-01T03:30:00Z');
    const pending = withPendingSnapshot(tree, entries, 'fleet-20261101T033000.000Z' as SnapshotName, takenAt);
    const added = pending.datasets.flatMap((dataset) => dataset.snapshots.filter((s) => s.name === 'fleet-20261101T033000.000Z'));
    expect(added.map((s) => s.createdAt)).toEqual([takenAt.getTime(), takenAt.getTime()]);
  });

  it('adds the snapshot after the newest one, only to the datasets the entries cover', () => {
    const pending = withPendingSnapshot(tree, entries, 'next' as SnapshotName, new Date(0));
    expect(pending.datasets.map((dataset) => dataset.snapshots.map((s) => `${s.name}:${s.createtxg}`))).toEqual([['s1:5', 'next:6'], ['next:1'], []]);
  });
});
