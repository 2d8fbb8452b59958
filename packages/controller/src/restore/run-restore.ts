import type pino from 'pino';
import { planReplication, type ReplicationPlan } from '@zfs-fleet/plan';
import { FleetError, isWithin, parentOf, toFleetErrorFromClient, type DatasetName, type DatasetTree, type FleetConfig, type FleetErrorShape, type ReplicateEvent, type SnapshotName } from '@zfs-fleet/protocol';
import type { AgentSession } from '../agent/connect-agent.ts';
import { SessionPool } from '../agent/session-pool.ts';
import { listTrees } from '../run/gather-trees.ts';
import { destinationOf, listUnits } from '../run/list-units.ts';
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
  /** Opens a host's agent session; over SSH when absent (tests pass an in-process one). */
  connect?: (host: string) => Promise<AgentSession>;
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
  /** The restored dataset as zfs reports it afterwards. */
  state?: { mounted: boolean; readonly: boolean; keystatus?: string };
  error?: FleetErrorShape;
}

/** Where a restore comes from and goes to, resolved from the config alone. */
interface RestoreRoute {
  peer: string;
  /** The copy on the peer that is sent back. */
  copy: DatasetName;
  target: { host: string; dataset: DatasetName };
  /** A dataset inside a recursive entry was backed up with its children; it comes back with them. */
  recursive: boolean;
}

/**
 * The route of a restore, pure: the unit whose entry covers the dataset (the dataset itself, or
 * a recursive ancestor) names the peer unless --from does; the copy is where that peer keeps it.
 */
export function routeRestore(config: FleetConfig, options: Pick<RestoreOptions, 'host' | 'dataset' | 'from' | 'to'>): RestoreRoute {
  if (!config.hosts[options.host]) throw new FleetError('USAGE', `Host "${options.host}" is not in the config.`);
  const units = listUnits(config, { hosts: [options.host] });
  const covering = units.filter((unit) => unit.entry.dataset === options.dataset || (unit.entry.recursive && isWithin(options.dataset, unit.entry.dataset)));
  const entry = covering.find((unit) => unit.entry.dataset === options.dataset)?.entry ?? covering[0]?.entry;
  const peer = options.from ?? covering.find((unit) => unit.entry === entry)?.peer;
  if (!peer) {
    throw new FleetError('USAGE', `No backup entry of host "${options.host}" covers "${options.dataset}", so there is no peer to restore from.`, {
      hint: 'Name the peer that holds the copy with --from PEER.',
    });
  }
  const receiveRoot = config.hosts[peer]?.receive?.root;
  if (!receiveRoot) throw new FleetError('USAGE', `Host "${peer}" has no "receive:" section: it holds no backups.`);
  const target = options.to ?? { host: options.host, dataset: options.dataset };
  if (!config.hosts[target.host]) throw new FleetError('USAGE', `Target host "${target.host}" is not in the config.`);
  return { peer, copy: destinationOf(receiveRoot, options.host, options.dataset), target, recursive: entry?.recursive ?? false };
}

/**
 * Brings a dataset back from a peer's copy: planned like a backup with the roles swapped (the
 * peer sends, the target host receives), so the same guards apply: nothing on the target is
 * destroyed unless --force, and the plan names what would be.
 */
