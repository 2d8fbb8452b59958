import { beforeAll, describe, expect, it } from 'vitest';
import { holds, runFleet, snapshotGuids, uniqueName, vm, writeConfig, writeRandom } from './support.ts';

// Scenario 6, decided against building (README "Holds", docs/reliability.md): zrepl and bzfs keep
// a bookmark so an incremental survives the source pruning its base. zfs-fleet holds the base
// instead. These tests prove what that decision promises, and where it stops.
const dataset = `tank/${uniqueName('bm')}`;
const copy = `backup/fleet/src/${dataset}`;
let config: string;

const snapshotsOf = async (name: string) => [...(await snapshotGuids(name)).keys()].map((full) => full.split('@')[1]!);
const bookmarksUnder = async (name: string) => (await vm().zfs(['list', '-H', '-t', 'bookmark', '-o', 'name', '-r', name])).trim();

beforeAll(async () => {
  await vm().zfs(['create', dataset]);
  await writeRandom(`/${dataset}/one.bin`, 1);
  config = await writeConfig({ src: [{ dataset, to: ['bak'] }] });
  const install = await runFleet(config, ['agent', 'install', 'src']);
  expect(install.exitCode, install.stdout + install.stderr).toBe(0);
  for (const file of ['two', 'three']) {
    const run = await runFleet(config, ['backup', 'src']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    await writeRandom(`/${dataset}/${file}.bin`, 1);
  }
});

describe('scenario 6: bookmarks are not needed, because the incremental base is held', () => {
  it('a pruner destroys every snapshot of the source but the base: the base refuses, and zfs-fleet made no bookmark', async () => {
    const [older, base] = await snapshotsOf(dataset);
    expect(await holds(dataset)).toEqual([`${dataset}@${base}\tzfs-fleet:bak`]);
    await vm().zfs(['destroy', `${dataset}@${older}`]);
    const refused = await vm().exec(['zfs', 'destroy', `${dataset}@${base}`], { reject: false });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/it's being held/);
    expect(await snapshotsOf(dataset)).toEqual([base]);
    expect(await bookmarksUnder(dataset)).toBe('');
  });

  it('so the next backup is an incremental from the held base, with no bookmark on either side', async () => {
    const [base] = await snapshotsOf(dataset);
    const run = await runFleet(config, ['backup', 'src', '--json']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.json.units[0].steps[0]).toMatchObject({ action: 'incremental', from: base });
    const newest = (await snapshotsOf(dataset)).at(-1)!;
    expect((await snapshotGuids(copy)).get(`${copy}@${newest}`)).toBe((await snapshotGuids(dataset)).get(`${dataset}@${newest}`));
    expect(await bookmarksUnder(dataset)).toBe('');
    expect(await bookmarksUnder(copy)).toBe('');
  });

  it('where it stops: once a user releases the hold and destroys the base, the plan blocks with NO_COMMON_SNAPSHOT and the copy is untouched', async () => {
    // The source keeps only the base (held) and the one before it; the user lets both go.
    const [older, base] = await snapshotsOf(dataset);
    expect(await holds(dataset)).toEqual([`${dataset}@${base}\tzfs-fleet:bak`]);
    await vm().exec(['zfs', 'release', 'zfs-fleet:bak', `${dataset}@${base}`]);
    await vm().zfs(['destroy', `${dataset}@${older},${base}`]);
    const before = await snapshotGuids(copy);
    const run = await runFleet(config, ['backup', 'src', '--json']);
    expect(run.exitCode).toBe(1);
    expect(run.json.units[0].steps[0]).toMatchObject({ action: 'blocked', code: 'NO_COMMON_SNAPSHOT' });
    expect(await snapshotGuids(copy)).toEqual(before);
  });
});
