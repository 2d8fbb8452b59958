// Turns the scenarios' samples into summaries (median, min–max, per-pair ratios), checks
// them against the issue's targets, and renders one Markdown report.
import { summarisePhaseProfile } from './phase-profile.mjs';
import { pairedRatio, summary } from './stats.mjs';

const TARGETS = {
  fullVsRaw: 0.95,
  nothingNewSpeedup: 5,
  controllerRssMib: 150,
  agentRssMib: 120,
  // Scenario 7 (issue #15): `plan --all` of 1000 simulated hosts, and growth per host within 1.5× of linear.
  simPlanS: 10,
  incrementalOverRawS: 0.5,
  simRssMib: 300,
  simGrowth: 1.5,
};

/** @param {{ payloadMib: number, transferMs: number }} sample */
const mibps = (sample) => sample.payloadMib / (sample.transferMs / 1000);

/** @param {any[]} samples @param {string} tool */
const ofTool = (samples, tool) => samples.filter((sample) => sample.tool === tool).sort((a, b) => a.round - b.round);

/** Scenario 1 or 2: throughput and wall time per tool, fleet's ratio to each other tool per round. @param {any[]} samples */
export function summariseTransfer(samples) {
  const profile = summarisePhaseProfile(ofTool(samples, 'fleet'));
  const fleet = ofTool(samples, 'fleet');
  /** @type {Record<string, any>} */
  const tools = {};
  for (const tool of ['fleet', 'raw', 'syncoid']) {
    const own = ofTool(samples, tool);
    tools[tool] = {
      mibps: summary(own.map(mibps)),
      wallS: summary(own.map((sample) => sample.wallMs / 1000)),
      ...(tool === 'fleet'
        ? {}
        : {
            fleetThroughputRatio: pairedRatio(fleet.map(mibps), own.map(mibps)),
            fleetWallRatio: pairedRatio(
              fleet.map((s) => s.wallMs),
              own.map((s) => s.wallMs),
            ),
          }),
    };
  }
  // zfs-fleet's wall time beyond the raw pipe's, per pair: the fixed cost of a run.
  const raw = ofTool(samples, 'raw');
  const wallOverRawS = summary(fleet.map((sample, index) => (sample.wallMs - raw[index].wallMs) / 1000));
  return { payloadMib: samples[0]?.payloadMib, tools, wallOverRawS, ...(profile ? { profile } : {}) };
}

/** Scenario 3. @param {{ samples: any[], few: any[] }} result */
export function summariseNothingNew({ samples, few }) {
  const fleet = ofTool(samples, 'fleet');
  const syncoid = ofTool(samples, 'syncoid');
  const fewOf = (tool) => few.find((sample) => sample.tool === tool);
  return {
    datasets: fleet[0]?.datasets,
    fewDatasets: fewOf('fleet')?.datasets,
    fleet: { wallS: summary(fleet.map((s) => s.wallMs / 1000)), zfsCalls: summary(fleet.map((s) => s.zfsCalls)), reportedZfsCalls: summary(fleet.map((s) => s.reported)), fewZfsCalls: fewOf('fleet')?.zfsCalls, fewWallS: fewOf('fleet')?.wallMs / 1000 },
    syncoid: { wallS: summary(syncoid.map((s) => s.wallMs / 1000)), zfsCalls: summary(syncoid.map((s) => s.zfsCalls)), fewZfsCalls: fewOf('syncoid')?.zfsCalls, fewWallS: fewOf('syncoid')?.wallMs / 1000 },
    speedup: pairedRatio(
      syncoid.map((s) => s.wallMs),
      fleet.map((s) => s.wallMs),
    ),
  };
}

/** Scenario 4. @param {any[]} samples */
export function summariseFanOut(samples) {
  const counts = [...new Set(samples.map((s) => s.sources))].sort((a, b) => a - b);
  return counts.map((sources) => {
    const own = samples.filter((s) => s.sources === sources);
    return {
      sources,
      payloadMib: own[0].payloadMib,
      wallS: summary(own.map((s) => s.wallMs / 1000)),
      aggregateMibps: summary(own.map((s) => s.payloadMib / (s.wallMs / 1000))),
      controllerCpuS: summary(own.map((s) => s.cpuMs / 1000)),
      controllerRssMib: summary(own.map((s) => s.maxRssKb / 1024)),
    };
  });
}

