import { formatBytes, type DatasetInfo, type DatasetName, type DatasetTree, type FleetErrorCode, type SnapshotInfo, type SnapshotName } from '@zfs-fleet/protocol';
import { newestCommonSnapshot } from './common-snapshot.ts';
import { isExcluded } from './exclude.ts';

export interface SnapshotRef {
  name: SnapshotName;
  guid: string;
  createtxg: number;
}

export type TargetChoice = { kind: 'latest' } | { kind: 'snapshot'; name: SnapshotName };

export interface PlanInput {
  /** The source host's tree: the entry's dataset and, if recursive, its descendants. */
  source: DatasetTree;
  /** The peer's tree below where this source's datasets land (may be empty). */
  destination: DatasetTree;
  /** The backup entry's dataset. */
  root: DatasetName;
  recursive: boolean;
  exclude: readonly string[];
  /** Where a source dataset lands on the peer. */
  destinationOf(dataset: DatasetName): DatasetName;
  target: TargetChoice;
  /** Send full streams even where an incremental base exists (destination guards still apply). */
  forceFull: boolean;
  /** Allow the destructive steps the plan lists: rollbacks, replacing a destination. */
  force: boolean;
  /** Let `-R` streams received with `-F` delete what the source deleted. Off by default. */
  mirrorDeletions: boolean;
  /** A destination without snapshots referencing less than this counts as empty. */
  emptyBytesThreshold?: number;
}

interface StepCommon {
  dataset: DatasetName;
  destination: DatasetName;
  warnings?: string[];
}

export interface FullStep extends StepCommon {
  kind: 'full';
  /** One `zfs send -R` for the dataset and all its descendants. */
  recursive: boolean;
  to: SnapshotRef;
  /** Receive with `-F`. */
  force: boolean;
  /** The destination exists and is replaced: these snapshots are destroyed first. */
  replace?: { snapshotsToDestroy: SnapshotRef[]; referencedBytes: number };
}

export interface IncrementalStep extends StepCommon {
  kind: 'incremental';
  recursive: boolean;
  from: SnapshotRef;
  to: SnapshotRef;
  force: boolean;
  /** Destination snapshots newer than the base that `-F` rolls back (destroys). */
  rollback: SnapshotRef[];
}

export interface UpToDateStep extends StepCommon {
  kind: 'up-to-date';
  at: SnapshotRef;
}

export interface BlockedStep extends StepCommon {
  kind: 'blocked';
  code: FleetErrorCode;
  reason: string;
  details?: Record<string, unknown>;
}

export type ReplicationStep = FullStep | IncrementalStep | UpToDateStep | BlockedStep;

export interface ReplicationPlan {
  root: DatasetName;
  /** Parents before children: a child is received only once its parent exists. */
  steps: ReplicationStep[];
}

/** Freshly created datasets reference a few tens of KiB; anything near this holds real data. */
const DEFAULT_EMPTY_BYTES = 1 << 20;

/**
 * Decides, per dataset, what one backup entry sends to one peer. Pure: the same two trees
 * always give the same plan, which is what `fleet plan` prints and `fleet backup` runs. A step
 * destroys destination data only when `force` was given, and then lists what it destroys.
 */
export function planReplication(input: PlanInput): ReplicationPlan {
  const sourceRoot = input.source.datasets.find((dataset) => dataset.name === input.root);
  if (!sourceRoot) {
    return {
      root: input.root,
      steps: [blocked(input.root, input.destinationOf(input.root), 'DATASET_NOT_FOUND', `"${input.root}" does not exist on the source host.`)],
    };
  }
  const selected = input.source.datasets.filter(
    (dataset) => dataset.name === input.root || (input.recursive && dataset.name.startsWith(`${input.root}/`) && !isExcluded(dataset.name, input.root, input.exclude)),
  );
  const destinations = new Map(input.destination.datasets.map((dataset) => [dataset.name, dataset]));

  const steps: ReplicationStep[] = [];
  const stepByDataset = new Map<string, ReplicationStep>();
  for (const dataset of selected) {
    const destinationName = input.destinationOf(dataset.name);
    const destination = destinations.get(destinationName);
    let step = planDataset(dataset, destination, destinationName, input);
    // A child whose destination does not exist yet needs its parent received first.
    const parent = stepByDataset.get(dataset.name.slice(0, dataset.name.lastIndexOf('/')));
    if (parent?.kind === 'blocked' && !destination && step.kind !== 'blocked') {
      step = blocked(dataset.name, destinationName, parent.code, `its parent "${parent.dataset}" is blocked, and it would be received below it.`, { parent: parent.dataset });
    }
    steps.push(step);
    stepByDataset.set(dataset.name, step);
  }

  const hasExclusions = input.recursive && selected.length < input.source.datasets.filter((d) => d.name === input.root || d.name.startsWith(`${input.root}/`)).length;
  const collapsed = input.recursive && !hasExclusions ? collapseTree(steps, input) : undefined;
  return { root: input.root, steps: collapsed ? [collapsed] : steps };
}

