// The five scenarios. Each prepares its own datasets, runs paired rounds (the tools' order
// alternates: A, B, C, then C, B, A, ...) and returns its raw samples; report.mjs summarises.
import { sampleAgents } from './agent-sampler.mjs';
import { PEER, SOURCES, hostSh, log, zfsCallCount } from './lab.mjs';
import { destroySnapshots, destroyTree, fleetSteps, fleetZfsCalls, runFleet, runRaw, runSyncoid, writeFleetConfig, writeRandom } from './tools.mjs';
import { shq } from './exec.mjs';
import { phaseProfile } from './phase-profile.mjs';

/**
 * @typedef {{ quick: boolean, rounds: number, fullMib: number, incMib: number, manyDatasets: number, fewDatasets: number, manyRounds: number, fanMib: number, fanCounts: number[], fanRounds: number }} BenchOptions
 */

/** Round i's order of the tools: forwards on even rounds, backwards on odd ones. */
function orderOf(tools, round) {
  return round % 2 === 0 ? tools : [...tools].reverse();
}

const S1_HOST = 'bsrc1';
/** Each tool has its own source dataset with the same amount of data, and its own copy on the peer. */
const S1 = {
  fleet: { dataset: 'tank/s1/fleet', copy: 'backup/s1fleet' },
  raw: { dataset: 'tank/s1/raw', copy: 'backup/raw/s1/raw' },
  syncoid: { dataset: 'tank/s1/syncoid', copy: 'backup/syncoid/s1/syncoid' },
};

/**
 * One dataset, source → peer, by each tool; `incremental` sends `incMib` of changes instead of a full copy.
 */
class TransferBench {
  /** @param {BenchOptions} options */
  constructor(options) {
    this.options = options;
    this.config = writeFleetConfig('s1', { entries: [{ host: S1_HOST, dataset: S1.fleet.dataset, recursive: false }], receiveRoot: 'backup/s1fleet' });
    this.rawSnapshot = 0;
    /** @type {string | undefined} */
    this.rawBase = undefined;
  }

  async prepare() {
    const { fullMib } = this.options;
    log(`scenario 1/2: ${Object.keys(S1).length} datasets of ${fullMib} MiB on ${S1_HOST}`);
    await destroyTree(S1_HOST, 'tank/s1');
    await hostSh(S1_HOST, `zfs create -p tank/s1 && for t in fleet raw syncoid; do zfs create tank/s1/$t; done`);
    await Promise.all(Object.values(S1).map(({ dataset }) => writeRandom(S1_HOST, dataset, 'data.bin', fullMib)));
    await hostSh(PEER.name, 'zfs create -p backup/raw/s1 && zfs create -p backup/syncoid/s1');
  }

  /** Forgets a tool's copy: the peer's copy and the source's snapshots go. @param {keyof typeof S1} tool */
  async reset(tool) {
    await destroyTree(PEER.name, S1[tool].copy);
    await destroySnapshots(S1_HOST, S1[tool].dataset);
    if (tool === 'raw') this.rawBase = undefined;
  }

  /**
   * Sends the tool's dataset (full when its copy is gone, else incremental) and measures it.
   * @param {keyof typeof S1} tool
   * @param {'full' | 'incremental'} kind
   */
  async send(tool, kind) {
    const payloadMib = kind === 'full' ? this.options.fullMib : this.options.incMib;
    const sampler = sampleAgents([S1_HOST, PEER.name]);
    try {
      if (tool === 'fleet') {
        const { wallMs, report, controller } = await runFleet(this.config, [S1_HOST]);
        const steps = fleetSteps(report);
        if (steps.length !== 1 || steps[0].action !== kind) throw new Error(`fleet: expected one ${kind} step, got ${JSON.stringify(steps)}`);
        const agents = sampler.stop();
        return { tool, kind, payloadMib, transferMs: steps[0].durationMs, wallMs, bytes: steps[0].bytes, controller, agentsKb: agents, zfsCalls: fleetZfsCalls(report), profile: phaseProfile(report, wallMs) };
      }
      if (tool === 'raw') {
        const snapshot = `${S1.raw.dataset}@bench-${++this.rawSnapshot}`;
        await hostSh(S1_HOST, `zfs snapshot ${shq(snapshot)}`);
        if ((kind === 'incremental') !== (this.rawBase !== undefined)) throw new Error(`raw: a ${kind} send needs ${kind === 'full' ? 'no' : 'a'} base`);
        const { wallMs } = await runRaw(S1_HOST, { snapshot, ...(this.rawBase ? { from: this.rawBase } : {}), receiveRoot: 'backup/raw' });
        this.rawBase = snapshot;
        return { tool, kind, payloadMib, transferMs: wallMs, wallMs };
      }
      const { wallMs } = await runSyncoid(S1_HOST, { source: S1.syncoid.dataset, target: S1.syncoid.copy });
      return { tool, kind, payloadMib, transferMs: wallMs, wallMs };
    } finally {
      sampler.stop();
    }
  }
}

