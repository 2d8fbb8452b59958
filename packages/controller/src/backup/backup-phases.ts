import type pino from 'pino';
import type { ReplicationPlan } from '@zfs-fleet/plan';
import { isWithin, joinDataset, parentOf, poolOf, toFleetErrorFromClient, type BackupEntry, type DatasetName, type DatasetTree, type ExportEvent, type FleetConfig, type SnapshotName } from '@zfs-fleet/protocol';
import { destinationOf } from '../run/list-units.ts';
import type { AgentSession } from '../agent/connect-agent.ts';
import type { Sessions } from '../run/gather-trees.ts';
import type { Unit } from '../run/list-units.ts';
import type { Phase } from '../run/run-phases.ts';
import { executePlan, sendableSteps, type ExecutePlanInput } from './execute-plan.ts';
import type { PruneUnitReport } from '../prune/prune-report.ts';
import type { HostSequence } from '../sequence/host-sequence.ts';
import { exportPhase, pruneExportsPhase, lockPhase, postSnapshotPhase, preSnapshotPhase, pruneSnapshotsPhase, replicatedPhase, unlockPhase } from '../sequence/sequence-phases.ts';
import type { HostReport, UnitReport } from './run-report.ts';
import type { ExportPruneReport, ExportUnitReport } from '../export/export-report.ts';
import type { ExportUnit } from '../export/export-units.ts';
import { faultPoint } from '../faults/fault-point.ts';
import { changedSincePlanning } from './changed-since-planning.ts';
import type { TransferProgress } from './run-backup.ts';

/** What a host phase of a backup works with: one source host, before its trees are listed. */
export interface HostRun {
  host: string;
  session: AgentSession;
  /** The host's selected entries. */
  entries: readonly BackupEntry[];
  /** The snapshot this run takes on the host; none with --snapshot or --no-snapshot. */
  snapshot?: SnapshotName;
  report: HostReport;
  logger: pino.Logger;
  config: FleetConfig;
  /** The entries' sequences on this host: who holds a lock, who stopped, every step's outcome. */
  sequence: HostSequence;
  sessions: Sessions;
  now: () => Date;
  /** After the units ran (FINISH_PHASES): the host's unit reports. */
  units: UnitReport[];
  /** What pruneSnapshots did, for the run report. */
  pruned: PruneUnitReport[];
  /** The host's (entry, export target) pairs, and what the export and pruneExports steps did. */
  exportUnits: readonly ExportUnit[];
  exports: ExportUnitReport[];
  exportPrunes: ExportPruneReport[];
  /** `--force-full`: exports send a full whatever the target holds. */
  forceFull: boolean;
  onExportEvent?: (unit: ExportUnitReport, event: ExportEvent) => void;
}

/** What a unit phase of a backup works with: one planned (host, entry, peer). */
export interface UnitRun {
  unit: Unit;
  plan: ReplicationPlan;
  report: UnitReport;
  source: AgentSession;
  peer: AgentSession;
  sourceTree: DatasetTree;
  peerTree: DatasetTree;
  config: FleetConfig;
  onProgress?: (event: TransferProgress) => void;
  logger: pino.Logger;
}

/** One snapshot name across the host's entries, one atomic `zfs snapshot -r` per recursive group. */
export const snapshotPhase: Phase<HostRun> = {
  name: 'snapshot',
  async run({ session, sequence, snapshot, report }) {
    // Only the entries whose sequence snapshots and that are still going (not LOCKED, no failed preSnapshot).
    const entries = sequence.entriesFor('snapshot');
    if (!snapshot || entries.length === 0) return 'skipped';
    // Entries nested inside a recursive entry are covered by its `snapshot -r`; naming them again would fail.
    const covering = entries.filter((entry) => !entries.some((other) => other !== entry && other.recursive && isWithin(entry.dataset, other.dataset) && entry.dataset !== other.dataset));
    try {
      const taking = session.agent.snapshot.mutate({ name: snapshot, datasets: dedupe(covering).map((entry) => ({ dataset: entry.dataset, recursive: entry.recursive })) });
      // Test-only (FLEET_FAULT_AT=snapshot:kill): dies with the request on its way to the agent.
      setImmediate(() => faultPoint('snapshot'));
      await taking;
    } catch (error) {
      sequence.record(entries, 'snapshot', { status: 'failed', error: toFleetErrorFromClient(error).toShape() });
      throw error;
    }
    sequence.record(entries, 'snapshot', { status: 'ok', detail: snapshot });
    report.snapshot = snapshot;
  },
};

