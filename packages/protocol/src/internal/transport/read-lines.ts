import type { Readable } from 'node:stream';

/** 16 MiB: far above any frame zfs-fleet sends, low enough that a runaway line cannot exhaust memory. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

const NEWLINE = 0x0a;
const PREVIEW_CHARS = 80;

/** Options of {@link readLines}: where lines, oversized lines and the end go. */
export interface ReadLinesOptions {
  /** Longer lines are skipped up to their newline and reported through `onOversizedLine`. */
  maxLineBytes?: number;
  /** Called for every non-empty line, without its newline. */
  onLine(line: string): void;
  /** Called once per line longer than `maxLineBytes`, with its first bytes. */
  onOversizedLine(head: string): void;
  /** Called once, when the input ends (EOF), closes or fails. */
  onEnd(error?: Error): void;
}

/**
 * Splits a byte stream into lines as they arrive. It only listens: the stream stays the
 * caller's (it is never paused, ended or destroyed here), but its errors are handled here.
 * Returns a function that stops listening.
 */
export function readLines(input: Readable, options: ReadLinesOptions): () => void {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let parts: Buffer[] = [];
  let partsBytes = 0;
  let skipping = false;
  let ended = false;

  const emitLine = (line: string): void => {
    if (line.trim() !== '') options.onLine(line);
  };
  const tooLong = (head: Buffer): void => {
    options.onOversizedLine(head.subarray(0, PREVIEW_CHARS * 4).toString('utf8'));
  };

  const onData = (chunk: Buffer | string): void => {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    while (!ended) {
      const newline = buffer.indexOf(NEWLINE, start);
      if (newline === -1) {
        if (skipping || start === buffer.length) return;
        partsBytes += buffer.length - start;
        parts.push(buffer.subarray(start));
        if (partsBytes > maxLineBytes) {
          tooLong(Buffer.concat(parts));
          parts = [];
          partsBytes = 0;
          skipping = true;
        }
        return;
      }
      if (skipping) {
        skipping = false;
      } else if (partsBytes + newline - start > maxLineBytes) {
        tooLong(Buffer.concat([...parts, buffer.subarray(start, newline)]));
      } else if (parts.length === 0) {
        emitLine(buffer.toString('utf8', start, newline));
      } else {
        // Decoded only once whole, so a character split across chunks stays intact.
        parts.push(buffer.subarray(start, newline));
        emitLine(Buffer.concat(parts).toString('utf8'));
      }
      parts = [];
      partsBytes = 0;
      start = newline + 1;
    }
  };

  const finish = (error?: Error): void => {
    if (ended) return;
    // A last line without newline is still a line: a frame cut short then fails to parse.
    if (!error && !skipping && parts.length > 0) emitLine(Buffer.concat(parts).toString('utf8'));
    ended = true;
    parts = [];
    detach();
    options.onEnd(error);
  };
  const onEnd = (): void => finish();
  const onClose = (): void => finish();
  const onError = (error: Error): void => finish(error);

  // The 'error' listener stays: a late failure of a dead channel must not crash the process.
  const detach = (): void => {
    input.off('data', onData);
    input.off('end', onEnd);
    input.off('close', onClose);
  };

  input.on('data', onData);
  input.on('end', onEnd);
  input.on('close', onClose);
  input.on('error', onError);
  if (input.readableEnded || input.destroyed) queueMicrotask(() => finish());

  return () => {
    ended = true;
    detach();
  };
}

/** The first characters of a line, quoted and escaped, for error messages and logs. */
export function previewLine(line: string): string {
  const head = line.length > PREVIEW_CHARS ? `${line.slice(0, PREVIEW_CHARS)}…` : line;
  return JSON.stringify(head);
}
