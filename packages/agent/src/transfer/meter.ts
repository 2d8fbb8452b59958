import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Counts the bytes for progress and, with a limit, paces them: a token bucket refilled at
 * `bytesPerSecond`, so a link shared with users is not saturated.
 */
export function createMeter(onBytes: (total: number) => void, bytesPerSecond?: number): Transform & { bytes(): number } {
  let total = 0;
  const startedAt = performance.now();
  const meter = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      onBytes(total);
      if (!bytesPerSecond) return callback(null, chunk);
      const dueAt = startedAt + (total / bytesPerSecond) * 1000;
      const wait = dueAt - performance.now();
      if (wait <= 1) return callback(null, chunk);
      void sleep(wait).then(() => callback(null, chunk));
    },
  });
  return Object.assign(meter, { bytes: () => total });
}
