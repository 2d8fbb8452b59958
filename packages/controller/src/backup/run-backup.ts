import type pino from 'pino';
import {
  isWithin,
  joinDataset,
  parentOf,
  poolOf,
  type BackupEntry,
  type DatasetName,
  type DatasetTree,
  type FleetConfig,
  type ReplicateEvent,
  type SnapshotName,
} from '@zfs-fleet/protocol';
import { planReplication, type ReplicationPlan } from '@zfs-fleet/plan';
import { toFleetErrorFromClient } from '@zfs-fleet/protocol';
import type { AgentSession } from '../agent/connect-agent.ts';
import { SessionPool } from '../agent/session-pool.ts';
import { createLimiter } from './create-limiter.ts';
import { executePlan, sendableSteps } from './execute-plan.ts';
import { reportStep } from './report-step.ts';
import { unitStatus, isUnitSuccessful, type HostReport, type RunReport, type UnitReport } from './run-report.ts';
import { createSnapshotName } from './snapshot-name.ts';
import { withPendingSnapshot } from './with-pending-snapshot.ts';

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
  /** Opens a host's agent session; over SSH when absent (tests pass an in-process one). */
  connect?: (host: string) => Promise<AgentSession>;
}

export interface TransferProgress {
  host: string;
  peer: string;
  dataset: string;
  event: ReplicateEvent;
}

/** Where host H's dataset lands on a peer: `<receive.root>/H/<dataset>`. */
export function destinationOf(receiveRoot: DatasetName, host: string, dataset: DatasetName): DatasetName {
  return joinDataset(receiveRoot, host, dataset);
}

/** Backs up the selected hosts' entries to their peers; one report per unit, never throws for a unit. */
export async function runBackup(config: FleetConfig, options: BackupOptions, logger: pino.Logger): Promise<RunReport> {
  const startedAt = options.now?.() ?? new Date();
  const sessions = new SessionPool(config, logger, { autoInstall: options.autoInstall === true, ...(options.connect ? { connect: options.connect } : {}) });
  const limitTransfers = createLimiter(options.parallel ?? config.parallel.global);
  const hostLimiters = new Map<string, ReturnType<typeof createLimiter>>();
  const limitHost = (host: string) => {
    let limiter = hostLimiters.get(host);
    if (!limiter) hostLimiters.set(host, (limiter = createLimiter(config.parallel.perHost)));
    return limiter;
  };
  const units: UnitReport[] = [];
  const hosts: HostReport[] = [];
  // Open every session at once: a peer's SSH handshake and agent start overlap the sources'
  // snapshots and listings instead of following them.
  for (const host of options.hosts) {
    const entries = (config.hosts[host]?.backups ?? []).filter((entry) => options.only?.(host, entry.dataset) ?? true);
    if (entries.length === 0) continue;
    for (const name of [host, ...entries.flatMap((entry) => entry.to)]) void sessions.get(name).catch(() => undefined);
  }

  try {
    await Promise.all(
      options.hosts.map(async (host) => {
        const hostReport: HostReport = { host };
        hosts.push(hostReport);
        const entries = (config.hosts[host]?.backups ?? []).filter((entry) => options.only?.(host, entry.dataset) ?? true);
        if (entries.length === 0) return;
        const log = logger.child({ host });
        let source: AgentSession;
        let sourceTree: DatasetTree;
        let target: SnapshotName | undefined;
        try {
          source = await sessions.get(host);
          target = await takeSnapshot(source, entries, options, createSnapshotName(config.snapshotPrefix, startedAt));
          if (target) hostReport.snapshot = target;
          sourceTree = (await source.agent.listTree.query({ roots: entries.map((entry) => entry.dataset) })).tree;
          if (options.dryRun && target && !options.snapshot) sourceTree = withPendingSnapshot(sourceTree, entries, target, startedAt);
        } catch (error) {
          const shape = toFleetErrorFromClient(error).toShape();
          hostReport.error = shape;
          for (const entry of entries) for (const peer of entry.to) units.push({ host, dataset: entry.dataset, peer, status: 'failed', steps: [], error: shape });
          log.error({ err: shape }, 'source host failed');
          return;
        }

        const peers = [...new Set(entries.flatMap((entry) => entry.to))];
        await Promise.all(
          peers.map(async (peer) => {
            const peerEntries = entries.filter((entry) => entry.to.includes(peer));
            const receiveRoot = config.hosts[peer]!.receive!.root;
            let peerSession: AgentSession;
            let peerTree: DatasetTree;
            try {
              peerSession = await sessions.get(peer);
              peerTree = (await peerSession.agent.listTree.query({ roots: [joinDataset(receiveRoot, host)] })).tree;
            } catch (error) {
              const shape = toFleetErrorFromClient(error).toShape();
              for (const entry of peerEntries) units.push({ host, dataset: entry.dataset, peer, status: 'failed', steps: [], error: shape });
              log.error({ peer, err: shape }, 'peer failed');
              return;
            }
            for (const entry of peerEntries) {
              const plan = planReplication({
                source: sourceTree,
                destination: peerTree,
                root: entry.dataset,
                recursive: entry.recursive,
                exclude: entry.exclude,
                destinationOf: (dataset) => destinationOf(receiveRoot, host, dataset),
                target: options.snapshot ? { kind: 'snapshot', name: options.snapshot } : { kind: 'latest' },
                forceFull: options.forceFull,
                force: options.force,
                mirrorDeletions: entry.mirrorDeletions,
              });
              const unit: UnitReport = { host, dataset: entry.dataset, peer, status: 'planned', steps: plan.steps.map(reportStep) };
              units.push(unit);
              if (options.dryRun) {
                unit.status = unitStatus(unit.steps, false);
                continue;
              }
              // Host slots are always taken in name order: two hosts that back up to each other
              // cannot then each hold one slot while waiting for the other's.
              const [first, second] = [host, peer].sort();
              await limitTransfers(() =>
                limitHost(first!)(() =>
                  limitHost(second!)(() => executeUnit({ unit, plan, source, peer: peerSession, peerTree, sourceTree, receiveRoot, config, options, logger: log.child({ peer, dataset: entry.dataset }) })),
                ),
              );
            }
          }),
        );
      }),
    );
    for (const report of hosts) {
      const session = await sessions.get(report.host).catch(() => undefined);
      if (session) report.zfsCalls = await session.agent.zfsCalls.query().catch(() => undefined);
    }
    for (const peer of new Set(units.map((unit) => unit.peer))) {
      const session = await sessions.get(peer).catch(() => undefined);
      // A peer whose channel dropped after its transfers must not cost the run its report.
      const zfsCalls = session ? await session.agent.zfsCalls.query().catch(() => undefined) : undefined;
      if (session && !hosts.some((h) => h.host === peer)) hosts.push({ host: peer, ...(zfsCalls ? { zfsCalls } : {}) });
    }
  } finally {
    await sessions.closeAll();
  }
  const durationMs = (options.now?.() ?? new Date()).getTime() - startedAt.getTime();
  units.sort((a, b) => `${a.host} ${a.dataset} ${a.peer}`.localeCompare(`${b.host} ${b.dataset} ${b.peer}`));
  return {
    command: options.dryRun ? 'plan' : 'backup',
    startedAt: startedAt.toISOString(),
    durationMs,
    ok: units.every(isUnitSuccessful) && hosts.every((host) => !host.error),
    units,
    hosts,
  };
}

