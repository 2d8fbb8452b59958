import type pino from 'pino';
import { planReplication, type ReplicationPlan } from '@zfs-fleet/plan';
import { entrySettings, toFleetErrorFromClient, type DatasetTree, type ExportEvent, type FleetConfig, type FleetErrorShape, type ReplicateEvent, type ResumeTokenInfo, type SnapshotName } from '@zfs-fleet/protocol';
import type { AgentSession } from '../agent/connect-agent.ts';
import { SessionPool, type SessionTimings } from '../agent/session-pool.ts';
import { gatherTrees, type Listed, type UnitTrees } from '../run/gather-trees.ts';
import { destinationOf, distinct, listUnits, type Unit } from '../run/list-units.ts';
import { runPhases, type PhasesOutcome } from '../run/run-phases.ts';
import { FINISH_PHASES, HOST_PHASES, transferContext, UNIT_PHASES, type HostRun } from './backup-phases.ts';
import { sendableSteps, transfersOf, type ExecutePlanInput, type SendableStep } from './execute-plan.ts';
import { HostSequence } from '../sequence/host-sequence.ts';
import { unitPhases } from '../sequence/sequence-phases.ts';
import { unreachedSequences } from '../sequence/unreached-sequences.ts';
import type { SequenceStepReport } from '../sequence/sequence-report.ts';
import { createTransferSlots, type TransferSlots } from './create-limiter.ts';
import { reportStep } from './report-step.ts';
import { isUnitSuccessful, unitStatus, type HostReport, type RunReport, type UnitReport, type UnitTimings } from './run-report.ts';
import { createSnapshotName } from './snapshot-name.ts';
import { faultPoint } from '../faults/fault-point.ts';
import { withPendingSnapshot } from './with-pending-snapshot.ts';
import { isExportSuccessful, type ExportUnitReport } from '../export/export-report.ts';
import { listExportUnits, runsStep, type ExportUnit } from '../export/export-units.ts';
import { exportHost } from '../export/run-exports.ts';

export interface BackupOptions {
  /** Source hosts to back up. */
  hosts: string[];
  /** Plan only: take no snapshot, send nothing. */
  dryRun: boolean;
  /** Send up to this existing snapshot instead of taking a new one. */
  snapshot?: SnapshotName;
  /** Replicate existing snapshots only. */
  noSnapshot: boolean;
  forceFull: boolean;
  force: boolean;
  parallel?: number;
  now?: () => Date;
  /** Live transfer events, for progress display. */
  onProgress?: (event: TransferProgress) => void;
  /** Only these entries (`fleet run --due`); all of each host's entries when absent. */
  only?: (host: string, dataset: string) => boolean;
  /** `--auto-install`: install the matching agent where it is missing or another version. */
  autoInstall?: boolean;
  /** Each step of an entry's sequence as it finishes, for progress. */
  onStep?: (host: string, dataset: string, step: SequenceStepReport) => void;
  /** Opens a host's agent session; over SSH when absent (tests pass an in-process one). */
  connect?: (host: string) => Promise<AgentSession>;
  /** Live export events (start, progress, done), for progress display. */
  onExportEvent?: (unit: ExportUnitReport, event: ExportEvent) => void;
}

export interface TransferProgress {
  host: string;
  peer: string;
  dataset: string;
  event: ReplicateEvent;
}

/**
 * Backs up the selected hosts' entries to their peers: list the units, then per source host,
 * holding a lease on its sessions and its peers' (at most `parallel.connections` open at
 * once): run the host phases (snapshot), gather the trees, plan each unit, run its phases
 * (replicate), finish (prune, unlock). One report row per unit; a unit, a host or a peer that
 * fails never stops the others, and never the report.
 */