const TOOLS = /** @type {const} */ (['fleet', 'raw', 'syncoid']);

/** An untimed full copy per tool, each on a clean peer. @param {TransferBench} bench */
async function freshFullCopies(bench) {
  for (const tool of TOOLS) {
    await bench.reset(tool);
    await bench.send(tool, 'full');
  }
}

/** Scenario 1: full copies. @param {BenchOptions} options */
export async function scenarioFull(options, bench = new TransferBench(options)) {
  await bench.prepare();
  // One untimed send per tool first: the first read of freshly written data is slower for whoever goes first.
  await freshFullCopies(bench);
  const samples = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const tool of orderOf(TOOLS, round)) {
      const sample = await retryOnce(`full round ${round + 1} ${tool}`, async () => {
        await bench.reset(tool);
        return bench.send(tool, 'full');
      });
      log(`  full round ${round + 1} ${tool}: ${fmt(sample.transferMs)} ms`);
      samples.push({ round, ...sample });
    }
  }
  return { samples, bench };
}

/** Scenario 2: incMib changed since each tool's last run. @param {BenchOptions} options @param {TransferBench} bench */
export async function scenarioIncremental(options, bench) {
  // Every tool starts from its own fresh full copy (not timed).
  await freshFullCopies(bench);
  const samples = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const tool of orderOf(TOOLS, round)) {
      await writeRandom(S1_HOST, S1[tool].dataset, 'delta.bin', options.incMib);
      const sample = await retryOnce(`incremental round ${round + 1} ${tool}`, () => bench.send(tool, 'incremental'));
      log(`  incremental round ${round + 1} ${tool}: ${fmt(sample.transferMs)} ms`);
      samples.push({ round, ...sample });
    }
  }
  return { samples };
}

const S3_HOST = 'bsrc2';

/**
 * Scenario 3: a recursive tree of many datasets × 5 snapshots, already on the peer, nothing new:
 * fleet (--no-snapshot) against syncoid -r --no-sync-snap; wall time and zfs invocations on
 * both hosts (the wrapper's log; for fleet also the agents' own count). The same is measured
 * once on a small tree, to show how the number of calls grows.
 * @param {BenchOptions} options
 */
export async function scenarioNothingNew(options) {
  const trees = { many: options.manyDatasets, few: options.fewDatasets };
  log(`scenario 3: trees of ${trees.many} and ${trees.few} datasets × 5 snapshots on ${S3_HOST}`);
  await destroyTree(PEER.name, 'backup/s3fleet');
  await destroyTree(PEER.name, 'backup/syncoid/s3');
  await hostSh(PEER.name, 'zfs create -p backup/syncoid/s3');
  for (const [name, count] of Object.entries(trees)) await makeTree(`tank/s3/${name}`, count);

  const configs = Object.fromEntries(Object.keys(trees).map((name) => [name, writeFleetConfig(`s3-${name}`, { entries: [{ host: S3_HOST, dataset: `tank/s3/${name}`, recursive: true }], receiveRoot: 'backup/s3fleet' })]));
  const tools = {
    /** @param {string} tree */
    fleet: async (tree) => {
      const { wallMs, report, controller } = await runFleet(configs[tree], [S3_HOST, '--no-snapshot']);
      return { wallMs, reported: fleetZfsCalls(report), actions: [...new Set(fleetSteps(report).map((step) => step.action))], controller };
    },
    /** @param {string} tree */
    syncoid: async (tree) => runSyncoid(S3_HOST, { source: `tank/s3/${tree}`, target: `backup/syncoid/s3/${tree}`, recursive: true, noSyncSnap: true }),
  };
  /** @param {'fleet' | 'syncoid'} tool @param {string} tree */
  const measure = async (tool, tree) => {
    const before = zfsCallCount(S3_HOST) + zfsCallCount(PEER.name);
    const result = await tools[tool](tree);
    const zfsCalls = zfsCallCount(S3_HOST) + zfsCallCount(PEER.name) - before;
    return { tool, tree, datasets: trees[tree], zfsCalls, ...result };
  };

  log('  initial copies (not timed)');
  for (const tree of Object.keys(trees)) {
    await runFleet(configs[tree], [S3_HOST, '--no-snapshot']);
    await tools.syncoid(tree);
  }
  const samples = [];
  for (let round = 0; round < options.manyRounds; round++) {
    for (const tool of orderOf(/** @type {const} */ (['fleet', 'syncoid']), round)) {
      const sample = await retryOnce(`many round ${round + 1} ${tool}`, () => measure(tool, 'many'));
      if (tool === 'fleet' && (sample.actions.length !== 1 || sample.actions[0] !== 'up-to-date')) throw new Error(`fleet: expected only up-to-date steps, got ${sample.actions}`);
      log(`  many round ${round + 1} ${tool}: ${fmt(sample.wallMs)} ms, ${sample.zfsCalls} zfs calls`);
      samples.push({ round, ...sample });
    }
  }
  const few = [await measure('fleet', 'few'), await measure('syncoid', 'few')];
  for (const sample of few) log(`  few ${sample.tool}: ${fmt(sample.wallMs)} ms, ${sample.zfsCalls} zfs calls`);
  return { samples, few };
}

