import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { ClientChannel, Client as SshClient } from 'ssh2';
import { FleetError } from '@zfs-fleet/protocol';
import { checkHostKey, keyTypeOf, knownHostName, parseKnownHosts, type HostKeyVerdict } from './known-hosts.ts';

const { Client } = ssh2;

export interface HostEndpoint {
  /** The host's name in the fleet config, for messages. */
  name: string;
  host: string;
  port: number;
  user: string;
}

export interface ConnectOptions {
  identityFile: string;
  knownHostsFile: string;
  connectTimeoutMs: number;
  /** Accept an unknown (never a changed) host key and report it: for `fleet hosts trust`. */
  acceptUnknownHostKey?: boolean;
}

/** A remote command's channel, with its ending already being watched. */
export type ExecChannel = ClientChannel & {
  /** The exit status, or undefined when the channel closed without one (killed by a signal). */
  exitStatus: Promise<number | undefined>;
  /** Not `closed`: streams have a boolean of that name. */
  whenClosed: Promise<void>;
};

export interface SshConnection {
  endpoint: HostEndpoint;
  client: SshClient;
  /** The host key the server presented, as a wire blob. */
  hostKey: Buffer;
  /** Runs a command; its stdio is the returned channel. */
  exec(command: string): Promise<ExecChannel>;
  close(): void;
}

/** Splits `host`, `host:port` or `[v6]:port` into host and port. */
export function parseAddress(address: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
  const [host, port] = address.split(':');
  return { host: host!, port: port ? Number(port) : defaultPort };
}

/**
 * Opens an SSH connection with key authentication and strict host key checking against
 * the configured known_hosts file: an unknown or changed key refuses the connection.
 */
export async function connectHost(endpoint: HostEndpoint, options: ConnectOptions): Promise<SshConnection> {
  const [privateKey, knownHostsText] = await Promise.all([
    readFile(options.identityFile).catch((cause: unknown) => {
      throw new FleetError('SSH_AUTH_FAILED', `Cannot read the SSH identity file "${options.identityFile}".`, {
        hint: 'Set ssh.identityFile in the config to a readable private key.',
        cause,
      });
    }),
    readFile(options.knownHostsFile, 'utf8').catch(() => ''),
  ]);
  const knownHosts = parseKnownHosts(knownHostsText);
  const knownName = knownHostName(endpoint.host, endpoint.port);
  let verdict: HostKeyVerdict | undefined;
  let hostKey: Buffer = Buffer.alloc(0);

  const client = new Client();
  // Which phase a timeout cut: the TCP connect, or the SSH handshake after it (a host that accepts and never speaks).
  let tcpConnected = false;
  client.once('connect', () => {
    tcpConnected = true;
  });
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    // `on`, not `once`: ssh2 can emit a second error (a timeout, then "Connection lost before
    // handshake"; a reset after ready), and an 'error' nobody listens to kills the whole run.
    // After the first the promise is settled: a connection that breaks later fails its channels.
    client.on('error', (error: Error & { level?: string }) => reject(describeConnectError(error, endpoint, verdict, hostKey, { ...options, tcpConnected })));
    // A server that hangs up in the middle of the handshake may close without an error: that too is an answer.
    client.once('close', () => reject(describeConnectError(Object.assign(new Error('the server closed the connection during the SSH handshake'), { level: 'client-socket' }), endpoint, verdict, hostKey, { ...options, tcpConnected })));
    const settings: ssh2.ConnectConfig = {
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      privateKey,
      readyTimeout: options.connectTimeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      hostVerifier: (key: Buffer) => {
        hostKey = key;
        verdict = checkHostKey(knownHosts, knownName, key);
        return verdict.kind === 'known' || (verdict.kind === 'unknown' && options.acceptUnknownHostKey === true);
      },
    };
    try {
      client.connect(settings);
    } catch (error) {
      // ssh2 throws at once for a key it cannot parse (not a key, a passphrase it was not given).
      reject(
        new FleetError('SSH_AUTH_FAILED', `The SSH identity file "${options.identityFile}" is not a private key zfs-fleet can use: ${(error as Error).message}.`, {
          hint: 'Set ssh.identityFile to an unencrypted OpenSSH private key (zfs-fleet takes no passphrase), e.g. one from `ssh-keygen -t ed25519 -N ""`.',
          cause: error,
        }),
      );
    }
  });

  return {
    endpoint,
    client,
    hostKey,
    exec: (command) =>
      new Promise((resolve, reject) => {
        client.exec(command, (error, channel) => {
          if (error) {
            reject(new FleetError('SSH_CONNECT_FAILED', `Cannot start "${command}" on host "${endpoint.name}": ${error.message}`, { cause: error }));
            return;
          }
          // Listen here, in the callback: a command that fails at once can have its exit status
          // and close parsed from the same packet, before any caller's await resumes.
          const exitStatus = new Promise<number | undefined>((settle) => channel.once('exit', (code: number | null) => settle(code ?? undefined)));
          const closed = new Promise<void>((settle) => channel.once('close', () => settle()));
          resolve(Object.assign(channel, { exitStatus, whenClosed: closed }));
        });
      }),
    close: () => client.end(),
  };
}

