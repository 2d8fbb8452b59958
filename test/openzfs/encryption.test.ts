import { beforeAll, describe, expect, it } from 'vitest';
import { FUSE_HOST, fileHashes, fuseLab, getProp, runFleet, snapshotGuids, uniqueName, vm, writeConfig, writeRandom } from './support.ts';

const PASSPHRASE = 'correct horse battery staple';
const dataset = `tank/${uniqueName('secret')}`;
const copy = `backup/fleet/src/${dataset}`;
let config: string;

beforeAll(async () => {
  const guest = vm();
  await guest.exec(['zfs', 'create', '-o', 'encryption=on', '-o', 'keyformat=passphrase', '-o', 'keylocation=prompt', dataset], { input: `${PASSPHRASE}\n${PASSPHRASE}\n` });
  await writeRandom(`/${dataset}/secret.bin`, 2);
  config = await writeConfig({ src: [{ dataset, to: ['bak'] }] });
  const install = await runFleet(config, ['agent', 'install', 'src']);
  expect(install.exitCode, install.stdout + install.stderr).toBe(0);
});

describe('scenario 5: an encrypted dataset travels raw and stays locked on the peer', () => {
  it("is replicated raw (-w in the agents' argv, visible at the controller's debug level)", async () => {
    const run = await runFleet(config, ['backup', 'src', '--json', '--log-level', 'debug']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    // The agent's own debug line with the send argv, relayed by the controller.
    expect(run.stderr).toMatch(/"send":\["send",[^\]]*"-w"[^\]]*\]/);
    expect(run.stderr).toMatch(/"argv":\["send","-n","-P",[^\]]*"-w"/);
    expect([...(await snapshotGuids(copy)).values()]).toEqual([...(await snapshotGuids(dataset)).values()]);
  });

  it('on the peer the key is unavailable and no key material is there: it cannot be mounted', async () => {
    expect(await getProp(copy, 'encryption')).toBe('aes-256-gcm');
    expect(await getProp(copy, 'keystatus')).toBe('unavailable');
    expect(await getProp(copy, 'encryptionroot')).toBe(copy);
    expect(await getProp(copy, 'mounted')).toBe('no');
    const mount = await vm().exec(['zfs', 'mount', copy], { reject: false });
    expect(mount.exitCode).not.toBe(0);
    expect(mount.stderr).toMatch(/encryption key not loaded/);
  });

  it('restored to a new dataset, the report says it is locked and how to unlock it; with the key the content is identical', async () => {
    const target = `tank/${uniqueName('secret-restored')}`;
    const run = await runFleet(config, ['restore', 'src', dataset, '--to', `src:${target}`]);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('keystatus=unavailable');
    expect(run.stdout).toContain(`zfs load-key ${target}`);
    expect(run.stdout).not.toContain('read-write and mounted');
    expect(await getProp(target, 'keystatus')).toBe('unavailable');
    await vm().exec(['zfs', 'load-key', target], { input: `${PASSPHRASE}\n` });
    await vm().exec(['zfs', 'mount', target]);
    expect(await getProp(target, 'readonly')).toBe('off');
    expect(await fileHashes(`/${target}`)).toEqual(await fileHashes(`/${dataset}`));
  });

  it('never goes out decrypted: to a peer that cannot receive raw (zfs-fuse) it is refused and nothing is sent', async () => {
    const toFuse = await writeConfig({ src: [{ dataset, to: [FUSE_HOST.name] }] });
    const run = await runFleet(toFuse, ['backup', 'src', '--no-snapshot', '--json']);
    expect(run.exitCode).toBe(1);
    expect(run.json.units[0].error.code).toBe('ENCRYPTION_UNSUPPORTED');
    const listed = await fuseLab().exec(FUSE_HOST.name, ['zfs', 'list', '-H', '-o', 'name', '-r', 'tank'], { reject: false });
    expect(listed.stdout).not.toContain(dataset.split('/')[1]);
  });
});
