import { describe, expect, it } from 'vitest';
import { createSnapshotName } from '../backup/snapshot-name.ts';
import { createIsManaged, snapshotTime } from './managed-snapshots.ts';

describe('createIsManaged', () => {
  it.each([
    ['a name zfs-fleet made', createSnapshotName('fleet', new Date('2026-11-23T03:15:00.123Z')), true],
    ['a name without milliseconds', 'fleet-20261123T031500Z', true],
    ['another prefix', 'nightly-20261123T031500.123Z', false],
    ['a prefix followed by more', 'fleet-extra-20261123T031500.123Z', false],
    ['a sanoid name', 'autosnap_2026-11-23_03:15:00_hourly', false],
    ['a sanoid name under prune.include', 'autosnap_2026-11-23_03:15:00_hourly', true, '^autosnap_'],
  ])('%s: %s → %s', (_title, name, expected, include?: string) => {
    expect(createIsManaged('fleet', include)(name)).toBe(expected);
  });

  it('a prefix with regex characters matches only itself', () => {
    expect(createIsManaged('a.b')('axb-20261123T031500Z')).toBe(false);
    expect(createIsManaged('a.b')('a.b-20261123T031500Z')).toBe(true);
  });
});

describe('snapshotTime', () => {
  it("takes the time from a zfs-fleet name (the run's clock), else from creation", () => {
    expect(snapshotTime({ name: 'fleet-20270101T000000.000Z', guid: '1', createdAt: 5, createtxg: 1 })).toBe(Date.parse('2027-01-01T00:00:00Z'));
    expect(snapshotTime({ name: 'manual', guid: '1', createdAt: 5, createtxg: 1 })).toBe(5);
  });
});
