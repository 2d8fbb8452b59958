import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildPeerSshArgs, receiveCommandStages } from '@zfs-fleet/agent/testing';
import { FleetConfigSchema, toFleetError, type FleetConfig } from '@zfs-fleet/protocol';
import { connectAgent } from '../agent/connect-agent.ts';
import { createFakeFleet, type FakeFleet } from '../agent/fake-fleet.fixture.ts';
import { formatRunReport } from '../output/print-run-report.ts';
import { runAndRecord } from './run-and-record.ts';

/**
 * The controller's one secret is the private key at ssh.identityFile (zfs-fleet has no password
 * or passphrase setting). Here the real code reads it and logs in with it: connectHost and ssh2
 * against an in-process sshd on 127.0.0.1 whose `exec` is the real agent router over a fake zfs.
 * Then every output the run produced in-process is searched for the key's material.
 */

const { Server, utils } = ssh2;
const clientKey = utils.generateKeyPairSync('ed25519');
const hostKey = utils.generateKeyPairSync('ed25519');

/** The ways a key's bytes get written out: as text, base64, hex, or a Buffer through JSON. */
function encodings(bytes: Buffer): string[] {
  return [bytes.toString('utf8'), bytes.toString('base64'), bytes.toString('hex'), JSON.stringify(bytes)];
}

/**
 * The key's secret material in every form a leak could take: its base64 lines, and the private
 * part of its bytes, of the file and of the decoded key, in each encoding (cut to start on a
 * whole base64 group, and short enough to lie inside the secret part).
 */
function secretForms(privateKey: string): string[] {
  const body = privateKey.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
  const decoded = Buffer.from(body.join(''), 'base64');
  const file = Buffer.from(privateKey, 'utf8');
  // The first bytes of an OpenSSH key are its header and public key; the private key comes last.
  const tailOf = (bytes: Buffer, fromEnd: number) => bytes.subarray(Math.floor((bytes.length - fromEnd) / 3) * 3).subarray(0, 48);
  const tails = [tailOf(decoded, 96), tailOf(file, 120)];
  // `{"type":"Buffer","data":[` is 25 characters.
  return [...body.slice(1), ...tails.flatMap((tail) => [tail.toString('base64').slice(0, 40), tail.toString('hex').slice(0, 40), JSON.stringify(tail).slice(25, 80)])];
}

interface Sshd {
  port: number;
  /** Every command line a client asked the server to run. */
  commands: string[];
  close(): Promise<void>;
}

/** An sshd that lets user U run the fake fleet's agent of host U, and refuses user `refused`. */
function startSshd(fleet: FakeFleet): Promise<Sshd> {
  const commands: string[] = [];
  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    let host = '';
    client.on('authentication', (context) => {
      host = context.username;
      if (context.method === 'publickey' && host !== 'refused') context.accept();
      else context.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        acceptSession().on('exec', (accept, _reject, info) => {
          commands.push(info.command);
          const channel = accept();
          const { toAgent, toController } = fleet.startAgent(host);
          channel.pipe(toAgent);
          toController.pipe(channel);
        });
      });
    });
    client.on('error', () => {});
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ port: (server.address() as AddressInfo).port, commands, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

