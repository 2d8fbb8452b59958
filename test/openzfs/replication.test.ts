import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileHashes, getProp, holds, runFleet, snapshotGuids, uniqueName, vm, writeConfig, writeRandom } from './support.ts';

const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md');

// One recursive tree, backed up src → bak inside the guest; the scenarios build on each other.
const name = uniqueName('r');
const root = `tank/${name}`;
const copy = `backup/fleet/src/${root}`;
let config: string;

beforeAll(async () => {
  const guest = vm();
  await guest.zfs(['create', '-p', `${root}/a`]);
  await guest.zfs(['create', `${root}/b`]);
  await writeRandom(`/${root}/top.bin`, 1);
  await writeRandom(`/${root}/a/a.bin`, 2);
  await writeRandom(`/${root}/b/b.bin`, 1);
  config = await writeConfig({ src: [{ dataset: root, recursive: true, to: ['bak'] }] });
  // The agent is installed as on any host (scenario 1 checks the install itself).
  const install = await runFleet(config, ['agent', 'install', 'src']);
  expect(install.exitCode, install.stdout + install.stderr).toBe(0);
});

describe('scenario 2: recursive full, then incremental replication', () => {
  it('fleet plan shows the send -nP estimate of each stream, in text and --json', async () => {
    await vm().zfs(['snapshot', '-r', `${root}@manual1`]);
    const json = await runFleet(config, ['plan', 'src', '--snapshot', 'manual1', '--json']);
    expect(json.exitCode, json.stdout + json.stderr).toBe(0);
    const [step] = json.json.units[0].steps;
    expect(step).toMatchObject({ action: 'full', recursive: true, to: 'manual1' });
    // 4 MB of incompressible data in the tree: the stream is at least that, and not much more.
    expect(step.estimatedBytes).toBeGreaterThan(4_000_000);
    expect(step.estimatedBytes).toBeLessThan(6_000_000);
    const text = await runFleet(config, ['plan', 'src', '--snapshot', 'manual1']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/full -R @manual1\s+≈ 4\.\d MB/);
    expect(text.stdout).toMatch(/≈ 4\.\d MB to send \(zfs send -nP\)/);
    // A plan with the snapshot still to be taken estimates up to the newest existing one and says so.
    const pending = await runFleet(config, ['plan', 'src', '--json']);
    expect(pending.json.units[0].steps[0]).toMatchObject({ estimatedTo: 'manual1' });
    expect(pending.json.units[0].steps[0].estimatedBytes).toBe(step.estimatedBytes);
  });

  it('the full copy arrives: same files (sha256), same snapshot guids', async () => {
    const run = await runFleet(config, ['backup', 'src', '--json']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.json.units[0].steps[0]).toMatchObject({ action: 'full', recursive: true });
    expect(await snapshotGuids(copy, { recursive: true }).then((m) => [...m.values()].sort())).toEqual(await snapshotGuids(root, { recursive: true }).then((m) => [...m.values()].sort()));
    await expectSameFiles();
  });

  it('an incremental brings the changes: same files, same guids', async () => {
    await writeRandom(`/${root}/a/more.bin`, 1);
    await vm().sh(`rm /${root}/b/b.bin`);
    const run = await runFleet(config, ['backup', 'src', '--json']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.json.units[0].steps[0]).toMatchObject({ action: 'incremental', recursive: true });
    expect(run.json.units[0].steps[0].bytes).toBeGreaterThan(1_000_000);
    expect(run.json.units[0].steps[0].bytes).toBeLessThan(2_500_000);
    expect([...(await snapshotGuids(`${copy}/a`)).values()]).toEqual([...(await snapshotGuids(`${root}/a`)).values()]);
    await expectSameFiles();
  });
});

