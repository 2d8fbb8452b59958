// Scenario 8: a ring of 16 lab hosts (brg01..brg16, 10.77.32.x, a lab of its own in .lab/ring),
// each the source of 50 MiB and the peer of the host before it, so every host sends and
// receives at once: one `fleet backup --all` against 16 raw `zfs send | ssh | zfs recv` pipes
// run the same way at once. Real zfs-fuse, real sshd, the controller's CPU and peak RSS.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './exec.mjs';
import { LAB_DIR, LAB_SCRIPT, REPO, hostExec, labFleetSettings, log } from './lab.mjs';
import { summary, pairedRatio } from './stats.mjs';
import { CIPHER, runFleet } from './tools.mjs';

export const RING_DIR = path.join(REPO, '.lab/ring');
const RING = Array.from({ length: 16 }, (_, i) => ({ name: `brg${String(i + 1).padStart(2, '0')}`, address: `10.77.32.${11 + i}` }));
const next = (index) => RING[(index + 1) % RING.length];
const sh = (host, script) => hostExec(host, ['bash', '-o', 'pipefail', '-euc', script], {}, RING_DIR);
// zfs-fuse answers "dataset is busy" for a while after a receive: try again, as test/lab does.
const destroyTree = (dataset) => `for i in $(seq 40); do zfs destroy -r ${dataset} 2>/dev/null && break; sleep 0.25; done; zfs create ${dataset}`;

/** @param {{ ringMib: number, ringRounds: number }} options */
export async function scenarioRing(options) {
  await run('bash', [LAB_SCRIPT, 'down', RING_DIR], { reject: false });
  await run('bash', [LAB_SCRIPT, 'up', RING_DIR, ...RING.map((h) => `${h.name}:${h.address}:tank`)], { env: { ...process.env, LAB_POOL_SIZE: '1G' }, echo: true });
  try {
    log(`ring: ${RING.length} hosts, ${options.ringMib} MiB each for zfs-fleet and for the raw pipes`);
    await Promise.all(RING.map((h) => sh(h.name, `for d in ring raw; do zfs create tank/$d; head -c ${options.ringMib}M /dev/urandom > /mnt/tank/$d/data.bin; done; zfs create tank/recv; zfs create tank/rawrecv; zfs snapshot tank/raw@r`)));
    const config = writeRingConfig();
    // The controller's rusage file goes beside the bench lab's, as for the other scenarios.
    mkdirSync(LAB_DIR, { recursive: true });
    const samples = [];
    for (let round = 0; round < options.ringRounds; round++) {
      for (const tool of round % 2 ? ['raw', 'fleet'] : ['fleet', 'raw']) {
        const sample = tool === 'fleet' ? await ringFleet(config) : await ringRaw();
        log(`  ring round ${round + 1} ${tool}: ${(sample.wallMs / 1000).toFixed(2)} s, ${((RING.length * options.ringMib) / (sample.wallMs / 1000)).toFixed(0)} MiB/s aggregate`);
        samples.push({ round, tool, payloadMib: RING.length * options.ringMib, ...sample });
      }
    }
    return samples;
  } finally {
    await run('bash', [LAB_SCRIPT, 'down', RING_DIR], { echo: true, reject: false });
  }
}

function writeRingConfig() {
  const hosts = Object.fromEntries(RING.map((h, i) => [h.name, { address: h.address, receive: { root: 'tank/recv' }, backups: [{ dataset: 'tank/ring', to: [next(i).name] }] }]));
  const config = { ...labFleetSettings(RING_DIR), stateDir: path.join(RING_DIR, 'state'), parallel: { global: 16, perHost: 2, connections: 32 }, wire: { cipher: CIPHER }, hosts };
  const file = path.join(RING_DIR, 'fleet-ring.yaml');
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** One `fleet backup --all`, each copy from nothing (a full stream): bytes and guids checked. */
async function ringFleet(config) {
  await Promise.all(RING.map((h) => sh(h.name, `${destroyTree('tank/recv')}; for s in $(zfs list -H -o name -t snapshot -r tank/ring); do zfs destroy "$s"; done`)));
  const { wallMs, report, controller } = await runFleet(config, ['--all']);
  const failed = report.units.filter((unit) => unit.status !== 'ok' || unit.steps[0]?.action !== 'full');
  if (report.units.length !== RING.length || failed.length > 0) throw new Error(`ring: expected ${RING.length} full units, got ${JSON.stringify(report.units).slice(0, 2000)}`);
  const guid = (host, name) => sh(host, `zfs get -H -p -o value guid ${name}`).then((r) => r.stdout.trim());
  await Promise.all(
    RING.map(async (h, i) => {
      const snapshot = report.hosts.find((host) => host.host === h.name).snapshot;
      const [mine, copy] = await Promise.all([guid(h.name, `tank/ring@${snapshot}`), guid(next(i).name, `tank/recv/${h.name}/tank/ring@${snapshot}`)]);
      if (mine !== copy) throw new Error(`ring: ${h.name}'s copy on ${next(i).name} has guid ${copy}, the source ${mine}`);
    }),
  );
  const bytes = report.units.reduce((sum, unit) => sum + unit.steps[0].bytes, 0);
  return { wallMs, bytes, controller, queuedMaxMs: Math.max(...report.hosts.map((host) => host.timings?.queuedMs ?? 0)) };
}

/** 16 raw pipes at once, each host to the next, timed from here from the first start to the last end. */
async function ringRaw() {
  await Promise.all(RING.map((h) => sh(h.name, destroyTree('tank/rawrecv'))));
  const startedAt = performance.now();
  await Promise.all(RING.map((h, i) => sh(h.name, `zfs send tank/raw@r | ssh -c ${CIPHER} root@${next(i).address} zfs recv -u -d -F tank/rawrecv`)));
  return { wallMs: performance.now() - startedAt };
}

/** Aggregate throughput per tool, zfs-fleet ÷ raw per round, the controller's CPU and RSS. @param {any[]} samples */
export function summariseRing(samples) {
  const of = (tool) => samples.filter((s) => s.tool === tool).sort((a, b) => a.round - b.round);
  const mibps = (s) => s.payloadMib / (s.wallMs / 1000);
  const [fleet, raw] = [of('fleet'), of('raw')];
  return {
    hosts: RING.length,
    payloadMib: samples[0]?.payloadMib,
    fleet: { wallS: summary(fleet.map((s) => s.wallMs / 1000)), mibps: summary(fleet.map(mibps)), controllerCpuS: summary(fleet.map((s) => s.controller.cpuMs / 1000)), controllerRssMib: summary(fleet.map((s) => s.controller.maxRssKb / 1024)) },
    raw: { wallS: summary(raw.map((s) => s.wallMs / 1000)), mibps: summary(raw.map(mibps)) },
    throughputRatio: pairedRatio(fleet.map(mibps), raw.map(mibps)),
  };
}
