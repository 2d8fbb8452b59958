import { describe, expect, it } from 'vitest';
import { isDue, nextDue, parseSchedule } from './due.ts';

const hourly = parseSchedule('0 * * * *', 'test');
const at = (iso: string) => new Date(iso);

describe('isDue', () => {
  it('is due once a scheduled time passed since the last attempt', () => {
    expect(isDue(hourly, at('2026-11-23T06:10:00Z'), at('2026-11-23T07:00:00Z'))).toBe(true);
    expect(isDue(hourly, at('2026-11-23T06:10:00Z'), at('2026-11-23T06:59:59Z'))).toBe(false);
  });
  it('runs an entry that never ran', () => {
    expect(isDue(hourly, undefined, at('2026-11-23T06:59:00Z'))).toBe(true);
  });
  it('says when an entry is next due', () => {
    expect(nextDue(hourly, at('2026-11-23T06:10:00Z'), at('2026-11-23T06:30:00Z'))?.toISOString()).toBe('2026-11-23T07:00:00.000Z');
  });
  it('refuses an expression that is not cron, naming where it was', () => {
    expect(() => parseSchedule('every hour', 'hosts.src1.backups.0.schedule')).toThrow(/hosts.src1.backups.0.schedule: "every hour" is not a cron expression/);
  });
});
