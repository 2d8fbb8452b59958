/** Watches a stream's byte count; see {@link watchForStall}. */
export interface StallWatchdog {
  /** The stream's total so far; a total that grew restarts the clock. */
  progress(totalBytes: number): void;
  /** Whether it fired. */
  stalled(): boolean;
  stop(): void;
}

/**
 * Calls `onStall` once when the byte count has not grown for `timeoutMs` (`wire.stallTimeout`):
 * a peer whose zfs recv hangs, or a link that swallows packets, fills the pipes and then
 * nothing moves, for ever. Checked a few times per timeout, so it fires within 1.25 × timeoutMs.
 */
export function watchForStall(timeoutMs: number, onStall: () => void, now: () => number = () => performance.now()): StallWatchdog {
  let total = -1;
  let lastGrowthAt = now();
  let fired = false;
  const timer = setInterval(
    () => {
      if (fired || now() - lastGrowthAt < timeoutMs) return;
      fired = true;
      clearInterval(timer);
      onStall();
    },
    Math.max(10, Math.min(1_000, timeoutMs / 4)),
  );
  timer.unref?.();
  return {
    progress(totalBytes) {
      if (totalBytes > total) {
        total = totalBytes;
        lastGrowthAt = now();
      }
    },
    stalled: () => fired,
    stop: () => clearInterval(timer),
  };
}
