import type { RetentionCandidate } from '@zfs-fleet/plan';
import { snapshotNameTime } from '../backup/snapshot-name.ts';

/**
 * Which snapshot names pruning may destroy: zfs-fleet's own (`<prefix>-YYYYMMDDTHHMMSS.mmmZ`,
 * see createSnapshotName), plus those `prune.include` matches.
 */
export function createIsManaged(prefix: string, include?: string): (name: string) => boolean {
  const ours = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{8}T\\d{6}(\\.\\d{3})?Z$`);
  const extra = include ? new RegExp(include) : undefined;
  return (name) => ours.test(name) || (extra?.test(name) ?? false);
}

/**
 * The time a snapshot stands for: the one in zfs-fleet's name (the run's clock, which an
 * operator or a test may set with --now), else zfs's `creation`.
 */
export function snapshotTime(snapshot: RetentionCandidate): number {
  return snapshotNameTime(snapshot.name)?.getTime() ?? snapshot.createdAt;
}
