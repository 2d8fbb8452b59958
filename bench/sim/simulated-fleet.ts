// One size of the simulated fleet (bench scenario 7): N hosts in a ring (ring-fleet.ts), their
// agents the real router over a fake zfs in a child process (agents-process.ts), reached over the
// real stream link. The controller code is the real one: config text → parseConfig →
// `fleet plan --all` (runBackup, a dry run, and its report) → `fleet backup --all`
// (runAndRecord: snapshot, listings, plan, execute, journal, metrics) and its report.
// Prints one JSON line of figures; bench/lib/simulated-fleet.mjs runs one process per size,
// so that each one's peak RSS is its own: this process's is the controller's alone.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fork } from 'node:child_process';
import pino from 'pino';
import { openSession } from '../../packages/controller/src/agent/fake-fleet.fixture.ts';
import { runAndRecord } from '../../packages/controller/src/backup/run-and-record.ts';
import { runBackup } from '../../packages/controller/src/backup/run-backup.ts';
import type { RunReport } from '../../packages/controller/src/backup/run-report.ts';
import { parseConfig } from '../../packages/controller/src/config/load-config.ts';
import { formatRunReport } from '../../packages/controller/src/output/print-run-report.ts';
import type { FromAgents, ToAgents } from './agents-process.ts';
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

// stdout stays this process's: its last line is the figures.
// A young generation big enough for a burst of listings: 1000 hosts' garbage on one heap, where a real agent has one host's.
const agents = fork(new URL('./agents-process.mjs', import.meta.url), [], { execArgv: [...process.execArgv, '--max-semi-space-size=64'], serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, SIM_SHAPE: JSON.stringify(shape) } });
const toAgents = (message: ToAgents) => agents.send(message);
const sessions = new Map<number, PassThrough>();
type AgentFigures = Extract<FromAgents, { type: 'figures' }>;
let answerFigures: ((figures: AgentFigures) => void) | undefined;
agents.on('message', (message: FromAgents) => (message.type === 'data' ? sessions.get(message.session)?.write(message.chunk) : message.type === 'figures' && answerFigures?.(message)));
/** The agents' CPU so far, their peak heap and RSS, the transfers they ran. */
const agentFigures = () => new Promise<AgentFigures>((resolve) => ((answerFigures = resolve), toAgents({ type: 'figures' })));
await new Promise((resolve) => agents.once('message', resolve));
const startRss = process.memoryUsage().rss;

/** A session to a host's agent in the agents' process: its stdio over the IPC channel. */
let lastSession = 0;
function connect(host: string) {
  const session = (lastSession += 1);
  const toAgent = new PassThrough();
  const toController = new PassThrough();
  sessions.set(session, toController);
  toAgents({ type: 'connect', session, host });
  toAgent.on('data', (chunk: Buffer) => toAgents({ type: 'data', session, chunk }));
  toAgent.on('end', () => (toAgents({ type: 'end', session }), sessions.delete(session)));
  return openSession(host, { toAgent, toController });
}

// The controller's heap, sampled: its peak in each command (the RSS is the process's peak over both).
let peakHeap = 0;
const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 100);

const logger = pino({ level: 'silent' });
const hosts = hostNames(shape);
const configText = ringConfigText(shape, path.join(work, 'state'), process.env.SIM_CONNECTIONS ? Number(process.env.SIM_CONNECTIONS) : undefined);
const options = { hosts, noSnapshot: false, forceFull: false, force: false, connect };

async function measure(command: (config: ReturnType<typeof load>) => Promise<RunReport>) {
  const [cpu, thread, agentsBefore, startedAt] = [processCpuMs(), threadCpuMs(), await agentFigures(), performance.now()];
  peakHeap = 0;
  const report = await command(load());
  const [wallMs, controllerCpuMs, processCpu, agentsAfter] = [performance.now() - startedAt, threadCpuMs() - thread, processCpuMs() - cpu, await agentFigures()];
  const printed = formatRunReport(report, { colour: false }).length + JSON.stringify(report).length;
  const queued = report.hosts.map((host) => host.timings?.queuedMs ?? 0).sort((a, b) => a - b);
  return {
    wallMs: Math.round(wallMs),
    controllerCpuMs: Math.round(controllerCpuMs),
    processCpuMs: Math.round(processCpu),
    agentsCpuMs: Math.round(agentsAfter.cpuMs - agentsBefore.cpuMs),
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
const fleet = await agentFigures();
agents.disconnect();
process.stdout.write(
  `${JSON.stringify({
    ...shape,
    node: process.version,
    connections: load().parallel.connections,
    controllerStartRssMib: mib(startRss),
    peakRssMib: mib(process.resourceUsage().maxRSS * 1024),
    agentsPeakRssMib: mib(fleet.peakRss),
    agentsPeakHeapMib: mib(fleet.peakHeap),
    plan,
    backup: { ...backup, recorded, transfers: fleet.transfers },
  })}\n`,
);
rmSync(work, { recursive: true, force: true });
