import { describe, expect, it } from 'vitest';
import { isExcluded } from './is-excluded.ts';

describe('isExcluded (root tank/a)', () => {
  it.each([
    ['tank/a/scratch', ['scratch'], true],
    ['tank/a/scratch/x', ['scratch'], true],
    ['tank/a/scratchy', ['scratch'], false],
    ['tank/a/vm-1', ['vm-*'], true],
    ['tank/a/b/vm-1', ['vm-*'], false],
    ['tank/a/b/vm-1', ['*/vm-*'], true],
    ['tank/a/b', ['tank/a/b'], true],
    ['tank/a/b/c', ['tank/a/b'], true],
    ['tank/a/b', ['tank/a/*'], true],
    ['tank/a/scratch', ['scratch/**'], false],
    ['tank/a/scratch/x/y', ['scratch/**'], true],
    ['tank/a/b.c', ['b?c'], false],
    ['tank/a/bxc', ['b.c'], false],
    ['tank/a', ['*'], false],
    ['tank/a', ['tank/a'], false],
    ['tank/ab', ['*'], false],
    ['tank/a/b', [], false],
  ] as const)('%s with %j → %s', (dataset, patterns, expected) => {
    expect(isExcluded(dataset, 'tank/a', patterns)).toBe(expected);
  });
});
