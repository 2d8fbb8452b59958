import { setTimeout } from 'node:timers/promises';
import type { TRPCClient } from '@trpc/client';
import type pino from 'pino';
import type { AgentRouter } from '@zfs-fleet/agent';
import { FLEET_VERSION, FleetError, toFleetError, type FleetConfig, type HelloOutput } from '@zfs-fleet/protocol';
import { connectHost, type SshConnection } from '../ssh/connect-host.ts';
import { connectOptions, hostEndpoint } from '../ssh/host-endpoint.ts';
import { installAgent } from './install-agent.ts';
import { shakeHands, type Handshake } from './shake-hands.ts';

export { hostEndpoint } from '../ssh/host-endpoint.ts';

export type AgentClient = TRPCClient<AgentRouter>;

/** A live agent on one host: its typed client, what it said in the handshake, and how to hang up. */
export interface AgentSession {
  host: string;
  address: string;
  port: number;
  user: string;
  agent: AgentClient;
  hello: HelloOutput;
  /** What opening it took: the SSH connection, then the agent's start and `hello` (absent in-process). */
  timings?: { connectMs: number; handshakeMs: number };
  close(): void;
}

export interface ConnectAgentOptions {
  /** On AGENT_NOT_FOUND or AGENT_VERSION_MISMATCH, install this controller's agent and try once more (`--auto-install`). */
  autoInstall?: boolean;
}

/**
 * Connects to a host over SSH, starts `fleet-agent serve --stdio` there and shakes hands:
 * a missing agent or a version mismatch fails here, before anything else is asked of the
 * agent, unless `autoInstall` installs the matching agent and retries once.
 */
export async function connectAgent(config: FleetConfig, host: string, logger: pino.Logger, options: ConnectAgentOptions = {}): Promise<AgentSession> {
  try {
    return await openAgentSession(config, host, logger);
  } catch (error) {
    if (!options.autoInstall || !(error instanceof FleetError) || (error.code !== 'AGENT_NOT_FOUND' && error.code !== 'AGENT_VERSION_MISMATCH')) throw error;
    logger.warn({ host, reason: error.code }, 'installing the agent (--auto-install)');
    await installAgent(config, host, logger);
    return openAgentSession(config, host, logger);
  }
}

async function openAgentSession(config: FleetConfig, host: string, logger: pino.Logger): Promise<AgentSession> {
  const endpoint = hostEndpoint(config, host);
  const log = logger.child({ host });
  const startedAt = performance.now();
  const connection: SshConnection = await connectHost(endpoint, connectOptions(config));
  const connectedAt = performance.now();
  // At debug the agent logs every zfs argv (raw -w, resumable -s...): its lines come back here.
  const command = `${(config.hosts[host]?.agent ?? config.agent).command} serve --stdio${logger.isLevelEnabled('debug') ? ' --log-level debug' : ''}`;
  let stderrTail = '';
  try {
    const channel = await connection.exec(command);
    // stdout and stderr share one SSH window: unread stderr would stall the frames.
    channel.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderrTail = (stderrTail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim() !== '') log.debug({ agentLog: parseAgentLine(line) }, 'agent stderr');
    });
    let handshake: Handshake;
    try {
      handshake = await shakeHands({ host, input: channel.stdout, output: channel, closed: channel.whenClosed, timeoutMs: config.ssh.handshakeTimeout, logger: log });
    } catch (error) {
      const fleetError = toFleetError(error);
      if (fleetError.code === 'SSH_CHANNEL_CLOSED') {
        // The exit status may trail the close, or never come: wait for it briefly.
        const code = await Promise.race([channel.exitStatus, setTimeout(2_000, undefined, { ref: false })]);
        throw await describeAgentStartFailure(host, command, code, stderrTail);
      }
      if (fleetError.code === 'AGENT_VERSION_MISMATCH') throw versionMismatch(host, fleetError.details?.['agentVersion'], fleetError);
      throw fleetError;
    }
    const { agent, hello, transport } = handshake;
    // An agent that did not check the version itself is held to it here.
    if (hello.agentVersion !== FLEET_VERSION) throw versionMismatch(host, hello.agentVersion);
    const timings = { connectMs: Math.round(connectedAt - startedAt), handshakeMs: Math.round(performance.now() - connectedAt) };
    log.debug({ agentVersion: hello.agentVersion, zfs: hello.zfs.version, ...timings }, 'agent connected');
    return {
      host,
      address: endpoint.host,
      port: endpoint.port,
      user: endpoint.user,
      agent,
      hello,
      timings,
      close: () => {
        transport.close();
        channel.end();
        connection.close();
      },
    };
  } catch (error) {
    connection.close();
    throw error;
  }
}

function versionMismatch(host: string, agentVersion: unknown, cause?: unknown): FleetError {
  const version = typeof agentVersion === 'string' ? agentVersion : 'unknown';
  return new FleetError('AGENT_VERSION_MISMATCH', `The agent on host "${host}" is ${version === 'unknown' ? 'of another version' : `version ${version}`}; this controller is version ${FLEET_VERSION}.`, {
    hint: `Run \`fleet agent install ${host}\` (or pass --auto-install).`,
    details: { host, agentVersion: version, controllerVersion: FLEET_VERSION },
    cause,
  });
}

async function describeAgentStartFailure(host: string, command: string, exitCode: number | undefined, stderr: string): Promise<FleetError> {
  if (exitCode === 127 || /not found|No such file/.test(stderr)) {
    return new FleetError('AGENT_NOT_FOUND', `The agent command "${command}" was not found on host "${host}".`, {
      hint: `Run \`fleet agent install ${host}\` (or pass --auto-install), or set agent.command in the config.`,
      details: { host, stderr: stderr.trim() },
    });
  }
  return new FleetError('AGENT_PROTOCOL', `The agent on host "${host}" exited (code ${exitCode ?? 'unknown'}) before answering: ${stderr.trim().split('\n').slice(-3).join(' ') || 'no output'}.`, {
    hint: 'Run the agent command by hand on that host to see why it fails.',
    details: { stderr: stderr.trim() },
  });
}

/** The agent logs JSON lines (pino): keep them structured in the controller's log. */
function parseAgentLine(line: string): unknown {
  if (!line.startsWith('{')) return line;
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return line;
  }
}
