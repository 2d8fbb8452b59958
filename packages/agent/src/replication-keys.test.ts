import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { authorizeKey, ensureReplicationKey, trustHostKeys } from './replication-keys.ts';

test('a replication key is created once and then reused', async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'keys-'));
  const first = await ensureReplicationKey('zfs-fleet:src1', home);
  expect(first).toMatch(/^ssh-ed25519 \S+ zfs-fleet:src1$/);
  expect(await ensureReplicationKey('zfs-fleet:src1', home)).toBe(first);
});

test('authorizing a key replaces the earlier line with the same tag and keeps the others', async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'keys-'));
  await mkdir(path.join(home, '.ssh'));
  await writeFile(path.join(home, '.ssh/authorized_keys'), 'ssh-ed25519 AAAAadmin admin@laptop\nrestrict,command="old" ssh-ed25519 AAAAold zfs-fleet:src1\n');
  await authorizeKey({ tag: 'zfs-fleet:src1', publicKey: 'ssh-ed25519 AAAAnew zfs-fleet:src1', forcedCommand: 'fleet-agent recv --root backup/fleet/src1' }, home);
  expect(await readFile(path.join(home, '.ssh/authorized_keys'), 'utf8')).toBe('ssh-ed25519 AAAAadmin admin@laptop\nrestrict,command="fleet-agent recv --root backup/fleet/src1" ssh-ed25519 AAAAnew zfs-fleet:src1\n');
});

test('a public key that is not one is refused with AGENT_PROTOCOL, not as an internal error, and nothing is written', async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'keys-'));
  await expect(authorizeKey({ tag: 'zfs-fleet:src1', publicKey: 'rm -rf /', forcedCommand: 'x' }, home)).rejects.toMatchObject({ name: 'FleetError', code: 'AGENT_PROTOCOL', message: expect.stringContaining('not an SSH public key') });
  await expect(readFile(path.join(home, '.ssh/authorized_keys'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
});

test('peer host keys are recorded once per name', async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'keys-'));
  await trustHostKeys([{ name: '10.0.0.2', keyType: 'ssh-ed25519', keyBase64: 'AAAA1' }], home);
  await trustHostKeys(
    [
      { name: '10.0.0.2', keyType: 'ssh-ed25519', keyBase64: 'AAAA2' },
      { name: '[10.0.0.3]:2222', keyType: 'ssh-ed25519', keyBase64: 'AAAA3' },
    ],
    home,
  );
  expect(await readFile(path.join(home, '.ssh/zfs-fleet_known_hosts'), 'utf8')).toBe('10.0.0.2 ssh-ed25519 AAAA2\n[10.0.0.3]:2222 ssh-ed25519 AAAA3\n');
});
