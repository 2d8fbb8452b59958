// The three ways a dataset gets to the peer: zfs-fleet, a raw `zfs send | ssh | zfs recv`
// pipe, and syncoid. Each returns what it measured; none decides what a round is.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, shq } from './exec.mjs';
import { FLEET_BUNDLE, LAB_DIR, PEER, REPO, SOURCES, hostSh, labFleetSettings, timedInHost } from './lab.mjs';

/** The same OpenSSH cipher for all three tools. */
export const CIPHER = 'aes128-gcm@openssh.com';
const RUSAGE_HOOK = path.join(import.meta.dirname, 'rusage-hook.mjs');

/**
 * Writes a fleet config for one scenario: the given source entries, all to the bench peer.
 * @param {string} name
 * @param {{ entries: Array<{ host: string, dataset: string, recursive: boolean }>, receiveRoot: string, parallel?: { global: number, perHost: number } }} spec
 * @returns {string} the config file's path
 */
export function writeFleetConfig(name, { entries, receiveRoot, parallel }) {
  const settings = labFleetSettings();
  /** @type {Record<string, object>} */
  const hosts = {};
  for (const { host, dataset, recursive } of entries) {
    const address = SOURCES.find((source) => source.name === host).address;
    hosts[host] ??= { address, backups: [] };
    hosts[host].backups.push({ dataset, recursive, to: [PEER.name] });
  }
  hosts[PEER.name] = { address: PEER.address, receive: { root: receiveRoot } };
  const config = { ...settings, ...(parallel ? { parallel } : {}), wire: { cipher: CIPHER }, hosts };
  const file = path.join(LAB_DIR, `bench-${name}.yaml`);
  // JSON is YAML.
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/**
 * @typedef {{ wallMs: number, report: any, controller: { maxRssKb: number, cpuMs: number } }} FleetRun
 */

/**
 * Runs `fleet --config FILE backup ARGS --json`, with the controller's own peak RSS and CPU.
 * @param {string} configFile
 * @param {string[]} args
 * @returns {Promise<FleetRun>}
 */
export async function runFleet(configFile, args) {
  const rusageFile = path.join(LAB_DIR, `rusage-${process.pid}.json`);
  rmSync(rusageFile, { force: true });
  const result = await run(process.execPath, ['--import', RUSAGE_HOOK, FLEET_BUNDLE, '--config', configFile, 'backup', ...args, '--json'], {
    env: { ...process.env, BENCH_RUSAGE_FILE: rusageFile },
    cwd: REPO,
    reject: false,
  });
  let report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    throw new Error(`fleet ${args.join(' ')} printed no report (exit ${result.code}): ${result.stderr.slice(-2000)}`);
  }
  if (result.code !== 0 || !report.ok) {
    throw new Error(`fleet ${args.join(' ')} failed (exit ${result.code}): ${JSON.stringify(report).slice(0, 3000)}\n${result.stderr.slice(-2000)}`);
  }
  const usage = JSON.parse(readFileSync(rusageFile, 'utf8'));
  rmSync(rusageFile, { force: true });
  return { wallMs: result.ms, report, controller: { maxRssKb: usage.maxRssKb, cpuMs: (usage.userCpuUs + usage.systemCpuUs) / 1000 } };
}

/** All steps of a fleet report, flattened. @param {any} report */
export function fleetSteps(report) {
  return report.units.flatMap((unit) => unit.steps);
}

/** zfs invocations the agents counted, all hosts of the run. @param {any} report */
export function fleetZfsCalls(report) {
  return report.hosts.reduce((sum, host) => sum + (host.zfsCalls?.total ?? 0), 0);
}

/**
 * The physical limit: `zfs send | ssh -c CIPHER peer zfs recv -u -d -F ROOT`, timed inside the source.
 * @param {string} host
 * @param {{ snapshot: string, from?: string, receiveRoot: string }} spec
 */
export async function runRaw(host, { snapshot, from, receiveRoot }) {
  const send = from ? `zfs send -i ${shq(from)} ${shq(snapshot)}` : `zfs send ${shq(snapshot)}`;
  const recv = `zfs recv -u -d -F ${shq(receiveRoot)}`;
  const { ms } = await timedInHost(host, `${send} | ssh -o BatchMode=yes -c ${CIPHER} root@${PEER.address} ${shq(recv)}`);
  return { wallMs: ms };
}

/**
 * syncoid with its defaults (lzop, mbuffer, pv when present) and the same cipher, run inside
 * the source host with the bench wrapper on PATH (its remote calls get it from sshd).
 * @param {string} host
 * @param {{ source: string, target: string, recursive?: boolean, noSyncSnap?: boolean }} spec
 */
export async function runSyncoid(host, { source, target, recursive, noSyncSnap }) {
  const args = [`--sshcipher=${CIPHER}`, ...(recursive ? ['-r'] : []), ...(noSyncSnap ? ['--no-sync-snap'] : []), source, `root@${PEER.address}:${target}`];
  const { ms, stderr } = await timedInHost(host, `syncoid ${args.map(shq).join(' ')}`);
  if (/CRITICAL|ERROR/.test(stderr)) throw new Error(`syncoid reported an error: ${stderr.slice(-2000)}`);
  return { wallMs: ms };
}

/**
 * Destroys a dataset tree if it exists (retrying zfs-fuse's transient 'dataset is busy').
 * @param {string} host
 * @param {string} dataset
 */
export async function destroyTree(host, dataset) {
  await hostSh(
    host,
    `
    zfs list -H -o name ${shq(dataset)} >/dev/null 2>&1 || exit 0
    for i in $(seq 1 30); do
      zfs destroy -r ${shq(dataset)} 2>/tmp/bench-destroy.$$ && { rm -f /tmp/bench-destroy.$$; exit 0; }
      grep -q busy /tmp/bench-destroy.$$ || { cat /tmp/bench-destroy.$$ >&2; rm -f /tmp/bench-destroy.$$; exit 1; }
      sleep 0.2
    done
    cat /tmp/bench-destroy.$$ >&2; exit 1`,
  );
}

/**
 * Destroys every snapshot of a dataset (and, with `recursive`, of its descendants).
 * @param {string} host
 * @param {string} dataset
 * @param {boolean} [recursive]
 */
export async function destroySnapshots(host, dataset, recursive = false) {
  const match = recursive ? '(index($0, d "@") == 1 || index($0, d "/") == 1) && /@/' : 'index($0, d "@") == 1';
  await hostSh(host, `zfs list -H -o name -t snapshot -r ${shq(dataset)} | awk -v d=${shq(dataset)} ${shq(match)} | xargs -r -n1 zfs destroy`);
}

/**
 * Writes MiB of incompressible data to a file of a (mounted) dataset.
 * @param {string} host
 * @param {string} dataset
 * @param {string} file
 * @param {number} mib
 */
export async function writeRandom(host, dataset, file, mib) {
  await hostSh(host, `head -c ${mib * 1048576} /dev/urandom > /mnt/${dataset}/${file}; sync`);
}
