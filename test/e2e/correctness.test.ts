import { describe, expect, test } from 'vitest';
import { cleanUpPeer, createDatasets, lab, runFleet, snapshotGuids, uniqueName, writeFleetConfig, writeRandomFile, type FleetRun } from './support/fleet.ts';

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
