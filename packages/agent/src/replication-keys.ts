import { access, mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { FleetError, writeFileAtomically } from '@zfs-fleet/protocol';

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
    throw new FleetError('AGENT_PROTOCOL', `The source's agent sent something that is not an SSH public key: "${options.publicKey.slice(0, 40)}...".`, {
      hint: 'Run `fleet agent install` on the source host, then `fleet keys setup` again.',
    });
  }
  const line = `restrict,command="${options.forcedCommand.replaceAll('"', '\\"')}" ${type} ${key} ${options.tag}`;
  await mkdir(paths.ssh, { recursive: true, mode: 0o700 });
  const current = await readFile(paths.authorizedKeys, 'utf8').catch(() => '');
  const kept = current.split('\n').filter((existing) => existing.trim() !== '' && !existing.trimEnd().endsWith(` ${options.tag}`));
  await writeFileAtomically(paths.authorizedKeys, `${[...kept, line].join('\n')}\n`, 0o600);
  return line;
}

/** Records peers' host keys for this host's ssh, in a file of our own beside known_hosts. */
export async function trustHostKeys(entries: ReadonlyArray<{ name: string; keyType: string; keyBase64: string }>, home?: string): Promise<void> {
  const paths = replicationPaths(home);
  await mkdir(paths.ssh, { recursive: true, mode: 0o700 });
  const current = await readFile(paths.knownHosts, 'utf8').catch(() => '');
  const names = new Set(entries.map((entry) => entry.name));
  const kept = current.split('\n').filter((line) => line.trim() !== '' && !names.has(line.split(/\s+/)[0] ?? ''));
  await writeFileAtomically(paths.knownHosts, `${[...kept, ...entries.map((entry) => `${entry.name} ${entry.keyType} ${entry.keyBase64}`)].join('\n')}\n`, 0o600);
}

/** The key and peer host keys of `fleet keys setup`, for the ssh of a stream, where this host has them. */
export async function replicationIdentity(home?: string): Promise<{ identityFile?: string; knownHostsFiles?: string[] }> {
  const paths = replicationPaths(home);
  const exists = (file: string) =>
    access(file).then(
      () => true,
      () => false,
    );
  const [hasKey, hasKnownHosts] = await Promise.all([exists(paths.identity), exists(paths.knownHosts)]);
  return {
    ...(hasKey ? { identityFile: paths.identity } : {}),
    ...(hasKnownHosts ? { knownHostsFiles: [path.join(paths.ssh, 'known_hosts'), paths.knownHosts] } : {}),
  };
}
