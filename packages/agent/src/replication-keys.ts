import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/** The files of this host's zfs-fleet replication identity, in the agent user's ~/.ssh. */
export function replicationPaths(home = os.homedir()) {
  const ssh = path.join(home, '.ssh');
  return {
    ssh,
    identity: path.join(ssh, 'zfs-fleet_ed25519'),
    knownHosts: path.join(ssh, 'zfs-fleet_known_hosts'),
    authorizedKeys: path.join(ssh, 'authorized_keys'),
  };
}

/** Creates this host's replication key if it has none; the private half never leaves the host. */
export async function ensureReplicationKey(comment: string, home?: string): Promise<string> {
  const paths = replicationPaths(home);
  await mkdir(paths.ssh, { recursive: true, mode: 0o700 });
  const existing = await readFile(`${paths.identity}.pub`, 'utf8').catch(() => undefined);
  if (existing) return existing.trim();
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', paths.identity]);
  return (await readFile(`${paths.identity}.pub`, 'utf8')).trim();
}

/**
 * Puts one authorized_keys line for `tag` in place of any earlier one, atomically (write a
 * temporary file, then rename): a half-written authorized_keys could lock everyone out.
 */
export async function authorizeKey(options: { tag: string; publicKey: string; forcedCommand: string }, home?: string): Promise<string> {
  const paths = replicationPaths(home);
  const [type, key] = options.publicKey.split(/\s+/);
  if (!type || !key || !/^ssh-ed25519$|^ecdsa-sha2-nistp\d+$|^ssh-rsa$/.test(type) || !/^[A-Za-z0-9+/=]+$/.test(key)) {
    throw new Error(`not an SSH public key: "${options.publicKey.slice(0, 40)}..."`);
  }
  const line = `restrict,command="${options.forcedCommand.replaceAll('"', '\\"')}" ${type} ${key} ${options.tag}`;
  await mkdir(paths.ssh, { recursive: true, mode: 0o700 });
  const current = await readFile(paths.authorizedKeys, 'utf8').catch(() => '');
  const kept = current.split('\n').filter((existing) => existing.trim() !== '' && !existing.trimEnd().endsWith(` ${options.tag}`));
  await writeAtomically(paths.authorizedKeys, `${[...kept, line].join('\n')}\n`);
  return line;
}

/** Records peers' host keys for this host's ssh, in a file of our own beside known_hosts. */
export async function trustHostKeys(entries: ReadonlyArray<{ name: string; keyType: string; keyBase64: string }>, home?: string): Promise<void> {
  const paths = replicationPaths(home);
  await mkdir(paths.ssh, { recursive: true, mode: 0o700 });
  const current = await readFile(paths.knownHosts, 'utf8').catch(() => '');
  const names = new Set(entries.map((entry) => entry.name));
  const kept = current.split('\n').filter((line) => line.trim() !== '' && !names.has(line.split(/\s+/)[0] ?? ''));
  await writeAtomically(paths.knownHosts, `${[...kept, ...entries.map((entry) => `${entry.name} ${entry.keyType} ${entry.keyBase64}`)].join('\n')}\n`);
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const temporary = `${file}.zfs-fleet-${process.pid}`;
  await writeFile(temporary, content, { mode: 0o600 });
  await rename(temporary, file);
}
