import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SFTPWrapper } from 'ssh2';
import type pino from 'pino';
import { FLEET_VERSION, FleetError, toFleetError, type FleetConfig, type FleetErrorShape } from '@zfs-fleet/protocol';
import { connectHost, type SshConnection } from '../ssh/connect-host.ts';
import { connectOptions, hostEndpoint } from '../ssh/host-endpoint.ts';
import { runCommand } from '../ssh/run-command.ts';
import { AGENT_LAUNCHER_PATH, AGENT_PREFIX, MIN_AGENT_NODE_MAJOR, agentBundlePath, agentExecutablePath, chooseRuntime, launcherScript, parseProbe, prerequisiteError, probeScript } from './agent-install-plan.ts';

export interface AgentInstallResult {
  host: string;
  version: string;
  /** The Node.js that runs the agent, or `bundled` for the single executable; and what its Node.js `--version` says. */
  runtime: string;
  nodeVersion: string;
  /** Why the single executable was chosen (`no Node.js on PATH`, `agent.runtime: bundled`). */
  why?: string;
  launcher: string;
  /** The agent file on the host: the .mjs bundle or the single executable. */
  bundle: string;
  /** Its size, and whether it was sent: a host that already has the same file (by sha256) gets nothing. */
  bytes: number;
  uploaded: boolean;
  /** Set when the host's agent.command does not start the installed launcher. */
  warning?: string;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));

/**
 * The agent bundle this controller ships: `$FLEET_AGENT_BUNDLE`, else the one packaged next to
 * the controller (the npm package and the .deb: agent/fleet-agent.mjs beside fleet.mjs), else
 * the one built in the repository (packages/controller/dist → packages/agent/dist).
 */
export function locateAgentBundle(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [path.join(HERE, 'agent/fleet-agent.mjs'), path.join(HERE, '../../agent/dist/fleet-agent.mjs')];
  return env['FLEET_AGENT_BUNDLE'] || candidates.find((candidate) => existsSync(candidate)) || candidates[1]!;
}

/**
 * The agent's single executable: `$FLEET_AGENT_EXECUTABLE`, else next to the bundle, else the
 * one the zfs-fleet-agent package installed on this machine.
 */
export function locateAgentExecutable(bundlePath: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env['FLEET_AGENT_EXECUTABLE'], path.join(path.dirname(bundlePath), 'fleet-agent-linux-x64'), agentExecutablePath(FLEET_VERSION)];
  return candidates.find((candidate): candidate is string => !!candidate && existsSync(candidate));
}

/**
 * Installs this controller's agent on a host: checks the host has zfs and a Node.js ≥ 18 (or
 * takes the single executable where it has none), uploads the agent over SFTP to
 * /opt/zfs-fleet/lib unless the same file (by sha256) is there already (a temporary name, then
 * an atomic rename), points the /opt/zfs-fleet/bin/fleet-agent launcher at it the same way, and
 * checks that the launcher reports this controller's version. Throws a FleetError naming what failed.
 */
