import { describe, expect, test } from 'vitest';
import { cleanUpPeer, createDatasets, destroyTree, hashFile, lab, runFleet, snapshotGuids, uniqueName, writeFleetConfig, writeRandomFile, type FleetRun } from './support/fleet.ts';

/**
 * Replication correctness: what a destination may be received over, properties and mounts of
 * copies, names zfs allows, reused snapshot names and the history of replaced datasets. Several
 * cases are ported from syncoid's tests/syncoid (listed in docs/reliability.md).
 */

interface Step {
  dataset: string;
  destination: string;
  action: string;
  from?: string;
  to?: string;
  code?: string;
  reason?: string;
  destroys?: string[];
}

const stepsOf = (run: FleetRun, peer = 'backup1'): Step[] => run.json.units.find((unit: { peer: string }) => unit.peer === peer).steps;

async function backup(config: string, ...flags: string[]): Promise<FleetRun> {
  return runFleet(config, ['backup', 'src1', '--json', ...flags]);
}

/** `sha256  name` of every file in a dataset's mountpoint, sorted: what a user would miss. */
async function filesOf(host: string, dataset: string): Promise<string> {
  const script = 'cd "$(zfs get -H -o value mountpoint "$1")" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum';
  return (await lab().exec(host, ['sh', '-c', script, 'sh', dataset])).stdout;
}

describe('no silent overwrite by size (#14)', () => {
  test('a destination zfs-fleet did not create, without snapshots, holding 10 KB of files, is blocked and its files survive', async () => {
    const dataset = `tank/${uniqueName('O')}`;
    const copy = `backup/fleet/src1/${dataset}`;
    await createDatasets('src1', [dataset]);
    cleanUpPeer('backup1', copy);
    await writeRandomFile('src1', dataset, 'source.bin', 50_000);
    // A user's own small dataset where the copy would land: ten 1 KB config files.
    await lab().zfs('backup1', ['create', '-p', copy]);
    await lab().exec('backup1', ['sh', '-c', 'cd "$(zfs get -H -o value mountpoint "$1")" && for i in 0 1 2 3 4 5 6 7 8 9; do head -c 1024 /dev/urandom > "conf$i"; done', 'sh', copy]);
    const before = await filesOf('backup1', copy);
    expect(before.trim().split('\n')).toHaveLength(10);

    const config = await writeFleetConfig({ src1: [{ dataset, to: ['backup1'] }] });
    const run = await backup(config);
    expect(run.exitCode, run.stderr).toBe(1);
    const [step] = stepsOf(run);
    expect(step).toMatchObject({ action: 'blocked', code: 'DESTINATION_NOT_EMPTY' });
    expect(step!.reason).toContain('was not created by zfs-fleet');
    expect(await filesOf('backup1', copy)).toBe(before);
    expect((await snapshotGuids('backup1', copy)).size).toBe(0);
  });
});

/** `value` of each property, as zfs shows it on the host. */
async function properties(host: string, dataset: string, names: string[]): Promise<Record<string, string>> {
  const out = await lab().zfs(host, ['get', '-H', '-o', 'property,value', names.join(','), dataset]);
  return Object.fromEntries(out.split('\n').map((line) => line.split('\t') as [string, string]));
}

