import type { ZfsStream } from '@zfs-fleet/zfs';

/** What both pipelines (kernel pipes with pv, or node streams) are given. */
export interface PipelineInput {
  send: ZfsStream;
  /** Processes between zfs send and ssh (compression, mbuffer). */
  stages: string[][];
  sshArgv: string[];
  signal: AbortSignal;
  abort(): void;
  onBytes(total: number): void;
  bytesPerSecond?: number;
}

/** How one process of a pipeline ended. */
export interface ProcessOutcome {
  command: string;
  exitCode: number;
  stderr: string;
}

export interface PipelineOutcome {
  ssh: ProcessOutcome;
  stages: ProcessOutcome[];
  pipeError?: unknown;
  bytes: number;
}
