import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { inject, onTestFinished } from 'vitest';
import { stringify } from 'yaml';
import { openLab, type Lab } from '@zfs-fleet/lab';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FLEET_BIN = path.join(REPO, 'packages/controller/dist/fleet.mjs');

export function lab(): Lab {
  return openLab(inject('labDir'));
}

export const ADDRESSES: Record<string, string> = { src1: '10.77.0.11', src2: '10.77.0.12', backup1: '10.77.0.21', backup2: '10.77.0.22' };

export interface FleetRun {
  exitCode: number;
  /** The signal that ended the controller, if one did (then exitCode is -1). */
  signal?: string;
  stdout: string;
  stderr: string;
  /** stdout parsed, when --json was given. */
  // biome-ignore lint/suspicious/noExplicitAny: each test reads the report's fields it checks
  json: any;
}

/** Runs the built `fleet` CLI as a user would, with no TTY. */
export function runFleet(configPath: string, args: string[], env: Record<string, string> = {}): Promise<FleetRun> {
  return startFleet(configPath, args, env).done;
}

/** Starts the built `fleet` CLI: its pid at once (for a test to signal it), its run when it ends. */
export function startFleet(configPath: string, args: string[], env: Record<string, string> = {}): { pid: number; done: Promise<FleetRun> } {
  const child = execa('node', [FLEET_BIN, '--config', configPath, ...args], { reject: false, env: { FLEET_CONFIG: '', ...env }, timeout: 110_000 });
  return { pid: child.pid!, done: child.then((result) => fleetRun(args, result)) };
}

function fleetRun(args: string[], result: { exitCode?: number | undefined; signal?: string | undefined; stdout: string; stderr: string }): FleetRun {
  let json: unknown;
  // A controller killed by a signal printed no report.
  if (args.includes('--json') && !result.signal) {
    try {
      json = JSON.parse(result.stdout);
    } catch {
      throw new Error(`fleet ${args.join(' ')} printed no JSON:\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
  }
  return { exitCode: result.exitCode ?? -1, ...(result.signal ? { signal: result.signal } : {}), stdout: result.stdout, stderr: result.stderr, json };
}

export interface TestBackup {
  dataset: string;
  recursive?: boolean;
  to: string[];
  exclude?: string[];
  mirrorDeletions?: boolean;
  schedule?: string;
  rpo?: string;
}

/**
 * Writes a fleet config for this test: the lab's keys and agent, the given source hosts'
 * backups, and every backup host as a peer receiving under `backup/<receiveRoot>`.
 */
export async function writeFleetConfig(backups: Record<string, TestBackup[]>, options: { receiveRoot?: string; extraHosts?: Record<string, unknown>; ssh?: Record<string, unknown>; top?: Record<string, unknown> } = {}): Promise<string> {
  const theLab = lab();
  const base = theLab.config();
  const hosts: Record<string, unknown> = {};
  for (const [name, address] of Object.entries(ADDRESSES)) {
    hosts[name] = name.startsWith('backup') ? { address, receive: { root: `backup/${options.receiveRoot ?? 'fleet'}` } } : { address, ...(backups[name] ? { backups: backups[name] } : {}) };
  }
  Object.assign(hosts, options.extraHosts ?? {});
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-e2e-'));
  const file = path.join(dir, 'fleet.yaml');
  // Each config keeps its journal and lock beside it: tests never touch /var/lib/zfs-fleet.
  await writeFile(file, stringify({ ssh: { ...base.ssh, ...options.ssh }, agent: base.agent, stateDir: path.join(dir, 'state'), hosts, ...options.top }));
  return file;
}

/** The journal of a config `writeFleetConfig` wrote (its stateDir), one parsed JSON line each; empty before the first run. */
// biome-ignore lint/suspicious/noExplicitAny: each test reads the record fields it checks
export async function journalOf(config: string): Promise<Array<Record<string, any>>> {
  const text = await readFile(path.join(path.dirname(config), 'state', 'journal.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

let counter = 0;
/** A dataset name unique to this test run, so tests need not reset the lab between them. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}${counter}`;
}

/** Creates datasets on a host and destroys them (and their backups) when the test ends. */
export async function createDatasets(host: string, datasets: string[]): Promise<void> {
  const theLab = lab();
  for (const dataset of datasets) await theLab.zfs(host, ['create', '-p', dataset]);
  const root = datasets[0]!;
  onTestFinished(async () => {
    await destroyTree(host, root);
  });
}

/** Destroys, when the test ends, everything a test received under a peer's receive root. */
export function cleanUpPeer(peer: string, dataset: string): void {
  onTestFinished(async () => {
    await destroyTree(peer, dataset);
  });
}

/** Writes `bytes` of random data into a file of a dataset (by its mountpoint). */
export async function writeRandomFile(host: string, dataset: string, file: string, bytes: number): Promise<void> {
  await lab().exec(host, ['sh', '-c', 'head -c "$3" /dev/urandom > "$(zfs get -H -o value mountpoint "$1")/$2"', 'sh', dataset, file, String(bytes)]);
}

/**
 * sha256 of a file in a dataset. Backup copies are received unmounted (`recv -u`), so this
 * mounts one first; the peer's subtree has atime=off, so reading does not modify it.
 */
export async function hashFile(host: string, dataset: string, file: string): Promise<string> {
  const script = 'if [ "$(zfs get -H -o value mounted "$1")" != yes ]; then zfs mount "$1"; fi; sha256sum "$(zfs get -H -o value mountpoint "$1")/$2"';
  const { stdout } = await lab().exec(host, ['sh', '-c', script, 'sh', dataset, file]);
  return stdout.split(/\s+/)[0]!;
}

/** Snapshot name → guid of a dataset, from `zfs get -Hp` (exact guids). */
export async function snapshotGuids(host: string, dataset: string): Promise<Map<string, string>> {
  const out = await lab()
    .zfs(host, ['get', '-H', '-p', '-r', '-o', 'name,value', 'guid', dataset])
    .catch(() => '');
  const guids = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [name, value] = line.split('\t');
    if (name?.startsWith(`${dataset}@`) && value) guids.set(name.slice(dataset.length + 1), value);
  }
  return guids;
}

/**
 * Destroys a dataset and everything below it, if it exists. zfs-fuse reports "dataset is busy"
 * for a while after datasets were mounted or written (longer for big trees); that passes, so
 * retry. A cleanup that still cannot destroy warns rather than failing the test it follows.
 */
export async function destroyTree(host: string, dataset: string, options: { mustSucceed?: boolean } = {}): Promise<void> {
  let stderr = '';
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const result = await lab().exec(host, ['zfs', 'destroy', '-r', dataset], { reject: false });
    if (result.exitCode === 0 || /does not exist/.test(result.stderr)) return;
    stderr = result.stderr;
    if (!/busy/.test(stderr)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (options.mustSucceed) throw new Error(`${host}: zfs destroy -r ${dataset} failed: ${stderr.trim()}`);
  console.warn(`cleanup: ${host}: zfs destroy -r ${dataset} failed: ${stderr.trim()}`);
}
