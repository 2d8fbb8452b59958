/** The calendar periods a retention policy counts in, finest first. */
export const PERIODS = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type Period = (typeof PERIODS)[number];

export type BucketKeys = Record<Period, string>;

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Throws a RangeError for a name the runtime's time zone database does not know. */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

/** The zone's UTC offset at an instant, in minutes ("GMT+05:30" → 330). */
function offsetMinutesAt(atMs: number, timeZone: string): number {
  const name =
    formatterFor(timeZone)
      .formatToParts(new Date(atMs))
      .find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /^GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  if (!match) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3] ?? 0));
}

/**
 * Offsets change at most a few times a year: ask the time zone database once per UTC day and
 * per instant only on days where the offset changes.
 */
function createOffsetLookup(timeZone: string): (atMs: number) => number {
  const byDay = new Map<number, number | undefined>();
  return (atMs) => {
    const day = Math.floor(atMs / DAY_MS);
    if (!byDay.has(day)) {
      const start = offsetMinutesAt(day * DAY_MS, timeZone);
      byDay.set(day, start === offsetMinutesAt((day + 1) * DAY_MS - 1, timeZone) ? start : undefined);
    }
    return byDay.get(day) ?? offsetMinutesAt(atMs, timeZone);
  };
}

/**
 * The calendar buckets of instants in `timeZone` (an IANA name such as "Europe/Berlin").
 * Buckets are wall-clock periods, so:
 * - an hour is the local hour *and its UTC offset*: when clocks go back, 02:00-02:59 happens
 *   twice and is two hourly buckets; when they go forward, the skipped hour is no bucket;
 * - a day is the local date, whether it has 23, 24 or 25 hours;
 * - a week is the ISO 8601 week (Monday to Sunday) with its week-based year, so the days of a
 *   week that spans New Year share one bucket;
 * - a month is the calendar month (28, 29, 30 or 31 days: no "30 days" arithmetic), a year the
 *   calendar year.
 */
export function createBucketKeys(timeZone: string): (atMs: number) => BucketKeys {
  const offsetAt = createOffsetLookup(timeZone);
  return (atMs) => {
    const offset = offsetAt(atMs);
    const local = new Date(atMs + offset * 60_000);
    const [year, month, day, hour] = [local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate(), local.getUTCHours()];
    const date = `${year}-${pad(month)}-${pad(day)}`;
    const sign = offset < 0 ? '-' : '+';
    const week = isoWeek(year, month, day);
    return {
      hourly: `${date}T${pad(hour)}${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`,
      daily: date,
      weekly: `${week.year}-W${pad(week.week)}`,
      monthly: `${year}-${pad(month)}`,
      yearly: String(year),
    };
  };
}

/** One instant's buckets; for many, use createBucketKeys (it caches the zone's offsets). */
export function bucketKeys(atMs: number, timeZone: string): BucketKeys {
  return createBucketKeys(timeZone)(atMs);
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** ISO 8601 week of a calendar date: weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = Date.UTC(year, month - 1, day);
  const weekday = (new Date(date).getUTCDay() + 6) % 7; // Monday 0 ... Sunday 6
  // The Thursday of this week decides which year the week belongs to.
  const thursday = date + (3 - weekday) * DAY_MS;
  const weekYear = new Date(thursday).getUTCFullYear();
  return { year: weekYear, week: Math.floor((thursday - Date.UTC(weekYear, 0, 1)) / DAY_MS / 7) + 1 };
}
