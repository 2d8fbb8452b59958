import { describe, expect, it } from 'vitest';
import type { ZfsExec, ZfsRunResult } from './exec.ts';
import { moveHold } from './holds.ts';

/** A zfs that answers every call with `answer` and records what it was asked. */
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

describe('moveHold', () => {
  it('holds the new base before it releases the old one', async () => {
    const zfs = answeringZfs({ exitCode: 0, stdout: '', stderr: '' });
    await moveHold(zfs, { dataset: 'tank/a', from: 's1', to: 's2', peer: 'backup1', recursive: true });
    expect(zfs.argv).toEqual([
      ['hold', '-r', 'zfs-fleet:backup1', 'tank/a@s2'],
      ['release', '-r', 'zfs-fleet:backup1', 'tank/a@s1'],
    ]);
  });

  it('takes a release of a hold that is not there as done', async () => {
    const zfs = answeringZfs({ exitCode: 1, stdout: '', stderr: "cannot release 'zfs-fleet:backup1' from snapshot 'tank/a@s1': no such tag on this dataset\n" });
    await expect(moveHold(zfs, { dataset: 'tank/a', from: 's1', to: 's2', peer: 'backup1', recursive: false })).resolves.toBeUndefined();
  });

  it('a hold zfs refuses fails with a fleet error code, not as an internal error', async () => {
    const zfs = answeringZfs({ exitCode: 1, stdout: '', stderr: "cannot hold snapshot 'tank/a@s2': permission denied\n" });
    await expect(moveHold(zfs, { dataset: 'tank/a', to: 's2', peer: 'backup1', recursive: false })).rejects.toMatchObject({
      name: 'FleetError',
      code: 'PERMISSION_DENIED',
      details: { argv: ['hold', 'zfs-fleet:backup1', 'tank/a@s2'] },
    });
  });
});
