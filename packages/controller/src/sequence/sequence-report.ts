import type { FleetErrorShape, HookResult, SequenceStep } from '@zfs-fleet/protocol';

export type SequenceStepStatus = 'ok' | 'failed' | 'skipped' | 'planned';

/** One step of an entry's sequence as it ran (or why it did not). */
export interface SequenceStepReport {
  step: SequenceStep;
  status: SequenceStepStatus;
  durationMs?: number;
  /** What it did or why it was skipped, in words. */
  detail?: string;
  error?: FleetErrorShape;
  /** preSnapshot/postSnapshot: each command with its exit code and output tail. */
  hooks?: HookResult[];
}

/** An entry's whole sequence on its source host: lock → ... → unlock. */
export interface EntrySequenceReport {
  host: string;
  dataset: string;
  ok: boolean;
  steps: SequenceStepReport[];
}
