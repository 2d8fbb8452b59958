import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createTRPCClient } from '@trpc/client';
import pino from 'pino';
import type { AgentRouter } from '@zfs-fleet/agent';
import { serveAgent, type TransferCommands } from '@zfs-fleet/agent/testing';
import { createStreamLink, FLEET_VERSION, FleetConfigSchema, type FleetConfig, type PeerEndpoint, type WireConfig } from '@zfs-fleet/protocol';
import type { ZfsExec } from '@zfs-fleet/zfs';
import { copySnapshots, createFakeZfs, createFakeZfsState, ZFS_FUSE_CAPABILITIES, type FakeZfs } from '@zfs-fleet/zfs/testing';
import type { AgentSession } from './connect-agent.ts';

export interface FakeFleet {
  /** Each host's fake zfs: its state, and every argv the agent ran. */
  zfs: Record<string, FakeZfs>;
  /** Opens a session to a host's agent: the real router, served in-process over in-memory pipes. */
  connect(host: string): Promise<AgentSession>;
  /** Starts a host's agent and hands back its stdio, for a test that links to it itself. */
  startAgent(host: string): AgentPipes;
  /** Every line the controller wrote to each host's agent: all an agent is ever told. */
  requests: Record<string, string[]>;
  /** Every transfer a source's agent started: what it would build the `zfs send | ssh` argv from. */
  transfers: Array<{ host: string; commands: TransferCommands; peer: PeerEndpoint; wire: WireConfig }>;
}

/** An agent's stdio as the controller sees it: its stdin and its stdout. */
export interface AgentPipes {
  toAgent: PassThrough;
  toController: PassThrough;
}

/**
 * A fleet in memory: one real agent router per host, each over a fake zfs, reached through
 * the real stream link (tRPC's localLink, for our transport). A transfer copies snapshots
 * from the source's fake zfs to the peer's as `zfs send | zfs recv` would.
 */
export function createFakeFleet(datasets: Record<string, string[]>): FakeFleet {
  const zfs: Record<string, FakeZfs> = {};
  for (const [host, names] of Object.entries(datasets)) zfs[host] = createFakeZfs(createFakeZfsState(names));
  const logger = pino({ level: 'silent' });
  const lockDirs: Record<string, string> = {};
  const requests: Record<string, string[]> = {};
  const transfers: FakeFleet['transfers'] = [];
  const startAgent = (host: string): AgentPipes => {
    const hostZfs = zfs[host];
    if (!hostZfs) throw new Error(`the fake fleet has no host "${host}"`);
    const toAgent = new PassThrough();
    const toController = new PassThrough();
    toAgent.on('data', (chunk: Buffer) => (requests[host] ??= []).push(chunk.toString('utf8')));
    void serveAgent({
      input: toAgent,
      output: toController,
      logger,
      zfs: countedPerSession(hostZfs),
      capabilities: ZFS_FUSE_CAPABILITIES,
      tools: { zstd: false, lz4: false, mbuffer: false, pv: false },
      // Entry locks of this fake host, never the machine's /run.
      lockDir: (lockDirs[host] ??= mkdtempSync(path.join(os.tmpdir(), `fleet-locks-${host}-`))),
      streamTransfer: async (transfer, commands, options) => {
        const peer = zfs[options.peer.name];
        if (!peer) throw new Error(`the fake fleet has no peer "${options.peer.name}"`);
        transfers.push({ host, commands, peer: options.peer, wire: options.wire });
        const { target, discardPool } = commands.recv;
        copySnapshots(hostZfs.state, peer.state, {
          dataset: transfer.dataset,
          ...(transfer.from ? { from: transfer.from } : {}),
          to: transfer.to!,
          recursive: transfer.recursive,
          destinationOf: (name) => (discardPool ? `${target}/${name.slice(name.indexOf('/') + 1)}` : `${target}${name.slice(transfer.dataset.length)}`),
        });
        return { bytes: 1000, durationMs: 1, compression: 'none' };
      },
    });
    return { toAgent, toController };
  };
  return {
    zfs,
    startAgent,
    requests,
    transfers,
    connect: async (host) => openSession(host, startAgent(host)),
  };
}

/** A session over an agent's stdio: the real stream link and client, and its `hello`. */
export async function openSession(host: string, { toAgent, toController }: AgentPipes): Promise<AgentSession> {
  const transport = createStreamLink<AgentRouter>({
    input: toController,
    output: toAgent,
    onProtocolError: (error) => {
      throw error;
    },
  });
  const agent = createTRPCClient<AgentRouter>({ links: [transport.link] });
  const hello = await agent.hello.query({ controllerVersion: FLEET_VERSION });
  return {
    host,
    address: `${host}.test`,
    port: 22,
    user: 'root',
    agent,
    hello,
    close: () => {
      transport.close();
      toAgent.end();
    },
  };
}

/** A validated config for the fake fleet: these sources' backups, and `backup1`, `backup2` receiving under `backup/fleet`. */
export function fakeFleetConfig(backups: Record<string, Array<{ dataset: string; to: string[]; recursive?: boolean; exclude?: string[]; rpo?: string; [setting: string]: unknown }>>): FleetConfig {
  const hosts: Record<string, unknown> = {
    backup1: { address: 'backup1.test', receive: { root: 'backup/fleet' } },
    backup2: { address: 'backup2.test', receive: { root: 'backup/fleet' } },
  };
  for (const [host, entries] of Object.entries(backups)) hosts[host] = { address: `${host}.test`, backups: entries };
  return FleetConfigSchema.parse({ ssh: { identityFile: '/nonexistent/id', knownHosts: '/nonexistent/known_hosts' }, hosts });
}

/**
 * The host's fake zfs as one agent process sees it: its own call count, as a real agent's
 * starts at 0. The host's `calls()` is asked too, so a test can make the count fail.
 */
function countedPerSession(zfs: FakeZfs): ZfsExec {
  const argv: string[][] = [];
  return {
    run: (args, options) => (argv.push([...args]), zfs.run(args, options)),
    spawn: (args, options) => zfs.spawn(args, options),
    calls() {
      zfs.calls();
      const byVerb: Record<string, number> = {};
      for (const args of argv) byVerb[args[0] ?? ''] = (byVerb[args[0] ?? ''] ?? 0) + 1;
      return { total: argv.length, byVerb };
    },
  };
}