/** Scenario 5, from the fleet runs of scenarios 1 and 2. @param {any[]} full @param {any[]} incremental */
export function summariseFootprint(full, incremental) {
  const of = (samples) => {
    const fleet = ofTool(samples, 'fleet');
    return {
      payloadMib: fleet[0]?.payloadMib,
      controllerRssMib: summary(fleet.map((s) => s.controller.maxRssKb / 1024)),
      sourceAgentRssMib: summary(fleet.map((s) => s.agentsKb.bsrc1 / 1024)),
      peerAgentRssMib: summary(fleet.map((s) => s.agentsKb.backupb / 1024)),
    };
  };
  return { full: of(full), incremental: of(incremental) };
}

/** Each target: where it stands. @param {any} summaries */
export function checkTargets(summaries) {
  const checks = [];
  if (summaries.full) {
    const ratio = summaries.full.tools.raw.fleetThroughputRatio;
    checks.push({ target: `Scenario 1: zfs-fleet throughput ≥ ${TARGETS.fullVsRaw} × raw pipe`, value: `${ratio.median.toFixed(3)}× (per-pair ${f2(ratio.min)}–${f2(ratio.max)})`, met: ratio.median >= TARGETS.fullVsRaw });
  }
  if (summaries.incremental) {
    const over = summaries.incremental.wallOverRawS;
    checks.push({ target: `Scenario 2: zfs-fleet wall ≤ raw pipe wall + ${TARGETS.incrementalOverRawS} s`, value: `+${f2(over.median)} s (per-pair ${f2(over.min)}–${f2(over.max)})`, met: over.median <= TARGETS.incrementalOverRawS });
  }
  if (summaries.nothingNew) {
    const s = summaries.nothingNew;
    checks.push({ target: `Scenario 3: zfs-fleet ≥ ${TARGETS.nothingNewSpeedup}× faster than syncoid -r`, value: `${f1(s.speedup.median)}× (per-pair ${f1(s.speedup.min)}–${f1(s.speedup.max)})`, met: s.speedup.median >= TARGETS.nothingNewSpeedup });
    const constant = s.fleet.zfsCalls.min === s.fleet.zfsCalls.max && s.fleet.fewZfsCalls === s.fleet.zfsCalls.median;
    checks.push({
      target: 'Scenario 3: constant number of zfs calls (same for the small and the large tree)',
      value: `${s.fleet.fewZfsCalls} calls for ${s.fewDatasets} datasets, ${s.fleet.zfsCalls.median} for ${s.datasets} (syncoid: ${s.syncoid.fewZfsCalls} and ${s.syncoid.zfsCalls.median})`,
      met: constant,
    });
  }
  if (summaries.footprint) {
    const both = [summaries.footprint.full, summaries.footprint.incremental];
    const controller = Math.max(...both.map((x) => x.controllerRssMib.max));
    const agent = Math.max(...both.flatMap((x) => [x.sourceAgentRssMib.max, x.peerAgentRssMib.max]));
    checks.push({ target: `Scenario 5: controller peak RSS < ${TARGETS.controllerRssMib} MiB`, value: `${f1(controller)} MiB (largest of all runs)`, met: controller < TARGETS.controllerRssMib });
    checks.push({ target: `Scenario 5: agent peak RSS < ${TARGETS.agentRssMib} MiB`, value: `${f1(agent)} MiB (largest, source or peer)`, met: agent < TARGETS.agentRssMib });
    const growth = summaries.footprint.full.sourceAgentRssMib.median - summaries.footprint.incremental.sourceAgentRssMib.median;
    checks.push({
      target: 'Scenario 5: RSS independent of dataset size',
      value: `source agent ${f1(summaries.footprint.incremental.sourceAgentRssMib.median)} MiB at ${summaries.footprint.incremental.payloadMib} MiB, ${f1(summaries.footprint.full.sourceAgentRssMib.median)} MiB at ${summaries.footprint.full.payloadMib} MiB`,
      met: Math.abs(growth) < 10,
    });
  }
  if (summaries.simulatedFleet) {
    const sim = summaries.simulatedFleet;
    const largest = sim.rows.at(-1);
    checks.push({ target: `Scenario 7: \`plan --all\` for ${largest.hosts} hosts < ${TARGETS.simPlanS} s wall`, value: `${f2(largest.plan.wallS.median)} s (controller CPU ${f2(largest.plan.controllerCpuS.median)} s)`, met: largest.plan.wallS.median < TARGETS.simPlanS });
    checks.push({
      target: `Scenario 7: peak RSS < ${TARGETS.simRssMib} MiB at ${largest.hosts} hosts`,
      value: `${f1(largest.peakRssMib.median)} MiB, the controller's process (the simulated agents' process apart: ${f1(largest.agentsPeakRssMib.median)} MiB)`,
      met: largest.peakRssMib.median < TARGETS.simRssMib,
    });
    checks.push({
      target: `Scenario 7: linear growth (controller CPU per host, ${sim.growth.from} → ${sim.growth.to} hosts, within ${TARGETS.simGrowth}×)`,
      value: `plan ${f2(sim.growth.planControllerCpu)}×, backup ${f2(sim.growth.backupControllerCpu)}×`,
      met: Math.max(sim.growth.planControllerCpu, sim.growth.backupControllerCpu) <= TARGETS.simGrowth,
    });
  }
  return checks;
}