export async function runRestore(config: FleetConfig, options: RestoreOptions, logger: pino.Logger): Promise<RestoreReport> {
  const startedAt = performance.now();
  const route = routeRestore(config, options);
  const report: RestoreReport = { command: 'restore', ok: false, status: 'planned', host: options.host, dataset: options.dataset, from: route.peer, copy: route.copy, target: route.target, recursive: route.recursive, steps: [], durationMs: 0 };
  const sessions = new SessionPool(config, logger, { autoInstall: options.autoInstall === true, ...(options.connect ? { connect: options.connect } : {}) });
  try {
    const [copy, target] = await listTrees(sessions, [
      { host: route.peer, roots: [route.copy] },
      { host: route.target.host, roots: [route.target.dataset] },
    ]);
    if (!copy!.ok) throw FleetError.fromShape(copy!.error);
    if (!target!.ok) throw FleetError.fromShape(target!.error);
    if (copy!.missingRoots.length > 0) {
      throw new FleetError('DATASET_NOT_FOUND', `Peer "${route.peer}" holds no copy of ${options.host}:${options.dataset} (looked for "${route.copy}").`, {
        hint: 'Run `fleet verify` to see what each peer holds, or name another peer with --from.',
      });
    }
    const plan = planRestore(route, copy!.tree, target!.tree, options);
    report.steps = plan.steps.map(reportStep);
    report.status = unitStatus(report.steps, false);
    options.onPlan?.(report);
    if (options.dryRun || report.status === 'blocked') {
      report.ok = report.status !== 'blocked';
      return report;
    }
    if (sendableSteps(plan.steps).length > 0) await sendBack(route, plan, { copyTree: copy!.tree, targetTree: target!.tree, report, sessions, config, options });
    report.status = unitStatus(report.steps, true);
    report.ok = true;
  } catch (error) {
    report.status = 'failed';
    report.error = toFleetErrorFromClient(error).toShape();
    // The report shows the error: log it for the record, below the default level.
    logger.info({ err: report.error }, 'restore failed');
  } finally {
    await sessions.closeAll();
    report.durationMs = Math.round(performance.now() - startedAt);
  }
  return report;
}

/** The restore's plan, pure: the copy is the source, the target the destination. */
function planRestore(route: RestoreRoute, copyTree: DatasetTree, targetTree: DatasetTree, options: RestoreOptions): ReplicationPlan {
  return planReplication({
    source: copyTree,
    destination: targetTree,
    root: route.copy,
    recursive: route.recursive,
    exclude: [],
    destinationOf: (name) => `${route.target.dataset}${name.slice(route.copy.length)}` as DatasetName,
    target: options.snapshot ? { kind: 'snapshot', name: options.snapshot } : { kind: 'latest' },
    forceFull: options.forceFull,
    force: options.force,
    // -R with -F would delete on the target what the copy lacks: never on a restore.
    mirrorDeletions: false,
    ...(options.start ? { base: options.start } : {}),
  });
}

/**
 * Backups keep copies `canmount=noauto` over the value the source sent (still there, as the
 * received value): the restore gets the source's own back. A copy without a received value
 * had the default, `on`.
 */
function sourceCanmount(route: RestoreRoute, copyTree: DatasetTree): { dataset: DatasetName; value: 'on' | 'off' | 'noauto' }[] {
  return copyTree.datasets
    .filter((copy) => (route.recursive ? isWithin(copy.name, route.copy) : copy.name === route.copy) && copy.canmount?.value === 'noauto')
    .map((copy) => ({ dataset: `${route.target.dataset}${copy.name.slice(route.copy.length)}` as DatasetName, value: parseCanmount(copy.canmount?.received) }));
}

function parseCanmount(value: string | undefined): 'on' | 'off' | 'noauto' {
  return value === 'off' || value === 'noauto' ? value : 'on';
}

/** Streams the copy back, peer to target, then leaves the restored dataset mounted and read-write. */
async function sendBack(route: RestoreRoute, plan: ReplicationPlan, context: { copyTree: DatasetTree; targetTree: DatasetTree; report: RestoreReport; sessions: SessionPool; config: FleetConfig; options: RestoreOptions }): Promise<void> {
  const [peerSession, targetSession] = await Promise.all([context.sessions.get(route.peer), context.sessions.get(route.target.host)]);
  const parent = parentOf(route.target.dataset);
  if (parent?.includes('/') && !context.targetTree.datasets.some((d) => d.name === parent)) {
    await targetSession.agent.ensureDatasets.mutate({ datasets: [parent] });
  }
  await executePlan({
    steps: plan.steps,
    reports: context.report.steps,
    sender: peerSession,
    receiver: targetSession,
    wire: context.config.wire,
    receiveOf: (step) => ({ receiveInto: step.destination, exact: true, mount: true }),
    isEncrypted: (dataset) => context.copyTree.datasets.some((d) => d.name === dataset && d.encrypted === true),
    senderTree: context.copyTree,
    ...(context.options.onEvent ? { onEvent: context.options.onEvent } : {}),
  });
  const { state } = await targetSession.agent.finishRestore.mutate({ dataset: route.target.dataset, canmount: sourceCanmount(route, context.copyTree) });
  if (state) context.report.state = state;
}