describe('secrets', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-secrets-'));
  const fleet = createFakeFleet({ src1: ['tank/a/b'], backup1: ['backup'] });
  const logLines: string[] = [];
  const logger = pino({ level: 'debug', redact: ['*.privateKey', '*.passphrase'] }, { write: (line: string) => logLines.push(line) });
  let sshd: Sshd;
  let config: FleetConfig;

  beforeAll(async () => {
    sshd = await startSshd(fleet);
    writeFileSync(path.join(dir, 'id_ed25519'), clientKey.private, { mode: 0o600 });
    writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${sshd.port} ${hostKey.public}\n`);
    const address = `127.0.0.1:${sshd.port}`;
    config = FleetConfigSchema.parse({
      ssh: { identityFile: path.join(dir, 'id_ed25519'), knownHosts: path.join(dir, 'known_hosts') },
      stateDir: path.join(dir, 'state'),
      hosts: {
        src1: { address, user: 'src1', backups: [{ dataset: 'tank/a', recursive: true, to: ['backup1'] }] },
        backup1: { address, user: 'backup1', receive: { root: 'backup/fleet' } },
        refused: { address, user: 'refused' },
      },
    });
  });
  afterAll(async () => {
    await sshd.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the forms searched for are really in the key file, so a leak would be found', () => {
    const keyFile = readFileSync(path.join(dir, 'id_ed25519'));
    const decoded = Buffer.from(
      keyFile
        .toString('utf8')
        .split('\n')
        .filter((line) => !line.startsWith('-----'))
        .join(''),
      'base64',
    );
    const written = [...encodings(keyFile), ...encodings(decoded)].join('\n');
    const forms = secretForms(clientKey.private);
    expect(forms.length).toBeGreaterThanOrEqual(9);
    for (const form of forms) expect(form.length >= 30 && written.includes(form)).toBe(true);
  });

  test("a backup over SSH with the key leaves its material in no log line, report, journal, metric, agent frame, remote command or child's argv", async () => {
    const { report, recorded } = await runAndRecord(config, { hosts: ['src1'], dryRun: false, noSnapshot: false, forceFull: false, force: false, now: () => new Date('2026-11-01T03:30:00Z') }, 'backup', logger);
    expect(report.ok).toBe(true);
    expect(recorded).toBe(true);
    expect(fleet.zfs.backup1!.state.datasets.has('backup/fleet/src1/tank/a/b')).toBe(true);
    expect(sshd.commands).toEqual(['/opt/zfs-fleet/bin/fleet-agent serve --stdio --log-level debug', '/opt/zfs-fleet/bin/fleet-agent serve --stdio --log-level debug']);
    expect(fleet.transfers).toHaveLength(1);

    const stateDir = path.join(dir, 'state');
    const outputs = {
      log: logLines.join(''),
      json: JSON.stringify(report, null, 2),
      human: formatRunReport(report, { colour: false }),
      state: readdirSync(stateDir, { recursive: true, encoding: 'utf8' }).map((file) => {
        try {
          return readFileSync(path.join(stateDir, file), 'utf8');
        } catch {
          return ''; // a folder
        }
      }),
      frames: Object.values(fleet.requests).flat().join(''),
      remoteCommands: sshd.commands.join('\n'),
      argv: fleet.transfers.map(({ commands, peer, wire }) =>
        JSON.stringify([
          ['zfs', ...commands.send],
          ['ssh', ...buildPeerSshArgs(peer, wire, receiveCommandStages({ recv: commands.recv }))],
        ]),
      ),
    };
    // The search finds what the run did write: it is looking at the right outputs.
    expect(outputs.log).toContain('agent connected');
    expect(outputs.state.join('')).toContain('tank/a');
    expect(outputs.frames).toContain('"path":"replicate"');
    expect(outputs.argv.join('')).toContain('backup/fleet/src1');
    for (const [where, text] of Object.entries(outputs)) {
      for (const secret of secretForms(clientKey.private)) expect({ where, leaked: String(text).includes(secret) }).toEqual({ where, leaked: false });
    }
  });

  test('a host that refuses the key fails with SSH_AUTH_FAILED, whose message, shape and log name the key file and hold none of it', async () => {
    const error = toFleetError(
      await connectAgent(config, 'refused', logger).then(
        () => expect.fail('expected the login to be refused'),
        (thrown: unknown) => thrown,
      ),
    );
    expect(error.code).toBe('SSH_AUTH_FAILED');
    expect(error.message).toContain(path.join(dir, 'id_ed25519'));
    const text = [error.message, error.hint, JSON.stringify(error.toShape()), String(error.stack), String((error.cause as Error | undefined)?.message), logLines.join('')].join('\n');
    for (const secret of secretForms(clientKey.private)) expect(text.includes(secret)).toBe(false);
  });
});
