import { parseSnapshotName, type SnapshotName } from '@zfs-fleet/protocol';

/** `fleet-20261123T031500.123Z`: sortable, unique to the millisecond, no characters shells trip on. */
export function createSnapshotName(prefix: string, at: Date): SnapshotName {
  const stamp = at.toISOString().replace(/[-:]/g, '');
  return parseSnapshotName(`${prefix}-${stamp}`);
}
