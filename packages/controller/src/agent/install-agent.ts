import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { SFTPWrapper } from 'ssh2';
import type pino from 'pino';
import { FLEET_VERSION, FleetError, toFleetError, type FleetConfig, type FleetErrorShape } from '@zfs-fleet/protocol';
import { connectHost, type SshConnection } from '../ssh/connect-host.ts';
import { connectOptions, hostEndpoint } from '../ssh/host-endpoint.ts';
import { runCommand } from '../ssh/run-command.ts';
import { AGENT_LAUNCHER_PATH, AGENT_PREFIX, agentBundlePath, launcherScript, missingPrerequisites, parseProbe, prerequisiteError, probeScript } from './agent-install-plan.ts';

export interface AgentInstallResult {
  host: string;
  version: string;
  /** The Node.js that runs the agent, and what its `--version` said. */
  runtime: string;
  nodeVersion: string;
  launcher: string;
  bundle: string;
  /** Set when the host's agent.command does not start the installed launcher. */
  warning?: string;
}

/**
 * The agent bundle this controller ships: `$FLEET_AGENT_BUNDLE`, else the one built next to the
 * controller's own bundle (packages/controller/dist/fleet.mjs → packages/agent/dist/fleet-agent.mjs).
 */
export function locateAgentBundle(env: NodeJS.ProcessEnv = process.env): string {
  return env['FLEET_AGENT_BUNDLE'] || fileURLToPath(new URL('../../agent/dist/fleet-agent.mjs', import.meta.url));
}

/**
 * Installs this controller's agent on a host: checks the host has zfs and a Node.js ≥ 18,
 * uploads the bundle over SFTP to /opt/zfs-fleet/lib (a temporary name, then an atomic
 * rename), points the /opt/zfs-fleet/bin/fleet-agent launcher at it the same way, and checks
 * that the launcher reports this controller's version. Throws a FleetError naming what failed.
 */
export async function installAgent(config: FleetConfig, host: string, logger: pino.Logger, options: { bundlePath?: string } = {}): Promise<AgentInstallResult> {
  const log = logger.child({ host });
  const bundlePath = options.bundlePath ?? locateAgentBundle();
  const bundle = await readFile(bundlePath).catch((cause: unknown) => {
    throw new FleetError('AGENT_INSTALL_FAILED', `There is no agent bundle at "${bundlePath}" to install.`, {
      hint: 'Build it with `npx turbo run build`, or point FLEET_AGENT_BUNDLE at fleet-agent.mjs.',
      cause,
    });
  });
  const hostConfig = config.hosts[host];
  const configuredRuntime = hostConfig?.agent?.runtime ?? config.agent.runtime;
  const connection = await connectHost(hostEndpoint(config, host), connectOptions(config));
  try {
    const probe = parseProbe((await runCommand(connection, probeScript(configuredRuntime), { timeoutMs: 30_000 })).stdout);
    const missing = missingPrerequisites(host, probe, configuredRuntime);
    if (missing.length > 0) throw prerequisiteError(host, missing);
    const runtime = probe.node!;
    log.debug({ runtime, nodeVersion: probe.nodeVersion, zfs: probe.zfs }, 'host can run the agent');

    await check(connection, `mkdir -p ${AGENT_PREFIX}/lib ${AGENT_PREFIX}/bin`, `create ${AGENT_PREFIX}/lib and ${AGENT_PREFIX}/bin`);
    const remoteBundle = agentBundlePath(FLEET_VERSION);
    const sftp = await openSftp(connection);
    try {
      await uploadAtomically(connection, sftp, remoteBundle, bundle, 0o644);
      await uploadAtomically(connection, sftp, AGENT_LAUNCHER_PATH, Buffer.from(launcherScript(runtime, remoteBundle, FLEET_VERSION)), 0o755);
    } finally {
      sftp.end();
    }

    const installed = (await check(connection, `${AGENT_LAUNCHER_PATH} version`, `run ${AGENT_LAUNCHER_PATH} version`)).trim();
    if (installed !== FLEET_VERSION) {
      throw new FleetError('AGENT_INSTALL_FAILED', `The agent installed on host "${host}" reports version "${installed}", not ${FLEET_VERSION}.`, {
        hint: `The bundle at "${bundlePath}" is stale: rebuild with \`npx turbo run build\`.`,
        details: { host },
      });
    }
    const command = (hostConfig?.agent ?? config.agent).command;
    log.info({ version: FLEET_VERSION, runtime }, 'agent installed');
    return {
      host,
      version: FLEET_VERSION,
      runtime,
      nodeVersion: probe.nodeVersion!.trim(),
      launcher: AGENT_LAUNCHER_PATH,
      bundle: remoteBundle,
      ...(command.split(' ')[0] === AGENT_LAUNCHER_PATH ? {} : { warning: `agent.command for ${host} is "${command}", which does not start ${AGENT_LAUNCHER_PATH}` }),
    };
  } finally {
    connection.close();
  }
}

