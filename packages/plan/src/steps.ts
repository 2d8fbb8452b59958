import type { DatasetName, DatasetTree, FleetErrorCode, ResumeTokenInfo, SnapshotName } from '@zfs-fleet/protocol';

/** A snapshot as a step names it: the guid is what zfs matches, the name is for people. */
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
  /** See {@link isExcluded}. */
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
  /** Use this snapshot as the incremental base instead of the newest common one (`restore --start`). */
  base?: SnapshotName;
  /**
   * The destination's resume tokens as the source decoded them (`zfs send -nv -t`). A token
   * whose snapshot the source no longer has cannot be resumed: its partial state is aborted
   * instead. Tokens missing here are resumed as they are.
   */
  resumeTokens?: readonly ResumeTokenInfo[];
}

interface StepCommon {
  dataset: DatasetName;
  destination: DatasetName;
  warnings?: string[];
  /**
   * The destination holds a partial receive that can never finish (the snapshot it was
   * receiving is gone on the source): `zfs recv -A` drops it first. Received snapshots stay.
   */
  abortPartialReceive?: { token: string; snapshot: string };
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
  /** The source's oldest snapshot: it goes in full, then `-I` brings every snapshot up to `to`. */
  history?: SnapshotRef;
}

export interface IncrementalStep extends StepCommon {
  kind: 'incremental';
  recursive: boolean;
  from: SnapshotRef;
  to: SnapshotRef;
  /** Receive with `-F`: rolls back `rollback` and any change to the live destination since its last snapshot. */
  force: boolean;
  /** Destination snapshots newer than the base that `-F` rolls back (destroys). */
  rollback: SnapshotRef[];
  /** `--force`: destination snapshots (guid-checked) whose names the stream reuses for other data; destroyed first. */
  conflicting?: SnapshotRef[];
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

/** The destination holds a partly received stream (OpenZFS `recv -s`): finish it with `send -t`. */
export interface ResumeStep extends StepCommon {
  kind: 'resume';
  token: string;
  /** What the token sends, when the source decoded it: the holds move from `from` to `to`. */
  to?: SnapshotRef;
  from?: SnapshotRef;
}

export type ReplicationStep = FullStep | IncrementalStep | UpToDateStep | BlockedStep | ResumeStep;

export interface ReplicationPlan {
  root: DatasetName;
  /** Parents before children: a child is received only once its parent exists. */
  steps: ReplicationStep[];
}

export function blockedStep(where: { dataset: DatasetName; destination: DatasetName }, code: FleetErrorCode, reason: string, details?: Record<string, unknown>): BlockedStep {
  return { ...where, kind: 'blocked', code, reason, ...(details ? { details } : {}) };
}

export function withWarnings<T extends ReplicationStep>(step: T, warnings: readonly string[]): T {
  return warnings.length === 0 ? step : { ...step, warnings: [...(step.warnings ?? []), ...warnings] };
}

/** The destination snapshots a step destroys before its stream (each guid-checked), as `--force` allowed. */
export function snapshotsDestroyedBy(step: ReplicationStep): SnapshotRef[] {
  if (step.kind === 'full') return step.replace?.snapshotsToDestroy ?? [];
  if (step.kind === 'incremental') return [...step.rollback, ...(step.conflicting ?? [])];
  return [];
}
