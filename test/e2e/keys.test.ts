import { expect, onTestFinished, test } from 'vitest';
import { cleanUpPeer, createDatasets, hashFile, lab, runFleet, snapshotGuids, uniqueName, writeFleetConfig, writeRandomFile } from './support/fleet.ts';

/** Runs ssh on src2 with only its zfs-fleet replication key, as a compromised src2 would. */
async function sshAsSrc2(remote: string, input = '') {
  return lab().exec('src2', ['sh', '-c', `ssh -i /root/.ssh/zfs-fleet_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes 10.77.0.22 "$1"`, 'sh', remote], { input, reject: false });
}

test('least-privilege keys: src2 can only receive into its own subtree on backup2', async () => {
  onTestFinished(async () => {
    await lab().exec('backup2', ['sed', '-i', '/ zfs-fleet:src2$/d', '/root/.ssh/authorized_keys'], { reject: false });
    await lab().exec('src2', ['rm', '-f', '/root/.ssh/zfs-fleet_ed25519', '/root/.ssh/zfs-fleet_ed25519.pub', '/root/.ssh/zfs-fleet_known_hosts'], { reject: false });
  });
  const dataset = `tank/${uniqueName('K')}`;
  await createDatasets('src2', [dataset]);
  const copy = `backup/fleet/src2/${dataset}`;
  cleanUpPeer('backup2', copy);
  await writeRandomFile('src2', dataset, 'k.bin', 300_000);
  const config = await writeFleetConfig({ src2: [{ dataset, to: ['backup2'] }] });

  const setup = await runFleet(config, ['keys', 'setup', 'src2', '--json']);
  expect(setup.exitCode, setup.stdout + setup.stderr).toBe(0);
  expect(setup.json.rows).toMatchObject([{ host: 'src2', peer: 'backup2', ok: true }]);
  const authorized = (await lab().exec('backup2', ['cat', '/root/.ssh/authorized_keys'])).stdout;
  expect(authorized).toMatch(/^restrict,command=".* recv --root backup\/fleet\/src2" ssh-ed25519 \S+ zfs-fleet:src2$/m);

  // The backup itself goes through the restricted key.
  const backup = await runFleet(config, ['backup', 'src2', '--json']);
  expect(backup.exitCode, backup.stdout + backup.stderr).toBe(0);
  expect(await hashFile('backup2', copy, 'k.bin')).toBe(await hashFile('src2', dataset, 'k.bin'));
  const guidsBefore = await snapshotGuids('backup2', copy);

  const shell = await sshAsSrc2('id; cat /etc/shadow');
  expect(shell.exitCode).not.toBe(0);
  expect(shell.stderr).toContain('is not a plain command line');
  expect(shell.stdout).not.toContain('uid=');

  const outside = await sshAsSrc2('zfs recv -d backup/fleet/src1');
  expect(outside.exitCode).not.toBe(0);
  expect(outside.stderr).toContain('outside backup/fleet/src2');

  const destroy = await sshAsSrc2(`zfs destroy -r ${copy}`);
  expect(destroy.exitCode).not.toBe(0);
  expect(destroy.stderr).toContain('only "zfs recv" is allowed');
  expect(await snapshotGuids('backup2', copy)).toEqual(guidsBefore);

  const read = await sshAsSrc2(`zfs send ${copy}@${[...guidsBefore.keys()][0]}`);
  expect(read.exitCode).not.toBe(0);
  expect(read.stdout).toBe('');

  const rollback = await sshAsSrc2(`zfs recv -F -d backup/fleet/src2/tank`);
  expect(rollback.stderr).toContain('may not roll back');
});
