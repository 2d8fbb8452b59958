import type { SnapshotInfo } from '@zfs-fleet/protocol';
import type { SnapshotRef } from './steps.ts';

export function toSnapshotRef(snapshot: SnapshotInfo | SnapshotRef): SnapshotRef {
  return { name: snapshot.name, guid: snapshot.guid, createtxg: snapshot.createtxg };
}

/** Oldest first. createtxg orders one dataset's snapshots exactly; names and clocks do not. */
export function sortByCreatetxg<T extends { createtxg: number }>(snapshots: readonly T[]): T[] {
  return [...snapshots].sort((a, b) => a.createtxg - b.createtxg);
}

/** `@a, @b, @c and 12 more`: long lists stay readable in a reason; details keep them all. */
export function formatSnapshotNames(snapshots: readonly { name: string }[], shown = 5): string {
  const names = snapshots
    .slice(0, shown)
    .map((snapshot) => `@${snapshot.name}`)
    .join(', ');
  const rest = snapshots.length - shown;
  return rest > 0 ? `${names} and ${rest} more` : names;
}
