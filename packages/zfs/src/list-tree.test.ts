import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ZfsExec, ZfsRunResult } from './exec.ts';
import { listTree, listTreeArgs } from './list-tree.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** A zfs that answers one recorded call and records what it was asked. */
function recordedZfs(answer: ZfsRunResult): ZfsExec & { argv: string[][] } {
  const argv: string[][] = [];
  return {
    argv,
    run: async (args) => {
      argv.push([...args]);
      return answer;
    },
    spawn: () => {
      throw new Error('not used');
    },
    calls: () => ({ total: argv.length, byVerb: {} }),
  };
}

describe('listTree', () => {
  it('lists all roots with one zfs call and reports the missing ones (zfs-fuse, exit 1)', async () => {
    const zfs = recordedZfs({ exitCode: 1, stdout: fixture('zfs-fuse/get-tree-missing-root.stdout'), stderr: fixture('zfs-fuse/get-tree-missing-root.stderr') });
    const { tree, missingRoots } = await listTree(zfs, ['tank/Media', 'tank/nope'], { resumableReceive: false });
    expect(zfs.argv).toEqual([['get', '-H', '-p', '-r', '-o', 'name,property,value,received,source', 'type,guid,createtxg,creation,referenced,canmount,zfs-fleet:created', 'tank/Media', 'tank/nope']]);
    expect(missingRoots).toEqual(['tank/nope']);
    expect(tree.datasets).toHaveLength(3);
  });

  it('throws a typed error for any other failure', async () => {
    const zfs = recordedZfs({ exitCode: 2, stdout: '', stderr: fixture('zfs-fuse/get-badprop.stderr') });
    await expect(listTree(zfs, ['tank'], { resumableReceive: false })).rejects.toMatchObject({ code: 'ZFS_FAILED', message: expect.stringContaining("invalid property 'receive_resume_token'") });
  });

  it('asks for resume tokens only where zfs has them', () => {
    expect(listTreeArgs(['tank'], { resumableReceive: true })).toContain('type,guid,createtxg,creation,referenced,canmount,zfs-fleet:created,receive_resume_token');
    expect(listTreeArgs(['tank'], { resumableReceive: false }, { holds: true })).toContain('type,guid,createtxg,creation,referenced,canmount,zfs-fleet:created,userrefs');
  });

  it('makes no call for no roots', async () => {
    const zfs = recordedZfs({ exitCode: 0, stdout: '', stderr: '' });
    expect(await listTree(zfs, [], { resumableReceive: false })).toEqual({ tree: { datasets: [] }, missingRoots: [] });
    expect(zfs.argv).toHaveLength(0);
  });
});
