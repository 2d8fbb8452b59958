import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { labDown, labUp, type Lab } from '@zfs-fleet/lab';
import { runFleet } from './support/fleet.ts';

// parallel.connections, observed from the hosts: a lab of its own (sc1..sc4 back up to scb,
// 10.77.31.x) so that five hosts take part, and each host's established connections to its sshd
// are sampled while the run goes.
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LAB_DIR = path.join(REPO, '.lab/connections');
const SOURCES = ['sc1', 'sc2', 'sc3', 'sc4'];
const PEER = 'scb';
const ADDRESS: Record<string, string> = { sc1: '10.77.31.11', sc2: '10.77.31.12', sc3: '10.77.31.13', sc4: '10.77.31.14', scb: '10.77.31.21' };
const DATASET = 'tank/Conn';

let lab: Lab;
let configPath: string;

beforeAll(async () => {
  lab = await labUp({ hosts: [...SOURCES.map((host) => `${host}:${ADDRESS[host]}:tank`), `${PEER}:${ADDRESS[PEER]}:backup`], dir: LAB_DIR });
  for (const host of SOURCES) {
    await lab.zfs(host, ['create', DATASET]);
    await lab.exec(host, ['sh', '-c', `head -c 300000 /dev/urandom > /mnt/${DATASET}/a.bin`]);
  }
  const base = lab.config();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-conn-'));
  configPath = path.join(dir, 'fleet.yaml');
  await writeFile(
    configPath,
    stringify({
      ssh: base.ssh,
      agent: base.agent,
      stateDir: path.join(dir, 'state'),
      parallel: { global: 4, perHost: 4, connections: 2 },
      hosts: {
        ...Object.fromEntries(SOURCES.map((host) => [host, { address: ADDRESS[host], backups: [{ dataset: DATASET, to: [PEER] }] }])),
        [PEER]: { address: ADDRESS[PEER], receive: { root: 'backup/fleet' } },
      },
    }),
  );
}, 240_000);

afterAll(async () => {
  await labDown(LAB_DIR);
});

/**
 * Samples every host's established TCP connections to port 22, every 50 ms, from inside its
 * network namespace: one line per sample, `host peer-address` per connection.
 */
function sampleSshSessions(file: string): { stop(): Promise<Array<Array<{ host: string; from: string }>>> } {
  const loop = [...SOURCES, PEER].map((host) => `ip netns exec fleet-${host} ss -Htn state established '( sport = :22 )' | awk '{print "${host}", $4}'`).join('; ');
  const sampler = spawn('bash', ['-c', `while :; do { ${loop}; } >> ${file}; echo --- >> ${file}; sleep 0.05; done`], { stdio: 'ignore' });
  return {
    async stop() {
      sampler.kill('SIGTERM');
      await new Promise((resolve) => sampler.once('exit', resolve));
      const text = await readFile(file, 'utf8').catch(() => '');
      return text
        .split('---\n')
        .slice(0, -1)
        .map((sample) =>
          sample
            .split('\n')
            .filter(Boolean)
            .map((line) => {
              const [host, from] = line.split(' ') as [string, string];
              return { host, from: from.replace(/:\d+$/, '') };
            }),
        );
    },
  };
}

test('with parallel.connections: 2, five hosts never see more than two controller sessions open at once, and every host is backed up', async () => {
  const sampler = sampleSshSessions(path.join(path.dirname(configPath), 'ssh-sessions.txt'));
  const run = await runFleet(configPath, ['backup', '--all', '--json', '--log-level', 'debug', '--log-format', 'json']);
  const samples = await sampler.stop();
  expect(run.exitCode, run.stderr).toBe(0);
  expect(run.json.units.map((unit: { host: string; status: string }) => `${unit.host}:${unit.status}`)).toEqual(SOURCES.map((host) => `${host}:ok`));
  for (const host of SOURCES) {
    const guids = async (on: string, dataset: string) => (await lab.zfs(on, ['get', '-H', '-p', '-o', 'value', 'guid', `${dataset}@${run.json.hosts.find((h: { host: string }) => h.host === host).snapshot}`])).trim();
    expect(await guids(PEER, `backup/fleet/${host}/${DATASET}`)).toBe(await guids(host, DATASET));
  }
  // The controller reaches the lab from the bridge's address; the streams come from the sources' own.
  const labAddresses = new Set(Object.values(ADDRESS));
  const controllerSessions = samples.map((sample) => sample.filter((connection) => !labAddresses.has(connection.from)).length);
  const streams = samples.map((sample) => sample.filter((connection) => labAddresses.has(connection.from)).length);
  expect(samples.length).toBeGreaterThan(10);
  expect(Math.max(...controllerSessions)).toBe(2);
  // Each source's stream is one more session, source to peer, bounded by the transfer slots (at most one at a time here).
  expect(Math.max(...streams)).toBeLessThanOrEqual(1);
  // Every source waited its turn but the first: the report says how long.
  const queued = run.json.hosts.filter((host: { timings?: { queuedMs?: number } }) => (host.timings?.queuedMs ?? 0) > 50).map((host: { host: string }) => host.host);
  expect(queued).toEqual(SOURCES.slice(1));
  expect(run.json.hosts.find((host: { host: string }) => host.host === PEER).timings.sessions).toBe(1);
  // Every unit and host has its timings in the report, and at debug in the log.
  for (const unit of run.json.units) expect(Object.keys(unit.timings).sort()).toEqual(['listMs', 'planMs', 'slotWaitMs', 'transferMs']);
  for (const host of run.json.hosts) expect(host.timings.connectMs + host.timings.handshakeMs).toBeGreaterThan(0);
  const logged = run.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; host?: string; timings?: Record<string, number> });
  expect(logged.filter((line) => line.msg === 'unit timings')).toHaveLength(SOURCES.length);
  expect(
    logged
      .filter((line) => line.msg === 'host timings')
      .map((line) => line.host)
      .sort(),
  ).toEqual([...SOURCES, PEER].sort());
});
