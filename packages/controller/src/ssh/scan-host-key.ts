import ssh2 from 'ssh2';
import { FleetError } from '@zfs-fleet/protocol';
import type { HostEndpoint } from './connect-host.ts';

const { Client } = ssh2;

/**
 * The host key a host presents, like `ssh-keyscan`: the key exchange runs, the key is
 * recorded, and the connection is dropped before authenticating, so nothing is sent to a
 * host not yet trusted. ssh2 negotiates the same key type here as in `connectHost`.
 */
export async function scanHostKey(endpoint: HostEndpoint, options: { connectTimeoutMs: number }): Promise<Buffer> {
  const client = new Client();
  let hostKey: Buffer | undefined;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      // `on`, not `once`: ssh2 may emit a second error, which with no listener would kill the process.
      client.on('error', (error: Error) => {
        if (hostKey) resolve(hostKey);
        else {
          reject(
            new FleetError('SSH_CONNECT_FAILED', `Cannot connect to host "${endpoint.name}" (${endpoint.host} port ${endpoint.port}): ${error.message}.`, {
              hint: 'Check that the host is up, the address and port in the config are right, and sshd is running.',
              details: { host: endpoint.name },
              cause: error,
            }),
          );
        }
      });
      // Only reached if a server skipped the verifier's verdict; we have the key either way.
      client.once('ready', () => (hostKey ? resolve(hostKey) : reject(new FleetError('INTERNAL', `Host "${endpoint.name}" presented no host key.`))));
      client.connect({
        host: endpoint.host,
        port: endpoint.port,
        username: endpoint.user,
        readyTimeout: options.connectTimeoutMs,
        hostVerifier: (key: Buffer) => {
          hostKey = Buffer.from(key);
          return false;
        },
      });
    });
  } finally {
    client.end();
  }
}
