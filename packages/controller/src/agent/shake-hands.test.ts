import { PassThrough } from 'node:stream';
import pino from 'pino';
import { describe, expect, test } from 'vitest';
import { FLEET_VERSION, FleetError } from '@zfs-fleet/protocol';
import { runBackup } from '../backup/run-backup.ts';
import type { AgentSession } from './connect-agent.ts';
import { createFakeFleet, fakeFleetConfig, type AgentPipes } from './fake-fleet.fixture.ts';
import { shakeHands, type ShakeHandsOptions } from './shake-hands.ts';

const silent = pino({ level: 'silent' });

/** An "agent" that reads the controller's frames and does whatever `behave` says instead of answering. */
function hostileAgent(behave: (toController: PassThrough) => void): AgentPipes {
  const toAgent = new PassThrough();
  const toController = new PassThrough();
  toAgent.resume();
  behave(toController);
  return { toAgent, toController };
}

function handshake(pipes: AgentPipes, options: Partial<ShakeHandsOptions> = {}) {
  return shakeHands({ host: 'evil', input: pipes.toController, output: pipes.toAgent, timeoutMs: 200, logger: silent, ...options });
}

async function failure(promise: Promise<unknown>): Promise<{ error: FleetError; afterMs: number }> {
  const startedAt = performance.now();
  const error = await promise.then(
    () => expect.fail('expected the handshake to fail'),
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(FleetError);
  return { error: error as FleetError, afterMs: performance.now() - startedAt };
}

describe('shakeHands', () => {
  test('a real agent answers with its version', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'] });
    const { hello, transport } = await handshake(fleet.startAgent('src1'), { host: 'src1' });
    expect(hello.agentVersion).toBe(FLEET_VERSION);
    transport.close();
  });

  test('an agent that never answers fails with TIMEOUT naming the host, the phase and the setting, within the timeout', async () => {
    const { error, afterMs } = await failure(handshake(hostileAgent(() => {})));
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toBe('The agent on host "evil" did not answer the handshake within 0.2 s (ssh.handshakeTimeout).');
    expect(error.details).toEqual({ host: 'evil', phase: 'handshake', timeoutMs: 200 });
    expect(afterMs).toBeLessThan(2_000);
  });

  test('an agent that only answers other ids fails with TIMEOUT: a forged frame never passes for the answer', async () => {
    const agent = hostileAgent((out) => {
      for (let id = 2; id < 1000; id += 1) out.write(`{"id":${id},"result":{"data":{"agentVersion":"${FLEET_VERSION}"}}}\n`);
      out.write('{"id":"1","result":{"data":{}}}\n');
    });
    expect((await failure(handshake(agent))).error.code).toBe('TIMEOUT');
  });

  test('an agent that writes garbage fails with AGENT_PROTOCOL quoting its first line, and its flood is logged five times, not ten thousand', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const agent = hostileAgent((out) => {
      out.write('\u0000\u00ff\u001b[2Jgarbage\n');
      for (let i = 0; i < 10_000; i += 1) out.write(`noise ${i}\n`);
    });
    const { error } = await failure(handshake(agent, { logger }));
    expect(error.code).toBe('AGENT_PROTOCOL');
    expect(error.message).toBe('The agent on host "evil" did not answer the handshake within 0.2 s (ssh.handshakeTimeout); what it sent was not protocol frames: The agent printed a line that is not a protocol frame: "\\u0000ÿ\\u001b[2Jgarbage".');
    expect(error.hint).toMatch(/rc file/);
    expect(lines).toHaveLength(6);
  });

  test('an agent that sends a 64 MiB line without a newline fails with AGENT_PROTOCOL as soon as it passes the limit, long before the timeout', async () => {
    const agent = hostileAgent((out) => {
      const mib = Buffer.alloc(1024 * 1024, 0x7b);
      for (let i = 0; i < 64; i += 1) out.write(mib);
    });
    const { error, afterMs } = await failure(handshake(agent, { timeoutMs: 60_000 }));
    expect(error.code).toBe('AGENT_PROTOCOL');
    expect(error.message).toMatch(/^The link to the agent closed because it sent a line longer than 16777216 bytes/);
    expect(afterMs).toBeLessThan(30_000);
  });

  test('a channel that closes before the answer fails with SSH_CHANNEL_CLOSED at once', async () => {
    let close!: () => void;
    const closed = new Promise<void>((resolve) => {
      close = resolve;
    });
    const pending = handshake(
      hostileAgent(() => {}),
      { closed, timeoutMs: 60_000 },
    );
    close();
    const { error, afterMs } = await failure(pending);
    expect(error.code).toBe('SSH_CHANNEL_CLOSED');
    expect(afterMs).toBeLessThan(1_000);
  });

  test('a hostile agent on one host fails that host alone: the other source is backed up in the same run, and the next run backs up both', async () => {
    const fleet = createFakeFleet({ src1: ['tank/a'], evil: ['tank/b'], backup1: ['backup'] });
    const config = fakeFleetConfig({ src1: [{ dataset: 'tank/a', to: ['backup1'] }], evil: [{ dataset: 'tank/b', to: ['backup1'] }] });
    const connect = async (host: string): Promise<AgentSession> => {
      if (host !== 'evil') return fleet.connect(host);
      const { agent, hello, transport } = await handshake(hostileAgent((out) => out.write('Welcome!\n')));
      return { host, address: 'evil.test', port: 22, user: 'root', agent, hello, close: () => transport.close() };
    };
    const startedAt = performance.now();
    const report = await runBackup(config, { hosts: ['src1', 'evil'], dryRun: false, noSnapshot: false, forceFull: false, force: false, now: () => new Date('2026-11-01T03:30:00Z'), connect }, silent);
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    expect(report.units.map((unit) => `${unit.host}:${unit.status}:${unit.error?.code ?? ''}`).sort()).toEqual(['evil:failed:AGENT_PROTOCOL', 'src1:ok:']);
    expect(report.hosts.find((host) => host.host === 'evil')?.error?.details).toEqual({ host: 'evil', phase: 'handshake', timeoutMs: 200 });
    expect(fleet.zfs.backup1!.state.datasets.has('backup/fleet/src1/tank/a')).toBe(true);
    expect(fleet.zfs.evil!.argv).toEqual([]);
    // Once the host's agent behaves, the next run backs it up from nothing, and src1 incrementally.
    const next = await runBackup(config, { hosts: ['src1', 'evil'], dryRun: false, noSnapshot: false, forceFull: false, force: false, now: () => new Date('2026-11-02T03:30:00Z'), connect: fleet.connect }, silent);
    expect(next.units.map((unit) => `${unit.host}:${unit.status}:${unit.steps?.map((step) => step.action).join(',')}`).sort()).toEqual(['evil:ok:full', 'src1:ok:incremental']);
  });
});
