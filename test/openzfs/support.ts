import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import { openLab, openVm, type Lab, type OpenZfsVm } from '@zfs-fleet/lab';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FLEET_BIN = path.join(REPO, 'packages/controller/dist/fleet.mjs');
export const FUSE_HOST = { name: 'oz-fuse13', address: '10.77.13.11', pool: 'tank' };
/** Node.js starting the agent under TCG on 2 busy cores took over the default 30 s (seen: src and bak starting at once). */
const HANDSHAKE_TIMEOUT = '180s';

export function vm(): OpenZfsVm {
  return openVm(inject('openzfs').vmDir);
}

export function fuseLab(): Lab {
  return openLab(inject('openzfs').fuseDir);
}

export interface FleetRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  json: any;
}

/** Runs the built `fleet` CLI as a user would, with no TTY. */
export async function runFleet(configPath: string, args: string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<FleetRun> {
  const result = await execa('node', [FLEET_BIN, '--config', configPath, ...args], { reject: false, env: { FLEET_CONFIG: '', ...options.env }, timeout: options.timeoutMs ?? 280_000 });
  let json: unknown;
  if (args.includes('--json')) {
    try {
      json = JSON.parse(result.stdout);
    } catch {
      throw new Error(`fleet ${args.join(' ')} printed no JSON:\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
  }
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, json };
}

export interface Entry {
  dataset: string;
  recursive?: boolean;
  to: string[];
  keep?: Record<string, number>;
}

/**
 * A fleet config for the suite. The guest is `src` (pool tank) and `bak` (pool backup) at
 * 127.0.0.1:PORT, and `bakvm` (the same guest, receiving under backup/fromfuse) at the lab
 * bridge's address, where the zfs-fuse host reaches it; the zfs-fuse host is `oz-fuse13`.
 */
export async function writeConfig(backups: Record<string, Entry[]>, options: { receiveRoot?: string; wire?: Record<string, unknown>; agentCommands?: Record<string, string> } = {}): Promise<string> {
  const guest = vm();
  const lab = fuseLab();
  const base = lab.config();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-openzfs-'));
  const knownHosts = path.join(dir, 'known_hosts');
  const entries = [`[127.0.0.1]:${guest.port} ${guest.hostKey}`, ...(guest.bridgeAddress ? [`[${guest.bridgeAddress}]:${guest.port} ${guest.hostKey}`] : [])];
  await writeFile(knownHosts, `${await readFile(base.ssh.knownHosts, 'utf8')}${entries.join('\n')}\n`);
  const hosts: Record<string, unknown> = {
    src: { address: `127.0.0.1:${guest.port}`, backups: backups['src'] ?? [] },
    bak: { address: `127.0.0.1:${guest.port}`, receive: { root: `backup/${options.receiveRoot ?? 'fleet'}` } },
    [FUSE_HOST.name]: { address: FUSE_HOST.address, agent: base.agent, backups: backups[FUSE_HOST.name] ?? [], receive: { root: 'tank/fromvm' } },
  };
  if (guest.bridgeAddress) hosts['bakvm'] = { address: `${guest.bridgeAddress}:${guest.port}`, receive: { root: 'backup/fromfuse' } };
  for (const [host, command] of Object.entries(options.agentCommands ?? {})) hosts[host] = { ...(hosts[host] as object), agent: { command } };
  const file = path.join(dir, 'fleet.yaml');
  await writeFile(file, stringify({ ssh: { user: 'root', identityFile: base.ssh.identityFile, knownHosts, handshakeTimeout: HANDSHAKE_TIMEOUT }, stateDir: path.join(dir, 'state'), ...(options.wire ? { wire: options.wire } : {}), hosts }));
  return file;
}

let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36).slice(-5)}${counter}`;
}

/** `zfs get -Hp -o value PROP DATASET` in the guest. */
export async function getProp(dataset: string, property: string): Promise<string> {
  return (await vm().zfs(['get', '-Hp', '-o', 'value', property, dataset])).trim();
}

/** name → guid of a dataset's snapshots in the guest. */
export async function snapshotGuids(dataset: string, options: { recursive?: boolean } = {}): Promise<Map<string, string>> {
  const out = await vm().zfs(['list', '-Hp', '-t', 'snapshot', '-o', 'name,guid', ...(options.recursive ? ['-r'] : ['-d', '1']), dataset]);
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t') as [string, string]),
  );
}

/** sha256 of every file of a mounted dataset in the guest (not its children's), by path relative to it. */
export async function fileHashes(mountpoint: string): Promise<Record<string, string>> {
  const out = (await vm().sh(`cd ${mountpoint} && find . -xdev -type f -print0 | sort -z | xargs -0 -r sha256sum`)).stdout;
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [hash, file] = line.split(/\s+/);
        return [file!, hash!];
      }),
  );
}

/** Writes `megabytes` of random data into a file in the guest. */
export async function writeRandom(file: string, megabytes: number): Promise<void> {
  await vm().sh(`head -c ${megabytes}M /dev/urandom > ${file}`);
}

/** The holds on a dataset tree's snapshots: "snapshot\ttag" lines. */
export async function holds(dataset: string): Promise<string[]> {
  const snaps = (await vm().zfs(['list', '-H', '-t', 'snapshot', '-o', 'name', '-r', dataset])).split('\n').filter(Boolean);
  if (snaps.length === 0) return [];
  const out = await vm().zfs(['holds', '-H', ...snaps]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t').slice(0, 2).join('\t'))
    .sort();
}
