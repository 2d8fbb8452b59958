import type { FleetErrorShape, ZfsCallsOutput } from '@zfs-fleet/protocol';

/** One snapshot's fate, with the rules that keep it or the rule that drops it. */
export interface SnapshotVerdict {
  name: string;
  action: 'keep' | 'destroy';
  reasons: string[];
  /** After execution: destroyed, or skipped with why (guid changed, held since, busy). */
  outcome?: 'destroyed' | 'skipped' | 'failed';
  outcomeReason?: string;
}

export interface PruneDatasetReport {
  dataset: string;
  snapshots: SnapshotVerdict[];
}

/** One entry on one host (its source, or one of its peers). */
export interface PruneUnitReport {
  host: string;
  dataset: string;
  /** Which host's snapshots: the source's or a peer's copy. */
  on: string;
  role: 'source' | 'peer';
  status: 'ok' | 'planned' | 'skipped' | 'failed';
  /** The policy as configured, e.g. "hourly 24, daily 30". */
  policy?: string;
  destroyed: number;
  kept: number;
  datasets: PruneDatasetReport[];
  /** Why nothing was pruned here (no policy, a side could not be read, LOCKED). */
  reason?: string;
  error?: FleetErrorShape;
}

export interface PruneReport {
  command: 'prune';
  dryRun: boolean;
  startedAt: string;
  durationMs: number;
  ok: boolean;
  units: PruneUnitReport[];
  hosts: Array<{ host: string; zfsCalls?: ZfsCallsOutput; pruneZfsCalls?: number; error?: FleetErrorShape }>;
}
