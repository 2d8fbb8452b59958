import { beforeAll, describe, expect, it } from 'vitest';
import { FUSE_HOST, fileHashes, fuseLab, runFleet, snapshotGuids, uniqueName, vm, writeConfig, writeRandom } from './support.ts';

// An old box (zfs-fuse, pool v23) backs up to a new one (OpenZFS 2.3): the zfs-fuse host streams
// to the guest at the lab bridge's address, which the controller uses too.
const name = uniqueName('old');
const dataset = `${FUSE_HOST.pool}/${name}`;
const copy = `backup/fromfuse/${FUSE_HOST.name}/${dataset}`;
let config: string;

async function fuseGuids(): Promise<string[]> {
  const out = await fuseLab().zfs(FUSE_HOST.name, ['get', '-H', '-p', '-r', '-o', 'name,value', 'guid', dataset]);
  return out
    .split('\n')
    .filter((line) => line.includes('@'))
    .map((line) => line.split('\t')[1]!)
    .sort();
}

async function fuseHashes(): Promise<Record<string, string>> {
  const out = (await fuseLab().exec(FUSE_HOST.name, ['sh', '-c', `cd /mnt/${dataset} && find . -xdev -type f -print0 | sort -z | xargs -0 -r sha256sum`])).stdout;
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [hash, file] = line.split(/\s+/);
        return [file!, hash!];
      }),
  );
}

async function copyHashes(): Promise<Record<string, string>> {
  await vm().sh(`mkdir -p /mnt/fuse && mount -t zfs -o ro,zfsutil ${copy} /mnt/fuse`);
  try {
    return await fileHashes('/mnt/fuse');
  } finally {
    await vm().sh('umount /mnt/fuse');
  }
}

beforeAll(async () => {
  const lab = fuseLab();
  await lab.zfs(FUSE_HOST.name, ['create', dataset]);
  await lab.exec(FUSE_HOST.name, ['sh', '-c', `head -c 3000000 /dev/urandom > /mnt/${dataset}/old.bin`]);
  config = await writeConfig({ [FUSE_HOST.name]: [{ dataset, to: ['bakvm'] }] });
  const install = await runFleet(config, ['agent', 'install', 'bakvm']);
  expect(install.exitCode, install.stdout + install.stderr).toBe(0);
});

describe('zfs-fuse → OpenZFS 2.3', () => {
  it('a full stream from zfs-fuse lands on OpenZFS with the same files and guids', async () => {
    const run = await runFleet(config, ['backup', FUSE_HOST.name, '--json']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.json.units[0].steps[0]).toMatchObject({ action: 'full' });
    expect([...(await snapshotGuids(copy)).values()].sort()).toEqual(await fuseGuids());
    expect(await copyHashes()).toEqual(await fuseHashes());
  });

  it('an incremental follows', async () => {
    await fuseLab().exec(FUSE_HOST.name, ['sh', '-c', `head -c 1000000 /dev/urandom > /mnt/${dataset}/new.bin`]);
    const run = await runFleet(config, ['backup', FUSE_HOST.name, '--json']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.json.units[0].steps[0]).toMatchObject({ action: 'incremental' });
    expect([...(await snapshotGuids(copy)).values()].sort()).toEqual(await fuseGuids());
    expect(await copyHashes()).toEqual(await fuseHashes());
  });
});
