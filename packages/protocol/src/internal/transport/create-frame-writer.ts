import type { Writable } from 'node:stream';

/** Writes frames as NDJSON lines to a stream that may go away at any moment. */
export interface FrameWriter {
  /** False once the output has ended, closed or failed; frames are then dropped. */
  readonly open: boolean;
  /** The output's buffer is full: produce nothing more until `drained()` resolves. */
  readonly congested: boolean;
  /** Writes one line made by `encodeFrame`, or drops it when the output is gone. */
  writeLine(line: string): void;
  /** Resolves once the output has room again, or has gone. */
  drained(): Promise<void>;
  /** Stops watching the output (its errors stay handled). */
  dispose(): void;
}

/** One frame as one line. Throws when `frame` is not JSON-serialisable (a bigint, a cycle). */
export function encodeFrame(frame: object): string {
  return `${JSON.stringify(frame)}\n`;
}

/**
 * Wraps the output side of the channel. An EPIPE or a closed channel is an expected way for
 * a session to end, so it is handled here, reported once through `onClosed` and never thrown.
 */
export function createFrameWriter(output: Writable, options: { onClosed?: (error?: Error) => void } = {}): FrameWriter {
  let open = output.writable;
  let waiters: Array<() => void> = [];

  const wake = (): void => {
    const waiting = waiters;
    waiters = [];
    for (const resolve of waiting) resolve();
  };
  const close = (error?: Error): void => {
    if (!open) return;
    open = false;
    output.off('drain', wake);
    output.off('close', onClose);
    output.off('finish', onClose);
    wake();
    options.onClosed?.(error);
  };
  const onClose = (): void => close();
  const onError = (error: Error): void => close(error);

  output.on('drain', wake);
  output.on('close', onClose);
  output.on('finish', onClose);
  // Kept after close too: an unhandled 'error' event (EPIPE) would crash the process.
  output.on('error', onError);
  if (!open) queueMicrotask(() => options.onClosed?.());

  return {
    get open() {
      return open;
    },
    get congested() {
      return open && output.writableNeedDrain;
    },
    writeLine(line) {
      if (!open) return;
      if (!output.writable) {
        close();
        return;
      }
      output.write(line);
    },
    drained() {
      if (!open || !output.writableNeedDrain) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    dispose() {
      output.off('drain', wake);
      output.off('close', onClose);
      output.off('finish', onClose);
      wake();
    },
  };
}