function planDataset(source: DatasetInfo, destination: DatasetInfo | undefined, destinationName: DatasetName, input: PlanInput): ReplicationStep {
  const where = { dataset: source.name, destination: destinationName };
  if (source.snapshots.length === 0) {
    return blocked(source.name, destinationName, 'SNAPSHOT_NOT_FOUND', `"${source.name}" has no snapshots; take one first (run without --no-snapshot).`);
  }
  const wanted = input.target.kind === 'snapshot' ? input.target.name : undefined;
  const target = wanted === undefined ? source.snapshots.at(-1)! : source.snapshots.find((snapshot) => snapshot.name === wanted);
  if (!target) {
    const name = wanted ?? '';
    return blocked(source.name, destinationName, 'SNAPSHOT_NOT_FOUND', `"${source.name}@${name}" does not exist on the source host.`, { snapshot: name });
  }
  const to = ref(target);
  if (!destination) return { ...where, kind: 'full', recursive: false, to, force: false };

  const candidates = source.snapshots.filter((snapshot) => snapshot.createtxg <= target.createtxg);
  const { common, collisions } = newestCommonSnapshot(candidates, destination.snapshots);
  const warnings = collisions.map((name) => `@${name} exists on both sides with different guids (different data); it is not used as a base.`);
  const withWarnings = <T extends ReplicationStep>(step: T): T => (warnings.length > 0 ? { ...step, warnings: [...(step.warnings ?? []), ...warnings] } : step);

  const base = input.forceFull ? undefined : common;
  if (base) {
    const baseOnDestination = destination.snapshots.find((snapshot) => snapshot.guid === base.guid)!;
    const ahead = destination.snapshots.filter((snapshot) => snapshot.createtxg > baseOnDestination.createtxg).map(ref);
    if (base.guid === target.guid) {
      const aheadWarning = ahead.length > 0 ? [`the destination has newer snapshots that the source does not: ${names(ahead)}; left alone.`] : [];
      return withWarnings({ ...where, kind: 'up-to-date', at: to, ...(aheadWarning.length ? { warnings: aheadWarning } : {}) });
    }
    if (ahead.length > 0 && !input.force) {
      return withWarnings(
        blocked(source.name, destinationName, 'DESTINATION_AHEAD', `"${destinationName}" has snapshots newer than the common base @${base.name}: ${names(ahead)}. --force would roll back (destroy) them.`, {
          base: base.name,
          snapshots: ahead.map((snapshot) => snapshot.name),
        }),
      );
    }
    return withWarnings({ ...where, kind: 'incremental', recursive: false, from: ref(base), to, force: ahead.length > 0 || input.force, rollback: ahead });
  }

  const isEmpty = destination.snapshots.length === 0 && destination.referencedBytes < (input.emptyBytesThreshold ?? DEFAULT_EMPTY_BYTES);
  if (isEmpty) return withWarnings({ ...where, kind: 'full', recursive: false, to, force: true });
  if (!input.force) {
    const holds = `${destination.snapshots.length} snapshot(s) and ${formatBytes(destination.referencedBytes)} of data`;
    const destroys = destination.snapshots.length > 0 ? `destroy its snapshots ${names(destination.snapshots.map(ref))} and replace its data` : 'replace its data';
    const [code, why] = input.forceFull && common
      ? (['DESTINATION_NOT_EMPTY', `--force-full needs to replace "${destinationName}", which holds ${holds}.`] as const)
      : destination.snapshots.length > 0
        ? (['NO_COMMON_SNAPSHOT', `"${destinationName}" exists with ${holds}, but shares no snapshot with the source.`] as const)
        : (['DESTINATION_NOT_EMPTY', `"${destinationName}" exists and holds ${formatBytes(destination.referencedBytes)} of data but no snapshots.`] as const);
    return withWarnings(
      blocked(source.name, destinationName, code, `${why} --force would ${destroys}.`, {
        snapshots: destination.snapshots.map((snapshot) => snapshot.name),
        referencedBytes: destination.referencedBytes,
      }),
    );
  }
  return withWarnings({
    ...where,
    kind: 'full',
    recursive: false,
    to,
    force: true,
    replace: { snapshotsToDestroy: destination.snapshots.map(ref), referencedBytes: destination.referencedBytes },
  });
}

/**
 * One `zfs send -R` replaces a tree's per-dataset streams when they are all alike: every
 * dataset new on the peer, or every dataset incremental from the same base to the same
 * target. Received with `-F`, an `-R` stream also deletes on the peer what the source deleted,
 * so it gets `-F` only when the entry asked to mirror deletions.
 */
function collapseTree(steps: readonly ReplicationStep[], input: PlanInput): ReplicationStep | undefined {
  const [root] = steps;
  if (!root || steps.length < 2) return undefined;
  if (steps.some((step) => step.warnings?.length)) return undefined;
  if (root.kind === 'full' && steps.every((step) => step.kind === 'full' && !step.force && !step.replace && step.to.name === root.to.name)) {
    return { ...root, recursive: true };
  }
  if (
    root.kind === 'incremental' &&
    steps.every((step) => step.kind === 'incremental' && step.rollback.length === 0 && !step.force && step.from.name === root.from.name && step.to.name === root.to.name)
  ) {
    return { ...root, recursive: true, force: input.mirrorDeletions };
  }
  return undefined;
}

function blocked(dataset: DatasetName, destination: DatasetName, code: FleetErrorCode, reason: string, details?: Record<string, unknown>): BlockedStep {
  return { dataset, destination, kind: 'blocked', code, reason, ...(details ? { details } : {}) };
}

function ref(snapshot: SnapshotInfo | SnapshotRef): SnapshotRef {
  return { name: snapshot.name, guid: snapshot.guid, createtxg: snapshot.createtxg };
}

function names(snapshots: readonly SnapshotRef[]): string {
  return snapshots.map((snapshot) => `@${snapshot.name}`).join(', ');
}