/** The plan's sending steps: parents on the peer, then the destroys the plan allowed, then the streams. */
export const replicatePhase: Phase<UnitRun> = {
  name: 'replicate',
  async run(run) {
    const { unit, plan, report } = run;
    // A partial receive to abort is work too, even where nothing is sent (an up-to-date dataset).
    if (sendableSteps(plan.steps).length === 0 && !plan.steps.some((step) => step.abortPartialReceive)) return 'skipped';
    await refuseIfChangedSincePlanning(run);
    await ensureDestinationParents(run);
    await executePlan({
      steps: plan.steps,
      reports: report.steps,
      sender: run.source,
      receiver: run.peer,
      wire: run.config.wire,
      ...transferContext(unit, run.sourceTree),
      onEvent: (event) => run.onProgress?.({ host: unit.host, peer: unit.peer, dataset: unit.entry.dataset, event }),
    });
    const copies = copiesToKeepUnmounted(plan, run.sourceTree, run.peerTree, (dataset) => destinationOf(unit.receiveRoot, unit.host, dataset));
    if (copies.length > 0) await run.peer.agent.keepUnmounted.mutate({ datasets: copies });
  },
};

/**
 * The peer's copies of what the plan sent that may still mount at boot: new ones, and those
 * whose `canmount` is not yet `noauto` (copies made before zfs-fleet did this). Filesystems
 * only; in steady state none, so no zfs call.
 */
export function copiesToKeepUnmounted(plan: ReplicationPlan, sourceTree: DatasetTree, peerTree: DatasetTree, destinationOf: (dataset: DatasetName) => DatasetName): DatasetName[] {
  const peer = new Map(peerTree.datasets.map((dataset) => [dataset.name, dataset]));
  const sent = sendableSteps(plan.steps);
  return sourceTree.datasets
    .filter((dataset) => dataset.type === 'filesystem' && sent.some((step) => (step.kind !== 'resume' && step.recursive ? isWithin(dataset.name, step.dataset) : dataset.name === step.dataset)))
    .map((dataset) => destinationOf(dataset.name))
    .filter((copy) => peer.get(copy)?.canmount?.value !== 'noauto');
}

/** How a unit's steps become transfers: where they land and which go raw (`replicate`, and `fleet plan`'s estimates). */
export function transferContext(unit: Pick<Unit, 'hostRoot'>, sourceTree: DatasetTree): Pick<ExecutePlanInput, 'receiveOf' | 'isEncrypted' | 'senderTree'> {
  return {
    // One dataset lands at its exact name: zfs-fuse fails a `recv -d -F` of a full stream onto
    // an existing parent whose child copies are unmounted (I/O error, half done).
    receiveOf: (step) => (step.kind !== 'resume' && step.recursive ? { receiveInto: joinDataset(unit.hostRoot, poolOf(step.dataset)) } : { receiveInto: step.destination, exact: true }),
    isEncrypted: (dataset) => sourceTree.datasets.some((d) => d.name === dataset && d.encrypted === true),
    senderTree: sourceTree,
  };
}

/** Per source host, before the listing; nothing runs them in a dry run. */
export const HOST_PHASES: readonly Phase<HostRun>[] = [lockPhase, preSnapshotPhase, snapshotPhase, postSnapshotPhase];
/** Per source host, after all its units; unlock runs whatever happened before. */
export const FINISH_PHASES: readonly Phase<HostRun>[] = [replicatedPhase, exportPhase, pruneExportsPhase, pruneSnapshotsPhase, unlockPhase];
/** Per unit, after planning, holding the transfer slots of both hosts; nothing runs them in a dry run. */
export const UNIT_PHASES: readonly Phase<UnitRun>[] = [replicatePhase];

function dedupe(entries: readonly BackupEntry[]): BackupEntry[] {
  const seen = new Map<string, BackupEntry>();
  for (const entry of entries) {
    const previous = seen.get(entry.dataset);
    if (!previous || (entry.recursive && !previous.recursive)) seen.set(entry.dataset, entry);
  }
  return [...seen.values()];
}

/**
 * Lists the peer's copies again just before sending (one zfs call) and fails the unit if a
 * destination changed since the plan was made: the plan's guarantees (what `-F` may roll back,
 * which base the stream needs) hold only for the tree it was made on.
 */
async function refuseIfChangedSincePlanning({ peer, peerTree, unit, plan }: UnitRun): Promise<void> {
  const steps = sendableSteps(plan.steps);
  if (steps.length === 0) return;
  const { tree } = await peer.agent.listTree.query({ roots: [unit.hostRoot] });
  for (const step of steps) {
    const changed = changedSincePlanning(step, peerTree, tree);
    if (changed) throw changed;
  }
}

/**
 * Creates what the stream's root needs above it on the peer (`mkdir -p`): the source host's
 * subtree (atime=off, inherited by what it receives), then the dataset's own missing parents.
 */
async function ensureDestinationParents({ peer, peerTree, unit, plan }: UnitRun): Promise<void> {
  const exists = (name: string) => peerTree.datasets.some((dataset) => dataset.name === name);
  if (!exists(unit.hostRoot)) await peer.agent.ensureDatasets.mutate({ datasets: [unit.hostRoot], properties: { atime: 'off' } });
  const parent = parentOf(joinDataset(unit.hostRoot, plan.root));
  if (parent && parent !== unit.hostRoot && !exists(parent)) await peer.agent.ensureDatasets.mutate({ datasets: [parent] });
}
