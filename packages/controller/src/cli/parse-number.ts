import { FleetError } from '@zfs-fleet/protocol';

export function parsePositiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new FleetError('USAGE', `${flag} takes a whole number of at least 1, not "${text}".`);
  return value;
}
