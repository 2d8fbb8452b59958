import { Cron } from 'croner';
import { FleetError } from '@zfs-fleet/protocol';

export function parseSchedule(expression: string, where: string): Cron {
  try {
    // In the controller's local time, as cron itself reads its lines.
    return new Cron(expression, { paused: true });
  } catch (error) {
    throw new FleetError('CONFIG_INVALID', `${where}: "${expression}" is not a cron expression: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'Use five fields, minute hour day month weekday, e.g. "0 * * * *" for hourly.',
    });
  }
}

/**
 * An entry is due when a scheduled time has come since its last attempt (whether that
 * succeeded or not), or when it has never run. Failed runs are not retried before the next
 * scheduled time: a broken peer must not turn a timer into a busy loop.
 */
export function isDue(schedule: Cron, lastAttempt: Date | undefined, now: Date): boolean {
  if (!lastAttempt) return true;
  const next = schedule.nextRun(lastAttempt);
  return next !== null && next.getTime() <= now.getTime();
}

export function nextDue(schedule: Cron, lastAttempt: Date | undefined, now: Date): Date | undefined {
  if (!lastAttempt) return now;
  const next = schedule.nextRun(lastAttempt);
  if (!next) return undefined;
  return next.getTime() <= now.getTime() ? now : next;
}
