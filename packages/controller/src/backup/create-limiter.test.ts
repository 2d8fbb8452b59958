import { expect, test } from 'vitest';
import { createLimiter } from './create-limiter.ts';

test('no more than the limit run at once, and all of them run', async () => {
  const limit = createLimiter(2);
  let active = 0;
  let peak = 0;
  const results = await Promise.all(
    Array.from({ length: 7 }, (_, i) =>
      limit(async () => {
        active += 1;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active -= 1;
        return i;
      }),
    ),
  );
  expect(peak).toBe(2);
  expect(results).toEqual([0, 1, 2, 3, 4, 5, 6]);
});
