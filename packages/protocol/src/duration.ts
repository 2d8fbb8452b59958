import { z } from 'zod';

/** Durations such as `90s`, `45m`, `26h`, `7d`, as milliseconds. */
export const DurationSchema = z
  .string()
  .regex(/^[0-9]+(s|m|h|d)$/, 'a duration such as "90s", "45m", "26h" or "7d"')
  .transform((value) => {
    const amount = Number(value.slice(0, -1));
    const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[value.slice(-1) as 's' | 'm' | 'h' | 'd'];
    return amount * unitMs;
  });