function describeConnectError(error: Error & { level?: string }, endpoint: HostEndpoint, verdict: HostKeyVerdict | undefined, hostKey: Buffer, options: ConnectOptions & { tcpConnected: boolean }): FleetError {
  const where = `host "${endpoint.name}" (${endpoint.user}@${knownHostName(endpoint.host, endpoint.port)})`;
  if (error.level === 'client-timeout') {
    const within = `within ${options.connectTimeoutMs / 1000} s (ssh.connectTimeoutMs)`;
    const [phase, what] = options.tcpConnected ? ['ssh-handshake', `${where} accepted the TCP connection but did not complete the SSH handshake ${within}`] : ['tcp-connect', `${where} did not accept a TCP connection ${within}`];
    return new FleetError('SSH_CONNECT_FAILED', `Cannot connect: ${what}.`, {
      hint: options.tcpConnected
        ? 'Something listens at that address and port but is not a working sshd (or is overloaded): check the port in the config and sshd on the host.'
        : 'Check that the host is up, the address and port in the config are right, and no firewall drops the connection.',
      details: { host: endpoint.name, phase, timeoutMs: options.connectTimeoutMs },
      cause: error,
    });
  }
  const keyType = hostKey.length > 0 ? `${keyTypeOf(hostKey)} ` : '';
  if (verdict?.kind === 'unknown' && !options.acceptUnknownHostKey) {
    return new FleetError('SSH_HOST_KEY_UNKNOWN', `The host key of ${where} is not in "${options.knownHostsFile}"; it presented ${keyType}${verdict.seen}.`, {
      hint: `If that fingerprint is right, run \`fleet hosts trust ${endpoint.name}\`.`,
      details: { host: endpoint.name, seen: verdict.seen },
      cause: error,
    });
  }
  if (verdict?.kind === 'changed') {
    return new FleetError('SSH_HOST_KEY_CHANGED', `The host key of ${where} changed: it presented ${keyType}${verdict.seen}, "${options.knownHostsFile}" expects ${verdict.expected.join(' or ')}.`, {
      hint: `Someone may be intercepting the connection. If the host was reinstalled, check its new fingerprint and run \`fleet hosts trust ${endpoint.name} --replace\`.`,
      details: { host: endpoint.name, seen: verdict.seen, expected: verdict.expected },
      cause: error,
    });
  }
  if (error.level === 'client-authentication') {
    return new FleetError('SSH_AUTH_FAILED', `${where} refused the key "${options.identityFile}".`, {
      hint: `Add the public key to ~${endpoint.user}/.ssh/authorized_keys on "${endpoint.name}".`,
      cause: error,
    });
  }
  return new FleetError('SSH_CONNECT_FAILED', `Cannot connect to ${where}: ${error.message}.`, {
    hint: 'Check that the host is up, the address and port in the config are right, and sshd is running.',
    details: { host: endpoint.name },
    cause: error,
  });
}
