import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTree } from './parse-tree.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseTree', () => {
  it('reads a recursive zfs-fuse listing: datasets parents-first, snapshots with exact guids', () => {
    const tree = parseTree(fixture('zfs-fuse/get-tree-missing-root.stdout'));
    expect(tree.datasets.map((d) => d.name)).toEqual(['tank/Media', 'tank/Media/Movies', 'tank/Media/Music']);
    const media = tree.datasets[0]!;
    expect(media).toMatchObject({ type: 'filesystem', guid: '16168540973030775075', referencedBytes: 131072 });
    expect(media.snapshots).toEqual([
      { name: 'fleet-20261123T033000.000Z', guid: '6028442042458777001', createtxg: 21, createdAt: 1795415400_000 },
      { name: 'second', guid: '8307638130899246450', createtxg: 32, createdAt: 1795415401_000 },
    ]);
    expect(media.resumeToken).toBeUndefined();
  });

  it('reads OpenZFS 2.x output with volumes and resume tokens, ordering snapshots by createtxg, not name', () => {
    const tree = parseTree(fixture('openzfs-2/get-tree-2.1.stdout'));
    const [data, vm] = tree.datasets;
    expect(data!.snapshots.map((s) => s.name)).toEqual(['zfs-auto-snap_hourly-2025-11-23-0300', 'a-before-b']);
    // Above 2^53: a JS number would round it to ...992.
    expect(data!.snapshots[1]!.guid).toBe('9007199254740993');
    expect(data!.resumeToken).toBeUndefined();
    expect(vm).toMatchObject({ name: 'tank/data/vm', type: 'volume', referencedBytes: 8589934592 });
    expect(vm!.resumeToken).toMatch(/^1-e604ea4bf-e0-/);
    expect([data!.encrypted, vm!.encrypted]).toEqual([true, false]);
  });

  it('refuses rounded numbers, as `zfs get` prints them without -p', () => {
    expect(() => parseTree('tank\ttype\tfilesystem\ntank\tguid\t2.49E\ntank\treferenced\t128K\n')).toThrow(/guid of "tank" is "2.49E"/);
  });

  it('refuses lines that are not name, property, value', () => {
    expect(() => parseTree('tank type filesystem\n')).toThrow(/expected 3/);
  });

  it('parses an empty listing as an empty tree', () => {
    expect(parseTree('')).toEqual({ datasets: [] });
  });
});