export async function runBackup(config: FleetConfig, options: BackupOptions, logger: pino.Logger): Promise<RunReport> {
  const clock = options.now ?? (() => new Date());
  const startedAt = clock();
  const allUnits = listUnits(config, { hosts: options.hosts, ...(options.only ? { only: options.only } : {}) });
  // An entry whose sequence has no replicate step is snapshotted and pruned, never sent.
  const units = allUnits.filter((unit) => entrySettings(config, unit.entry).sequence.includes('replicate'));
  // Entries to export targets (issue #12): their host runs its phases even when it has no peer.
  const exportUnits = listExportUnits(config, { hosts: options.hosts, ...(options.only ? { only: options.only } : {}) });
  const exportReports: ExportUnitReport[] = [];
  const runs = new Map<string, HostRun>();
  const hosts: HostReport[] = distinct(options.hosts).map((host) => ({ host }));
  const sessions = new SessionPool(config, logger, { autoInstall: options.autoInstall === true, limit: config.parallel.connections, ...(options.connect ? { connect: options.connect } : {}) });
  const reports: UnitReport[] = [];
  const allHosts = distinct(allUnits.flatMap((unit) => [unit.host, unit.peer]));
  // Named before any host is touched: a prefix too long for zfs is a config error (exit 2) with nothing done.
  const snapshot = options.snapshot || options.noSnapshot ? undefined : createSnapshotName(config.snapshotPrefix, startedAt);
  try {
    const context: HostJobContext = { sessions, snapshot, logger, config, options, startedAt, clock, runs, slots: createTransferSlots(options.parallel ?? config.parallel.global, config.parallel.perHost), reports, exportUnits };
    await Promise.all(
      distinct([...allUnits, ...exportUnits].map((unit) => unit.host)).map((host) => {
        const report = hosts.find((candidate) => candidate.host === host)!;
        // The lease opens the host's session and its peers' at once: a peer's SSH handshake and agent start overlap the snapshot.
        return sessions.lease([host, ...allUnits.filter((unit) => unit.host === host).map((unit) => unit.peer)], async (queuedMs) => {
          report.timings = { queuedMs };
          if (queuedMs > 0) logger.debug({ host, queuedMs }, 'waited for a connection (parallel.connections)');
          await backUpHost(
            host,
            units.filter((unit) => unit.host === host),
            [...allUnits, ...exportUnits].filter((unit) => unit.host === host),
            report,
            context,
          );
        });
      }),
    );
    if (options.dryRun) exportReports.push(...(await planExports(exportUnits, { sessions, options, clock, logger, config })));
    for (const peer of distinct(allUnits.map((unit) => unit.peer))) if (!hosts.some((host) => host.host === peer)) hosts.push({ host: peer });
    const zfsCalls = await sessions.zfsCalls(allHosts);
    for (const report of hosts) if (zfsCalls.has(report.host)) report.zfsCalls = zfsCalls.get(report.host)!;
  } finally {
    // Locks go on every way out (the agents also drop theirs when the sessions close).
    for (const run of runs.values()) await run.sequence.unlock();
    await sessions.closeAll();
  }
  for (const report of hosts) addSessionTimings(report, sessions.timingsOf(report.host), logger);
  const ran = [...runs.values()].flatMap((run) => run.sequence.reports());
  const hostErrors = new Map(hosts.flatMap((host) => (host.error ? [[host.host, host.error] as const] : [])));
  // An entry that sends nothing on a host the run could not reach: on record with the host's error.
  const sequences = [...ran, ...(options.dryRun ? [] : unreachedSequences(config, allUnits, hostErrors, ran))];
  for (const report of reports) {
    const sequence = sequences.find((candidate) => candidate.host === report.host && candidate.dataset === report.dataset);
    if (sequence) report.phases = unitPhases(report, sequence);
  }
  const pruned = [...runs.values()].flatMap((run) => run.pruned);
  exportReports.push(...[...runs.values()].flatMap((run) => run.exports));
  const exportPrunes = [...runs.values()].flatMap((run) => run.exportPrunes);
  reports.sort((a, b) => `${a.host} ${a.dataset} ${a.peer}`.localeCompare(`${b.host} ${b.dataset} ${b.peer}`));
  const durationMs = clock().getTime() - startedAt.getTime();
  const ok = reports.every(isUnitSuccessful) && hosts.every((host) => !host.error) && sequences.every((sequence) => sequence.ok) && pruned.every((unit) => unit.status !== 'failed') && exportReports.every(isExportSuccessful) && exportPrunes.every(isExportSuccessful);
  return {
    command: options.dryRun ? 'plan' : 'backup',
    startedAt: startedAt.toISOString(),
    durationMs,
    ok,
    units: reports,
    hosts,
    ...(sequences.length > 0 ? { sequences } : {}),
    ...(pruned.length > 0 ? { prune: pruned } : {}),
    ...(exportReports.length > 0 ? { exports: exportReports } : {}),
    ...(exportPrunes.length > 0 ? { exportPrune: exportPrunes } : {}),
  };
}

