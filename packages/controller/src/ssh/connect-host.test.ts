import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterEach, expect, test } from 'vitest';
import { connectHost } from './connect-host.ts';

const servers: net.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A TCP server on 127.0.0.1; `onConnection` decides what it does with each connection. */
async function listen(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer(onConnection);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

async function connectOptions(key = ssh2.utils.generateKeyPairSync('ed25519').private) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'connect-host-'));
  await writeFile(path.join(dir, 'key'), key);
  return { identityFile: path.join(dir, 'key'), knownHostsFile: path.join(dir, 'known_hosts'), connectTimeoutMs: 500 };
}

test('a host that accepts TCP but never speaks SSH fails with SSH_CONNECT_FAILED naming the ssh-handshake phase, within the timeout, and the error that follows does not crash the process', async () => {
  const sockets: net.Socket[] = [];
  const port = await listen((socket) => {
    sockets.push(socket);
  });
  const startedAt = performance.now();
  const failure = connectHost({ name: 'mute', host: '127.0.0.1', port, user: 'root' }, await connectOptions());
  await expect(failure).rejects.toMatchObject({
    code: 'SSH_CONNECT_FAILED',
    message: `Cannot connect: host "mute" (root@[127.0.0.1]:${port}) accepted the TCP connection but did not complete the SSH handshake within 0.5 s (ssh.connectTimeoutMs).`,
    details: { host: 'mute', phase: 'ssh-handshake', timeoutMs: 500 },
  });
  expect(performance.now() - startedAt).toBeLessThan(2_000);
  // ssh2 then reports the socket it destroyed as a second error ("Connection lost before
  // handshake"); with no listener left that was an uncaught exception that ended the run.
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
});

test('a server that hangs up after its greeting is SSH_CONNECT_FAILED, not an uncaught error', async () => {
  const port = await listen((socket) => {
    socket.end('SSH-2.0-OpenSSH_9.2\r\n');
  });
  await expect(connectHost({ name: 'rude', host: '127.0.0.1', port, user: 'root' }, await connectOptions())).rejects.toMatchObject({ code: 'SSH_CONNECT_FAILED' });
  await new Promise((resolve) => setTimeout(resolve, 200));
});

test('an identity file that is not a usable private key is SSH_AUTH_FAILED naming the file, before any connection', async () => {
  const options = await connectOptions('not a key\n');
  await expect(connectHost({ name: 'any', host: '127.0.0.1', port: 9, user: 'root' }, options)).rejects.toMatchObject({
    code: 'SSH_AUTH_FAILED',
    message: expect.stringContaining(`The SSH identity file "${options.identityFile}" is not a private key zfs-fleet can use`),
  });
});
