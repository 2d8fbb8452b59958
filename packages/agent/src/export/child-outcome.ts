import type { ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { FleetError } from '@zfs-fleet/protocol';
import { signalExitCode } from '../transfer/pipeline.ts';

/** How a helper process (zstd, age, zfs recv, ssh) ended, with the tail of its stderr. */
export interface ChildOutcome {
  command: string;
  exitCode: number;
  stderr: string;
}

/** Collects a child's stderr tail and resolves when it exits; never rejects. */
export function childOutcome(command: string, child: ChildProcess): Promise<ChildOutcome> {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  return new Promise((resolve) => {
    child.on('error', (error) => {
      stderr += String(error);
    });
    child.on('close', (code, signal) => resolve({ command, exitCode: code ?? signalExitCode(signal), stderr }));
  });
}

/** Throws STREAM_FAILED (or TOOL_MISSING when it could not start) for the first process that failed. */
export function assertSucceeded(outcomes: readonly ChildOutcome[], what: string): void {
  // A writer killed by SIGPIPE (141) only tells that its reader died: name the reader.
  const failed = outcomes.find((outcome) => outcome.exitCode !== 0 && outcome.exitCode !== 141) ?? outcomes.find((outcome) => outcome.exitCode !== 0);
  if (!failed) return;
  const tail = failed.stderr.trim().split('\n').slice(-3).join(' | ');
  if (/ENOENT/.test(failed.stderr) && failed.exitCode === -1) {
    throw new FleetError('TOOL_MISSING', `"${failed.command}" is not installed on this host (needed for ${what})`, { hint: `install it (Debian: apt install ${failed.command})` });
  }
  throw new FleetError('STREAM_FAILED', `${failed.command} failed during ${what} (exit ${failed.exitCode})${tail ? `: ${tail}` : ''}`, {
    details: { command: failed.command, exitCode: failed.exitCode, stderrTail: failed.stderr.slice(-1000) },
  });
}

/** Writes with backpressure; rejects when the reader went away instead of waiting forever. */
export async function writeWithBackpressure(stream: Writable, data: Buffer): Promise<void> {
  const early = () => new FleetError('STREAM_FAILED', 'the next process of the pipeline exited early');
  if (stream.destroyed || stream.writableEnded) throw early();
  if (stream.write(data)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: unknown) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(early());
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}