/** `fleet plan`: what each export unit would send, from the targets' manifests; nothing runs. */
async function planExports(units: readonly ExportUnit[], context: { sessions: SessionPool; options: BackupOptions; clock: () => Date; logger: pino.Logger; config: FleetConfig }): Promise<ExportUnitReport[]> {
  const reports = await Promise.all(
    distinct(units.map((unit) => unit.host)).map((host) =>
      context.sessions.lease([host], async () => {
        const own = units.filter((unit) => unit.host === host && runsStep(context.config, unit.entry, 'export'));
        try {
          const session = await context.sessions.get(host);
          return await exportHost({ host, session, units: own, now: context.clock, forceFull: context.options.forceFull, dryRun: true, logger: context.logger.child({ host }) });
        } catch (error) {
          return own.map((unit): ExportUnitReport => ({ host, dataset: unit.entry.dataset, target: unit.target, status: 'failed', error: toFleetErrorFromClient(error).toShape() }));
        }
      }),
    ),
  );
  return reports.flat();
}

/** What every source host's job shares. */
interface HostJobContext {
  sessions: SessionPool;
  snapshot: SnapshotName | undefined;
  logger: pino.Logger;
  config: FleetConfig;
  options: BackupOptions;
  startedAt: Date;
  clock: () => Date;
  /** Filled with each host's run, for FINISH_PHASES after its units. */
  runs: Map<string, HostRun>;
  slots: TransferSlots;
  /** Each unit's report, as it finishes. */
  reports: UnitReport[];
  exportUnits: readonly ExportUnit[];
}

/** One source host, start to finish: host phases, its trees, its units (one peer after another per pair), finish phases. */
async function backUpHost(host: string, units: readonly Unit[], allUnits: ReadonlyArray<Pick<Unit, 'host' | 'entry'>>, report: HostReport, context: HostJobContext): Promise<void> {
  const { options, snapshot } = context;
  const failure = options.dryRun ? undefined : await runHostPhases(host, allUnits, report, context);
  if (options.dryRun && snapshot) report.snapshot = snapshot;
  const listing = gatherTrees(context.sessions, failure ? [] : units);
  // Test-only (FLEET_FAULT_AT=listing:kill): dies with the listings asked for.
  setImmediate(() => faultPoint('listing'));
  const trees = await listing;
  // A host's entries to one peer go one after another, as listed; peers run at once, within the slots.
  await Promise.all(
    distinct(units.map((unit) => unit.peer)).map(async (peer) => {
      for (const unit of units.filter((candidate) => candidate.peer === peer)) {
        // A host that failed, or an entry that stopped (LOCKED, a failed preSnapshot), sends nothing.
        const stopped = failure ?? context.runs.get(host)?.sequence.abortedBy(unit.entry.dataset);
        // Whatever one unit throws (a session gone, a tree zfs-fleet cannot plan) is that unit's failure, on record.
        const unitReport = stopped ? failedUnit(unit, stopped) : await backUpUnit(unit, { ...context, trees, hostReport: report }).catch((error: unknown) => failedUnit(unit, toFleetErrorFromClient(error).toShape()));
        context.reports.push(unitReport);
      }
    }),
  );
  const run = context.runs.get(host);
  if (run) await runFinishPhases(run, context.reports, report);
}

/** Runs HOST_PHASES on one source host; returns why it failed, if it did. */
async function runHostPhases(host: string, units: ReadonlyArray<Pick<Unit, 'host' | 'entry'>>, report: HostReport, context: HostJobContext): Promise<FleetErrorShape | undefined> {
  const entries = distinct(units.map((unit) => unit.entry));
  const logger = context.logger.child({ host });
  let outcome: PhasesOutcome;
  try {
    const session = await context.sessions.get(host);
    const { options } = context;
    const sequence = new HostSequence({
      config: context.config,
      host,
      session,
      entries,
      command: 'backup',
      startedAt: context.startedAt,
      dryRun: false,
      ...(options.snapshot ? { noSnapshotReason: `--snapshot ${options.snapshot}` } : options.noSnapshot ? { noSnapshotReason: '--no-snapshot' } : {}),
      logger,
      ...(options.onStep ? { onStep: options.onStep } : {}),
    });
    const run: HostRun = {
      host,
      session,
      entries,
      ...(context.snapshot ? { snapshot: context.snapshot } : {}),
      report,
      logger,
      config: context.config,
      sequence,
      sessions: context.sessions,
      now: context.clock,
      units: [],
      pruned: [],
      exportUnits: context.exportUnits.filter((unit) => unit.host === host),
      exports: [],
      exportPrunes: [],
      forceFull: options.forceFull,
      ...(options.onExportEvent ? { onExportEvent: options.onExportEvent } : {}),
    };
    context.runs.set(host, run);
    outcome = await runPhases(HOST_PHASES, run);
    report.phases = outcome.phases;
  } catch (error) {
    outcome = { ok: false, phases: [], error: toFleetErrorFromClient(error).toShape() };
  }
  if (!outcome.error) return undefined;
  report.error = outcome.error;
  // The report shows it: logged below the default level (warn), not twice on a terminal.
  logger.info({ err: outcome.error }, 'source host failed');
  return outcome.error;
}

