import type pino from 'pino';
import { planReplication, type ReplicationPlan } from '@zfs-fleet/plan';
import {
  FleetError,
  isWithin,
  joinDataset,
  parentOf,
  toFleetErrorFromClient,
  type BackupEntry,
  type DatasetName,
  type FleetConfig,
  type FleetErrorShape,
  type ReplicateEvent,
  type SnapshotName,
} from '@zfs-fleet/protocol';
import { SessionPool } from '../agent/session-pool.ts';
import { executePlan, sendableSteps } from '../backup/execute-plan.ts';
import { reportStep } from '../backup/report-step.ts';
import { unitStatus, type StepReport, type UnitStatus } from '../backup/run-report.ts';

export interface RestoreOptions {
  /** The host whose dataset was backed up. */
  host: string;
  dataset: DatasetName;
  /** The peer holding the copy; default: the first peer of the entry that backs the dataset up. */
  from?: string;
  /** Restore to this snapshot; default: the newest the peer holds. */
  snapshot?: SnapshotName;
  /** Where to restore; default: the dataset itself, on its own host. */
  to?: { host: string; dataset: DatasetName };
  /** Incremental base to use instead of the newest shared snapshot. */
  start?: SnapshotName;
  forceFull: boolean;
  force: boolean;
  dryRun: boolean;
  /** Called once the plan is known, before anything runs. */
  onPlan?: (report: RestoreReport) => void;
  onEvent?: (event: ReplicateEvent) => void;
  /** `--auto-install`: install the matching agent where it is missing or another version. */
  autoInstall?: boolean;
}

export interface RestoreReport {
  command: 'restore';
  ok: boolean;
  status: UnitStatus;
  host: string;
  dataset: string;
  from: string;
  /** The copy on the peer that is sent back. */
  copy: string;
  target: { host: string; dataset: string };
  recursive: boolean;
  steps: StepReport[];
  durationMs: number;
  error?: FleetErrorShape;
}

/** The backup entry that covers a dataset: the dataset itself, or a recursive ancestor. */
export function coveringEntry(config: FleetConfig, host: string, dataset: DatasetName): BackupEntry | undefined {
  const entries = config.hosts[host]?.backups ?? [];
  return entries.find((entry) => entry.dataset === dataset) ?? entries.find((entry) => entry.recursive && isWithin(dataset, entry.dataset));
}

/**
 * Brings a dataset back from a peer's copy: planned like a backup with the roles swapped (the
 * peer sends, the target host receives), so the same guards apply: nothing on the target is
 * destroyed unless --force, and the plan names what would be.
 */
export async function runRestore(config: FleetConfig, options: RestoreOptions, logger: pino.Logger): Promise<RestoreReport> {
  const startedAt = performance.now();
  if (!config.hosts[options.host]) throw new FleetError('USAGE', `Host "${options.host}" is not in the config.`);
  const entry = coveringEntry(config, options.host, options.dataset);
  const peer = options.from ?? entry?.to[0];
  if (!peer) {
    throw new FleetError('USAGE', `No backup entry of host "${options.host}" covers "${options.dataset}", so there is no peer to restore from.`, {
      hint: 'Name the peer that holds the copy with --from PEER.',
    });
  }
  const receiveRoot = config.hosts[peer]?.receive?.root;
  if (!receiveRoot) throw new FleetError('USAGE', `Host "${peer}" has no "receive:" section: it holds no backups.`);
  const target = options.to ?? { host: options.host, dataset: options.dataset };
  if (!config.hosts[target.host]) throw new FleetError('USAGE', `Target host "${target.host}" is not in the config.`);
  const copy = joinDataset(receiveRoot, options.host, options.dataset);
  // A dataset inside a recursive entry was backed up with its children; it comes back with them.
  const recursive = entry?.recursive ?? false;
  const report: RestoreReport = { command: 'restore', ok: false, status: 'planned', host: options.host, dataset: options.dataset, from: peer, copy, target, recursive, steps: [], durationMs: 0 };

  const sessions = new SessionPool(config, logger, { autoInstall: options.autoInstall === true });
  try {
    const [peerSession, targetSession] = await Promise.all([sessions.get(peer), sessions.get(target.host)]);
    const [peerList, targetList] = await Promise.all([peerSession.agent.listTree.query({ roots: [copy] }), targetSession.agent.listTree.query({ roots: [target.dataset] })]);
    if (peerList.missingRoots.length > 0) {
      throw new FleetError('DATASET_NOT_FOUND', `Peer "${peer}" holds no copy of ${options.host}:${options.dataset} (looked for "${copy}").`, {
        hint: 'Run `fleet verify` to see what each peer holds, or name another peer with --from.',
      });
    }
    const plan: ReplicationPlan = planReplication({
      source: peerList.tree,
      destination: targetList.tree,
      root: copy,
      recursive,
      exclude: [],
      destinationOf: (name) => `${target.dataset}${name.slice(copy.length)}` as DatasetName,
      target: options.snapshot ? { kind: 'snapshot', name: options.snapshot } : { kind: 'latest' },
      forceFull: options.forceFull,
      force: options.force,
      // -R with -F would delete on the target what the copy lacks: never on a restore.
      mirrorDeletions: false,
      ...(options.start ? { base: options.start } : {}),
    });
    report.steps = plan.steps.map(reportStep);
    report.status = unitStatus(report.steps, false);
    options.onPlan?.(report);
    if (options.dryRun || report.status === 'blocked') {
      report.ok = report.status !== 'blocked';
      return report;
    }
    if (sendableSteps(plan.steps).length > 0) {
      const parent = parentOf(target.dataset);
      if (parent && parent.includes('/') && !targetList.tree.datasets.some((d) => d.name === parent)) {
        await targetSession.agent.ensureDatasets.mutate({ datasets: [parent] });
      }
      await executePlan({
        steps: plan.steps,
        reports: report.steps,
        sender: peerSession,
        receiver: targetSession,
        wire: config.wire,
        receiveOf: (step) => ({ receiveInto: step.destination, exact: true, mount: true }),
        isEncrypted: (dataset) => peerList.tree.datasets.some((d) => d.name === dataset && d.encrypted === true),
        senderTree: peerList.tree,
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      });
      await targetSession.agent.finishRestore.mutate({ dataset: target.dataset });
    }
    report.status = unitStatus(report.steps, true);
    report.ok = true;
  } catch (error) {
    report.status = 'failed';
    report.error = toFleetErrorFromClient(error).toShape();
    logger.error({ err: report.error }, 'restore failed');
  } finally {
    await sessions.closeAll();
    report.durationMs = Math.round(performance.now() - startedAt);
  }
  return report;
}
