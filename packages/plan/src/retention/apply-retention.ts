import { createBucketKeys, PERIODS } from './calendar-buckets.ts';

/**
 * How many snapshots to keep, like sanoid: per calendar period, the newest snapshot of each of
 * the `n` most recent periods that have one. `maxAgeMs` is a ceiling: nothing older is kept
 * (protected snapshots excepted); alone it keeps everything younger.
 */
export interface RetentionPolicy {
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  maxAgeMs?: number;
}

export interface RetentionCandidate {
  name: string;
  guid: string;
  /** Epoch milliseconds. */
  createdAt: number;
  createtxg: number;
  /** zfs `userrefs`: holds placed by anyone. */
  holds?: number;
}

export interface RetentionOptions {
  nowMs: number;
  /** IANA time zone of the host whose snapshots these are; buckets are its calendar periods. */
  timeZone: string;
  /** Names the policy may destroy: zfs-fleet's own naming scheme, or `prune.include`. */
  isManaged(name: string): boolean;
  /** Names that must stay whatever the policy says, with why (a peer's incremental base, ...). */
  protect?: ReadonlyMap<string, readonly string[]>;
  /** The time a snapshot stands for; zfs-fleet's names carry it, else its `creation`. */
  timeOf?(snapshot: RetentionCandidate): number;
}

export interface RetentionDecision {
  name: string;
  guid: string;
  createdAt: number;
  action: 'keep' | 'destroy';
  /** Every rule that keeps it, or the rule that drops it. */
  reasons: string[];
}

/** Pure: which of one dataset's snapshots a policy keeps and which it destroys, and why. */
export function applyRetention(snapshots: readonly RetentionCandidate[], policy: RetentionPolicy, options: RetentionOptions): RetentionDecision[] {
  const timeOf = options.timeOf ?? ((snapshot: RetentionCandidate) => snapshot.createdAt);
  const reasons = new Map<string, string[]>(snapshots.map((snapshot) => [snapshot.name, []]));
  const add = (name: string, reason: string) => reasons.get(name)?.push(reason);

  const managed = snapshots.filter((snapshot) => options.isManaged(snapshot.name));
  const newestFirst = [...managed].sort((a, b) => timeOf(b) - timeOf(a) || b.createtxg - a.createtxg);
  const selected = selectByBuckets(newestFirst, policy, options.timeZone, timeOf);
  const tooOld = (snapshot: RetentionCandidate) => policy.maxAgeMs !== undefined && options.nowMs - timeOf(snapshot) > policy.maxAgeMs;

  for (const snapshot of snapshots) {
    for (const reason of options.protect?.get(snapshot.name) ?? []) add(snapshot.name, reason);
    if ((snapshot.holds ?? 0) > 0) add(snapshot.name, `held (${snapshot.holds} zfs hold${snapshot.holds === 1 ? '' : 's'})`);
    if (!options.isManaged(snapshot.name)) add(snapshot.name, 'foreign (not named by zfs-fleet; see prune.include)');
  }
  // A dataset never loses its last snapshot to a policy: the newest always stays.
  if (newestFirst[0]) add(newestFirst[0].name, 'newest');

  const decisions: RetentionDecision[] = [];
  for (const snapshot of snapshots) {
    const protectedBy = reasons.get(snapshot.name)!;
    const keptBy = tooOld(snapshot) ? [] : (selected.get(snapshot.name) ?? []);
    const all = [...protectedBy, ...keptBy];
    if (all.length > 0) {
      decisions.push({ name: snapshot.name, guid: snapshot.guid, createdAt: snapshot.createdAt, action: 'keep', reasons: all });
    } else {
      decisions.push({ name: snapshot.name, guid: snapshot.guid, createdAt: snapshot.createdAt, action: 'destroy', reasons: [dropReason(snapshot, policy, selected, tooOld(snapshot))] });
    }
  }
  return decisions;
}

/** Name → the bucket rules that keep it (e.g. "daily 2026-03-29"). */
function selectByBuckets(newestFirst: readonly RetentionCandidate[], policy: RetentionPolicy, timeZone: string, timeOf: (snapshot: RetentionCandidate) => number): Map<string, string[]> {
  const selected = new Map<string, string[]>();
  const counted = PERIODS.filter((period) => (policy[period] ?? 0) > 0);
  if (counted.length === 0) {
    // maxAge alone: everything young enough stays (the age check happens in the caller).
    if (policy.maxAgeMs !== undefined) for (const snapshot of newestFirst) selected.set(snapshot.name, [`younger than maxAge ${formatDuration(policy.maxAgeMs)}`]);
    return selected;
  }
  const keysAt = createBucketKeys(timeZone);
  const keys = new Map(newestFirst.map((snapshot) => [snapshot.name, keysAt(timeOf(snapshot))]));
  for (const period of counted) {
    const limit = policy[period]!;
    const seen = new Set<string>();
    for (const snapshot of newestFirst) {
      const key = keys.get(snapshot.name)![period];
      if (seen.has(key)) continue;
      if (seen.size === limit) break;
      seen.add(key);
      const list = selected.get(snapshot.name) ?? [];
      list.push(`${period} ${key}`);
      selected.set(snapshot.name, list);
    }
  }
  return selected;
}

function dropReason(snapshot: RetentionCandidate, policy: RetentionPolicy, selected: ReadonlyMap<string, string[]>, tooOld: boolean): string {
  if (tooOld) {
    const wouldKeep = selected.get(snapshot.name);
    return `older than maxAge ${formatDuration(policy.maxAgeMs!)}${wouldKeep && !wouldKeep[0]?.startsWith('younger') ? ` (though ${wouldKeep.join(', ')})` : ''}`;
  }
  return `beyond ${describePolicy(policy)}`;
}

/** "hourly 24, daily 30, maxAge 30d": the policy as the config says it. */
export function describePolicy(policy: RetentionPolicy): string {
  const parts: string[] = PERIODS.filter((period) => policy[period] !== undefined).map((period) => `${period} ${policy[period]}`);
  if (policy.maxAgeMs !== undefined) parts.push(`maxAge ${formatDuration(policy.maxAgeMs)}`);
  return parts.join(', ') || 'an empty policy';
}

/** Milliseconds back into the config's units: 2592000000 → "30d". */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
