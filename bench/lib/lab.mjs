// The bench lab: its own hosts (10.77.1.x, .lab/bench) so it never meets the e2e lab, with a
// counting `zfs` wrapper (which also emulates `zfs get -t` for syncoid) first on the PATH of
// every session of these hosts' sshd. The e2e hosts never see that wrapper.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, shq } from './exec.mjs';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const LAB_DIR = path.join(REPO, '.lab/bench');
/**
 * Private copies of lab.sh and the two bundles, taken when the bench starts: the repository is
 * shared with people who rebuild and edit while a run is under way (bash reads a script as it
 * runs it, so an edited lab.sh breaks a running `lab.sh exec`). lab.sh finds the repository two
 * levels above itself, which holds for .lab/bench-tools/.
 */
export const TOOLS_DIR = path.join(REPO, '.lab/bench-tools');
export const LAB_SCRIPT = path.join(TOOLS_DIR, 'lab.sh');
export const FLEET_BUNDLE = path.join(TOOLS_DIR, 'fleet.mjs');
export const AGENT_BUNDLE = path.join(TOOLS_DIR, 'fleet-agent.mjs');

/** Copies lab.sh and the controller and agent bundles to TOOLS_DIR. */
export function snapshotTools() {
  mkdirSync(TOOLS_DIR, { recursive: true });
  copyFileSync(path.join(REPO, 'test/lab/lab.sh'), LAB_SCRIPT);
  copyFileSync(path.join(REPO, 'packages/controller/dist/fleet.mjs'), FLEET_BUNDLE);
  copyFileSync(path.join(REPO, 'packages/agent/dist/fleet-agent.mjs'), AGENT_BUNDLE);
}
export const PEER = { name: 'backupb', address: '10.77.1.21', pool: 'backup' };
export const SOURCES = Array.from({ length: 8 }, (_, i) => ({ name: `bsrc${i + 1}`, address: `10.77.1.${11 + i}`, pool: 'tank' }));
/** Inside each bench host (its private /opt/zfs-fleet). */
export const WRAPPER_DIR = '/opt/zfs-fleet/bench/bin';
const CALL_LOG = 'opt/bench/zfs-calls.log';
/** Each pool is a sparse file: room for three 300 MB copies plus rounds. */
const POOL_SIZE = '4G';

/** @param {string} host */
const hostDir = (host) => path.join(LAB_DIR, 'hosts', host);

/**
 * Brings the bench lab up (tearing down a stale one first) unless `reuse` and it is running.
 * @param {{ reuse: boolean }} options
 */
export async function labUp({ reuse }) {
  if (reuse && existsSync(path.join(LAB_DIR, 'lab.json'))) {
    log(`reusing the lab in ${LAB_DIR}`);
  } else {
    await labDown();
    const specs = [...SOURCES, PEER].map((h) => `${h.name}:${h.address}:${h.pool}`);
    await run('bash', [LAB_SCRIPT, 'up', LAB_DIR, ...specs], { env: { ...process.env, LAB_POOL_SIZE: POOL_SIZE }, echo: true });
  }
  const realZfs = (await run('sh', ['-c', 'command -v zfs'])).stdout.trim();
  await Promise.all([...SOURCES, PEER].map((h) => installWrapper(h.name, realZfs)));
}

export async function labDown() {
  if (existsSync(LAB_DIR)) await run('bash', [LAB_SCRIPT, 'down', LAB_DIR], { echo: true });
}

/**
 * Runs argv inside a host (its namespaces; the caller's PATH, so the real zfs).
 * @param {string} host
 * @param {string[]} argv
 * @param {import('./exec.mjs').ExecOptions} [options]
 */
export function hostExec(host, argv, options, dir = LAB_DIR) {
  return run('bash', [LAB_SCRIPT, 'exec', dir, host, ...argv], options);
}

/**
 * Runs a bash script inside a host with the bench wrapper first on PATH, as its ssh sessions have it.
 * @param {string} host
 * @param {string} script
 * @param {import('./exec.mjs').ExecOptions} [options]
 */
export function hostSh(host, script, options) {
  return hostExec(host, ['env', `PATH=${WRAPPER_DIR}:${process.env.PATH}`, 'bash', '-o', 'pipefail', '-euc', script], options);
}

