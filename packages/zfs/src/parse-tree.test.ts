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

  it("reads OpenZFS 2.3's five-column listing as the agent asks for it (recorded on the suite's host): exact guids, hold counts, canmount, no mark", () => {
    const text = fixture('openzfs-2/get-tree-2.3.stdout');
    const tree = parseTree(text);
    const [root, child] = tree.datasets;
    expect(tree.datasets).toHaveLength(2);
    expect(child!.name).toBe(`${root!.name}/child`);
    for (const dataset of tree.datasets) {
      expect(dataset.snapshots.map((s) => s.name)).toEqual(['one', 'two']);
      for (const snapshot of dataset.snapshots) expect(text).toContain(`${dataset.name}@${snapshot.name}\tguid\t${snapshot.guid}\t`);
      expect(dataset).toMatchObject({ encrypted: false, createdByFleet: false, canmount: { value: 'on' } });
      expect(dataset.resumeToken).toBeUndefined();
    }
    expect(child!.snapshots.map((s) => s.holds)).toEqual([0, 1]);
  });

  it('refuses rounded numbers, as `zfs get` prints them without -p', () => {
    expect(() => parseTree('tank\ttype\tfilesystem\ntank\tguid\t2.49E\ntank\treferenced\t128K\n')).toThrow(/guid of "tank" is "2.49E"/);
  });

  it('refuses lines that are not name, property, value[, received, source]', () => {
    expect(() => parseTree('tank type filesystem\n')).toThrow(/expected 3 or 5/);
  });

  // A zfs killed mid-listing, or a wrapper that cuts its output: never trusted.
  const listing = fixture('zfs-fuse/get-tree-missing-root.stdout');
  it.each([
    ['cut in the middle of the last line', listing.slice(0, -7)],
    ['whose lines disagree on the number of fields', 'tank\ttype\tfilesystem\t-\t-\ntank\tguid\t1616854\n'],
    ['garbage', 'zfs: \u2603 not today\n'],
  ])('refuses output %s with ZFS_OUTPUT_INVALID', (_, output) => {
    expect(() => parseTree(output)).toThrow(expect.objectContaining({ code: 'ZFS_OUTPUT_INVALID', message: expect.stringMatching(/^Unexpected zfs output: .*nothing was planned from it\.$/) }));
  });

  it('reads the received and source columns: proof of origin only from a local mark, canmount with its received value, names with spaces', () => {
    const rows = [
      ['backup/fleet', 'filesystem', '-', 'local'],
      ['backup/fleet/tank/with space', 'filesystem', 'off', 'received'],
      ['backup/fleet/tank/with space@manual snap', 'snapshot', '-', '-'],
    ];
    const lines = rows.flatMap(([name, type, received, markSource], index) => [
      `${name}\ttype\t${type}\t-\t-`,
      `${name}\tguid\t${100 + index}\t-\t-`,
      `${name}\tcreatetxg\t${10 + index}\t-\t-`,
      `${name}\tcreation\t1795415400\t-\t-`,
      `${name}\treferenced\t131072\t-\t-`,
      `${name}\tzfs-fleet:created\t${markSource === '-' ? '-' : '2026-12-02T00:00:00.000Z'}\t-\t${markSource}`,
      `${name}\tcanmount\t${type === 'snapshot' ? '-' : 'noauto'}\t${received}\t${type === 'snapshot' ? '-' : 'local'}`,
    ]);
    const tree = parseTree(`${lines.join('\n')}\n`);
    expect(tree.datasets).toEqual([
      expect.objectContaining({ name: 'backup/fleet', createdByFleet: true, canmount: { value: 'noauto' } }),
      expect.objectContaining({
        name: 'backup/fleet/tank/with space',
        createdByFleet: false,
        canmount: { value: 'noauto', received: 'off' },
        snapshots: [expect.objectContaining({ name: 'manual snap', guid: '102' })],
      }),
    ]);
  });

  it('parses an empty listing as an empty tree', () => {
    expect(parseTree('')).toEqual({ datasets: [] });
  });
});

describe('parseTree with userrefs', () => {
  it('reads the hold count of each snapshot from a zfs-fuse listing that cannot list holds', () => {
    const tree = parseTree(fixture('zfs-fuse/get-tree-userrefs.stdout'));
    const [t] = tree.datasets;
    expect(t!.snapshots.map((s) => [s.name, s.holds])).toEqual([
      ['s1', 0],
      ['s2', 0],
      ['s3', 1],
      ['s4', 0],
      ['s5', 0],
    ]);
  });
});
