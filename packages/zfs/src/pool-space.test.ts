import { describe, expect, it } from 'vitest';
import type { ZfsExec, ZfsRunResult } from './exec.ts';
import { getPoolSpace, parsePoolSpace } from './pool-space.ts';

function answeringZfs(answer: ZfsRunResult): ZfsExec & { argv: string[][] } {
  const argv: string[][] = [];
  return {
    argv,
    run: async (args) => (argv.push([...args]), answer),
    spawn: () => {
      throw new Error('not used');
    },
    calls: () => ({ total: argv.length, byVerb: {} }),
  };
}

describe('pool space', () => {
  it('parses zfs get -Hp output', () => {
    expect(parsePoolSpace('available\t1234\nused\t5678\n')).toEqual({ availableBytes: 1234, usedBytes: 5678 });
    expect(parsePoolSpace("cannot open 'x': dataset does not exist")).toBeUndefined();
  });

  it('asks zfs once, for exact numbers', async () => {
    const zfs = answeringZfs({ exitCode: 0, stdout: 'available\t1234\nused\t5678\n', stderr: '' });
    expect(await getPoolSpace(zfs, 'backup')).toEqual({ availableBytes: 1234, usedBytes: 5678 });
    expect(zfs.argv).toEqual([['get', '-H', '-p', '-o', 'property,value', 'available,used', 'backup']]);
  });
});
