// Scenario 7: the simulated fleet. The real controller code against 10, 100, 1000 simulated
// agents in a process of their own (bench/sim/): one controller process per size and round, so
// that each one's peak RSS is its own and the controller's alone.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { run } from './exec.mjs';
import { summary } from './stats.mjs';

/**
 * Bundles the simulation (it imports the controller's TypeScript sources and the in-memory
 * fleet) and runs each size `rounds` times, alternating sizes round by round.
 * @param {{ repo: string, sizes: number[], rounds: number, log: (line: string) => void }} options
 */
export async function scenarioSimulatedFleet({ repo, sizes, rounds, log }) {
  const out = path.join(repo, 'bench/.build');
  mkdirSync(out, { recursive: true });
  for (const entry of ['simulated-fleet', 'agents-process']) {
    await run(process.execPath, [path.join(repo, 'scripts/bundle.mjs'), path.join(repo, `bench/sim/${entry}.ts`), path.join(out, `${entry}.mjs`), 'node20'], { cwd: repo });
  }
  const samples = [];
  for (let round = 1; round <= rounds; round += 1) {
    for (const hosts of round % 2 ? sizes : [...sizes].reverse()) {
      const result = await run(process.execPath, [path.join(out, 'simulated-fleet.mjs'), String(hosts)], { cwd: repo });
      const sample = { round, ...JSON.parse(result.stdout.trim().split('\n').at(-1)) };
      log(
        `  ${hosts} hosts, round ${round}: plan ${(sample.plan.wallMs / 1000).toFixed(1)} s (controller CPU ${(sample.plan.controllerCpuMs / 1000).toFixed(2)} s), backup ${(sample.backup.wallMs / 1000).toFixed(1)} s, agents CPU ${(sample.plan.agentsCpuMs / 1000).toFixed(2)} s, peak RSS ${sample.peakRssMib} MiB (agents ${sample.agentsPeakRssMib})`,
      );
      samples.push(sample);
    }
  }
  return samples;
}

/** Per size: medians of wall time, controller CPU (total and per host), the agents' CPU, peak RSS (controller's and agents' processes) and heap. */
export function summariseSimulatedFleet(samples) {
  const sizes = [...new Set(samples.map((sample) => sample.hosts))].sort((a, b) => a - b);
  const rows = sizes.map((hosts) => {
    const of = samples.filter((sample) => sample.hosts === hosts);
    const command = (name) => ({
      wallS: summary(of.map((s) => s[name].wallMs / 1000)),
      controllerCpuS: summary(of.map((s) => s[name].controllerCpuMs / 1000)),
      controllerCpuPerHostMs: summary(of.map((s) => s[name].controllerCpuMs / hosts)),
      processCpuS: summary(of.map((s) => s[name].processCpuMs / 1000)),
      agentsCpuS: summary(of.map((s) => s[name].agentsCpuMs / 1000)),
      controllerPeakHeapMib: summary(of.map((s) => s[name].controllerPeakHeapMib)),
      units: of[0][name].units,
    });
    return {
      hosts,
      datasets: of[0].datasets,
      snapshots: of[0].snapshots,
      connections: of[0].connections,
      peakRssMib: summary(of.map((s) => s.peakRssMib)),
      controllerStartRssMib: summary(of.map((s) => s.controllerStartRssMib)),
      agentsPeakRssMib: summary(of.map((s) => s.agentsPeakRssMib)),
      plan: command('plan'),
      backup: command('backup'),
      transfersOk: of.every((s) => s.backup.transfers === hosts && s.backup.recorded),
    };
  });
  // Growth from the smallest to the largest size, per host: 1 is linear, above 1 worse than linear.
  const [first, last] = [rows[0], rows.at(-1)];
  const growth = (pick) => pick(last) / last.hosts / (pick(first) / first.hosts);
  return {
    rows,
    growth: {
      from: first.hosts,
      to: last.hosts,
      planControllerCpu: growth((row) => row.plan.controllerCpuS.median),
      planWall: growth((row) => row.plan.wallS.median),
      backupControllerCpu: growth((row) => row.backup.controllerCpuS.median),
      heap: last.plan.controllerPeakHeapMib.median / first.plan.controllerPeakHeapMib.median,
      rss: last.peakRssMib.median / first.peakRssMib.median,
    },
  };
}
