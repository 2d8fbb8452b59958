import { access, constants, readFile } from 'node:fs/promises';
import net from 'node:net';
import type pino from 'pino';
import { getPoolSpace } from '@zfs-fleet/zfs';
import { poolOf, toFleetError, toFleetErrorFromClient, type DatasetName, type FleetConfig, type FleetError } from '@zfs-fleet/protocol';
import { connectAgent, type AgentSession } from '../agent/connect-agent.ts';
import { connectHost, type HostEndpoint, type SshConnection } from '../ssh/connect-host.ts';
import { connectOptions, hostEndpoint } from '../ssh/host-endpoint.ts';
import { checkHostKey, fingerprint, keyTypeOf, knownHostName, parseKnownHosts } from '../ssh/known-hosts.ts';
import { runCommand } from '../ssh/run-command.ts';
import { scanHostKey } from '../ssh/scan-host-key.ts';
import { distinct, listUnits } from '../run/list-units.ts';
import { zfsOverSsh } from '../ssh/zfs-over-ssh.ts';
import { listExportUnits, targetRef } from '../export/export-units.ts';
import { describeCapabilities, judgeExportTarget, judgeFreeSpace, judgePeerLogin, peerLoginScript, type DoctorCheck } from './doctor-checks.ts';

/** Every check: the config's files, then each host (all at once), in the order they print. */
export async function runDoctor(config: FleetConfig, configPath: string, hosts: readonly string[], logger: pino.Logger): Promise<DoctorCheck[]> {
  const perHost = await Promise.all(hosts.map((host) => checkHost(config, host, logger)));
  return [...(await checkConfigFiles(config, configPath)), ...perHost.flat()];
}

/** Fleet-wide checks: the files the config points at. (That the config parses is checked by loading it.) */
export async function checkConfigFiles(config: FleetConfig, configPath: string): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [{ check: 'config', status: 'OK', message: `${configPath}: ${Object.keys(config.hosts).length} hosts` }];
  try {
    await access(config.ssh.identityFile, constants.R_OK);
  } catch {
    checks.push({ check: 'identity', status: 'FAIL', message: `cannot read ssh.identityFile "${config.ssh.identityFile}"`, fix: "point ssh.identityFile at the controller's private key" });
  }
  try {
    await access(config.ssh.knownHosts, constants.R_OK);
  } catch {
    checks.push({ check: 'known_hosts', status: 'WARN', message: `ssh.knownHosts "${config.ssh.knownHosts}" does not exist yet: no host is trusted`, fix: 'run `fleet hosts trust --all`' });
  }
  return checks;
}

/**
 * Checks one host from the outside in, stopping where a failure makes the next check
 * meaningless: reachable, host key, login, agent, zfs, then its role's checks (a source's
 * logins to its peers, a peer's free space).
 */
export async function checkHost(config: FleetConfig, host: string, logger: pino.Logger): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add: Add = (check, status, message, fix, extra) => checks.push({ host, check, status, message, ...(fix ? { fix } : {}), ...extra });
  const endpoint = hostEndpoint(config, host);
  if (!(await checkReachable(config, host, endpoint, add))) return checks;
  let connection: SshConnection;
  try {
    connection = await connectHost(endpoint, connectOptions(config));
  } catch (error) {
    failed(add, 'login', toFleetError(error));
    return checks;
  }
  try {
    add('login', 'OK', `${endpoint.user}@${endpoint.host} with ${config.ssh.identityFile}`);
    await checkAgentAndZfs(config, host, connection, logger, add);
    for (const peer of distinct(listUnits(config, { hosts: [host] }).map((unit) => unit.peer))) {
      try {
        checks.push(judgePeerLogin(host, peer, await runCommand(connection, peerLoginScript(hostEndpoint(config, peer)), { timeoutMs: 30_000 })));
      } catch (error) {
        failed(add, `peer key → ${peer}`, toFleetError(error));
      }
    }
    const root = config.hosts[host]?.receive?.root;
    if (root) checks.push(await checkFreeSpace(connection, host, root));
  } finally {
    connection.close();
  }
  return checks;
}

type Add = (check: string, status: DoctorCheck['status'], message: string, fix?: string, extra?: Pick<DoctorCheck, 'capabilities'>) => void;

function failed(add: Add, check: string, error: FleetError): void {
  add(check, 'FAIL', `${error.code}: ${error.message}`, error.hint);
}

