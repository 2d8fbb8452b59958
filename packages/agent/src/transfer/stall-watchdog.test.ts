import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { watchForStall } from './stall-watchdog.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

test('a stream whose byte count does not grow for the timeout is declared stalled, once', () => {
  const onStall = vi.fn();
  const watchdog = watchForStall(4_000, onStall, () => Date.now());
  watchdog.progress(100);
  vi.advanceTimersByTime(3_000);
  expect(onStall).not.toHaveBeenCalled();
  // The same total again is no progress.
  watchdog.progress(100);
  vi.advanceTimersByTime(2_000);
  expect(onStall).toHaveBeenCalledTimes(1);
  expect(watchdog.stalled()).toBe(true);
  vi.advanceTimersByTime(10_000);
  expect(onStall).toHaveBeenCalledTimes(1);
});

test('a stream that keeps growing, however slowly, never stalls; stop ends the watch', () => {
  const onStall = vi.fn();
  const watchdog = watchForStall(1_000, onStall, () => Date.now());
  for (let second = 1; second <= 30; second += 1) {
    vi.advanceTimersByTime(900);
    watchdog.progress(second);
  }
  watchdog.stop();
  vi.advanceTimersByTime(10_000);
  expect(onStall).not.toHaveBeenCalled();
  expect(watchdog.stalled()).toBe(false);
});
