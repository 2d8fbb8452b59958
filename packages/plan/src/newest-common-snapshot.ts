import type { SnapshotInfo } from '@zfs-fleet/protocol';

export interface CommonSnapshot {
  /** The newest source snapshot (by createtxg) whose guid the destination also has. */
  common?: SnapshotInfo;
  /** Names on both sides whose guids differ: same name, other data. Never a base. */
  collisions: string[];
}

/**
 * Finds the incremental base. Guids decide, not names: a snapshot recreated under an old name
 * (or taken by another tool with the same naming scheme) holds other data, and an incremental
 * stream from it would be refused by zfs or, worse, apply to the wrong data.
 */
export function newestCommonSnapshot(source: readonly SnapshotInfo[], destination: readonly SnapshotInfo[]): CommonSnapshot {
  const destinationGuids = new Set(destination.map((snapshot) => snapshot.guid));
  const destinationByName = new Map(destination.map((snapshot) => [snapshot.name, snapshot]));
  const collisions = source
    .filter((snapshot) => {
      const other = destinationByName.get(snapshot.name);
      return other !== undefined && other.guid !== snapshot.guid;
    })
    .map((snapshot) => snapshot.name);
  const newestFirst = [...source].sort((a, b) => b.createtxg - a.createtxg);
  const common = newestFirst.find((snapshot) => destinationGuids.has(snapshot.guid));
  return common ? { common, collisions } : { collisions };
}
