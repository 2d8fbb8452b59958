import { createTRPCClient, type TRPCClient } from '@trpc/client';
import type pino from 'pino';
import type { AgentRouter } from '@zfs-fleet/agent';
import { createStreamLink, FLEET_VERSION, FleetError, toFleetErrorFromClient, type FleetConfig, type HelloOutput } from '@zfs-fleet/protocol';
import { connectHost, parseAddress, type SshConnection } from '../ssh/connect-host.ts';

export type AgentClient = TRPCClient<AgentRouter>;

/** A live agent on one host: its typed client, what it said in the handshake, and how to hang up. */
export interface AgentSession {
  host: string;
  address: string;
  port: number;
  user: string;
  agent: AgentClient;
  hello: HelloOutput;
  close(): void;
}

/** The endpoint of a configured host, as ssh sees it. */
export function hostEndpoint(config: FleetConfig, host: string): { name: string; host: string; port: number; user: string } {
  const hostConfig = config.hosts[host];
  if (!hostConfig) throw new FleetError('USAGE', `Host "${host}" is not in the config.`, { hint: `Known hosts: ${Object.keys(config.hosts).join(', ')}.` });
  const { host: address, port } = parseAddress(hostConfig.address, config.ssh.port);
  return { name: host, host: address, port, user: hostConfig.user ?? config.ssh.user };
}

/**
 * Connects to a host over SSH, starts `fleet-agent serve --stdio` there and shakes hands:
 * a version mismatch fails here, before anything else is asked of the agent.
 */
export async function connectAgent(config: FleetConfig, host: string, logger: pino.Logger): Promise<AgentSession> {
  const endpoint = hostEndpoint(config, host);
  const log = logger.child({ host });
  const connection: SshConnection = await connectHost(endpoint, {
    identityFile: config.ssh.identityFile,
    knownHostsFile: config.ssh.knownHosts,
    connectTimeoutMs: config.ssh.connectTimeoutMs,
  });
  const command = `${(config.hosts[host]?.agent ?? config.agent).command} serve --stdio`;
  let stderrTail = '';
  try {
    const channel = await connection.exec(command);
    // stdout and stderr share one SSH window: unread stderr would stall the frames.
    channel.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderrTail = (stderrTail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim() !== '') log.debug({ agentLog: line }, 'agent stderr');
    });
    const exitCode = new Promise<number | undefined>((resolve) => channel.once('exit', (code: number | null) => resolve(code ?? undefined)));
    const transport = createStreamLink({
      input: channel.stdout,
      output: channel,
      onProtocolError: (error) => log.error({ err: error }, 'agent sent something that is not a protocol frame'),
    });
    const agent = createTRPCClient<AgentRouter>({ links: [transport.link] });
    let hello: HelloOutput;
    try {
      hello = await agent.hello.query({ controllerVersion: FLEET_VERSION });
    } catch (error) {
      const fleetError = toFleetErrorFromClient(error);
      if (fleetError.code === 'SSH_CHANNEL_CLOSED') throw await describeAgentStartFailure(host, command, await exitCode, stderrTail);
      throw fleetError;
    }
    log.debug({ agentVersion: hello.agentVersion, zfs: hello.zfs.version }, 'agent connected');
    return {
      host,
      address: endpoint.host,
      port: endpoint.port,
      user: endpoint.user,
      agent,
      hello,
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

async function describeAgentStartFailure(host: string, command: string, exitCode: number | undefined, stderr: string): Promise<FleetError> {
  if (exitCode === 127 || /not found|No such file/.test(stderr)) {
    return new FleetError('AGENT_NOT_FOUND', `The agent command "${command}" was not found on host "${host}".`, {
      hint: `Run \`fleet agent install ${host}\`, or set agent.command in the config.`,
      details: { stderr: stderr.trim() },
    });
  }
  return new FleetError('AGENT_PROTOCOL', `The agent on host "${host}" exited (code ${exitCode ?? 'unknown'}) before answering: ${stderr.trim().split('\n').slice(-3).join(' ') || 'no output'}.`, {
    hint: 'Run the agent command by hand on that host to see why it fails.',
    details: { stderr: stderr.trim() },
  });
}