/** Runs a command that must succeed; returns its stdout. */
async function check(connection: SshConnection, command: string, what: string): Promise<string> {
  const result = await runCommand(connection, command, { timeoutMs: 60_000 });
  if (result.exitCode !== 0) {
    throw new FleetError('AGENT_INSTALL_FAILED', `Cannot ${what} on host "${connection.endpoint.name}": ${result.stderr.trim() || `exit ${result.exitCode}`}.`, {
      hint: `The SSH user needs write access to ${AGENT_PREFIX}; see deploy/agent/README.md to install with the host's own tooling instead.`,
      details: { host: connection.endpoint.name, command, exitCode: result.exitCode },
    });
  }
  return result.stdout;
}

function openSftp(connection: SshConnection): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    connection.client.sftp((error, sftp) => {
      if (error) {
        reject(
          new FleetError('AGENT_INSTALL_FAILED', `Cannot open SFTP on host "${connection.endpoint.name}": ${error.message}.`, {
            hint: "Enable the sftp subsystem in the host's sshd_config (`Subsystem sftp internal-sftp`).",
            cause: error,
          }),
        );
      } else resolve(sftp);
    });
  });
}

/** Writes `data` next to `path` under a temporary name, then renames it over `path`: readers see the old file or the new one, never half of one. */
async function uploadAtomically(connection: SshConnection, sftp: SFTPWrapper, path: string, data: Buffer, mode: number): Promise<void> {
  const temporary = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  const call = (what: string, operation: (callback: (error?: Error | null) => void) => void) =>
    new Promise<void>((resolve, reject) => {
      operation((error) => {
        if (error) {
          reject(
            new FleetError('AGENT_INSTALL_FAILED', `Cannot ${what} on host "${connection.endpoint.name}": ${error.message}.`, {
              hint: `The SSH user needs write access to ${AGENT_PREFIX}.`,
              details: { host: connection.endpoint.name, path },
              cause: error,
            }),
          );
        } else resolve();
      });
    });
  try {
    await call(`write ${temporary}`, (callback) => sftp.writeFile(temporary, data, { mode }, callback));
    await call(`chmod ${temporary}`, (callback) => sftp.chmod(temporary, mode, callback));
    try {
      // posix-rename@openssh.com replaces the target; plain SFTP rename refuses an existing one.
      await call(`rename ${temporary}`, (callback) => sftp.ext_openssh_rename(temporary, path, callback));
    } catch {
      await check(connection, `mv -f ${temporary} ${path}`, `rename ${temporary} to ${path}`);
    }
  } catch (error) {
    await new Promise<void>((resolve) => sftp.unlink(temporary, () => resolve()));
    throw error;
  }
}

export type AgentInstallRow = { host: string; ok: true; result: AgentInstallResult } | { host: string; ok: false; error: FleetErrorShape };

/** Installs the agent on each host at once; one that cannot take it does not hold up the others. */
export function installAgents(config: FleetConfig, hosts: readonly string[], logger: pino.Logger): Promise<AgentInstallRow[]> {
  return Promise.all(
    hosts.map(async (host): Promise<AgentInstallRow> => {
      try {
        return { host, ok: true, result: await installAgent(config, host, logger) };
      } catch (error) {
        return { host, ok: false, error: toFleetError(error).toShape() };
      }
    }),
  );
}