/**
 * @param {{ meta: any, summaries: any, checks: any[] }} results
 * @returns {string}
 */
export function renderMarkdown({ meta, summaries, checks }) {
  const out = [];
  out.push(`### Run of ${meta.finishedAt}${meta.quick ? ' (--quick: smoke mode, small data, few rounds)' : ''}`, '');
  out.push(`Machine: ${meta.machine.cpu}, ${meta.machine.nproc} CPUs, ${meta.machine.memMib} MiB RAM, Linux ${meta.machine.kernel}; Node.js ${meta.machine.node} (controller), agent: \`${meta.machine.agent}\`; ${meta.machine.syncoid}; zfs-fuse. Commit ${meta.commit}.`, '');
  out.push('Cells are median (min–max) over the rounds; ratios are taken per pair (round by round), then summarised the same way.', '');

  for (const [key, title] of [
    ['full', 'Scenario 1: full send'],
    ['incremental', 'Scenario 2: incremental send'],
  ]) {
    const s = summaries[key];
    if (!s) continue;
    out.push(`#### ${title}, ${s.payloadMib} MiB incompressible (${s.tools.fleet.mibps.n} rounds)`, '');
    out.push('| tool | throughput MiB/s | wall s | zfs-fleet ÷ tool, throughput | zfs-fleet ÷ tool, wall time |', '|---|---|---|---|---|');
    for (const [tool, label] of [
      ['fleet', 'zfs-fleet (transfer step)'],
      ['raw', 'raw `zfs send \\| ssh \\| zfs recv`'],
      ['syncoid', 'syncoid 2.1.0 (defaults)'],
    ]) {
      const t = s.tools[tool];
      out.push(`| ${label} | ${cell(t.mibps, 0)} | ${cell(t.wallS, 2)} | ${t.fleetThroughputRatio ? cell(t.fleetThroughputRatio, 2) : '—'} | ${t.fleetWallRatio ? cell(t.fleetWallRatio, 2) : '—'} |`);
    }
    out.push('');
  }

  const profiled = ['full', 'incremental'].filter((key) => summaries[key]?.profile);
  if (profiled.length > 0) {
    out.push(`#### Where zfs-fleet's wall time goes (scenarios ${profiled.map((key) => (key === 'full' ? 1 : 2)).join(' and ')}, the report's timings, ms)`, '');
    out.push(`| part | ${profiled.map((key) => `${summaries[key].payloadMib} MiB ${key}`).join(' | ')} |`, `|---|${profiled.map(() => '---|').join('')}`);
    const labels = {
      startAndExitMs: 'controller start, config, journal and metrics, exit (wall − run)',
      sourceConnectMs: 'source: SSH connection',
      sourceHandshakeMs: 'source: agent start and hello (the zfs probe)',
      peerConnectMs: 'peer: SSH connection (beside the source)',
      peerHandshakeMs: 'peer: agent start and hello (beside the source)',
      snapshotMs: 'snapshot phase',
      otherHostPhasesMs: 'lock, pre/postSnapshot',
      listMs: 'listings (both at once)',
      planMs: 'plan',
      transferMs: 'transfer (replicate phase)',
      streamMs: '… of which the stream (its ssh included)',
      finishPhasesMs: 'replicated, export, pruneSnapshots, unlock',
      restOfRunMs: 'rest of the run (zfs call counts, hang-up)',
    };
    for (const [key, label] of Object.entries(labels)) out.push(`| ${label} | ${profiled.map((name) => cell(summaries[name].profile[key], 0)).join(' | ')} |`);
    out.push(`| zfs-fleet wall − raw pipe wall, per pair (s) | ${profiled.map((name) => cell(summaries[name].wallOverRawS, 2)).join(' | ')} |`, '');
  }

  const n = summaries.nothingNew;
  if (n) {
    out.push(`#### Scenario 3: ${n.datasets} datasets × 5 snapshots, nothing new (${n.fleet.wallS.n} rounds)`, '');
    out.push(`| tool | wall s | zfs calls, both hosts | zfs calls for ${n.fewDatasets} datasets | syncoid ÷ zfs-fleet, wall time |`, '|---|---|---|---|---|');
    out.push(`| zfs-fleet \`backup --no-snapshot\` | ${cell(n.fleet.wallS, 2)} | ${cell(n.fleet.zfsCalls, 0)} (agents' own count: ${cell(n.fleet.reportedZfsCalls, 0)}) | ${n.fleet.fewZfsCalls} | ${cell(n.speedup, 1)} |`);
    out.push(`| syncoid \`-r --no-sync-snap\` | ${cell(n.syncoid.wallS, 2)} | ${cell(n.syncoid.zfsCalls, 0)} | ${n.syncoid.fewZfsCalls} | — |`);
    out.push('');
  }

  if (summaries.fanOut) {
    const rounds = summaries.fanOut[0]?.wallS.n;
    out.push(`#### Scenario 4: fan-out, N sources at once into one peer, ${summaries.fanOut[0]?.payloadMib} MiB full each (${rounds} rounds)`, '');
    out.push('| sources | wall s | aggregate MiB/s | controller CPU s | controller peak RSS MiB |', '|---|---|---|---|---|');
    for (const row of summaries.fanOut) {
      out.push(`| ${row.sources} | ${cell(row.wallS, 2)} | ${cell(row.aggregateMibps, 0)} | ${cell(row.controllerCpuS, 2)} | ${cell(row.controllerRssMib, 0)} |`);
    }
    out.push('');
  }

  if (summaries.agentRuntimes) {
    const rows = summaries.agentRuntimes;
    out.push(`#### Scenario 6: the agent as a Node.js script and as a single executable, on this machine (${rows[0]?.versionMs.n} rounds)`, '');
    out.push('| agent | agent file MiB | Node.js the host must have, MiB | `fleet-agent version`, ms | `serve --stdio` to first answer, ms | peak RSS then, MiB |', '|---|---|---|---|---|---|');
    for (const row of rows) {
      out.push(`| ${row.runtime} | ${row.agentMib.toFixed(1)} | ${row.runtimeMib ? row.runtimeMib.toFixed(1) : '— (none)'} | ${cell(row.versionMs, 0)} | ${cell(row.readyMs, 0)} | ${cell(row.rssMib, 1)} |`);
    }
    out.push('');
  }

  const sim = summaries.simulatedFleet;
  if (sim) {
    const first = sim.rows[0];
    out.push(`#### Scenario 7: the simulated fleet, a ring of N hosts, ${first.datasets} datasets × ${first.snapshots} snapshots each (${first.plan.wallS.n} rounds, \`parallel.connections: ${first.connections}\`)`, '');
    out.push('| hosts | command | wall s | controller CPU s | controller CPU per host, ms | simulated agents CPU s | controller peak heap MiB | controller peak RSS MiB | agents peak RSS MiB | units |', '|---|---|---|---|---|---|---|---|---|---|');
    for (const row of sim.rows) {
      for (const name of ['plan', 'backup']) {
        const c = row[name];
        const units = Object.entries(c.units)
          .map(([status, count]) => `${count} ${status}`)
          .join(', ');
        out.push(
          `| ${row.hosts} | \`${name} --all\` | ${cell(c.wallS, 2)} | ${cell(c.controllerCpuS, 2)} | ${cell(c.controllerCpuPerHostMs, 1)} | ${cell(c.agentsCpuS, 2)} | ${cell(c.controllerPeakHeapMib, 0)} | ${name === 'plan' ? cell(row.peakRssMib, 0) : '″'} | ${name === 'plan' ? cell(row.agentsPeakRssMib, 0) : '″'} | ${units}${name === 'backup' && !row.transfersOk ? ' (**transfers or journal missing**)' : ''} |`,
        );
      }
    }
    const g = sim.growth;
    out.push(
      '',
      `Growth from ${g.from} to ${g.to} hosts, per host (1.0 is linear): plan controller CPU ${f2(g.planControllerCpu)}, plan wall ${f2(g.planWall)}, backup controller CPU ${f2(g.backupControllerCpu)}; controller peak heap × ${f1(g.heap)}, controller peak RSS × ${f1(g.rss)}.`,
      '',
    );
  }

  const ring = summaries.ring;
  if (ring) {
    out.push(`#### Scenario 8: a ring of ${ring.hosts} lab hosts, each sending ${ring.payloadMib / ring.hosts} MiB to the next while receiving (${ring.fleet.wallS.n} rounds)`, '');
    out.push('| tool | wall s | aggregate MiB/s | zfs-fleet ÷ raw, throughput | controller CPU s | controller peak RSS MiB |', '|---|---|---|---|---|---|');
    out.push(`| zfs-fleet \`backup --all\` (full streams) | ${cell(ring.fleet.wallS, 2)} | ${cell(ring.fleet.mibps, 0)} | ${cell(ring.throughputRatio, 2)} | ${cell(ring.fleet.controllerCpuS, 2)} | ${cell(ring.fleet.controllerRssMib, 0)} |`);
    out.push(`| ${ring.hosts} raw \`zfs send \\| ssh \\| zfs recv\` at once | ${cell(ring.raw.wallS, 2)} | ${cell(ring.raw.mibps, 0)} | — | — | — |`, '');
  }

  const fp = summaries.footprint;
  if (fp) {
    out.push('#### Scenario 5: peak RSS during the zfs-fleet runs of scenarios 1 and 2', '');
    out.push(`| process | ${fp.full.payloadMib} MiB full | ${fp.incremental.payloadMib} MiB incremental | target |`, '|---|---|---|---|');
    out.push(`| controller (\`fleet\`) | ${cell(fp.full.controllerRssMib, 1)} | ${cell(fp.incremental.controllerRssMib, 1)} | < ${TARGETS.controllerRssMib} MiB |`);
    out.push(`| agent on the source | ${cell(fp.full.sourceAgentRssMib, 1)} | ${cell(fp.incremental.sourceAgentRssMib, 1)} | < ${TARGETS.agentRssMib} MiB |`);
    out.push(`| agent on the peer | ${cell(fp.full.peerAgentRssMib, 1)} | ${cell(fp.incremental.peerAgentRssMib, 1)} | < ${TARGETS.agentRssMib} MiB |`);
    out.push('');
  }

  if (checks.length) {
    out.push('#### Targets', '', '| target | measured | status |', '|---|---|---|');
    for (const check of checks) out.push(`| ${check.target} | ${check.value} | ${check.met ? 'met' : '**missed**'} |`);
    out.push('');
  }
  return out.join('\n');
}

/** @param {{ median: number, min: number, max: number }} s @param {number} digits */
function cell(s, digits) {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}
const f1 = (x) => x.toFixed(1);
const f2 = (x) => x.toFixed(2);
