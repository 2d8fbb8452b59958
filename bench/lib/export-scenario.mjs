// Scenario 9 (issue #12): an export of one dataset to a directory target on its own host,
// against the shell pipe it replaces, `zfs send | zstd | age > file`, round by round.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { shq } from './exec.mjs';
import { LAB_DIR, SOURCES, hostSh, labFleetSettings, log, timedInHost } from './lab.mjs';
import { destroySnapshots, destroyTree, runFleet, writeRandom } from './tools.mjs';
import { pairedRatio, summary } from './stats.mjs';

const HOST = 'bsrc1';
const DATASET = 'tank/s9';
const TARGET_DIR = '/var/tmp/bench-exports';
const RAW_FILE = '/var/tmp/bench-raw-export.age';
/** The compressor zfs-fleet's exports use (packages/agent/src/wire.ts). */
const ZSTD = 'zstd -c -q -3 -T0';
export const EXPORT_TARGET_RATIO = 0.8;

/** @param {{ rounds: number, fullMib: number }} options */
export async function scenarioExport(options) {
  log(`scenario 9: ${options.fullMib} MiB exported to a directory on ${HOST}`);
  const keys = mkdtempSync(path.join(os.tmpdir(), 'bench-age-'));
  execFileSync('age-keygen', ['-o', path.join(keys, 'identity.txt')], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', path.join(keys, 'identity.txt')], { encoding: 'utf8' }).trim();
  await destroyTree(HOST, DATASET);
  await hostSh(HOST, `zfs create ${shq(DATASET)} && rm -rf ${TARGET_DIR} && mkdir -p ${TARGET_DIR}`);
  await writeRandom(HOST, DATASET, 'data.bin', options.fullMib);
  const config = writeExportConfig(recipient);

  const tools = {
    fleet: async () => {
      await hostSh(HOST, `rm -rf ${TARGET_DIR}/zfs-fleet-v1`);
      const { wallMs, report, controller } = await runFleet(config, [HOST, '--force-full']);
      const [exported] = report.exports ?? [];
      if (exported?.status !== 'ok' || exported.action !== 'full') throw new Error(`fleet: expected one full export, got ${JSON.stringify(report.exports)}`);
      return { transferMs: exported.durationMs, wallMs, streamBytes: exported.streamBytes, storedBytes: exported.storedBytes, chunks: exported.chunks, controller };
    },
    raw: async () => {
      await hostSh(HOST, `zfs snapshot ${shq(`${DATASET}@raw`)}`);
      const { ms } = await timedInHost(HOST, `zfs send -p ${shq(`${DATASET}@raw`)} | ${ZSTD} | age -r ${shq(recipient)} > ${RAW_FILE}`);
      const storedBytes = Number((await hostSh(HOST, `stat -c %s ${RAW_FILE}; rm -f ${RAW_FILE}`)).stdout.trim());
      await hostSh(HOST, `zfs destroy ${shq(`${DATASET}@raw`)}`);
      return { transferMs: ms, wallMs: ms, storedBytes };
    },
  };
  // One untimed round each: the first read of fresh data is slower for whoever goes first.
  await tools.fleet();
  await tools.raw();
  const samples = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const tool of round % 2 === 0 ? ['fleet', 'raw'] : ['raw', 'fleet']) {
      const sample = await tools[tool]();
      log(`  export round ${round + 1} ${tool}: ${sample.transferMs.toFixed(0)} ms`);
      samples.push({ round, tool, payloadMib: options.fullMib, ...sample });
    }
    await destroySnapshots(HOST, DATASET);
  }
  await hostSh(HOST, `rm -rf ${TARGET_DIR}`);
  await destroyTree(HOST, DATASET);
  return samples;
}

/** A config exporting tank/s7 to a directory on the same host, chunks of the default 128M. @param {string} recipient */
function writeExportConfig(recipient) {
  const settings = labFleetSettings();
  const address = SOURCES.find((source) => source.name === HOST).address;
  const config = {
    ...settings,
    hosts: { [HOST]: { address, backups: [{ dataset: DATASET, to: ['bench-dir'], sequence: ['lock', 'snapshot', 'export', 'unlock'] }] } },
    targets: { 'bench-dir': { type: 'directory', path: TARGET_DIR } },
    exports: { encryption: { recipients: [recipient] } },
  };
  const file = path.join(LAB_DIR, 'bench-s9.yaml');
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** @param {any[]} samples */
export function summariseExport(samples) {
  const of = (tool) => samples.filter((sample) => sample.tool === tool);
  const mibps = (sample) => sample.payloadMib / (sample.transferMs / 1000);
  return {
    payloadMib: samples[0]?.payloadMib,
    fleet: { mibps: summary(of('fleet').map(mibps)), chunks: of('fleet')[0]?.chunks, storedMib: summary(of('fleet').map((s) => s.storedBytes / 2 ** 20)) },
    raw: { mibps: summary(of('raw').map(mibps)), storedMib: summary(of('raw').map((s) => s.storedBytes / 2 ** 20)) },
    ratio: pairedRatio(of('fleet').map(mibps), of('raw').map(mibps)),
  };
}

/** @param {ReturnType<typeof summariseExport>} s */
export function renderExport(s) {
  const cell = (x, d) => `${x.median.toFixed(d)} (${x.min.toFixed(d)}–${x.max.toFixed(d)})`;
  return [
    `#### Scenario 9: export of ${s.payloadMib} MiB incompressible to a directory target on the source host (${s.fleet.mibps.n} rounds)`,
    '',
    '| tool | throughput MiB/s | stored MiB | zfs-fleet ÷ tool, throughput |',
    '|---|---|---|---|',
    `| zfs-fleet export (${s.fleet.chunks} chunks, zstd + age, hashed, manifest) | ${cell(s.fleet.mibps, 0)} | ${cell(s.fleet.storedMib, 0)} | — |`,
    `| \`zfs send \\| ${ZSTD} \\| age > file\` | ${cell(s.raw.mibps, 0)} | ${cell(s.raw.storedMib, 0)} | ${cell(s.ratio, 2)} |`,
    '',
  ].join('\n');
}
