import type { Readable, Writable } from 'node:stream';
import { createTRPCClient, type TRPCClient } from '@trpc/client';
import type pino from 'pino';
import type { AgentRouter } from '@zfs-fleet/agent';
import { createStreamLink, FLEET_VERSION, FleetError, toFleetErrorFromClient, type HelloOutput, type StreamLink } from '@zfs-fleet/protocol';

/** Options of {@link shakeHands}: one agent's stdio, and how long it has to answer. */
export interface ShakeHandsOptions {
  /** The host's name in the config, for messages. */
  host: string;
  /** The agent's stdout. */
  input: Readable;
  /** The agent's stdin. */
  output: Writable;
  /** Resolves when the channel closes, whether or not its stdout ended. */
  closed?: Promise<void>;
  /** How long the agent has to answer `hello` (the config's `ssh.handshakeTimeout`). */
  timeoutMs: number;
  logger: pino.Logger;
  /** A longer line from the agent closes the link; the transport's default when absent. */
  maxLineBytes?: number;
}

/** A client past the handshake: its link, and what the agent said. */
export interface Handshake {
  agent: TRPCClient<AgentRouter>;
  hello: HelloOutput;
  transport: StreamLink<AgentRouter>;
}

/** Lines that are not frames are logged this many times per agent, then only counted. */
const LOGGED_PROTOCOL_ERRORS = 5;

/**
 * Opens the tRPC link over an agent's stdio and asks `hello`. Fails with the link's own error
 * when the channel closes (SSH_CHANNEL_CLOSED) or the agent breaks the protocol, else after
 * `timeoutMs` of no answer:
 * TIMEOUT, or AGENT_PROTOCOL when all it sent meanwhile was lines that are not frames. On any
 * failure the link is closed, so a hostile agent's output is no longer read.
 */
export async function shakeHands(options: ShakeHandsOptions): Promise<Handshake> {
  const { host, timeoutMs, logger } = options;
  let firstStrayLine: FleetError | undefined;
  let strayLines = 0;
  const transport = createStreamLink<AgentRouter>({
    input: options.input,
    output: options.output,
    ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
    onProtocolError: (error) => {
      // A flood of garbage is counted, not logged line by line.
      strayLines += 1;
      firstStrayLine ??= error;
      if (strayLines <= LOGGED_PROTOCOL_ERRORS) logger.error({ err: error }, 'agent sent something that is not a protocol frame');
      if (strayLines === LOGGED_PROTOCOL_ERRORS) logger.error('further lines from this agent that are not frames are not logged');
    },
  });
  // However the channel ends (with an exit status or without), no call waits on it.
  void options.closed?.then(() => transport.close('the channel closed'));
  const agent = createTRPCClient<AgentRouter>({ links: [transport.link] });
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  try {
    const hello = await agent.hello.query({ controllerVersion: FLEET_VERSION }, { signal: timeout.signal });
    return { agent, hello, transport };
  } catch (error) {
    transport.close();
    if (!timeout.signal.aborted) throw toFleetErrorFromClient(error);
    throw handshakeTimeout(host, timeoutMs, firstStrayLine);
  } finally {
    clearTimeout(timer);
  }
}

function handshakeTimeout(host: string, timeoutMs: number, firstStrayLine: FleetError | undefined): FleetError {
  const within = `within ${formatSeconds(timeoutMs)} (ssh.handshakeTimeout)`;
  const details = { host, phase: 'handshake', timeoutMs };
  if (firstStrayLine) {
    return new FleetError('AGENT_PROTOCOL', `The agent on host "${host}" did not answer the handshake ${within}; what it sent was not protocol frames: ${firstStrayLine.message}`, {
      hint: firstStrayLine.hint,
      details,
      cause: firstStrayLine,
    });
  }
  return new FleetError('TIMEOUT', `The agent on host "${host}" did not answer the handshake ${within}.`, {
    hint: 'Run the agent command by hand on that host to see what it does; a slow host may need a longer ssh.handshakeTimeout.',
    details,
  });
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