/** FINISH_PHASES on a source host that ran its host phases: replicate's outcome, prune, unlock. */
async function runFinishPhases(run: HostRun, reports: readonly UnitReport[], report: HostReport): Promise<void> {
  run.units = reports.filter((unit) => unit.host === run.host);
  const outcome = await runPhases(FINISH_PHASES, run);
  report.phases = [...(report.phases ?? []), ...outcome.phases];
  if (outcome.error) report.error ??= outcome.error;
}

/** The host's connection costs, summed over its sessions, beside the time it queued; logged at debug. */
function addSessionTimings(report: HostReport, timings: SessionTimings | undefined, logger: pino.Logger): void {
  if (timings) report.timings = { ...report.timings, ...timings };
  if (report.timings) logger.debug({ host: report.host, timings: report.timings, phases: report.phases?.map(({ name, durationMs }) => ({ name, durationMs })) }, 'host timings');
}

interface UnitContext {
  trees: UnitTrees;
  sessions: SessionPool;
  slots: TransferSlots;
  config: FleetConfig;
  options: BackupOptions;
  hostReport: HostReport;
  snapshot: SnapshotName | undefined;
  startedAt: Date;
  logger: pino.Logger;
}

/** Plans one unit from the gathered trees and, unless a dry run, runs UNIT_PHASES on it holding both hosts' slots. */
async function backUpUnit(unit: Unit, context: UnitContext): Promise<UnitReport> {
  const { options } = context;
  const logger = context.logger.child({ host: unit.host, peer: unit.peer, dataset: unit.entry.dataset });
  const source = context.trees.source(unit);
  const copy = context.trees.copy(unit);
  if (!source.ok || !copy.ok) return unreachableUnit(unit, source, copy, context.hostReport, logger);
  const sourceTree = options.dryRun && context.snapshot ? withPendingSnapshot(source.tree, [unit.entry], context.snapshot, context.startedAt) : source.tree;
  const [sourceSession, peerSession] = await Promise.all([context.sessions.get(unit.host), context.sessions.get(unit.peer)]);
  const planStartedAt = performance.now();
  const resumeTokens = await decodeResumeTokens(sourceSession, copy.tree, logger);
  const plan = planUnit(unit, sourceTree, copy.tree, options, resumeTokens);
  const report: UnitReport = { host: unit.host, dataset: unit.entry.dataset, peer: unit.peer, status: 'planned', steps: plan.steps.map(reportStep) };
  // The two listings ran at once: the unit waited for the slower.
  const timings: UnitTimings = { listMs: Math.max(source.durationMs, copy.durationMs), planMs: 0 };
  report.timings = timings;
  if (options.dryRun) {
    await addEstimates(report, plan, sourceSession, peerSession, transferContext(unit, sourceTree)).catch((error: unknown) => logger.warn({ err: toFleetErrorFromClient(error).toShape() }, 'could not estimate the stream sizes'));
    timings.planMs = Math.round(performance.now() - planStartedAt);
    logger.debug({ timings }, 'unit timings');
    return { ...report, status: unitStatus(report.steps, false) };
  }
  timings.planMs = Math.round(performance.now() - planStartedAt);
  // Test-only (FLEET_FAULT_AT=planned:stop): pauses between planning and executing, so a test can change the hosts.
  faultPoint('planned');
  const run = { unit, plan, report, source: sourceSession, peer: peerSession, sourceTree, peerTree: copy.tree, config: context.config, logger, ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
  const queuedAt = performance.now();
  const outcome = await context.slots(unit.host, unit.peer, () => {
    timings.slotWaitMs = Math.round(performance.now() - queuedAt);
    return runPhases(UNIT_PHASES, run);
  });
  report.phases = outcome.phases;
  timings.transferMs = outcome.phases.find((phase) => phase.name === 'replicate')?.durationMs ?? 0;
  logger.debug({ timings }, 'unit timings');
  if (outcome.ok) return { ...report, status: unitStatus(report.steps, true) };
  // The report shows every failed unit with its code and hint: the default level (warn) does not repeat it.
  logger.info({ err: outcome.error }, 'backup unit failed');
  return { ...report, status: 'failed', ...(outcome.error ? { error: outcome.error } : {}) };
}

/** The unit's plan: pure, from the two trees. */
export function planUnit(unit: Unit, sourceTree: DatasetTree, peerTree: DatasetTree, options: Pick<BackupOptions, 'snapshot' | 'forceFull' | 'force'>, resumeTokens: readonly ResumeTokenInfo[] = []): ReplicationPlan {
  return planReplication({
    resumeTokens,
    source: sourceTree,
    destination: peerTree,
    root: unit.entry.dataset,
    recursive: unit.entry.recursive,
    exclude: unit.entry.exclude,
    destinationOf: (dataset) => destinationOf(unit.receiveRoot, unit.host, dataset),
    target: options.snapshot ? { kind: 'snapshot', name: options.snapshot } : { kind: 'latest' },
    forceFull: options.forceFull,
    force: options.force,
    mirrorDeletions: unit.entry.mirrorDeletions,
  });
}

function unreachableUnit(unit: Unit, source: Listed, copy: Listed, hostReport: HostReport, logger: pino.Logger): UnitReport {
  if (!source.ok) {
    hostReport.error ??= source.error;
    logger.info({ err: source.error }, 'source host failed');
    return failedUnit(unit, source.error);
  }
  const error = (copy as Extract<Listed, { ok: false }>).error;
  logger.info({ err: error }, 'peer failed');
  return failedUnit(unit, error);
}

function failedUnit(unit: Unit, error: FleetErrorShape): UnitReport {
  return { host: unit.host, dataset: unit.entry.dataset, peer: unit.peer, status: 'failed', steps: [], error };
}

/**
 * The source decodes the peer's resume tokens (`zfs send -nv -t`), so the plan knows what each
 * would send and whether that snapshot still exists. Undecoded tokens are resumed as they are.
 */
async function decodeResumeTokens(source: AgentSession, peerTree: DatasetTree, log: pino.Logger): Promise<ResumeTokenInfo[]> {
  const tokens = peerTree.datasets.flatMap((dataset) => (dataset.resumeToken ? [dataset.resumeToken] : []));
  if (tokens.length === 0 || !source.hello.zfs.resumableReceive) return [];
  return source.agent.decodeResumeTokens.query({ tokens }).catch((error: unknown) => {
    log.warn({ err: toFleetErrorFromClient(error).toShape() }, 'could not decode resume tokens; resuming them as they are');
    return [];
  });
}

/**
 * `fleet plan`: what `zfs send -nP` predicts for each stream. A snapshot the plan would take
 * does not exist yet; its stream is estimated up to the newest existing snapshot (changes since
 * then are not counted), and the report says which snapshot the estimate is for.
 */
async function addEstimates(report: UnitReport, plan: ReplicationPlan, source: AgentSession, peer: AgentSession, context: Pick<ExecutePlanInput, 'receiveOf' | 'isEncrypted' | 'senderTree'>): Promise<void> {
  if (!source.hello.zfs.sendEstimate) return;
  const steps = sendableSteps(plan.steps).flatMap((step) => {
    const existing = existingTarget(step, context.senderTree!);
    return existing ? [existing] : [];
  });
  if (steps.length === 0) return;
  const estimates = await source.agent.estimate.query({ transfers: transfersOf(context, steps), peerZfs: peer.hello.zfs });
  steps.forEach((step, index) => {
    const stepReport = report.steps.find((candidate) => candidate.dataset === step.dataset);
    const bytes = estimates[index];
    if (!stepReport || bytes === null || bytes === undefined) return;
    stepReport.estimatedBytes = bytes;
    if (step.kind !== 'resume' && step.to.name !== stepReport.to) stepReport.estimatedTo = step.to.name;
  });
}

/** The step with a target that exists on the source: a pending snapshot (guid 0) becomes the newest real one. */
function existingTarget(step: SendableStep, tree: DatasetTree): SendableStep | undefined {
  if (step.kind === 'resume' || step.to.guid !== '0') return step;
  const real = tree.datasets.find((dataset) => dataset.name === step.dataset)?.snapshots.filter((snapshot) => snapshot.guid !== '0') ?? [];
  const newest = real.at(-1);
  if (!newest || (step.kind === 'incremental' && newest.guid === step.from.guid)) return undefined;
  return { ...step, to: { name: newest.name, guid: newest.guid, createtxg: newest.createtxg } };
}