/** Takes one snapshot name across all entries (atomic per recursive group); undefined when none is wanted. */
async function takeSnapshot(source: AgentSession, entries: readonly BackupEntry[], options: BackupOptions, name: SnapshotName): Promise<SnapshotName | undefined> {
  if (options.snapshot || options.noSnapshot) return undefined;
  if (options.dryRun) return name;
  // Entries nested inside a recursive entry are covered by its `snapshot -r`; naming them again would fail.
  const covering = entries.filter((entry) => !entries.some((other) => other !== entry && other.recursive && isWithin(entry.dataset, other.dataset) && entry.dataset !== other.dataset));
  await source.agent.snapshot.mutate({ name, datasets: dedupe(covering).map((entry) => ({ dataset: entry.dataset, recursive: entry.recursive })) });
  return name;
}

function dedupe(entries: readonly BackupEntry[]): BackupEntry[] {
  const seen = new Map<string, BackupEntry>();
  for (const entry of entries) {
    const previous = seen.get(entry.dataset);
    if (!previous || (entry.recursive && !previous.recursive)) seen.set(entry.dataset, entry);
  }
  return [...seen.values()];
}

interface ExecuteContext {
  unit: UnitReport;
  plan: ReplicationPlan;
  source: AgentSession;
  peer: AgentSession;
  peerTree: DatasetTree;
  sourceTree: DatasetTree;
  receiveRoot: DatasetName;
  config: FleetConfig;
  options: BackupOptions;
  logger: pino.Logger;
}

/** Runs one unit's plan: parents on the peer, then the plan's destroys and streams. */
async function executeUnit(context: ExecuteContext): Promise<void> {
  const { unit, plan, source, peer, peerTree, receiveRoot } = context;
  try {
    if (sendableSteps(plan.steps).length > 0) {
      await ensureDestinationParents(peer, peerTree, receiveRoot, unit.host, plan.root);
      await executePlan({
        steps: plan.steps,
        reports: unit.steps,
        sender: source,
        receiver: peer,
        wire: context.config.wire,
        receiveOf: (step) => ({ receiveInto: joinDataset(receiveRoot, unit.host, poolOf(step.dataset)) }),
        isEncrypted: (dataset) => context.sourceTree.datasets.some((d) => d.name === dataset && d.encrypted === true),
        senderTree: context.sourceTree,
        onEvent: (event) => context.options.onProgress?.({ host: unit.host, peer: unit.peer, dataset: unit.dataset, event }),
      });
    }
    unit.status = unitStatus(unit.steps, true);
  } catch (error) {
    const fleetError = toFleetErrorFromClient(error);
    unit.status = 'failed';
    unit.error = fleetError.toShape();
    context.logger.error({ err: unit.error }, 'backup unit failed');
  }
}

/**
 * Creates what the stream's root needs above it on the peer (`mkdir -p`): the source host's
 * subtree (atime=off, inherited by what it receives), then the dataset's own missing parents.
 */
async function ensureDestinationParents(peer: AgentSession, peerTree: DatasetTree, receiveRoot: DatasetName, host: string, root: DatasetName): Promise<void> {
  const exists = (name: string) => peerTree.datasets.some((dataset) => dataset.name === name);
  const hostRoot = joinDataset(receiveRoot, host);
  if (!exists(hostRoot)) await peer.agent.ensureDatasets.mutate({ datasets: [hostRoot], properties: { atime: 'off' } });
  const parent = parentOf(destinationOf(receiveRoot, host, root));
  if (parent && parent !== hostRoot && !exists(parent)) await peer.agent.ensureDatasets.mutate({ datasets: [parent] });
}