describe('replication correctness against syncoid-like situations (#17)', () => {
  test('names zfs allows (space, ":", ".", "-", "_") and a snapshot "@manual snap" replicate, verify and restore', async () => {
    const root = `tank/${uniqueName('N')}`;
    const children = [`${root}/with space`, `${root}/a:b.c-d_e`];
    await createDatasets('src1', [root, ...children]);
    cleanUpPeer('backup1', `backup/fleet/src1/${root}`);
    for (const child of children) await writeRandomFile('src1', child, 'data.bin', 30_000);
    await lab().zfs('src1', ['snapshot', `${children[0]}@manual snap`]);
    const config = await writeFleetConfig({ src1: [{ dataset: root, recursive: true, to: ['backup1'] }] });

    const run = await backup(config);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    for (const child of children) {
      const guids = await snapshotGuids('src1', child);
      expect(guids.size).toBeGreaterThan(0);
      expect(await snapshotGuids('backup1', `backup/fleet/src1/${child}`)).toEqual(guids);
    }
    expect([...(await snapshotGuids('backup1', `backup/fleet/src1/${children[0]}`)).keys()]).toContain('manual snap');
    const verify = await runFleet(config, ['verify', 'src1', '--json']);
    expect(verify.exitCode, verify.stdout).toBe(0);

    const hash = await hashFile('src1', children[0]!, 'data.bin');
    await destroyTree('src1', children[0]!, { mustSucceed: true });
    const restore = await runFleet(config, ['restore', 'src1', children[0]!, '--json']);
    expect(restore.exitCode, restore.stdout + restore.stderr).toBe(0);
    expect(await hashFile('src1', children[0]!, 'data.bin')).toBe(hash);
  });

  test('a snapshot name reused with new data blocks with SNAPSHOT_NAME_CONFLICT, and --force replaces the old copy (syncoid: force delete snapshot)', async () => {
    const dataset = `tank/${uniqueName('Q')}`;
    const copy = `backup/fleet/src1/${dataset}`;
    await createDatasets('src1', [dataset]);
    cleanUpPeer('backup1', copy);
    const config = await writeFleetConfig({ src1: [{ dataset, to: ['backup1'] }] });
    // @duplicate goes first on its own, then a later snapshot: the base that survives the reuse.
    await lab().zfs('src1', ['snapshot', `${dataset}@duplicate`]);
    expect((await backup(config, '--no-snapshot')).exitCode).toBe(0);
    await lab().zfs('src1', ['snapshot', `${dataset}@keep`]);
    expect((await backup(config, '--no-snapshot')).exitCode).toBe(0);
    const oldGuid = (await snapshotGuids('backup1', copy)).get('duplicate');
    expect(oldGuid).toBeDefined();

    await lab().zfs('src1', ['destroy', `${dataset}@duplicate`]);
    await writeRandomFile('src1', dataset, 'new.bin', 20_000);
    await lab().zfs('src1', ['snapshot', `${dataset}@duplicate`]);
    const blocked = await backup(config, '--no-snapshot');
    expect(blocked.exitCode, blocked.stdout).toBe(1);
    const [step] = stepsOf(blocked);
    expect(step).toMatchObject({ action: 'blocked', code: 'SNAPSHOT_NAME_CONFLICT' });
    expect(step!.reason).toContain('@duplicate');
    expect((await snapshotGuids('backup1', copy)).get('duplicate')).toBe(oldGuid);

    const forced = await backup(config, '--no-snapshot', '--force');
    expect(forced.exitCode, forced.stdout + forced.stderr).toBe(0);
    expect(stepsOf(forced)[0]).toMatchObject({ action: 'incremental', from: 'keep', destroys: ['duplicate'] });
    expect(await snapshotGuids('backup1', copy)).toEqual(await snapshotGuids('src1', dataset));
    expect(await hashFile('backup1', copy, 'new.bin')).toBe(await hashFile('src1', dataset, 'new.bin'));
  });

  test('a non-recursive entry keeps its properties on the copy, and a restore brings them back', async () => {
    const dataset = `tank/${uniqueName('P')}`;
    const copy = `backup/fleet/src1/${dataset}`;
    await createDatasets('src1', [dataset]);
    cleanUpPeer('backup1', copy);
    // zfs-fuse sets one property per call.
    for (const assignment of ['recordsize=16K', 'compression=gzip', 'com.example:owner=ops team']) await lab().zfs('src1', ['set', assignment, dataset]);
    await writeRandomFile('src1', dataset, 'data.bin', 40_000);
    const config = await writeFleetConfig({ src1: [{ dataset, to: ['backup1'] }] });
    expect((await backup(config)).exitCode).toBe(0);
    const wanted = { recordsize: '16K', compression: 'gzip', 'com.example:owner': 'ops team' };
    expect(await properties('backup1', copy, Object.keys(wanted))).toEqual(wanted);

    await destroyTree('src1', dataset, { mustSucceed: true });
    const restore = await runFleet(config, ['restore', 'src1', dataset, '--json']);
    expect(restore.exitCode, restore.stdout + restore.stderr).toBe(0);
    expect(await properties('src1', dataset, Object.keys(wanted))).toEqual(wanted);
  });

  test('copies never mount at boot: after a backup `zfs mount -a` on the peer mounts none, and a restore mounts at the source path again', async () => {
    const root = `tank/${uniqueName('M')}`;
    const child = `${root}/srv`;
    const copies = [`backup/fleet/src1/${root}`, `backup/fleet/src1/${child}`];
    await createDatasets('src1', [root, child]);
    cleanUpPeer('backup1', copies[0]!);
    const mountpoint = `/mnt/${uniqueName('srv')}`;
    await lab().zfs('src1', ['set', `mountpoint=${mountpoint}`, child]);
    await writeRandomFile('src1', child, 'data.bin', 20_000);
    const config = await writeFleetConfig({ src1: [{ dataset: root, recursive: true, to: ['backup1'] }] });
    expect((await backup(config)).exitCode).toBe(0);

    // What a backup host does at boot.
    await lab()
      .zfs('backup1', ['mount', '-a'])
      .catch(() => '');
    for (const copy of copies) expect(await properties('backup1', copy, ['canmount', 'mounted'])).toEqual({ canmount: 'noauto', mounted: 'no' });
    expect((await lab().exec('backup1', ['test', '-e', `${mountpoint}/data.bin`], { reject: false })).exitCode).not.toBe(0);
    // The next run changes nothing about it and costs no extra zfs call for it.
    const again = await backup(config);
    expect(again.exitCode, again.stdout).toBe(0);

    const hash = await hashFile('src1', child, 'data.bin');
    await destroyTree('src1', root, { mustSucceed: true });
    const restore = await runFleet(config, ['restore', 'src1', root, '--json']);
    expect(restore.exitCode, restore.stdout + restore.stderr).toBe(0);
    expect(await properties('src1', child, ['canmount', 'mounted', 'mountpoint'])).toEqual({ canmount: 'on', mounted: 'yes', mountpoint });
    expect(await hashFile('src1', child, 'data.bin')).toBe(hash);
  });

  test('a dataset new on the peer, and one replaced with --force, get the source’s whole snapshot history', async () => {
    const dataset = `tank/${uniqueName('H')}`;
    const copy = `backup/fleet/src1/${dataset}`;
    await createDatasets('src1', [dataset]);
    cleanUpPeer('backup1', copy);
    for (const name of ['hourly-1', 'manual', 'hourly-2']) {
      await writeRandomFile('src1', dataset, `${name}.bin`, 10_000);
      await lab().zfs('src1', ['snapshot', `${dataset}@${name}`]);
    }
    const config = await writeFleetConfig({ src1: [{ dataset, to: ['backup1'] }] });
    const first = await backup(config);
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(stepsOf(first)[0]).toMatchObject({ action: 'full', from: 'hourly-1' });
    expect(await snapshotGuids('backup1', copy)).toEqual(await snapshotGuids('src1', dataset));

    // The copy diverges: nothing shared any more. --force replaces it, history and all.
    await destroyTree('backup1', copy, { mustSucceed: true });
    await lab().zfs('backup1', ['create', copy]);
    await lab().zfs('backup1', ['snapshot', `${copy}@unrelated`]);
    expect((await backup(config)).exitCode).toBe(1);
    const forced = await backup(config, '--force');
    expect(forced.exitCode, forced.stdout + forced.stderr).toBe(0);
    expect(stepsOf(forced)[0]).toMatchObject({ action: 'full', from: 'hourly-1', destroys: ['unrelated'] });
    expect(await snapshotGuids('backup1', copy)).toEqual(await snapshotGuids('src1', dataset));
  });
});