/** A tree of `count` child datasets, each with a small file changed before each of 5 recursive snapshots. @param {string} root @param {number} count */
async function makeTree(root, count) {
  await destroyTree(S3_HOST, root);
  await hostSh(
    S3_HOST,
    `
    zfs create -p ${shq(root)}
    for i in $(seq -w 1 ${count}); do zfs create ${shq(root)}/d$i; done
    for s in 1 2 3 4 5; do
      for i in $(seq -w 1 ${count}); do echo "snapshot $s of d$i" > /mnt/${root}/d$i/file.txt; done
      sync
      zfs snapshot -r ${shq(root)}@s$s
    done`,
  );
}

/**
 * Scenario 4: 1, 2, 4, 8 sources backing up a full dataset at once into the one peer; wall time
 * and the controller's CPU and peak RSS. Transfers are not throttled by the defaults' per-host
 * limit: parallel.global and perHost are 8, so all N streams run at once.
 * @param {BenchOptions} options
 */
export async function scenarioFanOut(options) {
  const max = Math.max(...options.fanCounts);
  const sources = SOURCES.slice(0, max).map((source) => source.name);
  log(`scenario 4: ${options.fanMib} MiB on each of ${sources.length} sources`);
  await Promise.all(
    sources.map(async (host) => {
      await destroyTree(host, 'tank/fan');
      await hostSh(host, 'zfs create tank/fan');
      await writeRandom(host, 'tank/fan', 'data.bin', options.fanMib);
    }),
  );
  const config = writeFleetConfig('s4', {
    entries: sources.map((host) => ({ host, dataset: 'tank/fan', recursive: false })),
    receiveRoot: 'backup/fan',
    parallel: { global: max, perHost: max },
  });
  const samples = [];
  for (let round = 0; round < options.fanRounds; round++) {
    for (const count of orderOf(options.fanCounts, round)) {
      await destroyTree(PEER.name, 'backup/fan');
      // The receive root exists after a fleet's first run. Made here, because concurrent first
      // runs race on it: each source's `zfs create -p backup/fan/<host>` can fail with "cannot
      // create 'backup/fan': dataset already exists" (see docs/benchmarks.md).
      await hostSh(PEER.name, 'zfs create -o atime=off backup/fan');
      await Promise.all(sources.map((host) => destroySnapshots(host, 'tank/fan')));
      const hosts = sources.slice(0, count);
      const { wallMs, report, controller } = await runFleet(config, hosts);
      const steps = fleetSteps(report);
      if (steps.length !== count || steps.some((step) => step.action !== 'full')) throw new Error(`fleet: expected ${count} full steps, got ${JSON.stringify(steps)}`);
      const sample = { round, sources: count, wallMs, cpuMs: controller.cpuMs, maxRssKb: controller.maxRssKb, bytes: steps.reduce((sum, step) => sum + step.bytes, 0), payloadMib: count * options.fanMib };
      log(`  fan-out round ${round + 1} ×${count}: ${fmt(wallMs)} ms, controller ${fmt(controller.cpuMs)} ms CPU, ${fmt(controller.maxRssKb / 1024)} MiB`);
      samples.push(sample);
    }
  }
  return { samples };
}

/**
 * Runs a measurement, and once more if it fails: the machine is shared, and a test elsewhere
 * that kills processes by name (`pkill -f 'zfs recv'` sees every lab's processes) can cut a
 * stream of ours. A second failure is a real one.
 * @template T
 * @param {string} what
 * @param {() => Promise<T>} measure
 * @returns {Promise<T>}
 */
async function retryOnce(what, measure) {
  try {
    return await measure();
  } catch (error) {
    log(
      `  ${what} failed, measuring it again: ${String(error instanceof Error ? error.message : error)
        .split('\n')[0]
        .slice(0, 300)}`,
    );
    return measure();
  }
}

/** @param {number} value */
function fmt(value) {
  return value.toFixed(0);
}
