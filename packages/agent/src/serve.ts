import type { Readable, Writable } from 'node:stream';
import type { WireTools, ZfsCapabilities } from '@zfs-fleet/protocol';
import { serveStream } from '@zfs-fleet/protocol';
import { createZfsExec, probeCapabilities } from '@zfs-fleet/zfs';
import type pino from 'pino';
import type { AgentContext } from './context.ts';
import { agentRouter } from './router.ts';
import { findWireTools } from './wire.ts';

/** Serves the agent router over a byte stream until the input ends (the controller hung up). */
export async function serveAgent(options: { input: Readable; output: Writable; logger: pino.Logger }): Promise<void> {
  const zfs = createZfsExec({ logger: options.logger });
  let probed: Promise<ZfsCapabilities> | undefined;
  let tools: Promise<WireTools> | undefined;
  const context: AgentContext = {
    logger: options.logger,
    zfs,
    // Probed once per process, on first use: a constant cost whatever the run does.
    capabilities: () => (probed ??= probeCapabilities(zfs)),
    tools: () => (tools ??= findWireTools()),
  };
  await serveStream({ router: agentRouter, createContext: () => context, input: options.input, output: options.output, logger: options.logger });
}
