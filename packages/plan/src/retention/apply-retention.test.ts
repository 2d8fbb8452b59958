import { describe, expect, it } from 'vitest';
import { applyRetention, type RetentionCandidate, type RetentionPolicy } from './apply-retention.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ZONE = 'Europe/Berlin';

/** Two years of hourly snapshots, on the hour (UTC), 2027-01-01 to 2028-12-31: a leap year, two DST changes a year. */
function hourlySnapshots(fromIso: string, toIso: string): RetentionCandidate[] {
  const out: RetentionCandidate[] = [];
  for (let at = Date.parse(fromIso), txg = 1; at <= Date.parse(toIso); at += HOUR, txg += 1) {
    out.push({ name: `fleet-${new Date(at).toISOString().replace(/[-:]/g, '')}`, guid: String(txg), createdAt: at, createtxg: txg });
  }
  return out;
}

const TWO_YEARS = hourlySnapshots('2027-01-01T00:00:00Z', '2028-12-31T23:00:00Z');
const isManaged = (name: string) => name.startsWith('fleet-');

/** Local wall-clock times with their offset ("2028-02-29T23:00+01:00") to the names the fixture gave those instants. */
const names = (...locals: string[]) => locals.map((local) => `fleet-${new Date(Date.parse(local)).toISOString().replace(/[-:]/g, '')}`);

function kept(snapshots: readonly RetentionCandidate[], policy: RetentionPolicy, now: string, extra: Partial<Parameters<typeof applyRetention>[2]> = {}): string[] {
  const nowMs = Date.parse(now);
  const present = snapshots.filter((snapshot) => snapshot.createdAt <= nowMs);
  return applyRetention(present, policy, { nowMs, timeZone: ZONE, isManaged, ...extra })
    .filter((decision) => decision.action === 'keep')
    .map((decision) => decision.name)
    .sort();
}

interface Case {
  title: string;
  policy: RetentionPolicy;
  now: string;
  expected: string[];
}

const cases: Case[] = [
  {
    title: 'hourly keeps the newest snapshot of each of the last N hours',
    policy: { hourly: 3 },
    now: '2027-06-15T12:30+02:00',
    expected: names('2027-06-15T12:00+02:00', '2027-06-15T11:00+02:00', '2027-06-15T10:00+02:00'),
  },
  {
    title: 'when clocks go back, the repeated hour is two hourly buckets (one per UTC offset)',
    policy: { hourly: 5 },
    now: '2027-10-31T03:30+01:00',
    expected: names('2027-10-31T03:00+01:00', '2027-10-31T02:00+01:00', '2027-10-31T02:00+02:00', '2027-10-31T01:00+02:00', '2027-10-31T00:00+02:00'),
  },
  {
    title: 'when clocks go forward, the skipped hour is no bucket and the count reaches one hour further back',
    policy: { hourly: 3 },
    now: '2028-03-26T03:30+02:00',
    expected: names('2028-03-26T03:00+02:00', '2028-03-26T01:00+01:00', '2028-03-26T00:00+01:00'),
  },
  {
    title: 'daily keeps the last snapshot of each local day, also of a 25-hour day',
    policy: { daily: 3 },
    now: '2027-11-01T00:30+01:00',
    expected: names('2027-11-01T00:00+01:00', '2027-10-31T23:00+01:00', '2027-10-30T23:00+02:00'),
  },
  {
    title: 'daily across 29 February keeps the leap day as a day of its own',
    policy: { daily: 3 },
    now: '2028-03-01T12:30+01:00',
    expected: names('2028-03-01T12:00+01:00', '2028-02-29T23:00+01:00', '2028-02-28T23:00+01:00'),
  },
  {
    title: 'monthly keeps the last snapshot of each calendar month, whatever its length',
    policy: { monthly: 4 },
    now: '2028-04-01T00:30+02:00',
    expected: names('2028-04-01T00:00+02:00', '2028-03-31T23:00+02:00', '2028-02-29T23:00+01:00', '2028-01-31T23:00+01:00'),
  },
  {
    title: 'monthly ends of 30-day months are their last day, not a 30-day step',
    policy: { monthly: 3 },
    now: '2027-07-01T00:30+02:00',
    expected: names('2027-07-01T00:00+02:00', '2027-06-30T23:00+02:00', '2027-05-31T23:00+02:00'),
  },
  {
    title: 'weekly uses ISO weeks, so the days of a week spanning New Year share one bucket',
    policy: { weekly: 2 },
    now: '2028-01-03T12:30+01:00',
    expected: names('2028-01-03T12:00+01:00', '2028-01-02T23:00+01:00'),
  },
  {
    title: 'yearly keeps the last snapshot of each calendar year',
    policy: { yearly: 2 },
    now: '2028-06-01T00:30+02:00',
    expected: names('2028-06-01T00:00+02:00', '2027-12-31T23:00+01:00'),
  },
  {
    title: 'maxAge alone keeps everything younger and nothing older',
    policy: { maxAgeMs: 3 * HOUR },
    now: '2027-06-15T12:30+02:00',
    expected: names('2027-06-15T12:00+02:00', '2027-06-15T11:00+02:00', '2027-06-15T10:00+02:00'),
  },
  {
    title: 'maxAge caps what the periods would keep',
    policy: { daily: 30, maxAgeMs: 2 * DAY },
    now: '2027-06-15T12:30+02:00',
    expected: names('2027-06-15T12:00+02:00', '2027-06-14T23:00+02:00', '2027-06-13T23:00+02:00'),
  },
  {
    title: 'the newest snapshot stays even when it is older than maxAge (a host that was off)',
    policy: { maxAgeMs: DAY },
    now: '2029-03-01T00:00+01:00',
    expected: names('2029-01-01T00:00+01:00'),
  },
];

