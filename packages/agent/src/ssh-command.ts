import { shellQuote, type PeerEndpoint, type WireConfig } from '@zfs-fleet/protocol';

export { shellQuote };

/**
 * argv for the system `ssh` that carries a stream from this host to a peer. BatchMode
 * never prompts; StrictHostKeyChecking refuses a peer whose key this host does not know.
 * `remote` is the pipeline to run there, e.g. `[['zstd', '-d'], ['zfs', 'recv', ...]]`.
 */
export function buildPeerSshArgs(peer: PeerEndpoint, wire: WireConfig, remote: readonly (readonly string[])[], identity: { identityFile?: string; knownHostsFiles?: string[] } = {}): string[] {
  return [
    // The replication key from `fleet keys setup` is offered first; the user's own keys after it.
    ...(identity.identityFile ? ['-i', identity.identityFile] : []),
    ...(identity.knownHostsFiles?.length ? ['-o', `UserKnownHostsFile=${identity.knownHostsFiles.join(' ')}`] : []),
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ConnectTimeout=15',
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=4',
    ...(wire.cipher ? ['-c', wire.cipher] : []),
    '-p',
    String(peer.port),
    '-l',
    peer.user,
    peer.address,
    '--',
    // The remote command is a pipeline of plain words: each word quoted, stages joined by `|`.
    remote.map((stage) => stage.map(shellQuote).join(' ')).join(' | '),
  ];
}
