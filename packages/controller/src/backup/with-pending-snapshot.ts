import { isWithin, type BackupEntry, type DatasetTree, type SnapshotName } from '@zfs-fleet/protocol';

/**
 * For a dry run: the tree as it will be once the run has taken its snapshot, so the plan shows
 * what that run would send. The snapshot is dated by the run's clock (`--now`, `FLEET_NOW`).
 */
export function withPendingSnapshot(tree: DatasetTree, entries: readonly BackupEntry[], name: SnapshotName, takenAt: Date): DatasetTree {
  const covered = (dataset: string) => entries.some((entry) => dataset === entry.dataset || (entry.recursive && isWithin(dataset, entry.dataset)));
  return {
    datasets: tree.datasets.map((dataset) => {
      if (!covered(dataset.name)) return dataset;
      const createtxg = Math.max(0, ...dataset.snapshots.map((s) => s.createtxg)) + 1;
      return { ...dataset, snapshots: [...dataset.snapshots, { name, guid: '0', createtxg, createdAt: takenAt.getTime() }] };
    }),
  };
}
