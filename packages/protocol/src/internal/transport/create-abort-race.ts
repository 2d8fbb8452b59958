/** What `AbortRace.race` resolves with when the signal fired first. */
export const ABORTED: unique symbol = Symbol('aborted');

/** Races one promise at a time against an AbortSignal. */
export interface AbortRace {
  /** Starts `start()` unless already aborted, and settles with its outcome or `ABORTED`, whichever comes first. */
  race<T>(start: () => Promise<T>): Promise<T | typeof ABORTED>;
  dispose(): void;
}

/**
 * `Promise.race([x, abortedPromise])` in a loop leaves one reaction per round on the long-lived
 * promise (a leak over a long subscription); this keeps a single listener on the signal instead.
 */
export function createAbortRace(signal: AbortSignal): AbortRace {
  let wake: (() => void) | undefined;
  const onAbort = (): void => wake?.();
  signal.addEventListener('abort', onAbort, { once: true });
  return {
    race(start) {
      if (signal.aborted) return Promise.resolve(ABORTED);
      return new Promise((resolve, reject) => {
        wake = () => resolve(ABORTED);
        // Once the race is lost, a late rejection lands here and is ignored, never unhandled.
        start().then(resolve, reject);
      });
    },
    dispose() {
      wake = undefined;
      signal.removeEventListener('abort', onAbort);
    },
  };
}