/** TCP reachability, then the host key against known_hosts; false when the checks after them would be meaningless. */
async function checkReachable(config: FleetConfig, host: string, endpoint: HostEndpoint, add: Add): Promise<boolean> {
  const reached = await tcpReachable(endpoint, config.ssh.connectTimeoutMs);
  if (reached !== true) {
    add('reachable', 'FAIL', `cannot reach ${host} at ${endpoint.host} port ${endpoint.port}: ${reached}`, `check that ${host} is up, its address in the config, the network, and that sshd listens on port ${endpoint.port}`);
    return false;
  }
  add('reachable', 'OK', `${endpoint.host} port ${endpoint.port} answers`);
  let key: Buffer;
  try {
    key = await scanHostKey(endpoint, { connectTimeoutMs: config.ssh.connectTimeoutMs });
  } catch (error) {
    failed(add, 'ssh', toFleetError(error));
    return false;
  }
  const known = parseKnownHosts(await readFile(config.ssh.knownHosts, 'utf8').catch(() => ''));
  const verdict = checkHostKey(known, knownHostName(endpoint.host, endpoint.port), key);
  const presented = `${keyTypeOf(key)} ${fingerprint(key)}`;
  if (verdict.kind === 'unknown') {
    add('host key', 'FAIL', `${host} presents ${presented}, which is not in ${config.ssh.knownHosts}`, `check the fingerprint on the host, then run \`fleet hosts trust ${host}\``);
    return false;
  }
  if (verdict.kind === 'changed') {
    add('host key', 'FAIL', `${host} presents ${presented}, but known_hosts expects ${verdict.expected.join(' or ')}`, `find out why the key changed; if ${host} was reinstalled, run \`fleet hosts trust ${host} --replace\``);
    return false;
  }
  add('host key', 'OK', `${presented} is trusted`);
  return true;
}

/** The agent's handshake and the zfs it found; without an agent, at least whether zfs is there. */
async function checkAgentAndZfs(config: FleetConfig, host: string, connection: SshConnection, logger: pino.Logger, add: Add): Promise<void> {
  let session: AgentSession | undefined;
  try {
    session = await connectAgent(config, host, logger);
    add('agent', 'OK', `fleet-agent ${session.hello.agentVersion} on Node.js ${session.hello.nodeVersion}`);
    const zfs = session.hello.zfs;
    add('zfs', zfs.implementation === 'unknown' ? 'WARN' : 'OK', describeCapabilities(zfs), zfs.implementation === 'unknown' ? 'the agent could not tell which zfs this is; replication uses only the basic features' : undefined, { capabilities: zfs });
    const units = listExportUnits(config, { hosts: [host] });
    const seen = new Set<string>();
    for (const unit of units.filter((candidate) => !seen.has(candidate.target) && seen.add(candidate.target))) {
      const checks = judgeExportTarget(host, unit.target, await session.agent.exports.check.query({ target: targetRef(unit) }));
      for (const check of checks) if (check.check !== 'export tools' || unit === units[0]) add(check.check, check.status, check.message, check.fix);
    }
  } catch (error) {
    failed(add, 'agent', toFleetErrorFromClient(error));
    const found = await runCommand(connection, 'command -v zfs', { timeoutMs: 15_000 }).catch(() => undefined);
    if (found?.exitCode === 0) add('zfs', 'OK', `zfs at ${found.stdout.trim()}`);
    else add('zfs', 'FAIL', `${host} has no zfs on PATH`, 'install zfsutils-linux');
  } finally {
    session?.close();
  }
}

async function checkFreeSpace(connection: SshConnection, host: string, root: DatasetName): Promise<DoctorCheck> {
  const pool = poolOf(root);
  try {
    return judgeFreeSpace(host, pool, await getPoolSpace(zfsOverSsh(connection, { timeoutMs: 30_000 }), pool));
  } catch (thrown) {
    const error = toFleetError(thrown);
    const said = typeof error.details?.['stderr'] === 'string' && error.details['stderr'] ? error.details['stderr'] : error.message;
    return { host, check: 'free space', status: 'FAIL', message: `cannot read the free space of pool ${pool} (receive.root ${root}): ${said}`, fix: `create pool ${pool} on ${host}, or fix hosts.${host}.receive.root` };
  }
}

/** Whether a TCP connection to the host's ssh port opens; otherwise why not. */
function tcpReachable(endpoint: HostEndpoint, timeoutMs: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port });
    const done = (outcome: true | string) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => done(true));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}
