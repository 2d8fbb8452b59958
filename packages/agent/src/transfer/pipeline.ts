import os from 'node:os';
import type { ZfsStream } from '@zfs-fleet/zfs';

/** What both pipelines (kernel pipes with pv, or node streams) are given. */
export interface PipelineInput {
  /** Words run before each stage and ssh so that they die with the agent (see `dieWithAgent`). */
  launcher: readonly string[];
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
  /** The signal that killed it, when one did (exitCode is then 128 + its number). */
  signal?: string;
  stderr: string;
}

/** 128 + the signal's number, the shell's convention; -1 when neither is known. */
export function signalExitCode(signal: string | null | undefined): number {
  const number = signal ? os.constants.signals[signal as NodeJS.Signals] : undefined;
  return number === undefined ? -1 : 128 + number;
}

export interface PipelineOutcome {
  ssh: ProcessOutcome;
  stages: ProcessOutcome[];
  pipeError?: unknown;
  bytes: number;
}
