import type { Readable, Writable } from 'node:stream';
import type { WireTools, ZfsCapabilities } from '@zfs-fleet/protocol';
import { serveStream } from '@zfs-fleet/protocol';
import { createZfsExec, probeCapabilities, type ZfsExec } from '@zfs-fleet/zfs';
import type pino from 'pino';
import type { AgentContext } from './context.ts';
import { createEntryLocks } from './locks/entry-locks.ts';
import { agentRouter } from './router.ts';
import { streamTransfer } from './transfer/stream-transfer.ts';
import { findWireTools } from './wire.ts';

export interface ServeAgentOptions {
  input: Readable;
  output: Writable;
  logger: pino.Logger;
  /** Stand-ins for tests that serve the router in-process: a fake zfs, fixed capabilities and tools, transfers that run no processes. */
  zfs?: ZfsExec;
  capabilities?: ZfsCapabilities;
  tools?: WireTools;
  streamTransfer?: AgentContext['streamTransfer'];
  /** Where entry locks live; tests give each host a directory of its own. */
  lockDir?: string;
}

const SIGNALS = ['SIGTERM', 'SIGHUP', 'SIGINT'] as const;

/** Serves the agent router over a byte stream until the input ends (the controller hung up). */
export async function serveAgent(options: ServeAgentOptions): Promise<void> {
  const zfs = options.zfs ?? createZfsExec({ logger: options.logger });
  let probed: Promise<ZfsCapabilities> | undefined = options.capabilities ? Promise.resolve(options.capabilities) : undefined;
  let tools: Promise<WireTools> | undefined = options.tools ? Promise.resolve(options.tools) : undefined;
  const context: AgentContext = {
    logger: options.logger,
    zfs,
    // Probed once per process, on first use: a constant cost whatever the run does.
    capabilities: () => (probed ??= probeCapabilities(zfs)),
    tools: () => (tools ??= findWireTools()),
    streamTransfer: options.streamTransfer ?? streamTransfer,
    locks: createEntryLocks(options.lockDir ? { dir: options.lockDir } : {}),
  };
  // Entry locks go with the agent on every way out: the controller hanging up, exit, signals.
  const releaseLocks = () => context.locks.releaseAllSync();
  const onSignal = (signal: NodeJS.Signals) => {
    releaseLocks();
    process.kill(process.pid, signal);
  };
  process.once('exit', releaseLocks);
  for (const signal of SIGNALS) process.once(signal, onSignal);
  try {
    await serveStream({ router: agentRouter, createContext: () => context, input: options.input, output: options.output, logger: options.logger });
  } finally {
    releaseLocks();
    // Served in-process (tests, the simulated fleet), many agents come and go in one process.
    process.off('exit', releaseLocks);
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}