describe('applyRetention on two years of hourly snapshots in Europe/Berlin', () => {
  it.each(cases)('$title', ({ policy, now, expected }) => {
    expect(kept(TWO_YEARS, policy, now)).toEqual([...expected].sort());
  });

  it('a year-end policy of hourly 24, daily 30, weekly 8, monthly 12, yearly 2 keeps exactly 68 snapshots', () => {
    // Summer time in 2028: 26 March to 29 October.
    const local = (day: string, hour = '23') => `${day}T${hour}:00${day >= '2028-03-26' && day < '2028-10-29' ? '+02:00' : '+01:00'}`;
    const hours = Array.from({ length: 24 }, (_, hour) => local('2028-12-31', String(hour).padStart(2, '0')));
    const days = Array.from({ length: 29 }, (_, index) => local(`2028-12-${String(30 - index).padStart(2, '0')}`));
    const weeks = ['2028-11-26', '2028-11-19', '2028-11-12'].map((day) => local(day));
    const months = ['2028-11-30', '2028-10-31', '2028-09-30', '2028-08-31', '2028-07-31', '2028-06-30', '2028-05-31', '2028-04-30', '2028-03-31', '2028-02-29', '2028-01-31'].map((day) => local(day));
    const years = [local('2027-12-31')];
    const expected = names(...hours, ...days, ...weeks, ...months, ...years);
    expect(expected).toHaveLength(68);
    expect(kept(TWO_YEARS, { hourly: 24, daily: 30, weekly: 8, monthly: 12, yearly: 2 }, '2028-12-31T23:30+01:00')).toEqual([...expected].sort());
  });

  it('every decision says why: the bucket that keeps it, or the rule that drops it', () => {
    const nowMs = Date.parse('2027-06-15T12:30+02:00');
    const decisions = applyRetention(
      TWO_YEARS.filter((s) => s.createdAt <= nowMs),
      { hourly: 2, maxAgeMs: 30 * DAY },
      { nowMs, timeZone: ZONE, isManaged },
    );
    const byName = new Map(decisions.map((d) => [d.name, d]));
    expect(byName.get(names('2027-06-15T12:00+02:00')[0]!)).toMatchObject({ action: 'keep', reasons: ['newest', 'hourly 2027-06-15T12+02:00'] });
    expect(byName.get(names('2027-06-15T10:00+02:00')[0]!)).toMatchObject({ action: 'destroy', reasons: ['beyond hourly 2, maxAge 30d'] });
    expect(byName.get(names('2027-01-01T01:00+01:00')[0]!)).toMatchObject({ action: 'destroy', reasons: ['older than maxAge 30d'] });
  });
});

describe('protected snapshots survive every policy', () => {
  const now = '2028-12-31T23:30+01:00';
  const base = names('2027-05-05T05:00+02:00')[0]!;
  const heldName = names('2027-08-08T08:00+02:00')[0]!;
  const foreign: RetentionCandidate = { name: 'autosnap_2027-03-03_daily', guid: '999999', createdAt: Date.parse('2027-03-03T00:00Z'), createtxg: 1 };
  const snapshots = [...TWO_YEARS.map((s) => (s.name === heldName ? { ...s, holds: 1 } : s)), foreign];
  const protect = new Map([[base, ['incremental base for backup1']]]);
  const policies: RetentionPolicy[] = [{ maxAgeMs: DAY }, { hourly: 1 }, { daily: 1, maxAgeMs: HOUR }, { hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 }, { hourly: 24, daily: 30, weekly: 8, monthly: 12, yearly: 2, maxAgeMs: 30 * DAY }];
  it.each(policies)('the common base, a held and a foreign snapshot stay under %o', (policy) => {
    const decisions = applyRetention(snapshots, policy, { nowMs: Date.parse(now), timeZone: ZONE, isManaged, protect });
    const action = (name: string) => decisions.find((d) => d.name === name)!;
    expect(action(base)).toMatchObject({ action: 'keep', reasons: ['incremental base for backup1'] });
    expect(action(heldName)).toMatchObject({ action: 'keep', reasons: ['held (1 zfs hold)'] });
    expect(action(foreign.name).action).toBe('keep');
    expect(action(foreign.name).reasons[0]).toMatch(/^foreign/);
    expect(decisions.filter((d) => d.action === 'destroy').length).toBeGreaterThan(17_000);
  });

  it("prune.include makes a foreign name prunable like zfs-fleet's own", () => {
    const decisions = applyRetention([foreign, ...TWO_YEARS.slice(-3)], { maxAgeMs: DAY }, { nowMs: Date.parse(now), timeZone: ZONE, isManaged: (name) => isManaged(name) || /^autosnap_/.test(name) });
    expect(decisions.find((d) => d.name === foreign.name)).toMatchObject({ action: 'destroy', reasons: ['older than maxAge 1d'] });
  });
});

describe("the README's worked example", () => {
  it('a year of hourly snapshots under hourly 24, daily 30, weekly 8, monthly 12, yearly 2 keeps 67 of 8760', () => {
    const year = hourlySnapshots('2026-12-31T23:00:00Z', '2027-12-31T22:00:00Z');
    expect(year).toHaveLength(8760);
    const keptNames = kept(year, { hourly: 24, daily: 30, weekly: 8, monthly: 12, yearly: 2 }, '2027-12-31T23:30+01:00');
    expect(keptNames).toHaveLength(67);
    // The oldest that stays is the last snapshot of January.
    expect(keptNames[0]).toBe(names('2027-01-31T23:00+01:00')[0]);
  });
});