describe('scenario 3: holds keep the incremental base', () => {
  it('after a run the base carries zfs-fleet:bak on every dataset of the tree, and only the newest', async () => {
    const newest = [...(await snapshotGuids(root)).keys()].at(-1)!;
    const held = await holds(root);
    expect(held).toEqual([`${newest}\tzfs-fleet:bak`, `${newest.replace('@', '/a@')}\tzfs-fleet:bak`, `${newest.replace('@', '/b@')}\tzfs-fleet:bak`].sort());
  });

  it('five more runs move the hold each time and leak none', async () => {
    for (let run = 0; run < 5; run += 1) {
      await vm().sh(`echo ${run} > /${root}/a/run.txt`);
      const result = await runFleet(config, ['backup', 'src']);
      expect(result.exitCode, result.stdout).toBe(0);
    }
    const newest = [...(await snapshotGuids(root)).keys()].at(-1)!;
    expect(await holds(root)).toHaveLength(3);
    expect((await holds(root)).every((line) => line.startsWith(newest.split('@')[0]!) && line.includes(`@${newest.split('@')[1]}\t`))).toBe(true);
  });

  it('a held base cannot be destroyed, and the README says how to release it', async () => {
    const newest = [...(await snapshotGuids(root)).keys()].at(-1)!;
    const destroy = await vm().exec(['zfs', 'destroy', newest], { reject: false });
    expect(destroy.exitCode).not.toBe(0);
    // OpenZFS 2.3: "cannot destroy snapshot X: it's being held. Run 'zfs holds -r X' to see holders."
    expect(destroy.stderr).toMatch(/it's being held/);
    expect((await snapshotGuids(root)).has(newest)).toBe(true);
    expect(readFileSync(README, 'utf8')).toMatch(/zfs release (-r )?zfs-fleet:/);
  });
});

describe('scenario 7: restore on OpenZFS', () => {
  it('a full restore to a new dataset is mounted, read-write, with the same files', async () => {
    const target = `tank/${uniqueName('restored')}`;
    const run = await runFleet(config, ['restore', 'src', `${root}/a`, '--to', `src:${target}`]);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('it is read-write and mounted.');
    expect(await getProp(target, 'mounted')).toBe('yes');
    expect(await getProp(target, 'readonly')).toBe('off');
    expect(await fileHashes(`/${target}`)).toEqual(await fileHashes(`/${root}/a`));
  });

  it('after a rollback on the source, the restore is an incremental that brings the newest state back; reading files first modifies the dataset (atime), which only --force rolls back', async () => {
    const snaps = [...(await snapshotGuids(`${root}/a`)).keys()];
    const before = await fileHashes(`/${root}/a`);
    // Back to the first backup's snapshot: later snapshots and files are gone from the source.
    await vm().exec(['zfs', 'release', '-r', 'zfs-fleet:bak', snaps.at(-1)!.replace('/a@', '@')]);
    await vm().exec(['zfs', 'rollback', '-r', snaps[1]!]);
    // Reading the files updates their atime (relatime is on by default): the dataset is modified since its snapshot.
    expect(await fileHashes(`/${root}/a`)).not.toEqual(before);
    await vm().exec(['zpool', 'sync', 'tank']);
    expect(Number(await getProp(`${root}/a`, 'written'))).toBeGreaterThan(0);
    const refused = await runFleet(config, ['restore', 'src', `${root}/a`, '--json']);
    expect(refused.exitCode).toBe(1);
    expect(refused.json.error).toMatchObject({ code: 'DESTINATION_MODIFIED', hint: expect.stringContaining('--force') });
    expect([...(await snapshotGuids(`${root}/a`)).keys()]).toEqual(snaps.slice(0, 2));

    const run = await runFleet(config, ['restore', 'src', `${root}/a`, '--force', '--json']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.json.steps[0]).toMatchObject({ action: 'incremental', from: snaps[1]!.split('@')[1], to: snaps.at(-1)!.split('@')[1] });
    expect(run.json.state).toEqual({ mounted: true, readonly: false });
    expect([...(await snapshotGuids(`${root}/a`)).values()]).toEqual([...(await snapshotGuids(`${copy}/a`)).values()]);
    expect(await fileHashes(`/${root}/a`)).toEqual(before);
  });
});

async function expectSameFiles(): Promise<void> {
  // Backups stay unmounted (-u); mount the copy read-only to compare, then unmount it again.
  const guest = vm();
  for (const dataset of ['', '/a', '/b']) {
    const mountpoint = `/mnt/check${dataset.replace('/', '-')}`;
    await guest.sh(`mkdir -p ${mountpoint} && mount -t zfs -o ro,zfsutil ${copy}${dataset} ${mountpoint}`);
    try {
      const copied = await fileHashes(mountpoint);
      const original = await fileHashes(`/${root}${dataset}`);
      expect(copied).toEqual(original);
    } finally {
      await guest.sh(`umount ${mountpoint}`);
    }
  }
}