/**
 * Runs a bash command in a host and times it there (no nsenter or node overhead in the figure).
 * @param {string} host
 * @param {string} command
 * @returns {Promise<{ ms: number, stdout: string, stderr: string }>}
 */
export async function timedInHost(host, command) {
  const script = `s=$(date +%s%N); ( ${command} ); e=$(date +%s%N); echo "BENCH_NS $((e - s))" >&2`;
  const result = await hostSh(host, script);
  const match = /BENCH_NS (\d+)/.exec(result.stderr);
  if (!match) throw new Error(`no timing from ${host}: ${result.stderr}`);
  return { ms: Number(match[1]) / 1e6, stdout: result.stdout, stderr: result.stderr };
}

/** Number of zfs invocations the wrapper has logged on a host so far. @param {string} host */
export function zfsCallCount(host) {
  const file = path.join(hostDir(host), CALL_LOG);
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
}

/** The inode of a host's network namespace, to tell its processes apart. @param {string} host */
export function netnsInode(host) {
  return statSync(`/run/netns/fleet-${host}`).ino;
}

/** The lab's ssh and agent settings, absolute, from the fleet.yaml lab.sh wrote. */
export function labFleetSettings(dir = LAB_DIR) {
  const yaml = readFileSync(path.join(dir, 'fleet.yaml'), 'utf8');
  const agent = /agent: \{ command: "([^"]+)" \}/.exec(yaml);
  if (!agent) throw new Error(`no agent command in ${dir}/fleet.yaml`);
  return {
    ssh: { user: 'root', identityFile: path.join(dir, 'keys/fleet'), knownHosts: path.join(dir, 'known_hosts') },
    agent: { command: agent[1].replace(path.join(REPO, 'packages/agent/dist/fleet-agent.mjs'), AGENT_BUNDLE) },
  };
}

/**
 * Puts the wrapper in a host's private /opt/zfs-fleet and restarts its sshd with the wrapper
 * first on the sessions' PATH.
 * @param {string} host
 * @param {string} realZfs
 */
async function installWrapper(host, realZfs) {
  const dir = hostDir(host);
  mkdirSync(path.join(dir, 'opt/bench/bin'), { recursive: true });
  const wrapper = readFileSync(path.join(import.meta.dirname, 'zfs-wrapper.sh'), 'utf8').replace('@REAL_ZFS@', shq(realZfs));
  writeFileSync(path.join(dir, 'opt/bench/bin/zfs'), wrapper);
  chmodSync(path.join(dir, 'opt/bench/bin/zfs'), 0o755);

  const configFile = path.join(dir, 'sshd_config');
  const config = readFileSync(configFile, 'utf8');
  const pathLine = /^SetEnv PATH=(.*)$/m.exec(config);
  if (!pathLine) throw new Error(`${configFile} has no 'SetEnv PATH=' line`);
  if (pathLine[1].startsWith(`${WRAPPER_DIR}:`)) return;
  writeFileSync(configFile, config.replace(pathLine[0], `SetEnv PATH=${WRAPPER_DIR}:${pathLine[1]}`));
  await restartSshd(host, configFile);
}

/** @param {string} host @param {string} configFile */
async function restartSshd(host, configFile) {
  const pidFile = path.join(hostDir(host), 'sshd.pid');
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(20);
  }
  // sshd daemonizes by itself; no descriptor of ours but stdio reaches it.
  await hostExec(host, ['/usr/sbin/sshd', '-f', configFile]);
  const settings = labFleetSettings();
  const address = [...SOURCES, PEER].find((h) => h.name === host).address;
  for (let tries = 0; ; tries++) {
    const probe = await run('ssh', ['-q', '-i', settings.ssh.identityFile, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${settings.ssh.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=2', `root@${address}`, 'command -v zfs'], { reject: false });
    if (probe.code === 0 && probe.stdout.trim() === `${WRAPPER_DIR}/zfs`) return;
    if (tries > 50) throw new Error(`sshd on ${host} did not come back with the wrapper on PATH: ${probe.stdout}${probe.stderr}`);
    await sleep(100);
  }
}

/** @param {number} pid */
function isAlive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** @param {string} message */
export function log(message) {
  process.stderr.write(`bench: ${message}\n`);
}
