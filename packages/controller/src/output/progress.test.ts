import { expect, test } from 'vitest';
import { formatProgressLine } from './progress.ts';

test('a transfer with a size estimate shows a bar, a percentage and an ETA', () => {
  expect(formatProgressLine({ label: 'src1 tank/a → backup1 (full)', bytes: 50_000_000, rate: 10_000_000, estimatedBytes: 200_000_000 })).toBe('  src1 tank/a → backup1 (full)  [#####---------------]  25%  50.0 MB  10.0 MB/s  ETA 0:15');
});

test('without an estimate (zfs-fuse cannot give one) it shows bytes and rate only', () => {
  expect(formatProgressLine({ label: 'src1 tank/a → backup1 (full)', bytes: 1_500_000, rate: 500_000 })).toBe('  src1 tank/a → backup1 (full)  1.5 MB  500.0 kB/s');
});
