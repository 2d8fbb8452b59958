import { getTRPCErrorFromUnknown, isTrackedEnvelope } from '@trpc/server';
import { ABORTED, createAbortRace } from './create-abort-race.ts';
import type { FrameWriter } from './create-frame-writer.ts';
import { isAbortError } from './is-abort-error.ts';
import { writeResult, type ResultEnvelope } from './write-result.ts';

/**
 * Streams a subscription's values as data frames until it completes, is stopped through
 * `controller`, or the output goes away; returns which. Throws what the generator throws.
 * The next value is pulled only when the output has room (write/drain backpressure); a generator
 * that did not complete is aborted and returned, so its `finally` blocks run.
 */
export async function pumpSubscription(iterable: AsyncIterable<unknown>, controller: AbortController, writer: FrameWriter, envelope: ResultEnvelope, path: string): Promise<'completed' | 'stopped' | 'output closed'> {
  const iterator = iterable[Symbol.asyncIterator]();
  const abortable = createAbortRace(controller.signal);
  let completed = false;
  try {
    while (writer.open) {
      // Backpressure: the next value is pulled only once the channel has room for it.
      if (writer.congested && (await abortable.race(() => writer.drained())) === ABORTED) return 'stopped';
      const next = await abortable.race(() => iterator.next());
      if (next === ABORTED) return 'stopped';
      if (next.done) {
        completed = true;
        return 'completed';
      }
      const value: unknown = next.value;
      writeResult(writer, envelope, isTrackedEnvelope(value) ? { type: 'data', id: value[0], data: { id: value[0], data: value[1] } } : { type: 'data', data: value }, path);
    }
    return 'output closed';
  } catch (cause) {
    if (controller.signal.aborted && isAbortError(getTRPCErrorFromUnknown(cause).cause)) return 'stopped';
    throw cause;
  } finally {
    abortable.dispose();
    if (!completed) {
      // Wakes a generator that waits on the signal, then runs its `finally` blocks.
      controller.abort();
      try {
        await iterator.return?.();
      } catch {
        // Its cleanup failed after the caller stopped listening: nothing left to tell it.
      }
    }
  }
}