export async function installAgent(config: FleetConfig, host: string, logger: pino.Logger, options: { bundlePath?: string } = {}): Promise<AgentInstallResult> {
  const log = logger.child({ host });
  const bundlePath = options.bundlePath ?? locateAgentBundle();
  const hostConfig = config.hosts[host];
  const configuredRuntime = hostConfig?.agent?.runtime ?? config.agent.runtime;
  const connection = await connectHost(hostEndpoint(config, host), connectOptions(config));
  try {
    const probe = parseProbe((await runCommand(connection, probeScript(configuredRuntime === 'bundled' ? undefined : configuredRuntime), { timeoutMs: 30_000 })).stdout);
    const { plan, missing } = chooseRuntime(host, probe, configuredRuntime);
    if (!plan) throw prerequisiteError(host, missing);
    log.debug({ plan, zfs: probe.zfs }, 'host can run the agent');
    const local = plan.kind === 'node' ? bundlePath : locateAgentExecutable(bundlePath);
    if (!local || !existsSync(local)) {
      throw new FleetError('AGENT_INSTALL_FAILED', plan.kind === 'node' ? `There is no agent bundle at "${bundlePath}" to install.` : `Host "${host}" needs the agent's single executable (${plan.why}), and this controller has none.`, {
        hint:
          plan.kind === 'node'
            ? 'Build it with `npx turbo run build`, or point FLEET_AGENT_BUNDLE at fleet-agent.mjs.'
            : `Install the zfs-fleet-agent package on this machine, build it with \`npm run package\`, or point FLEET_AGENT_EXECUTABLE at fleet-agent-linux-x64; or install Node.js ≥ ${MIN_AGENT_NODE_MAJOR} on ${host}.`,
        details: { host },
      });
    }

    await check(connection, `mkdir -p ${AGENT_PREFIX}/lib ${AGENT_PREFIX}/bin`, `create ${AGENT_PREFIX}/lib and ${AGENT_PREFIX}/bin`);
    const remote = plan.kind === 'node' ? agentBundlePath(FLEET_VERSION) : agentExecutablePath(FLEET_VERSION);
    const argv = plan.kind === 'node' ? [plan.node, remote] : [remote];
    const sftp = await openSftp(connection);
    let uploaded: boolean;
    try {
      uploaded = await uploadUnlessPresent(connection, sftp, remote, local, plan.kind === 'node' ? 0o644 : 0o755);
      await uploadAtomically(connection, sftp, AGENT_LAUNCHER_PATH, { data: Buffer.from(launcherScript(FLEET_VERSION, argv)) }, 0o755);
    } finally {
      sftp.end();
    }

    const installed = (await check(connection, `${AGENT_LAUNCHER_PATH} version`, `run ${AGENT_LAUNCHER_PATH} version`)).trim();
    if (installed !== FLEET_VERSION) {
      throw new FleetError('AGENT_INSTALL_FAILED', `The agent installed on host "${host}" reports version "${installed}", not ${FLEET_VERSION}.`, {
        hint: `The agent at "${local}" is stale: rebuild with \`npx turbo run build\`.`,
        details: { host },
      });
    }
    const nodeVersion = plan.kind === 'node' ? plan.nodeVersion : (await check(connection, `${AGENT_LAUNCHER_PATH} runtime`, `run ${AGENT_LAUNCHER_PATH} runtime`)).trim();
    const command = (hostConfig?.agent ?? config.agent).command;
    const bytes = (await stat(local)).size;
    log.info({ version: FLEET_VERSION, runtime: plan.kind === 'node' ? plan.node : 'bundled', uploaded, bytes }, 'agent installed');
    return {
      host,
      version: FLEET_VERSION,
      runtime: plan.kind === 'node' ? plan.node : 'bundled',
      nodeVersion,
      ...(plan.kind === 'bundled' ? { why: plan.why } : {}),
      launcher: AGENT_LAUNCHER_PATH,
      bundle: remote,
      bytes,
      uploaded,
      ...(command.split(' ')[0] === AGENT_LAUNCHER_PATH ? {} : { warning: `agent.command for ${host} is "${command}", which does not start ${AGENT_LAUNCHER_PATH}` }),
    };
  } finally {
    connection.close();
  }
}

/** sha256 of a local file, streamed: the single executable is ~100 MB. */
async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Uploads `local` to `remote` unless the host has the same bytes there already; says whether it sent it. */
async function uploadUnlessPresent(connection: SshConnection, sftp: SFTPWrapper, remote: string, local: string, mode: number): Promise<boolean> {
  const [mine, theirs] = await Promise.all([sha256Of(local), runCommand(connection, `sha256sum ${remote} 2>/dev/null`, { timeoutMs: 60_000 })]);
  if (theirs.exitCode === 0 && theirs.stdout.split(/\s/)[0] === mine) {
    // Same bytes: only make sure the mode is right (a package may have put it there).
    await check(connection, `chmod ${mode.toString(8)} ${remote}`, `chmod ${remote}`);
    return false;
  }
  await uploadAtomically(connection, sftp, remote, { file: local }, mode);
  return true;
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
async function uploadAtomically(connection: SshConnection, sftp: SFTPWrapper, target: string, source: { data: Buffer } | { file: string }, mode: number): Promise<void> {
  const temporary = `${target}.tmp-${randomBytes(4).toString('hex')}`;
  const call = (what: string, operation: (callback: (error?: Error | null) => void) => void) =>
    new Promise<void>((resolve, reject) => {
      operation((error) => {
        if (error) {
          reject(
            new FleetError('AGENT_INSTALL_FAILED', `Cannot ${what} on host "${connection.endpoint.name}": ${error.message}.`, {
              hint: `The SSH user needs write access to ${AGENT_PREFIX}.`,
              details: { host: connection.endpoint.name, path: target },
              cause: error,
            }),
          );
        } else resolve();
      });
    });
  try {
    await call(`write ${temporary}`, (callback) => ('data' in source ? sftp.writeFile(temporary, source.data, { mode }, callback) : sftp.fastPut(source.file, temporary, { mode, concurrency: 32, chunkSize: 32_768 }, callback)));
    await call(`chmod ${temporary}`, (callback) => sftp.chmod(temporary, mode, callback));
    try {
      // posix-rename@openssh.com replaces the target; plain SFTP rename refuses an existing one.
      await call(`rename ${temporary}`, (callback) => sftp.ext_openssh_rename(temporary, target, callback));
    } catch {
      await check(connection, `mv -f ${temporary} ${target}`, `rename ${temporary} to ${target}`);
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
