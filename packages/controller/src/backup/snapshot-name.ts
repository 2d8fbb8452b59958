import { parseSnapshotName, type SnapshotName } from '@zfs-fleet/protocol';

/** `fleet-20261123T031500.123Z`: sortable, unique to the millisecond, no characters shells trip on. */
export function createSnapshotName(prefix: string, at: Date): SnapshotName {
  const stamp = at.toISOString().replace(/[-:]/g, '');
  return parseSnapshotName(`${prefix}-${stamp}`);
}

/** The time in a name `createSnapshotName` made (`fleet-20261123T031500.123Z`); undefined for other names. */
export function snapshotNameTime(name: string): Date | undefined {
  const match = /-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\.\d{3})?Z$/.exec(name);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction] = match;
  const at = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction ?? ''}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
