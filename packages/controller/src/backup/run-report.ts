import type { FleetErrorCode, FleetErrorShape, ZfsCallsOutput } from '@zfs-fleet/protocol';
import type { PruneUnitReport } from '../prune/prune-report.ts';
import type { ExportPruneReport, ExportUnitReport } from '../export/export-report.ts';
import type { PhaseReport } from '../run/run-phases.ts';
import type { EntrySequenceReport } from '../sequence/sequence-report.ts';

/** What happened to one dataset of a unit (or what would, in a plan). */
export interface StepReport {
  dataset: string;
  destination: string;
  action: 'full' | 'incremental' | 'up-to-date' | 'blocked' | 'resume';
  recursive?: boolean;
  /** Incremental base; for a full, the oldest snapshot, sent in full before the rest follow incrementally. */
  from?: string;
  to?: string;
  /** Destination snapshots the step destroys (only with --force). */
  destroys?: string[];
  /** What `zfs send -nP` predicts the stream carries (OpenZFS), for plans and progress. */
  estimatedBytes?: number;
  /** Set when the estimate is up to another snapshot than `to` (a plan's snapshot is not taken yet). */
  estimatedTo?: string;
  /** A partial receive of this snapshot is aborted first (`zfs recv -A`): it can never be resumed. */
  abortsPartialReceive?: string;
  bytes?: number;
  durationMs?: number;
  code?: FleetErrorCode;
  reason?: string;
  warnings?: string[];
}

export type UnitStatus = 'ok' | 'up-to-date' | 'planned' | 'blocked' | 'failed';

/** One backup entry to one peer: the unit that succeeds or fails on its own. */
export interface UnitReport {
  host: string;
  dataset: string;
  peer: string;
  status: UnitStatus;
  steps: StepReport[];
  /** The unit phases that ran (`replicate`, ...), each with its outcome; absent in a plan. */
  phases?: PhaseReport[];
  /** Where the unit's time went; absent when its hosts could not be asked. */
  timings?: UnitTimings;
  error?: FleetErrorShape;
}

/** A unit's time, phase by phase, in ms (its hosts' connections and snapshot are in their `HostTimings` and `phases`). */
export interface UnitTimings {
  /** The source's and the peer's listings, run at once: the slower of the two. */
  listMs: number;
  /** Decoding resume tokens, planning, and in a plan the `zfs send -nP` estimates. */
  planMs: number;
  /** Waiting for a transfer slot (`parallel.global`, `parallel.perHost`). */
  slotWaitMs?: number;
  /** The replicate phase: destroys, the streams, keeping the copies unmounted. */
  transferMs?: number;
}

/** A host's connection costs in ms, summed over the sessions the run opened to it. */
export interface HostTimings {
  /** A source host: how long its work waited for room under `parallel.connections`. */
  queuedMs?: number;
  sessions?: number;
  /** The SSH connection: TCP, key exchange, authentication. */
  connectMs?: number;
  /** The agent's start and its `hello`, which carries the zfs probe. */
  handshakeMs?: number;
  /** Counting the agent's zfs calls and hanging up, where the limit closed a session mid-run. */
  closeMs?: number;
}

export interface HostReport {
  host: string;
  snapshot?: string;
  /** The host phases that ran (`snapshot`, ...), each with its outcome. */
  phases?: PhaseReport[];
  /** Where the host's time went outside its phases: waiting for a connection, connecting, the agent's start. */
  timings?: HostTimings;
  zfsCalls?: ZfsCallsOutput;
  error?: FleetErrorShape;
}

export interface RunReport {
  command: 'backup' | 'plan';
  startedAt: string;
  durationMs: number;
  ok: boolean;
  units: UnitReport[];
  hosts: HostReport[];
  /** Each entry's sequence on its source host, step by step (absent in a plan). */
  sequences?: EntrySequenceReport[];
  /** What the pruneSnapshots steps kept and destroyed, per entry and host. */
  prune?: PruneUnitReport[];
  /** Per entry dataset and export target: what was (or would be) exported (issue #12). */
  exports?: ExportUnitReport[];
  /** What the pruneExports steps kept and deleted on each target. */
  exportPrune?: ExportPruneReport[];
}

/** A unit's overall status from its steps: any blocked step makes it blocked. */
export function unitStatus(steps: readonly StepReport[], executed: boolean): UnitStatus {
  if (steps.some((step) => step.action === 'blocked')) return 'blocked';
  if (steps.every((step) => step.action === 'up-to-date')) return 'up-to-date';
  return executed ? 'ok' : 'planned';
}

export function isUnitSuccessful(unit: UnitReport): boolean {
  return unit.status === 'ok' || unit.status === 'up-to-date' || unit.status === 'planned';
}
