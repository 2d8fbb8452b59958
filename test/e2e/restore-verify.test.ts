import { describe, expect, onTestFinished, test } from 'vitest';
import { cleanUpPeer, createDatasets, destroyTree, hashFile, lab, runFleet, snapshotGuids, uniqueName, writeFleetConfig, writeRandomFile, type FleetRun } from './support/fleet.ts';

const snapshotOf = (run: FleetRun): string => run.json.hosts.find((h: { host: string }) => h.host === 'src1').snapshot;

/** A dataset on src1 with a file per backup run: `v1.bin` in the first snapshot, and so on. */
async function backedUp(runs: number, options: { rpo?: string } = {}) {
  const dataset = `tank/${uniqueName('V')}`;
  await createDatasets('src1', [dataset]);
  const copy = `backup/fleet/src1/${dataset}`;
  cleanUpPeer('backup1', copy);
  const config = await writeFleetConfig({ src1: [{ dataset, to: ['backup1'], ...(options.rpo ? { rpo: options.rpo } : {}) } as never] });
  const snapshots: string[] = [];
  const hashes: string[] = [];
  for (let run = 1; run <= runs; run += 1) {
    await writeRandomFile('src1', dataset, `v${run}.bin`, 200_000 * run);
    hashes.push(await hashFile('src1', dataset, `v${run}.bin`));
    const result = await runFleet(config, ['backup', 'src1', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    snapshots.push(snapshotOf(result));
  }
  return { dataset, copy, config, snapshots, hashes };
}

const isWritable = async (host: string, dataset: string) => (await lab().exec(host, ['sh', '-c', 'touch "$(zfs get -H -o value mountpoint "$1")/written-after-restore"', 'sh', dataset], { reject: false })).exitCode === 0;

describe('fleet restore', () => {
  test('brings a destroyed dataset back to its latest snapshot, byte-identical and writable', async () => {
    const { dataset, config, snapshots, hashes } = await backedUp(2);
    await destroyTree('src1', dataset, { mustSucceed: true });

    const result = await runFleet(config, ['restore', 'src1', dataset, '--json']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.json.steps).toMatchObject([{ action: 'full', to: snapshots[1] }]);
    expect(await hashFile('src1', dataset, 'v1.bin')).toBe(hashes[0]);
    expect(await hashFile('src1', dataset, 'v2.bin')).toBe(hashes[1]);
    expect((await lab().zfs('src1', ['get', '-H', '-o', 'value', 'readonly,mounted', dataset])).split('\n')).toEqual(['off', 'yes']);
    expect(await isWritable('src1', dataset)).toBe(true);
  });

  test('restores an older snapshot elsewhere, and incrementally onto a source rolled back to a shared snapshot', async () => {
    const { dataset, config, snapshots, hashes } = await backedUp(3);
    const older = `tank/${uniqueName('Old')}`;
    onTestFinished(() => destroyTree('src1', older));
    const asOf = await runFleet(config, ['restore', 'src1', dataset, '--snapshot', snapshots[1]!, '--to', `src1:${older}`, '--json']);
    expect(asOf.exitCode, asOf.stdout).toBe(0);
    expect(asOf.json.steps).toMatchObject([{ action: 'full', to: snapshots[1] }]);
    expect(await hashFile('src1', older, 'v2.bin')).toBe(hashes[1]);
    expect((await lab().exec('src1', ['sh', '-c', 'test -e "$(zfs get -H -o value mountpoint "$1")/v3.bin"', 'sh', older], { reject: false })).exitCode).not.toBe(0);

    await lab().zfs('src1', ['rollback', '-r', `${dataset}@${snapshots[0]}`]);
    const incremental = await runFleet(config, ['restore', 'src1', dataset, '--json']);
    expect(incremental.exitCode, incremental.stdout).toBe(0);
    const [step] = incremental.json.steps;
    expect(step).toMatchObject({ action: 'incremental', from: snapshots[0], to: snapshots[2] });
    expect(step.bytes).toBeGreaterThan(1_000_000);
    expect(await hashFile('src1', dataset, 'v3.bin')).toBe(hashes[2]);
    expect(await snapshotGuids('src1', dataset)).toEqual(await snapshotGuids('backup1', `backup/fleet/src1/${dataset}`));
  });

  test('restores to another host', async () => {
    const { dataset, hashes, config } = await backedUp(1);
    const target = `tank/${uniqueName('Restored')}`;
    onTestFinished(() => destroyTree('src2', target));
    const result = await runFleet(config, ['restore', 'src1', dataset, '--to', `src2:${target}`]);
    expect(result.exitCode, result.stdout).toBe(0);
    expect(result.stdout).toContain(`to src2:${target}`);
    expect(await hashFile('src2', target, 'v1.bin')).toBe(hashes[0]);
    expect(await isWritable('src2', target)).toBe(true);
  });

  test('refuses to overwrite newer snapshots on the target, naming them, and does it with --force', async () => {
    const { dataset, config, snapshots } = await backedUp(2);
    await lab().zfs('src1', ['rollback', '-r', `${dataset}@${snapshots[0]}`]);
    await lab().zfs('src1', ['snapshot', `${dataset}@local-work`]);

    const refused = await runFleet(config, ['restore', 'src1', dataset]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toContain('@local-work');
    expect(refused.stdout).toContain('--force would roll back (destroy) them');
    expect((await snapshotGuids('src1', dataset)).has('local-work')).toBe(true);

    const forced = await runFleet(config, ['restore', 'src1', dataset, '--force', '--json']);
    expect(forced.exitCode, forced.stdout).toBe(0);
    expect(forced.json.steps).toMatchObject([{ action: 'incremental', to: snapshots[1], destroys: ['local-work'] }]);
    expect([...(await snapshotGuids('src1', dataset)).keys()]).toEqual(snapshots);
  });

  test('restores a recursive entry as a tree, children included', async () => {
    const root = `tank/${uniqueName('Tree')}`;
    await createDatasets('src1', [root, `${root}/a`, `${root}/a/deep`, `${root}/b`]);
    cleanUpPeer('backup1', `backup/fleet/src1/${root}`);
    await writeRandomFile('src1', `${root}/a/deep`, 'deep.bin', 300_000);
    const hash = await hashFile('src1', `${root}/a/deep`, 'deep.bin');
    const config = await writeFleetConfig({ src1: [{ dataset: root, recursive: true, to: ['backup1'] }] });
    expect((await runFleet(config, ['backup', 'src1'])).exitCode).toBe(0);
    await destroyTree('src1', root, { mustSucceed: true });

    const result = await runFleet(config, ['restore', 'src1', root, '--json']);
    expect(result.exitCode, result.stdout).toBe(0);
    expect(result.json).toMatchObject({ recursive: true, steps: [{ action: 'full', recursive: true }] });
    expect((await lab().zfs('src1', ['list', '-H', '-r', '-o', 'name', root])).split('\n')).toEqual([root, `${root}/a`, `${root}/a/deep`, `${root}/b`]);
    expect(await hashFile('src1', `${root}/a/deep`, 'deep.bin')).toBe(hash);
  });

  test('--dry-run prints the plan and changes nothing', async () => {
    const { dataset, config } = await backedUp(1);
    await destroyTree('src1', dataset, { mustSucceed: true });
    const result = await runFleet(config, ['restore', 'src1', dataset, '--dry-run']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/PLAN\s+\S+\s+full/);
    expect((await lab().exec('src1', ['zfs', 'list', dataset], { reject: false })).exitCode).not.toBe(0);
  });
});

describe('fleet verify', () => {
  const statusOf = (run: FleetRun) => run.json.rows.map((row: { status: string }) => row.status);

  test('all OK after backups; then each kind of damage is named, and the exit code follows', async () => {
    const { dataset, copy, config, snapshots } = await backedUp(3);
    const ok = await runFleet(config, ['verify', 'src1', '--json']);
    expect(ok.exitCode, ok.stdout).toBe(0);
    expect(statusOf(ok)).toEqual(['OK']);

    await lab().zfs('backup1', ['destroy', `${copy}@${snapshots[1]}`]);
    const missingSnapshot = await runFleet(config, ['verify', 'src1', '--json']);
    expect(missingSnapshot.exitCode).toBe(1);
    expect(missingSnapshot.json.rows[0]).toMatchObject({ status: 'MISSING', details: [`snapshot(s) missing on backup1: @${snapshots[1]}.`] });

    await lab().zfs('backup1', ['destroy', `${copy}@${snapshots[2]}`]);
    await lab().zfs('backup1', ['snapshot', `${copy}@${snapshots[2]}`]);
    const mismatch = await runFleet(config, ['verify', 'src1']);
    expect(mismatch.exitCode).toBe(1);
    expect(mismatch.stdout).toMatch(/MISMATCH\s+src1/);
    expect(mismatch.stdout).toContain(`@${snapshots[2]} on backup1 has guid`);

    await destroyTree('backup1', copy, { mustSucceed: true });
    const missingDataset = await runFleet(config, ['verify', 'src1', '--json']);
    expect(missingDataset.json.rows[0]).toMatchObject({ status: 'MISSING', details: [`dataset "${copy}" is missing on backup1.`] });
    void dataset;
  });

  test('an rpo exceeded is STALE, a peer down is UNREACHABLE, and verify uses one zfs call per host', async () => {
    const { dataset, snapshots } = await backedUp(1);
    const config = await writeFleetConfig({ src1: [{ dataset, to: ['backup1', 'backup9'], rpo: '1h' } as never] }, { extraHosts: { backup9: { address: '10.77.0.29', receive: { root: 'backup/fleet' } } }, ssh: { connectTimeoutMs: 3000 } });
    const later = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const result = await runFleet(config, ['verify', 'src1', '--json'], { FLEET_NOW: later });
    expect(result.exitCode).toBe(1);
    const byPeer = Object.fromEntries(result.json.rows.map((row: { peer: string }) => [row.peer, row]));
    expect(byPeer.backup1).toMatchObject({ status: 'STALE', newest: { name: snapshots[0] } });
    expect(byPeer.backup1.details[0]).toMatch(/is 2h old; the rpo is 60m/);
    expect(byPeer.backup9.status).toBe('UNREACHABLE');
    expect(byPeer.backup9.details[0]).toContain('SSH_CONNECT_FAILED');
    // version probe + one listing on each host
    expect(result.json.zfsCalls).toEqual({ src1: 2, backup1: 2 });
  });
});
