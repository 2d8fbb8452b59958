// One size of the simulated fleet (bench scenario 7): N hosts in a ring (ring-fleet.ts), their
// agents the real router over a fake zfs on a worker thread (agents-worker.ts), reached over the
// real stream link. The controller code is the real one: config text → parseConfig →
// `fleet plan --all` (runBackup, a dry run, and its report) → `fleet backup --all`
// (runAndRecord: snapshot, listings, plan, execute, journal, metrics) and its report.
// Prints one JSON line of figures; bench/lib/simulated-fleet.mjs runs one process per size,
// so that each one's peak RSS is its own.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { MessageChannel, Worker } from 'node:worker_threads';
import pino from 'pino';
import { openSession } from '../../packages/controller/src/agent/fake-fleet.fixture.ts';
import { runAndRecord } from '../../packages/controller/src/backup/run-and-record.ts';
import { runBackup } from '../../packages/controller/src/backup/run-backup.ts';
import type { RunReport } from '../../packages/controller/src/backup/run-report.ts';
import { parseConfig } from '../../packages/controller/src/config/load-config.ts';
import { formatRunReport } from '../../packages/controller/src/output/print-run-report.ts';
import { hostNames, ringConfigText, type RingShape } from './ring-fleet.ts';

const shape: RingShape = { hosts: Number(process.argv[2] ?? 10), datasets: Number(process.env.SIM_DATASETS ?? 50), snapshots: Number(process.env.SIM_SNAPSHOTS ?? 30) };
const work = mkdtempSync(path.join(os.tmpdir(), 'fleet-sim-'));
// The in-memory fleet makes a lock directory per host under the temp dir: keep them in ours.
process.env.TMPDIR = work;
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** This thread's CPU (the controller's), from /proc: user + system, in ms. */
function threadCpuMs(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
function processCpuMs(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

const worker = new Worker(new URL('./agents-worker.mjs', import.meta.url), { workerData: shape });
await new Promise((resolve) => worker.once('message', resolve));
const fleetRss = process.memoryUsage().rss;

/** A session to a host's agent on the worker thread: its stdio over a MessagePort. */
function connect(host: string) {
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ type: 'connect', host, port: port2 }, [port2]);
  const toAgent = new PassThrough();
  const toController = new PassThrough();
  toAgent.on('data', (chunk: Buffer) => port1.postMessage(chunk));
  toAgent.on('end', () => (port1.postMessage(null), port1.close()));
  port1.on('message', (chunk: Uint8Array) => toController.write(chunk));
  return openSession(host, { toAgent, toController });
}

// The controller's own heap, sampled: the process's RSS holds the agents' too.
let peakHeap = 0;
const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 100);

const logger = pino({ level: 'silent' });
const hosts = hostNames(shape);
const configText = ringConfigText(shape, path.join(work, 'state'), process.env.SIM_CONNECTIONS ? Number(process.env.SIM_CONNECTIONS) : undefined);
const options = { hosts, noSnapshot: false, forceFull: false, force: false, connect };

async function measure(command: (config: ReturnType<typeof load>) => Promise<RunReport>) {
  const [cpu, thread, startedAt] = [processCpuMs(), threadCpuMs(), performance.now()];
  peakHeap = 0;
  const report = await command(load());
  const printed = formatRunReport(report, { colour: false }).length + JSON.stringify(report).length;
  const queued = report.hosts.map((host) => host.timings?.queuedMs ?? 0).sort((a, b) => a - b);
  return {
    wallMs: Math.round(performance.now() - startedAt),
    controllerCpuMs: Math.round(threadCpuMs() - thread),
    processCpuMs: Math.round(processCpuMs() - cpu),
    controllerPeakHeapMib: mib(peakHeap),
    units: report.units.reduce<Record<string, number>>((count, unit) => ((count[unit.status] = (count[unit.status] ?? 0) + 1), count), {}),
    queuedMedianMs: queued[Math.floor(queued.length / 2)] ?? 0,
    printedChars: printed,
  };
}
function load() {
  const parsed = parseConfig(configText);
  if (!parsed.config) throw new Error(parsed.errors.join('\n'));
  return parsed.config;
}

const plan = await measure((config) => runBackup(config, { ...options, dryRun: true }, logger));
let recorded = false;
const backup = await measure(async (config) => {
  const result = await runAndRecord(config, { ...options, dryRun: false }, 'backup', logger);
  recorded = result.recorded;
  return result.report;
});
clearInterval(sampler);
worker.postMessage({ type: 'transfers' });
const agents = await new Promise<{ count: number; peakHeap: number }>((resolve) => worker.on('message', (message: { type: string; count: number; peakHeap: number }) => message.type === 'transfers' && resolve(message)));
await worker.terminate();
process.stdout.write(
  `${JSON.stringify({
    ...shape,
    node: process.version,
    connections: load().parallel.connections,
    fleetRssMib: mib(fleetRss),
    peakRssMib: mib(process.resourceUsage().maxRSS * 1024),
    agentsPeakHeapMib: mib(agents.peakHeap),
    plan,
    backup: { ...backup, recorded, transfers: agents.count },
  })}\n`,
);
rmSync(work, { recursive: true, force: true });
