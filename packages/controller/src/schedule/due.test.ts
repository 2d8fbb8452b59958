import { describe, expect, it } from 'vitest';
import { isDue, nextDue, parseSchedule } from './due.ts';

// Schedules are read in local time; pin it so the expected times hold in every zone.
process.env.TZ = 'UTC';

const at = (iso: string) => new Date(iso);
const hourly = parseSchedule('0 * * * *', 'test');
const quarterly = parseSchedule('*/15 * * * *', 'test');

describe('isDue', () => {
  it.each([
    ['hourly, last attempt 06:10, now 07:00', hourly, '2026-11-23T06:10:00Z', '2026-11-23T07:00:00Z', true],
    ['hourly, last attempt 06:10, now 06:59:59', hourly, '2026-11-23T06:10:00Z', '2026-11-23T06:59:59Z', false],
    ['hourly, last attempt exactly at 06:00, now 06:30', hourly, '2026-11-23T06:00:00Z', '2026-11-23T06:30:00Z', false],
    ['hourly, last attempt 06:10, now 09:20 (missed runs run once)', hourly, '2026-11-23T06:10:00Z', '2026-11-23T09:20:00Z', true],
    ['every 15 min, last attempt 06:10, now 06:15', quarterly, '2026-11-23T06:10:00Z', '2026-11-23T06:15:00Z', true],
    ['every 15 min, last attempt 06:16, now 06:29', quarterly, '2026-11-23T06:16:00Z', '2026-11-23T06:29:00Z', false],
  ])('%s', (_title, schedule, lastAttempt, now, due) => {
    expect(isDue(schedule, at(lastAttempt), at(now))).toBe(due);
  });

  it('runs an entry that never ran', () => {
    expect(isDue(hourly, undefined, at('2026-11-23T06:59:00Z'))).toBe(true);
  });

  it('does not run a yearly entry two hours after it ran', () => {
    const yearly = parseSchedule('0 0 1 1 *', 'test');
    expect(isDue(yearly, at('2026-11-23T06:00:00Z'), at('2026-11-23T08:00:00Z'))).toBe(false);
  });
});

describe('nextDue', () => {
  it('is the first scheduled time after the last attempt', () => {
    expect(nextDue(hourly, at('2026-11-23T06:10:00Z'), at('2026-11-23T06:30:00Z'))?.toISOString()).toBe('2026-11-23T07:00:00.000Z');
  });
  it('is now when the entry is due or never ran', () => {
    expect(nextDue(hourly, at('2026-11-23T06:10:00Z'), at('2026-11-23T08:30:00Z'))?.toISOString()).toBe('2026-11-23T08:30:00.000Z');
    expect(nextDue(hourly, undefined, at('2026-11-23T08:30:00Z'))?.toISOString()).toBe('2026-11-23T08:30:00.000Z');
  });
});

describe('parseSchedule', () => {
  it('refuses an expression that is not cron, naming where it was', () => {
    expect(() => parseSchedule('every hour', 'hosts.src1.backups.0.schedule')).toThrow(/hosts.src1.backups.0.schedule: "every hour" is not a cron expression/);
  });
  it('says so with the CONFIG_INVALID code', () => {
    expect(() => parseSchedule('61 * * * *', 'x')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
